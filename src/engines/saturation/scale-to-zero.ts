// Scale to zero as upstream WVA v0.5 enforces it: with the policy on, a model whose request count
// over the retention period is proven 0 goes to zero replicas; with it off, a model that would end
// at zero keeps one replica of its cheapest variant. The per-model ConfigMap
// (`wva-model-scale-to-zero-config`) overrides the global switch.
import { parseGoDuration } from './go-duration.js';
import type { ModelScaleToZeroConfig, ScaleToZeroConfigData } from './types.js';
import { FieldError, type FieldKind, readFields, readMapping } from './yaml-fields.js';

export const SCALE_TO_ZERO_CONFIGMAP_NAME = 'wva-model-scale-to-zero-config';
export const SCALE_TO_ZERO_DEFAULT_KEY = 'default';
export const DEFAULT_SCALE_TO_ZERO_RETENTION_MS = 10 * 60_000;
/** A variant's cost when the analysis does not name it, as upstream's VA default. */
export const ENFORCER_UNKNOWN_COST = 10;

const FIELDS: Record<string, FieldKind> = {
  model_id: 'string',
  namespace: 'string',
  enable_scale_to_zero: 'boolean',
  retention_period: 'string',
};

export interface ScaleToZeroConfigProblem {
  key: string;
  field: string;
  message: string;
}

function entryOf(f: Record<string, number | boolean | string>): ModelScaleToZeroConfig {
  const out: ModelScaleToZeroConfig = {};
  if (f.model_id !== undefined) out.modelId = f.model_id as string;
  if (f.namespace !== undefined) out.namespace = f.namespace as string;
  if (f.enable_scale_to_zero !== undefined) out.enableScaleToZero = f.enable_scale_to_zero as boolean;
  if (f.retention_period !== undefined) out.retentionPeriod = f.retention_period as string;
  return out;
}

/**
 * The ConfigMap's data as upstream reads it: `default` under 'default', every other entry under
 * its `model_id` (keys taken in sorted order, the first key of a repeated model_id kept; entries
 * without model_id dropped). Undecodable entries are dropped and reported. `namespace` is read but
 * plays no part in lookups.
 */
export function parseScaleToZeroConfigMap(data: Record<string, string> | null | undefined): {
  config: ScaleToZeroConfigData;
  problems: ScaleToZeroConfigProblem[];
} {
  const config: ScaleToZeroConfigData = {};
  const problems: ScaleToZeroConfigProblem[] = [];
  const where = (key: string) => `${SCALE_TO_ZERO_CONFIGMAP_NAME} key ${JSON.stringify(key)}`;
  const keys = Object.keys(data ?? {}).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    let entry: ModelScaleToZeroConfig;
    try {
      entry = entryOf(readFields(readMapping(data![key]!), FIELDS));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      problems.push({ key, field: err.field, message: `${where(key)}: ${err.message}` });
      continue;
    }
    if (key === SCALE_TO_ZERO_DEFAULT_KEY) {
      config[SCALE_TO_ZERO_DEFAULT_KEY] = entry;
      continue;
    }
    if (!entry.modelId) {
      problems.push({
        key,
        field: 'model_id',
        message: `${where(key)}: model_id is required on a per-model entry`,
      });
      continue;
    }
    if (Object.hasOwn(config, entry.modelId)) {
      problems.push({
        key,
        field: 'model_id',
        message: `${where(key)}: model_id ${JSON.stringify(entry.modelId)} is already configured by an earlier key`,
      });
      continue;
    }
    config[entry.modelId] = entry;
  }
  return { config, problems };
}

function own(config: ScaleToZeroConfigData, key: string): ModelScaleToZeroConfig | undefined {
  return Object.hasOwn(config, key) ? config[key] : undefined;
}

/** The model's flag, else the `default` entry's, else `envDefault` (WVA_SCALE_TO_ZERO). */
export function scaleToZeroEnabled(
  config: ScaleToZeroConfigData,
  modelId: string,
  envDefault = false,
): boolean {
  const model = own(config, modelId)?.enableScaleToZero;
  if (model !== undefined) return model;
  const fallback = own(config, SCALE_TO_ZERO_DEFAULT_KEY)?.enableScaleToZero;
  if (fallback !== undefined) return fallback;
  return envDefault;
}

function durationOrNull(text: string): number | null {
  try {
    return parseGoDuration(text);
  } catch {
    return null;
  }
}

/**
 * Milliseconds a model must be idle before zero: its own period when valid and positive; else the
 * `default` entry's when set (10 minutes when that one does not parse); else 10 minutes.
 */
export function scaleToZeroRetentionMs(config: ScaleToZeroConfigData, modelId: string): number {
  const own_ = own(config, modelId)?.retentionPeriod;
  if (own_) {
    const ms = durationOrNull(own_);
    if (ms !== null && ms > 0) return ms;
  }
  const fallback = own(config, SCALE_TO_ZERO_DEFAULT_KEY)?.retentionPeriod;
  if (fallback) return durationOrNull(fallback) ?? DEFAULT_SCALE_TO_ZERO_RETENTION_MS;
  return DEFAULT_SCALE_TO_ZERO_RETENTION_MS;
}

/**
 * Applies the scale-to-zero policy to one model's targets. Enabled: every target goes to 0 when
 * `requestCount` (requests over the retention period) is a number not above 0; a null count (query
 * failed or no sample) changes nothing. Disabled: targets that sum to 0 or less keep one replica
 * of the cheapest variant (unknown cost 10; ties to the alphabetically first name).
 */
export function enforceScaleToZeroPolicy(x: {
  modelId: string;
  targets: Record<string, number>;
  variantAnalyses: { variantName: string; cost: number }[];
  scaleToZeroConfig: ScaleToZeroConfigData;
  requestCount: number | null;
  scaleToZeroDefault?: boolean;
}): { targets: Record<string, number>; applied: boolean } {
  const targets = { ...x.targets };
  if (scaleToZeroEnabled(x.scaleToZeroConfig, x.modelId, x.scaleToZeroDefault ?? false)) {
    if (x.requestCount === null || x.requestCount > 0) return { targets, applied: false };
    for (const name of Object.keys(targets)) targets[name] = 0;
    return { targets, applied: true };
  }
  const names = Object.keys(targets);
  let sum = 0;
  for (const name of names) sum += targets[name]!;
  if (sum > 0 || names.length === 0) return { targets, applied: false };
  const costs = new Map<string, number>();
  for (const v of x.variantAnalyses) costs.set(v.variantName, v.cost);
  let pick = names[0]!;
  let pickCost = costs.get(pick) ?? ENFORCER_UNKNOWN_COST;
  for (const name of names.slice(1)) {
    const cost = costs.get(name) ?? ENFORCER_UNKNOWN_COST;
    if (cost < pickCost || (cost === pickCost && name < pick)) {
      pick = name;
      pickCost = cost;
    }
  }
  targets[pick] = 1;
  return { targets, applied: true };
}
