// Shared data shapes of wva-metrics. Every part (cache, prometheus, collector, controller,
// telemetry) speaks these, so they live here and nowhere else.

/** Workload of one model in one namespace, every number known (what sizing takes as input). */
export interface LoadProfile {
  /** Requests per minute. */
  arrivalRate: number;
  /** Average prompt tokens per request. */
  avgInputTokens: number;
  /** Average generated tokens per request. */
  avgOutputTokens: number;
}

/**
 * Load as measured. A member is absent when it is unknown: the model has traffic but the series
 * that number comes from has no samples in the window (renamed or missing metric, a window shorter
 * than two scrapes). Never a stand-in 0; a model with no traffic at all reads true zeros.
 */
export interface MeasuredLoad {
  /** Requests arriving per minute: completions plus the growth of requests running and waiting. */
  arrivalRate?: number;
  /** Requests completed per minute (what the original called the arrival rate). */
  completionRate?: number;
  /** Average prompt tokens per request. */
  avgInputTokens?: number;
  /** Average generated tokens per request. */
  avgOutputTokens?: number;
}

/** How full the model's servers are now, summed (requests) or averaged (KV cache) over pods and
 *  engines. A member is absent when unknown (no such series). */
export interface Saturation {
  /** Requests in the running batches. */
  running?: number;
  /** Requests queued for a batch slot. */
  waiting?: number;
  /** KV-cache usage as a fraction, 0..1 (1 = full), averaged over pods and engines. */
  kvCacheUsage?: number;
}

/** Load, latency and saturation of one model in one namespace; an absent number is unknown. */
export interface AggregateMetrics {
  load: MeasuredLoad;
  /** Average time to first token, milliseconds. */
  ttftAverage?: number;
  /** Average inter-token latency, milliseconds. */
  itlAverage?: number;
  /** Always set by the collector; optional so callers of the cache may store load and latency alone. */
  saturation?: Saturation;
}

/** A cache entry as handed out: read-only, never the object the cache holds for writing. */
export interface ModelMetrics extends AggregateMetrics {
  modelId: string;
  namespace: string;
  lastUpdated: Date;
  /** false: the collection failed; `error` says why. */
  valid: boolean;
  error?: Error;
}

/** One sample of an instant vector: [unix seconds, value as a string] as the HTTP API sends it. */
export type PromSample = [number, string];

export interface PromVectorSeries {
  metric: Record<string, string>;
  value: PromSample;
}

export interface PromMatrixSeries {
  metric: Record<string, string>;
  values: PromSample[];
}

/** The `data` member of a Prometheus HTTP API query reply, plus the reply's warnings. */
export type PromQueryData = (
  | { resultType: 'vector'; result: PromVectorSeries[] }
  | { resultType: 'matrix'; result: PromMatrixSeries[] }
  | { resultType: 'scalar'; result: PromSample }
  | { resultType: 'string'; result: PromSample }
) & { warnings?: string[] };

export interface PromQueryOptions {
  /** Aborts the request; the promise rejects. */
  signal?: AbortSignal;
}

/** What the collector needs of Prometheus: instant queries. `PrometheusClient` implements it. */
export interface PromAPI {
  query(promql: string, time?: Date, options?: PromQueryOptions): Promise<PromQueryData>;
}

/** Outcome of a cached lookup, for telemetry. */
export type LookupResult = 'hit' | 'miss' | 'failure_hit' | 'coalesced';
/** What a Prometheus query was for, for telemetry. */
export type QueryKind = 'model' | 'fleet' | 'availability';
export type QueryOutcome = 'success' | 'error';

/**
 * Hooks the collector calls so telemetry can count without the collector knowing prom-client.
 * Every member is optional; implementations must not throw.
 */
export interface CollectorObserver {
  lookup?(result: LookupResult, modelId: string, namespace: string): void;
  queryStarted?(kind: QueryKind): void;
  queryFinished?(kind: QueryKind, outcome: QueryOutcome, seconds: number): void;
}

/** Why metrics are or are not available for a model (the `MetricsAvailable` condition's reason). */
export type AvailabilityReason =
  | 'MetricsFound'
  | 'MetricsMissing'
  | 'MetricsStale'
  /** The model has traffic but a statistic is unknown (its series absent): the message names it. */
  | 'MetricsIncomplete'
  | 'PrometheusError';

export interface MetricsAvailability {
  available: boolean;
  reason: AvailabilityReason;
  /** One human-readable sentence naming the model and namespace. */
  message: string;
  /** Time of the newest sample seen, when there was one. */
  newestSample?: Date;
}

/**
 * The logging surface the parts use: pino's, narrowed. Fields go in `obj` (`{ model, namespace }`),
 * never pasted into `msg`. `createLogger` in src/telemetry/logger.ts makes the real one.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}
