// Shared data shapes of wva-metrics. Every part (cache, prometheus, collector, controller,
// telemetry) speaks these, so they live here and nowhere else.

/** Workload of one model in one namespace. */
export interface LoadProfile {
  /** Requests per minute. */
  arrivalRate: number;
  /** Average prompt tokens per request. */
  avgInputTokens: number;
  /** Average generated tokens per request. */
  avgOutputTokens: number;
}

/** Load and latency of one model in one namespace. */
export interface AggregateMetrics {
  load: LoadProfile;
  /** Average time to first token, milliseconds. */
  ttftAverage: number;
  /** Average inter-token latency, milliseconds. */
  itlAverage: number;
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
export type AvailabilityReason = 'MetricsFound' | 'MetricsMissing' | 'MetricsStale' | 'PrometheusError';

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
