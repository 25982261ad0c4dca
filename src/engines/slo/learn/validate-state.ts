// Reads a saved estimator state from untrusted JSON: every field checked, each failure naming its
// path, so a hand-edited or truncated ConfigMap is refused with a reason and never crashes.
import type { ConfidenceState, EstimatorState } from './estimator.js';
import type { VariantKey } from './fingerprint.js';
import type { LineState, LineStats } from './line.js';

export class StateFieldError extends Error {
  override readonly name = 'StateFieldError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

type Obj = Record<string, unknown>;

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

export function object(v: unknown, path: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new StateFieldError(path, `expected an object, got ${shown(v)}`);
  return v as Obj;
}

interface NumberRule {
  min?: number;
  /** Strictly above `min`. */
  exclusive?: boolean;
  max?: number;
  integer?: boolean;
}

export function number(o: Obj, field: string, path: string, rule: NumberRule = {}): number {
  const v = o[field];
  const at = `${path}.${field}`;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new StateFieldError(at, `expected a finite number, got ${shown(v)}`);
  if (rule.integer && !Number.isSafeInteger(v))
    throw new StateFieldError(at, `expected an integer, got ${v}`);
  if (rule.min !== undefined && (rule.exclusive ? !(v > rule.min) : !(v >= rule.min)))
    throw new StateFieldError(at, `expected a number ${rule.exclusive ? '>' : '>='} ${rule.min}, got ${v}`);
  if (rule.max !== undefined && v > rule.max)
    throw new StateFieldError(at, `expected a number <= ${rule.max}, got ${v}`);
  return v;
}

function nullableNumber(o: Obj, field: string, path: string, rule: NumberRule = {}): number | null {
  return o[field] === null ? null : number(o, field, path, rule);
}

export function string(o: Obj, field: string, path: string, maxLength = 253): string {
  const v = o[field];
  const at = `${path}.${field}`;
  if (typeof v !== 'string' || v === '')
    throw new StateFieldError(at, `expected a non-empty string, got ${shown(v)}`);
  if (v.length > maxLength) throw new StateFieldError(at, `longer than ${maxLength} characters`);
  return v;
}

function boolean(o: Obj, field: string, path: string): boolean {
  const v = o[field];
  if (typeof v !== 'boolean')
    throw new StateFieldError(`${path}.${field}`, `expected true or false, got ${shown(v)}`);
  return v;
}

export function readKey(v: unknown, path: string): VariantKey {
  const o = object(v, path);
  return {
    model: string(o, 'model', path),
    namespace: string(o, 'namespace', path),
    accelerator: string(o, 'accelerator', path),
    argsFingerprint: string(o, 'argsFingerprint', path, 128),
  };
}

function readStats(v: unknown, path: string): LineStats {
  const o = object(v, path);
  // Bounds that no forgotten sum of valid observations reaches, and that keep the solve finite.
  const nonNegative = { min: 0, max: 1e36 };
  const st = {
    s0: number(o, 's0', path, { min: 0, max: 1e6 }),
    s1: number(o, 's1', path, nonNegative),
    s2: number(o, 's2', path, nonNegative),
    t0: number(o, 't0', path, nonNegative),
    t1: number(o, 't1', path, nonNegative),
    u2: number(o, 'u2', path, nonNegative),
  };
  // Sums of w, w·x and w·x² of real data obey Cauchy-Schwarz; a violation is a corrupted document.
  if (st.s1 * st.s1 > st.s0 * st.s2 * (1 + 1e-9) + 1e-9)
    throw new StateFieldError(path, 's1² exceeds s0·s2, which no set of observations gives');
  if (st.t0 * st.t0 > st.s0 * st.u2 * (1 + 1e-9) + 1e-9)
    throw new StateFieldError(path, 't0² exceeds s0·u2, which no set of observations gives');
  return st;
}

function readLine(v: unknown, path: string): LineState {
  const o = object(v, path);
  return {
    stats: readStats(o['stats'], `${path}.stats`),
    noise: number(o, 'noise', path, { min: 0, max: 1 }),
    accepted: number(o, 'accepted', path, { min: 0, integer: true }),
    outlierRun: number(o, 'outlierRun', path, { min: 0, integer: true }),
    heldSlope: nullableNumber(o, 'heldSlope', path, { min: 0, max: 1e7 }),
  };
}

function readConfidence(v: unknown, path: string): ConfidenceState {
  const o = object(v, path);
  const count = { min: 0, integer: true };
  const error = { min: 0, max: 1e12 };
  return {
    cycles: number(o, 'cycles', path, count),
    prefillCycles: number(o, 'prefillCycles', path, count),
    itlError: nullableNumber(o, 'itlError', path, error),
    ttftError: nullableNumber(o, 'ttftError', path, error),
    priorItlError: nullableNumber(o, 'priorItlError', path, error),
    priorTtftError: nullableNumber(o, 'priorTtftError', path, error),
  };
}

/** An estimator state from a saved entry, `updatedAtMs` given by the caller (it is stored as a date). */
export function readEstimatorState(v: unknown, path: string, updatedAtMs: number): EstimatorState {
  const o = object(v, path);
  const prior = object(o['prior'], `${path}.prior`);
  const source = prior['source'];
  if (source !== 'given' && source !== 'neutral')
    throw new StateFieldError(`${path}.prior.source`, `expected "given" or "neutral", got ${shown(source)}`);
  const lastRefusal = o['lastRefusal'];
  if (lastRefusal !== null && typeof lastRefusal !== 'string')
    throw new StateFieldError(`${path}.lastRefusal`, `expected a string or null, got ${shown(lastRefusal)}`);
  return {
    key: readKey(o['key'], `${path}.key`),
    maxBatchSize: number(o, 'maxBatchSize', path, { min: 0, exclusive: true, integer: true, max: 100_000 }),
    prior: {
      alpha: number(prior, 'alpha', `${path}.prior`, { min: 0, exclusive: true, max: 1e7 }),
      beta: number(prior, 'beta', `${path}.prior`, { min: 0, max: 1e7 }),
      gamma: number(prior, 'gamma', `${path}.prior`, { min: 0, exclusive: true, max: 1e7 }),
      delta: number(prior, 'delta', `${path}.prior`, { min: 0, max: 1e7 }),
      source,
    },
    decode: readLine(o['decode'], `${path}.decode`),
    prefill: readLine(o['prefill'], `${path}.prefill`),
    confidence: readConfidence(o['confidence'], `${path}.confidence`),
    contradicted: boolean(o, 'contradicted', path),
    refused: number(o, 'refused', path, { min: 0, integer: true }),
    gated: number(o, 'gated', path, { min: 0, integer: true }),
    lastRefusal: lastRefusal === null ? null : lastRefusal.slice(0, 500),
    updatedAtMs,
  };
}
