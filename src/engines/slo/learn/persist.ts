// The learned models as a small JSON document (kept in a ConfigMap the controller owns), so a
// restart or a new leader continues from what was learned. Pure: the caller reads and writes it.
import { PerformanceEstimator } from './estimator.js';
import { type VariantKey, variantKeyString } from './fingerprint.js';
import { type LearnSettings, resolveLearnSettings } from './settings.js';
import { object, readEstimatorState, StateFieldError, string } from './validate-state.js';

export const LEARNED_PROFILES_SCHEMA_VERSION = 1;
export const LEARNED_PROFILES_KIND = 'wva-learned-performance-models';
/** Estimates older than this are dropped on restore: the server or its traffic may have changed. */
export const DEFAULT_LEARNED_RETENTION_MS = 24 * 60 * 60 * 1000;
/** ConfigMaps hold at most 1 MiB; a larger document is not ours. */
export const MAX_LEARNED_DOCUMENT_BYTES = 1024 * 1024;
// A clock a little ahead on another leader is tolerated; a date far in the future is corruption.
const FUTURE_TOLERANCE_MS = 10 * 60 * 1000;

export interface SavedEstimate {
  /** When an observation last changed this estimate (ISO 8601). */
  estimatedAt: string;
  state: Record<string, unknown>;
}

export interface LearnedProfilesDocument {
  schemaVersion: number;
  kind: string;
  savedAt: string;
  estimates: SavedEstimate[];
}

/** The document for a set of estimators; ones that never learned anything are left out. */
export function serializeLearnedProfiles(
  estimators: Iterable<PerformanceEstimator>,
  nowMs: number,
): LearnedProfilesDocument {
  const estimates: SavedEstimate[] = [];
  for (const e of estimators) {
    const { updatedAtMs, ...state } = e.snapshot();
    if (updatedAtMs === null) continue;
    estimates.push({ estimatedAt: new Date(updatedAtMs).toISOString(), state });
  }
  return {
    schemaVersion: LEARNED_PROFILES_SCHEMA_VERSION,
    kind: LEARNED_PROFILES_KIND,
    savedAt: new Date(nowMs).toISOString(),
    estimates,
  };
}

/** The document as the text stored in the ConfigMap. */
export function learnedProfilesJson(doc: LearnedProfilesDocument): string {
  return JSON.stringify(doc);
}

export interface RestoreOptions {
  /** The injected clock, ms since the epoch. */
  nowMs: number;
  retentionMs?: number;
  /**
   * The variants as they are now, with their current vLLM-argument fingerprints. An estimate of
   * a model, namespace and accelerator listed here under another fingerprint is refused; one not
   * listed at all is kept (its variant may not have been read yet). Absent: no check.
   */
  current?: readonly VariantKey[];
  settings?: Partial<LearnSettings>;
}

export interface RefusedEstimate {
  /** Where in the document ("estimates[2]") and, when readable, which variant. */
  entry: string;
  reason: string;
}

export interface RestoreResult {
  estimators: PerformanceEstimator[];
  refused: RefusedEstimate[];
  /** Set when the whole document was refused (not JSON, another schema); nothing restored. */
  error: string | null;
}

function describeKey(k: VariantKey): string {
  return `${k.namespace}/${k.model} on ${k.accelerator}`;
}

function parseDate(o: Record<string, unknown>, field: string, path: string): number {
  const text = string(o, field, path, 64);
  const ms = Date.parse(text);
  if (!Number.isFinite(ms))
    throw new StateFieldError(`${path}.${field}`, `not a date: ${JSON.stringify(text)}`);
  return ms;
}

function formatAge(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48
    ? `${(h / 24).toFixed(1)} d`
    : h >= 1
      ? `${h.toFixed(1)} h`
      : `${Math.round(ms / 60_000)} min`;
}

function readDocument(input: unknown): { doc: Record<string, unknown> } | { error: string } {
  let value = input;
  if (typeof input === 'string') {
    if (input.length > MAX_LEARNED_DOCUMENT_BYTES)
      return {
        error: `document is ${input.length} characters, above the ${MAX_LEARNED_DOCUMENT_BYTES} a ConfigMap holds`,
      };
    try {
      value = JSON.parse(input);
    } catch (e) {
      return { error: `document is not JSON: ${(e as Error).message}` };
    }
  }
  try {
    const doc = object(value, 'document');
    const version = doc['schemaVersion'];
    if (version !== LEARNED_PROFILES_SCHEMA_VERSION)
      return {
        error: `document.schemaVersion is ${JSON.stringify(version) ?? 'absent'}; this version reads only ${LEARNED_PROFILES_SCHEMA_VERSION}`,
      };
    if (doc['kind'] !== LEARNED_PROFILES_KIND)
      return {
        error: `document.kind is ${JSON.stringify(doc['kind']) ?? 'absent'}, not ${LEARNED_PROFILES_KIND}`,
      };
    if (!Array.isArray(doc['estimates'])) return { error: 'document.estimates: expected an array' };
    if (doc['estimates'].length > 10_000) return { error: 'document.estimates: more than 10000 entries' };
    return { doc };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Estimators from a stored document (text or parsed JSON). Never throws: a document that cannot be
 * read is refused whole with `error`; an entry that is invalid, too old, from another vLLM
 * configuration or a duplicate is refused alone with the reason.
 */
export function restoreLearnedProfiles(input: unknown, opts: RestoreOptions): RestoreResult {
  let settings: LearnSettings;
  try {
    settings = resolveLearnSettings(opts.settings);
  } catch (e) {
    return { estimators: [], refused: [], error: `settings: ${(e as Error).message}` };
  }
  const read = readDocument(input);
  if ('error' in read) return { estimators: [], refused: [], error: read.error };
  const retention = opts.retentionMs ?? DEFAULT_LEARNED_RETENTION_MS;
  const current = new Map<string, string>();
  for (const k of opts.current ?? [])
    current.set(variantKeyString({ ...k, argsFingerprint: '' }), k.argsFingerprint);

  const refused: RefusedEstimate[] = [];
  const kept = new Map<string, { estimator: PerformanceEstimator; at: number; entry: string }>();
  const entries = read.doc['estimates'] as unknown[];
  entries.forEach((raw, i) => {
    const path = `estimates[${i}]`;
    let entry = path;
    try {
      const o = object(raw, path);
      const at = parseDate(o, 'estimatedAt', path);
      const state = readEstimatorState(o['state'], `${path}.state`, at);
      entry = `${path} (${describeKey(state.key)})`;
      const age = opts.nowMs - at;
      if (age > retention) {
        refused.push({
          entry,
          reason: `estimated ${formatAge(age)} ago, older than the retention of ${formatAge(retention)}`,
        });
        return;
      }
      if (age < -FUTURE_TOLERANCE_MS) {
        refused.push({ entry, reason: `estimated at ${new Date(at).toISOString()}, in the future` });
        return;
      }
      const now = current.get(variantKeyString({ ...state.key, argsFingerprint: '' }));
      if (now !== undefined && now !== state.key.argsFingerprint) {
        refused.push({
          entry,
          reason:
            `learned under other vLLM arguments (fingerprint ${state.key.argsFingerprint}, now ${now}); ` +
            'its latencies do not describe this server, so learning starts afresh',
        });
        return;
      }
      const estimator = PerformanceEstimator.fromState(state, settings);
      const id = variantKeyString(state.key);
      const prev = kept.get(id);
      if (prev && prev.at >= at) {
        refused.push({ entry, reason: `a newer estimate of the same variant is in ${prev.entry}` });
        return;
      }
      if (prev)
        refused.push({ entry: prev.entry, reason: `a newer estimate of the same variant is in ${entry}` });
      kept.set(id, { estimator, at, entry });
    } catch (e) {
      refused.push({ entry, reason: e instanceof StateFieldError ? e.message : `unreadable: ${String(e)}` });
    }
  });
  return { estimators: [...kept.values()].map((k) => k.estimator), refused, error: null };
}
