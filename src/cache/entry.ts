// The entries the cache hands out, and the checks on what it is handed.
import type { AggregateMetrics, MeasuredLoad, ModelMetrics, Saturation } from '../types.js';

/**
 * An entry as handed out: frozen, the caller's input never kept. `lastUpdated` is a getter on the
 * prototype, a new Date on each access, so no one can move the stored time with `Date#setTime` (and
 * `{...entry}` has no `lastUpdated`; JSON.stringify has it, via `toJSON`). `error` is the caller's
 * Error by reference, so a collector can reject with it.
 */
export class CachedModelMetrics implements ModelMetrics {
  readonly modelId: string;
  readonly namespace: string;
  readonly load: Readonly<MeasuredLoad>;
  readonly ttftAverage: number | undefined;
  readonly itlAverage: number | undefined;
  readonly saturation: Readonly<Saturation> | undefined;
  readonly valid: boolean;
  readonly error: Error | undefined;
  /** `lastUpdated` as ms since the epoch (the cache's wall clock), without allocating a Date; it
   *  ages nothing (the cache ages entries on a monotonic clock). */
  readonly updatedAtMs: number;

  constructor(
    modelId: string,
    namespace: string,
    metrics: AggregateMetrics,
    error: Error | undefined,
    updatedAtMs: number,
  ) {
    this.modelId = modelId;
    this.namespace = namespace;
    // Numbers only, and an unknown (absent) number stays absent rather than becoming a key holding undefined.
    this.load = Object.freeze(numbersOf(metrics.load, LOAD_KEYS));
    this.ttftAverage = metrics.ttftAverage;
    this.itlAverage = metrics.itlAverage;
    this.saturation = metrics.saturation
      ? Object.freeze(numbersOf(metrics.saturation, SATURATION_KEYS))
      : undefined;
    this.valid = error === undefined;
    this.error = error;
    this.updatedAtMs = updatedAtMs;
    Object.freeze(this);
  }

  get lastUpdated(): Date {
    return new Date(this.updatedAtMs);
  }

  toJSON(): Record<string, unknown> {
    return {
      modelId: this.modelId,
      namespace: this.namespace,
      load: this.load,
      ttftAverage: this.ttftAverage,
      itlAverage: this.itlAverage,
      ...(this.saturation ? { saturation: this.saturation } : {}),
      lastUpdated: this.lastUpdated.toISOString(),
      valid: this.valid,
      ...(this.error ? { error: this.error.message } : {}),
    };
  }
}
const LOAD_KEYS = ['arrivalRate', 'completionRate', 'avgInputTokens', 'avgOutputTokens'] as const;
const SATURATION_KEYS = ['running', 'waiting', 'kvCacheUsage'] as const;

/** The members of `from` named in `keys` that hold numbers. */
function numbersOf<K extends string>(from: { [P in K]?: number }, keys: readonly K[]): { [P in K]?: number } {
  const out: { [P in K]?: number } = {};
  for (const k of keys) {
    const v = from[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

// Every entry shares this prototype: frozen, so no caller can redefine `lastUpdated` for all of them.
Object.freeze(CachedModelMetrics.prototype);

/** A frozen entry stamped `at`; `valid = false` records a failed collection and its error (default: a
 *  generic one naming the pair; a non-Error is wrapped). */
export function makeEntry(
  modelId: string,
  namespace: string,
  metrics: AggregateMetrics,
  valid: boolean,
  error: unknown,
  at: number,
): CachedModelMetrics {
  let failure: Error | undefined;
  if (!valid) {
    failure =
      error instanceof Error
        ? error
        : new Error(
            error === undefined
              ? `metrics collection failed for model ${modelId} in namespace ${namespace}`
              : String(error),
          );
  }
  return new CachedModelMetrics(modelId, namespace, metrics, failure, at);
}

export const ZERO_METRICS: AggregateMetrics = {
  load: { arrivalRate: 0, avgInputTokens: 0, avgOutputTokens: 0 },
  ttftAverage: 0,
  itlAverage: 0,
};

export function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function checkKey(modelId: unknown, namespace: unknown): asserts modelId is string {
  if (typeof modelId !== 'string' || modelId.length === 0) {
    throw new TypeError(`model id ${describe(modelId)} is not valid: it must be a non-empty string`);
  }
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes(':')) {
    throw new TypeError(
      `namespace ${describe(namespace)} is not valid: a namespace is a Kubernetes DNS label, non-empty and without ':'`,
    );
  }
}

export function checkTtls(ttlMs: number, failureTtlMs: number): void {
  for (const [name, v] of [
    ['ttlMs', ttlMs],
    ['failureTtlMs', failureTtlMs],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`cache ${name} ${describe(v)} is not valid: use a positive, finite number of ms`);
    }
  }
  if (failureTtlMs > ttlMs) {
    throw new RangeError(
      `cache failureTtlMs ${failureTtlMs} is longer than ttlMs ${ttlMs}: a failure cannot outlive a success`,
    );
  }
}
