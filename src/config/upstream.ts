// Upstream WVA v0.5's configuration as it arrives: the ConfigMap names (and the env that renames
// them), Helm's single `config.yaml` key, and the upstream keys this controller reads but cannot
// apply, each with the reason users are told once. Keys that are applied live in keys.ts (as keys
// or aliases).
import { parse as parseYaml } from 'yaml';

/** The data key under which upstream's Helm chart writes the whole configuration. */
export const HELM_CONFIG_KEY = 'config.yaml';

/** The ConfigMaps read, upstream's name first and the older one after it (still read). */
export interface ConfigMapNames {
  /** The controller's keys (PROMETHEUS_*, GLOBAL_OPT_INTERVAL, WVA_*). */
  main: readonly string[];
  /** Saturation thresholds, handed to the saturation engine. */
  saturation: readonly string[];
  /** Per-model scale to zero. */
  scaleToZero: readonly string[];
}

export const UPSTREAM_CONFIGMAP = 'wva-variantautoscaling-config';
export const OLDER_CONFIGMAP = 'variantautoscaling-config';
export const SATURATION_CONFIGMAP = 'wva-saturation-scaling-config';
export const SCALE_TO_ZERO_CONFIGMAP_V05 = 'wva-model-scale-to-zero-config';
export const OLDER_SCALE_TO_ZERO_CONFIGMAP = 'model-scale-to-zero-config';
/** The label that makes a copy of a ConfigMap in a model's namespace override the global one. */
export const CONFIG_ENABLED_LABEL = 'wva.llmd.ai/config-enabled';

/** Names as upstream resolves them: `CONFIG_MAP_NAME` and `SATURATION_CONFIG_MAP_NAME` rename. */
export function configMapNames(env: NodeJS.ProcessEnv = {}): ConfigMapNames {
  const named = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const main = named(env.CONFIG_MAP_NAME);
  return {
    main: main ? [main] : [UPSTREAM_CONFIGMAP, OLDER_CONFIGMAP],
    saturation: [named(env.SATURATION_CONFIG_MAP_NAME) ?? SATURATION_CONFIGMAP],
    scaleToZero: [SCALE_TO_ZERO_CONFIGMAP_V05, OLDER_SCALE_TO_ZERO_CONFIGMAP],
  };
}

const FETCH =
  'this controller queries Prometheus once per reconcile cycle (GLOBAL_OPT_INTERVAL) through its cache, never in the background';
const THRESHOLDS =
  'metrics here are either available or not: PROMETHEUS_METRICS_CACHE_UNAVAILABLE_THRESHOLD (or WVA_STALE_AFTER) sets when they stop being';
const EPP = 'there is no EPP collector; the gateway is not queried';

/** Upstream keys that are read, not applied; `harmless`: values that ask for what happens anyway. */
export const NOT_APPLIED: Record<string, { reason: string; harmless?: (v: string) => boolean }> = {
  PROMETHEUS_METRICS_CACHE_FETCH_INTERVAL: { reason: FETCH, harmless: (v) => v === '0' },
  PROMETHEUS_METRICS_CACHE_FRESH_THRESHOLD: { reason: THRESHOLDS },
  PROMETHEUS_METRICS_CACHE_STALE_THRESHOLD: { reason: THRESHOLDS },
  EPP_METRICS_CACHE_ENABLED: { reason: EPP, harmless: (v) => v.toLowerCase() === 'false' },
  EPP_METRICS_CACHE_TTL: { reason: EPP },
  EPP_METRICS_CACHE_MAX_SIZE: { reason: EPP },
  EPP_METRICS_CACHE_CLEANUP_INTERVAL: { reason: EPP },
  WVA_LIMITED_MODE: {
    reason:
      'limited mode is not implemented; the GPU limiter is the enableLimiter field of wva-saturation-scaling-config',
    harmless: (v) => v.toLowerCase() === 'false',
  },
  WVA_NODE_SELECTOR: {
    reason:
      'sharding by node selector is not implemented; shard with CONTROLLER_INSTANCE or WVA_WATCH_NAMESPACES',
  },
};

export interface NotApplied {
  key: string;
  origin: string;
  value: string;
  reason: string;
}

/** The NOT_APPLIED keys set (non-empty, not harmless) in these layers, highest layer first. */
export function notApplied(layers: Array<[Record<string, unknown> | undefined, string]>): NotApplied[] {
  const out: NotApplied[] = [];
  for (const [key, { reason, harmless }] of Object.entries(NOT_APPLIED)) {
    for (const [data, origin] of layers) {
      const raw = data?.[key];
      if (raw === undefined || raw === null) continue;
      const value = String(raw).trim();
      if (value === '' || harmless?.(value)) break;
      out.push({ key, origin, value: value.slice(0, 80), reason });
      break;
    }
  }
  return out;
}

/**
 * ConfigMap data with Helm's `config.yaml` (a YAML mapping of the same keys) spread into it; a key
 * of its own in the data wins over the same key inside config.yaml. Throws, naming the key and what
 * is wanted, when config.yaml is not such a mapping.
 */
export function expandHelmConfig(data: Record<string, unknown>): Record<string, unknown> {
  const text = data[HELM_CONFIG_KEY];
  if (text === undefined) return data;
  const { [HELM_CONFIG_KEY]: _, ...rest } = data;
  let doc: unknown;
  try {
    doc = typeof text === 'string' ? parseYaml(text) : text;
  } catch (err) {
    throw new Error(`key ${HELM_CONFIG_KEY}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return rest;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error(
      `key ${HELM_CONFIG_KEY}: must be a YAML mapping of keys to values, e.g. "GLOBAL_OPT_INTERVAL: 60s"`,
    );
  }
  return { ...(doc as Record<string, unknown>), ...rest };
}
