// Upstream v0.5's wva-model-scale-to-zero-config (keys `default` and any name whose YAML carries
// `model_id`; fields `namespace`, `enable_scale_to_zero`, `retention_period`), read into the
// per-model policy the actuator applies. The older spellings (`__defaults__`, `modelID`,
// `enableScaleToZero`, `retentionPeriod`) are read in the same ConfigMap. Pure; a bad field is left
// out with a problem naming the ConfigMap, key, field and rule, the rest of its entry still applies.
import { parse } from 'yaml';
import { parseScaleToZeroConfig, type ScaleToZeroConfig } from '../actuator/scale-to-zero.js';
import { parseDuration } from '../duration.js';
import { CONFIG_ENABLED_LABEL, SCALE_TO_ZERO_CONFIGMAP_V05 } from './upstream.js';

const DEFAULT_KEYS = new Set(['default', '__defaults__']);
const MIN_RETENTION_MS = 1000;
const MAX_RETENTION_MS = 7 * 86_400_000;

interface Entry {
  modelId?: string;
  namespace?: string;
  enabled?: boolean;
  retentionMs?: number;
}

/** The first of `names` present in `o` (upstream's spelling first). */
function field(o: Record<string, unknown>, names: string[]): [string, unknown] | undefined {
  const n = names.find((k) => o[k] !== undefined && o[k] !== null && o[k] !== '');
  return n === undefined ? undefined : [n, o[n]];
}

function readEntry(where: string, text: string, isDefault: boolean, problems: string[]): Entry | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    problems.push(`${where}: not YAML (${(err as Error).message.split('\n')[0]}); the key is ignored`);
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.push(
      `${where}: must be a YAML mapping such as "model_id: meta/llama-3.1-8b\\nenable_scale_to_zero: true\\nretention_period: 10m"; the key is ignored`,
    );
    return undefined;
  }
  const o = doc as Record<string, unknown>;
  const out: Entry = {};
  const id = field(o, ['model_id', 'modelID']);
  if (!isDefault) {
    if (!id || typeof id[1] !== 'string') {
      problems.push(
        `${where}: model_id is required (a non-empty string) on every key but "default"; the key is ignored`,
      );
      return undefined;
    }
    out.modelId = id[1];
  }
  const ns = field(o, ['namespace']);
  if (ns) {
    if (typeof ns[1] === 'string') out.namespace = ns[1];
    else problems.push(`${where}: namespace must be a string; the entry applies to every namespace`);
  }
  const on = field(o, ['enable_scale_to_zero', 'enableScaleToZero']);
  if (on) {
    const v = on[1];
    if (typeof v === 'boolean') out.enabled = v;
    else if (typeof v === 'string' && /^(true|false)$/i.test(v)) out.enabled = v.toLowerCase() === 'true';
    else
      problems.push(`${where}: ${on[0]} must be true or false, got ${JSON.stringify(v)}; inherited instead`);
  }
  const period = field(o, ['retention_period', 'retentionPeriod']);
  if (period) {
    let ms = Number.NaN;
    try {
      ms = parseDuration(String(period[1]));
    } catch {
      // Reported below with the rule.
    }
    if (Number.isFinite(ms) && ms >= MIN_RETENTION_MS && ms <= MAX_RETENTION_MS && ms % 1000 === 0) {
      out.retentionMs = ms;
    } else {
      problems.push(
        `${where}: ${period[0]} ${JSON.stringify(period[1])} must be a duration of whole seconds from 1s to 7d, such as 30s, 10m or 1h; inherited instead`,
      );
    }
  }
  return out;
}

/**
 * Reads the ConfigMap's data (`name` for messages, `namespace/name`). Keys in sorted order; a
 * repeated model (and namespace) keeps the first key and reports the later one.
 */
export function parseUpstreamScaleToZero(
  data: Record<string, string> | undefined,
  name: string,
): ScaleToZeroConfig {
  const cfg: ScaleToZeroConfig = { defaults: {}, models: new Map(), problems: [] };
  const keys = Object.keys(data ?? {}).sort();
  const seen = new Map<string, string>();
  for (const key of keys) {
    const where = `ConfigMap ${name} key ${JSON.stringify(key)}`;
    const isDefault = DEFAULT_KEYS.has(key);
    const e = readEntry(where, data?.[key] ?? '', isDefault, cfg.problems);
    if (!e) continue;
    if (isDefault) {
      cfg.defaults = { ...cfg.defaults, ...e };
      continue;
    }
    const id = `${e.modelId}\0${e.namespace ?? ''}`;
    const first = seen.get(id);
    if (first !== undefined) {
      cfg.problems.push(
        `${where}: model ${e.modelId} is already configured by key ${JSON.stringify(first)}; this key is ignored`,
      );
      continue;
    }
    seen.set(id, key);
    cfg.models.set(id, e);
  }
  return cfg;
}

/** A ConfigMap as a watch or the manifests hand it over. */
export interface ConfigMapLike {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

/** Whether a ConfigMap outside the controller's namespace counts as a namespace-local copy. */
export function isConfigEnabled(cm: ConfigMapLike): boolean {
  return cm.metadata.labels?.[CONFIG_ENABLED_LABEL] === 'true';
}

/**
 * The data that applies to a model in `namespace`, as upstream resolves it: the namespace-local
 * copy (labelled, non-empty) if there is one, else the global one — never a merge. `global` lists the
 * global copies by preference (upstream's name first, then the older one); the first present wins.
 */
export function scopedData(
  namespace: string,
  global: ReadonlyArray<ConfigMapLike | undefined>,
  local: ReadonlyMap<string, ConfigMapLike>,
): { data: Record<string, string> | undefined; from: string | undefined } {
  const own = local.get(namespace);
  if (own && isConfigEnabled(own) && Object.keys(own.data ?? {}).length > 0) {
    return { data: own.data, from: `${own.metadata.namespace}/${own.metadata.name}` };
  }
  const g = global.find((c) => c !== undefined);
  return { data: g?.data, from: g ? `${g.metadata.namespace}/${g.metadata.name}` : undefined };
}

/** The policy for a model in `namespace`: its namespace's parsed copy when that holds any entry, else the global one. */
export function scaleToZeroFor(
  namespace: string,
  global: ScaleToZeroConfig,
  local: ReadonlyMap<string, ScaleToZeroConfig>,
): ScaleToZeroConfig {
  const own = local.get(namespace);
  return own && (own.models.size > 0 || Object.keys(own.defaults).length > 0) ? own : global;
}

/** The scale-to-zero policy in force: the global ConfigMap and namespace-local copies. */
export class ScaleToZeroPolicies {
  global: ScaleToZeroConfig = parseScaleToZeroConfig({});
  private local = new Map<string, ScaleToZeroConfig>();

  /** The global copy's data (undefined: deleted), in the older format or upstream's (`name` for
   *  messages). Returns its problems. */
  setGlobal(data: Record<string, string> | undefined, format: 'older' | 'upstream', name: string): string[] {
    this.global = format === 'upstream' ? parseUpstreamScaleToZero(data, name) : parseScaleToZeroConfig(data);
    return this.global.problems;
  }

  /** Namespace-local copies of upstream's ConfigMap (namespace -> data). Returns their problems. */
  setLocal(copies: ReadonlyMap<string, Record<string, string>>): string[] {
    this.local = new Map(
      [...copies].map(([ns, data]) => [
        ns,
        parseUpstreamScaleToZero(data, `${ns}/${SCALE_TO_ZERO_CONFIGMAP_V05}`),
      ]),
    );
    return [...this.local.values()].flatMap((c) => c.problems);
  }

  forNamespace(namespace: string): ScaleToZeroConfig {
    return scaleToZeroFor(namespace, this.global, this.local);
  }
}
