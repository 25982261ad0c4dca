// The saturation ConfigMap (`wva-saturation-scaling-config`): every data key one YAML entry,
// `default` plus per-model overrides carrying `model_id` and `namespace`. Pure: the caller reads
// the ConfigMap and logs the problems.
//
// Two readings. Upstream WVA v0.5's code keeps each valid entry as written and uses only
// `default`; without it the model gets no decision. The product reading follows upstream's docs:
// built-in thresholds when the ConfigMap or its `default` is missing or invalid, and overrides
// that inherit every field they leave out from `default`.
import {
  applySaturationScalingDefaults,
  BUILTIN_SATURATION_THRESHOLDS,
  SATURATION_V2_ANALYZER,
  saturationConfigViolation,
} from './config.js';
import type { SaturationScalingConfig } from './types.js';
import { FieldError, type FieldKind, readFields, readMapping } from './yaml-fields.js';

export const SATURATION_CONFIGMAP_NAME = 'wva-saturation-scaling-config';
export const SATURATION_DEFAULT_KEY = 'default';

const FIELDS: Record<string, FieldKind> = {
  model_id: 'string',
  namespace: 'string',
  kvCacheThreshold: 'number',
  queueLengthThreshold: 'number',
  kvSpareTrigger: 'number',
  queueSpareTrigger: 'number',
  enableLimiter: 'boolean',
  analyzerName: 'string',
  scaleUpThreshold: 'number',
  scaleDownBoundary: 'number',
};

/** One refused entry: its data key, the field at fault ('' for the document itself), the message. */
export interface SaturationConfigProblem {
  key: string;
  field: string;
  message: string;
  /** The refused override's model_id and namespace, when they could be read. */
  modelId?: string;
  namespace?: string;
}

export interface SaturationConfigMapOptions {
  /** Follow upstream's docs (inheritance, built-in thresholds) instead of its code. Default false. */
  product?: boolean;
}

export interface SaturationConfigSet {
  /** Valid entries by data key, defaults applied (overrides merged over `default` in the product reading). */
  entries: Record<string, SaturationScalingConfig>;
  /** The `default` entry in use; null only in the code reading when there is no valid one. */
  default: SaturationScalingConfig | null;
  /** True when the built-in thresholds stand in for a missing or invalid `default` (product reading). */
  builtIn: boolean;
  problems: SaturationConfigProblem[];
  product: boolean;
}

function fromFields(f: Record<string, number | boolean | string>): Partial<SaturationScalingConfig> {
  const out: Partial<SaturationScalingConfig> = {};
  if (f.model_id !== undefined) out.modelId = f.model_id as string;
  if (f.namespace !== undefined) out.namespace = f.namespace as string;
  for (const k of [
    'kvCacheThreshold',
    'queueLengthThreshold',
    'kvSpareTrigger',
    'queueSpareTrigger',
    'scaleUpThreshold',
    'scaleDownBoundary',
  ] as const) {
    if (f[k] !== undefined) out[k] = f[k] as number;
  }
  if (f.enableLimiter !== undefined) out.enableLimiter = f.enableLimiter as boolean;
  if (f.analyzerName !== undefined) out.analyzerName = f.analyzerName as string;
  return out;
}

// Go's zero values for every field an entry leaves out.
const ZERO: SaturationScalingConfig = {
  kvCacheThreshold: 0,
  queueLengthThreshold: 0,
  kvSpareTrigger: 0,
  queueSpareTrigger: 0,
  enableLimiter: false,
  analyzerName: '',
  scaleUpThreshold: 0,
  scaleDownBoundary: 0,
};

function prefix(key: string): string {
  return `${SATURATION_CONFIGMAP_NAME} key ${JSON.stringify(key)}`;
}

/** Defaults applied, then validated (upstream validates before defaulting and so drops V2 entries). */
function finish(key: string, c: SaturationScalingConfig): SaturationScalingConfig | SaturationConfigProblem {
  const done = applySaturationScalingDefaults(c);
  const bad = saturationConfigViolation(done);
  if (bad) return { key, field: bad.field, message: `${prefix(key)}: ${bad.message}` };
  return done;
}

function decode(key: string, text: string): Partial<SaturationScalingConfig> | SaturationConfigProblem {
  try {
    return fromFields(readFields(readMapping(text), FIELDS));
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    return { key, field: err.field, message: `${prefix(key)}: ${err.message}`, ...idsIn(text) };
  }
}

/** model_id and namespace of an entry that did not decode, when they are plain strings. */
function idsIn(text: string): { modelId?: string; namespace?: string } {
  try {
    const m = readMapping(text);
    return {
      ...(typeof m.model_id === 'string' ? { modelId: m.model_id } : {}),
      ...(typeof m.namespace === 'string' ? { namespace: m.namespace } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * The refused entries that concern a model: a refused `default` concerns every model of the map;
 * a refused override, the model it names in its namespace (or in every namespace when it names none).
 */
export function saturationConfigProblemsFor(
  set: SaturationConfigSet,
  modelId: string,
  namespace: string,
): SaturationConfigProblem[] {
  return set.problems.filter(
    (p) =>
      p.key === SATURATION_DEFAULT_KEY ||
      (p.modelId === modelId &&
        (p.namespace === undefined || p.namespace === '' || p.namespace === namespace)),
  );
}

function isProblem(x: object): x is SaturationConfigProblem {
  return 'message' in x && 'key' in x && 'field' in x;
}

/**
 * Parses the ConfigMap's data (null or undefined when the ConfigMap does not exist). Entries that
 * fail are left out and reported in `problems`; the rest are kept under their data key.
 */
export function parseSaturationScalingConfigMap(
  data: Record<string, string> | null | undefined,
  options: SaturationConfigMapOptions = {},
): SaturationConfigSet {
  const product = options.product === true;
  const problems: SaturationConfigProblem[] = [];
  const decoded = new Map<string, Partial<SaturationScalingConfig>>();
  for (const [key, text] of Object.entries(data ?? {})) {
    const d = decode(key, text);
    if (isProblem(d)) problems.push(d);
    else decoded.set(key, d);
  }
  const entries: Record<string, SaturationScalingConfig> = {};
  let def: SaturationScalingConfig | null = null;
  let builtIn = false;
  const rawDefault = decoded.get(SATURATION_DEFAULT_KEY);
  if (rawDefault) {
    const base = product ? { ...ZERO, ...BUILTIN_SATURATION_THRESHOLDS } : ZERO;
    const r = finish(SATURATION_DEFAULT_KEY, { ...base, ...rawDefault });
    if (isProblem(r)) problems.push(r);
    else def = entries[SATURATION_DEFAULT_KEY] = r;
  }
  if (product && def === null) {
    def = { ...ZERO, ...BUILTIN_SATURATION_THRESHOLDS };
    builtIn = true;
  }
  for (const [key, raw] of decoded) {
    if (key === SATURATION_DEFAULT_KEY) continue;
    // The product reading inherits from `default` before defaults apply, so an override that
    // leaves the V2 thresholds out gets `default`'s, not 0.85 / 0.70 over them.
    const r = finish(key, { ...(product && def ? def : ZERO), ...raw, ...ids(raw) });
    if (isProblem(r))
      problems.push({
        ...r,
        ...(raw.modelId !== undefined ? { modelId: raw.modelId } : {}),
        ...(raw.namespace !== undefined ? { namespace: raw.namespace } : {}),
      });
    else entries[key] = r;
  }
  return { entries, default: def, builtIn, problems, product };
}

// An override never inherits the default's model_id / namespace.
function ids(raw: Partial<SaturationScalingConfig>): Partial<SaturationScalingConfig> {
  return { modelId: raw.modelId, namespace: raw.namespace };
}

/**
 * The entry that applies to a model. Upstream's code uses `default` alone (null: no decision this
 * cycle). The product reading picks the override for the model in its namespace, then one for the
 * model with no namespace, then `default`.
 */
export function saturationConfigForModel(
  set: SaturationConfigSet,
  modelId: string,
  namespace: string,
): SaturationScalingConfig | null {
  if (set.product) {
    let anyNamespace: SaturationScalingConfig | null = null;
    for (const [key, c] of Object.entries(set.entries)) {
      if (key === SATURATION_DEFAULT_KEY || !c.modelId || c.modelId !== modelId) continue;
      if (c.namespace === namespace) return c;
      if (!c.namespace && anyNamespace === null) anyNamespace = c;
    }
    if (anyNamespace) return anyNamespace;
  }
  return set.default;
}

/**
 * Which copy of a ConfigMap applies in a namespace: the namespace-local one when it exists and has
 * data, else the global one. Never a merge of the two.
 */
export function chooseConfigMapData(
  local: Record<string, string> | null | undefined,
  global: Record<string, string> | null | undefined,
): Record<string, string> | null {
  if (local && Object.keys(local).length > 0) return local;
  return global ?? null;
}

/**
 * Which saturation analyser runs and whether the GPU limiter follows it: both read from the
 * *global* ConfigMap's `default` entry, whatever a namespace-local copy says. No entry: V1 alone.
 */
export function saturationEngineSettings(globalSet: SaturationConfigSet): {
  analyzer: 'v1' | 'v2';
  enableLimiter: boolean;
} {
  const d = globalSet.default;
  return {
    analyzer: d?.analyzerName === SATURATION_V2_ANALYZER ? 'v2' : 'v1',
    enableLimiter: d?.enableLimiter === true,
  };
}
