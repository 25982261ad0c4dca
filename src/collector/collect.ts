// Turns Prometheus' answer into load and latency: one instant query for one model, or one for the
// whole fleet. Units: requests/min, tokens, ms. No traffic (an empty result, or 0/0 = NaN in a
// ratio) is 0; ±Inf is 0. Any failure rejects the whole collection, naming the model and namespace
// and what failed: never a partial result of zeros, which an autoscaler would read as "idle".
import { PrometheusReplyError } from '../prometheus/errors.js';
import { sampleValue } from '../prometheus/parse.js';
import {
  DEFAULT_FRESHNESS_RANGE_S,
  DEFAULT_WINDOW,
  fleetQuery,
  MODEL_LABEL,
  type ModelNamespace,
  modelQuery,
  NAMESPACE_LABEL,
  STAT_LABEL,
  STATS,
} from '../prometheus/promql.js';
import { quoteName } from '../safe-text.js';
import type { AggregateMetrics, PromAPI, PromQueryData } from '../types.js';

export interface CollectOptions {
  /** Rate window, a PromQL duration. Default `1m`. */
  window?: string;
  /** Evaluation time. Default: Prometheus' now. */
  time?: Date;
  signal?: AbortSignal;
}

export interface FleetCollectOptions extends CollectOptions {
  /** Only these pairs (one call still); default every pair Prometheus knows. */
  only?: ReadonlyArray<ModelNamespace>;
  /**
   * Also find each pair's newest sample over this many seconds (for staleness). Default 900
   * (15 min); 0 leaves it out.
   */
  freshnessRangeSeconds?: number;
}

/** One pair's metrics in a fleet collection. */
export interface FleetMetrics extends AggregateMetrics {
  modelId: string;
  namespace: string;
  /** Time of the newest vllm:request_success_total sample, when the freshness check ran and found one. */
  newestSample?: Date;
  /** The evaluation time Prometheus used. */
  evaluatedAt: Date;
}

/** A collection that failed: says for which model and namespace (or the fleet), and why (`cause`). */
export class MetricsCollectionError extends Error {
  override name = 'MetricsCollectionError';
  readonly modelId: string | undefined;
  readonly namespace: string | undefined;
  constructor(message: string, options: { modelId?: string; namespace?: string; cause: unknown }) {
    super(message, { cause: options.cause });
    this.modelId = options.modelId;
    this.namespace = options.namespace;
  }
}

/** A name for a message: as-is when plain, else quoted with controls escaped, and bounded. */
export function showName(name: string): string {
  return quoteName(name);
}

export function zeroMetrics(): AggregateMetrics {
  return { load: { arrivalRate: 0, avgInputTokens: 0, avgOutputTokens: 0 }, ttftAverage: 0, itlAverage: 0 };
}

/** The separator-joined key of the returned Map, the cache's format. */
export function pairKey(modelId: string, namespace: string): string {
  return `${modelId}:${namespace}`;
}

function promUrl(prom: PromAPI): string {
  const url = (prom as { url?: unknown }).url;
  return typeof url === 'string' ? url : 'Prometheus';
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

interface PairStats {
  modelId: string;
  namespace: string;
  values: Map<string, number>;
  evaluatedAtS: number;
}

/** Groups a vector reply by (model_name, namespace), each with its `stat` values. */
function readStats(prom: PromAPI, data: PromQueryData): Map<string, PairStats> {
  const url = promUrl(prom);
  if (data.resultType !== 'vector') {
    throw new PrometheusReplyError(url, `expected a vector result, got ${data.resultType}`);
  }
  const pairs = new Map<string, PairStats>();
  for (const series of data.result) {
    const stat = series.metric[STAT_LABEL];
    if (stat === undefined) continue;
    const modelId = series.metric[MODEL_LABEL] ?? '';
    const namespace = series.metric[NAMESPACE_LABEL] ?? '';
    const key = pairKey(modelId, namespace);
    // Times become Dates downstream: one that no Date can hold is a malformed reply, not "fresh".
    if (!validTime(series.value[0])) {
      throw new PrometheusReplyError(url, `sample time ${series.value[0]} is not a valid time`);
    }
    let p = pairs.get(key);
    if (!p) {
      p = { modelId, namespace, values: new Map(), evaluatedAtS: series.value[0] };
      pairs.set(key, p);
    }
    const value = sampleValue(url, series.value[1]);
    if (stat === STATS.newestSample && Number.isFinite(value) && !validTime(value)) {
      throw new PrometheusReplyError(url, `newest sample time ${series.value[1]} is not a valid time`);
    }
    p.values.set(stat, value);
  }
  return pairs;
}

/** Unix seconds that a Date can represent. */
function validTime(seconds: number): boolean {
  return Number.isFinite(seconds) && !Number.isNaN(new Date(seconds * 1000).getTime());
}

function toMetrics(values: Map<string, number>): AggregateMetrics {
  const v = (stat: string) => finite(values.get(stat) ?? 0);
  return {
    load: {
      arrivalRate: v(STATS.arrivalRate),
      avgInputTokens: v(STATS.avgInputTokens),
      avgOutputTokens: v(STATS.avgOutputTokens),
    },
    ttftAverage: v(STATS.ttftAverage),
    itlAverage: v(STATS.itlAverage),
  };
}

function failureMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Load and latency of one model in one namespace: ONE Prometheus call for all five metrics.
 * Rejects with MetricsCollectionError (cause: the PrometheusError) on any failure; with the abort
 * reason when `signal` aborts.
 */
export async function collectAggregateMetrics(
  modelId: string,
  namespace: string,
  prom: PromAPI,
  options: CollectOptions = {},
): Promise<AggregateMetrics> {
  const query = modelQuery(modelId, namespace, options.window ?? DEFAULT_WINDOW);
  try {
    const data = await prom.query(query, options.time, { signal: options.signal });
    const stats = readStats(prom, data).get(pairKey(modelId, namespace));
    return toMetrics(stats?.values ?? new Map());
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new MetricsCollectionError(
      `collecting metrics for model ${showName(modelId)} in namespace ${showName(namespace)} failed: ${failureMessage(err)}`,
      { modelId, namespace, cause: err },
    );
  }
}

/**
 * Load and latency of every model/namespace pair Prometheus knows (or of `only`), in ONE call.
 * Keys are "modelId:namespace". A pair whose series went quiet within the freshness range is in the
 * map with zeros and its `newestSample`; a pair Prometheus never saw is not in the map.
 */
export async function collectFleetMetrics(
  prom: PromAPI,
  options: FleetCollectOptions = {},
): Promise<Map<string, FleetMetrics>> {
  const out = new Map<string, FleetMetrics>();
  if (options.only && options.only.length === 0) return out;
  const query = fleetQuery({
    window: options.window ?? DEFAULT_WINDOW,
    only: options.only,
    freshnessRangeSeconds: options.freshnessRangeSeconds ?? DEFAULT_FRESHNESS_RANGE_S,
  });
  let pairs: Map<string, PairStats>;
  try {
    const data = await prom.query(query, options.time, { signal: options.signal });
    pairs = readStats(prom, data);
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new MetricsCollectionError(`collecting fleet metrics failed: ${failureMessage(err)}`, {
      cause: err,
    });
  }
  const wanted = options.only ? new Set(options.only.map((p) => pairKey(p.modelId, p.namespace))) : undefined;
  for (const [key, p] of pairs) {
    if (wanted && !wanted.has(key)) continue;
    const newest = p.values.get(STATS.newestSample);
    out.set(key, {
      modelId: p.modelId,
      namespace: p.namespace,
      ...toMetrics(p.values),
      ...(newest !== undefined && Number.isFinite(newest) ? { newestSample: new Date(newest * 1000) } : {}),
      evaluatedAt: new Date(p.evaluatedAtS * 1000),
    });
  }
  return out;
}

/** A copy the caller may change freely. */
export function copyMetrics(m: AggregateMetrics): AggregateMetrics {
  return {
    load: {
      arrivalRate: m.load.arrivalRate,
      avgInputTokens: m.load.avgInputTokens,
      avgOutputTokens: m.load.avgOutputTokens,
    },
    ttftAverage: m.ttftAverage,
    itlAverage: m.itlAverage,
  };
}
