// Scale to zero: which models may go to 0 replicas, after how long, and whether Prometheus proved
// them idle. The per-model ConfigMap (upstream's model-scale-to-zero-config) overrides the global
// switch WVA_SCALE_TO_ZERO. Zero needs proof: a retention query that returned a value of 0 requests
// over the whole period. An empty or failed answer proves nothing.
import { parse } from 'yaml';
import type { RequestsOverAnswer } from '../collector/fleet-collector.js';
import { parseDuration } from '../duration.js';

export const SCALE_TO_ZERO_CONFIGMAP = 'model-scale-to-zero-config';
export const DEFAULTS_KEY = '__defaults__';
export const DEFAULT_RETENTION_MS = 10 * 60_000;

export interface ScaleToZeroRule {
  enabled: boolean;
  retentionMs: number;
}

interface Entry {
  modelId?: string;
  namespace?: string;
  enabled?: boolean;
  retentionMs?: number;
}

export interface ScaleToZeroConfig {
  defaults: Entry;
  /** By "modelId\0namespace" ('' namespace: every namespace). */
  models: Map<string, Entry>;
  /** One line per refused key: which key, what was wrong, what to write, what it means meanwhile. */
  problems: string[];
  /** A key was refused whose model could not be read. */
  unnamedRefused?: boolean;
}

function entryKey(modelId: string, namespace: string): string {
  return `${modelId}\0${namespace}`;
}

function readEntry(key: string, text: string, isDefaults: boolean): Entry {
  const where = `${SCALE_TO_ZERO_CONFIGMAP} key ${JSON.stringify(key)}`;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${where}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(
      `${where}: must be a mapping such as {modelID: ..., enableScaleToZero: true, retentionPeriod: 10m}`,
    );
  }
  const o = doc as Record<string, unknown>;
  const out: Entry = {};
  if (!isDefaults) {
    if (typeof o.modelID !== 'string' || o.modelID === '')
      throw new Error(`${where}: modelID is required, a non-empty string`);
    out.modelId = o.modelID;
  }
  if (o.namespace !== undefined && o.namespace !== null && o.namespace !== '') {
    if (typeof o.namespace !== 'string') throw new Error(`${where}: namespace must be a string`);
    out.namespace = o.namespace;
  }
  if (o.enableScaleToZero !== undefined) {
    const v = o.enableScaleToZero;
    if (typeof v === 'boolean') out.enabled = v;
    else if (v === 'true' || v === 'false') out.enabled = v === 'true';
    else throw new Error(`${where}: enableScaleToZero must be true or false, got ${JSON.stringify(v)}`);
  }
  if (o.retentionPeriod !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(String(o.retentionPeriod));
    } catch {
      throw new Error(
        `${where}: retentionPeriod ${JSON.stringify(o.retentionPeriod)} is not a duration such as 10m or 1h`,
      );
    }
    if (ms < 60_000 || ms > 7 * 86_400_000 || ms % 1000 !== 0) {
      throw new Error(`${where}: retentionPeriod must be whole seconds between 1m and 7d`);
    }
    out.retentionMs = ms;
  }
  return out;
}

/** The model (and namespace) a refused entry names, when that much of it can be read. */
function namedIn(text: string): { modelId: string; namespace: string } | undefined {
  try {
    const doc: unknown = parse(text);
    if (typeof doc !== 'object' || doc === null) return undefined;
    const { modelID, namespace } = doc as Record<string, unknown>;
    if (typeof modelID !== 'string' || modelID === '') return undefined;
    return { modelId: modelID, namespace: typeof namespace === 'string' ? namespace : '' };
  } catch {
    return undefined;
  }
}

/**
 * Reads the ConfigMap's data. A bad key is reported and opts nothing in: the model it names is not
 * scaled to zero (whatever the defaults say), a bad `__defaults__` opts no model in by default, and
 * a bad key whose model cannot be read stops the defaults and the switch from opting in any model
 * without an entry of its own (it could have been meant for any of them).
 */
export function parseScaleToZeroConfig(data: Record<string, string> | undefined): ScaleToZeroConfig {
  const cfg: ScaleToZeroConfig = { defaults: {}, models: new Map(), problems: [] };
  const refused: Array<{ modelId: string; namespace: string }> = [];
  let defaultsRefused = false;
  for (const [key, text] of Object.entries(data ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    try {
      const e = readEntry(key, text, key === DEFAULTS_KEY);
      if (key === DEFAULTS_KEY) cfg.defaults = e;
      else cfg.models.set(entryKey(e.modelId as string, e.namespace ?? ''), e);
    } catch (err) {
      const named = key === DEFAULTS_KEY ? undefined : namedIn(String(text));
      let effect: string;
      if (key === DEFAULTS_KEY) {
        defaultsRefused = true;
        effect = 'no model is opted in by default until it is fixed';
      } else if (named) {
        refused.push(named);
        effect = `model ${named.modelId} is not scaled to zero until it is fixed`;
      } else {
        cfg.unnamedRefused = true;
        effect = 'its model cannot be told, so only models with an entry of their own may be scaled to zero';
      }
      cfg.problems.push(`${(err as Error).message} (${effect})`);
    }
  }
  if (defaultsRefused) cfg.defaults = { enabled: false };
  // A refusal wins over a valid entry for the same model: the ConfigMap says two things of it.
  for (const r of refused) {
    const prev = cfg.models.get(entryKey(r.modelId, r.namespace));
    cfg.models.set(entryKey(r.modelId, r.namespace), { ...prev, modelId: r.modelId, enabled: false });
  }
  return cfg;
}

/** The rule for one model: its namespace's entry, else its any-namespace entry, else defaults, else the switch. */
export function ruleFor(
  cfg: ScaleToZeroConfig,
  globalEnabled: boolean,
  modelId: string,
  namespace: string,
): ScaleToZeroRule {
  const own = cfg.models.get(entryKey(modelId, namespace)) ?? cfg.models.get(entryKey(modelId, ''));
  const e = own ?? {};
  return {
    enabled: e.enabled ?? (!own && cfg.unnamedRefused ? false : (cfg.defaults.enabled ?? globalEnabled)),
    retentionMs: e.retentionMs ?? cfg.defaults.retentionMs ?? DEFAULT_RETENTION_MS,
  };
}

/** Every distinct retention period in force for these models (one query term each). */
export function retentionPeriods(
  cfg: ScaleToZeroConfig,
  globalEnabled: boolean,
  models: Iterable<{ modelId: string; namespace: string }>,
): number[] {
  const out = new Set<number>();
  for (const m of models) {
    const r = ruleFor(cfg, globalEnabled, m.modelId, m.namespace);
    if (r.enabled) out.add(r.retentionMs);
  }
  return [...out].sort((a, b) => a - b);
}

/** What Prometheus said about a model's requests over its retention period. */
export type IdleEvidence =
  | { state: 'idle' }
  | { state: 'busy'; requests: number }
  | { state: 'unknown'; reason: string };

export interface ZeroVerdict {
  allowed: boolean;
  /** Why, for the Actuated condition's message. */
  why: string;
}

/**
 * Whether the model may have 0 replicas now. Proven idle: yes. Requests seen: no. No proof either
 * way (no answer, series younger than the period, no series): only a model already at 0 stays
 * there, so neither an outage of Prometheus nor an empty answer moves it.
 */
export function zeroVerdict(
  rule: ScaleToZeroRule,
  evidence: IdleEvidence,
  currentReplicas: number | undefined,
): ZeroVerdict {
  const period = `${Math.round(rule.retentionMs / 1000)}s`;
  if (!rule.enabled) return { allowed: false, why: 'scale to zero is off for this model' };
  if (evidence.state === 'idle')
    return { allowed: true, why: `no requests for the whole retention period (${period})` };
  if (evidence.state === 'busy')
    return { allowed: false, why: `requests within the retention period (${period})` };
  if (currentReplicas === 0)
    return { allowed: true, why: `already at 0 replicas, no request seen (${evidence.reason})` };
  return { allowed: false, why: `idleness not proven: ${evidence.reason}` };
}

/** What the fleet query's requests-over-a-period term said, as evidence. */
export function idleEvidence(answer: RequestsOverAnswer): IdleEvidence {
  switch (answer.kind) {
    case 'count':
      if (answer.requests === 0) return { state: 'idle' };
      if (answer.requests > 0) return { state: 'busy', requests: answer.requests };
      // increase() below 0 is no count of requests at all (a broken counter, a bad rule): no proof.
      return {
        state: 'unknown',
        reason: `Prometheus answered ${answer.requests} requests over the retention period, which proves nothing`,
      };
    case 'no-series':
      return { state: 'unknown', reason: 'Prometheus has no series of the model' };
    case 'no-value':
      return { state: 'unknown', reason: "the model's series are younger than the retention period" };
    default:
      return { state: 'unknown', reason: answer.reason };
  }
}
