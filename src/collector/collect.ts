// Turns Prometheus' answer into load, latency and saturation: one instant query for one model, or
// one for the whole fleet. Units: requests/min, tokens, ms, a 0..1 fraction.
//
// Unknown is never 0: a statistic whose series has no samples (a renamed or unexported metric, a
// window shorter than two scrapes) is left out of the result, and so is ±Inf (a sum without a
// count). Only a model proven idle (no completions, nothing running, nothing waiting) reads 0 for a
// ratio with nothing to divide (0/0) or a histogram it does not export. A failed query rejects the
// whole collection, naming the model and namespace and what failed: never a partial result of
// zeros, which an autoscaler would read as "idle".
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
  REQUESTS_OVER_PREFIX,
  STAT_LABEL,
  STATS,
} from '../prometheus/promql.js';
import { quoteName } from '../safe-text.js';
import type { AggregateMetrics, PromAPI, PromQueryData, PromVectorSeries } from '../types.js';
import { isPodStat, type PodMetrics, readPodSeries } from './pods.js';

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
  /** Only series of these namespaces (the watched ones); ignored with `only`. Default: all. */
  namespaces?: readonly string[];
  /**
   * Also find each pair's newest sample over this many seconds (for staleness). Default 900
   * (15 min); 0 leaves it out.
   */
  freshnessRangeSeconds?: number;
  /** Also read each pair's requests over these periods (seconds): scale to zero's evidence. */
  requestsOverSeconds?: readonly number[];
}

/** One pair's metrics in a fleet collection. */
export interface FleetMetrics extends AggregateMetrics {
  modelId: string;
  namespace: string;
  /** Time of the newest vllm:request_success_total sample, when the freshness check ran and found one. */
  newestSample?: Date;
  /** The evaluation time Prometheus used. */
  evaluatedAt: Date;
  /** Requests over each period asked for (seconds -> count); a period absent: no value returned. */
  requestsOver?: Map<number, number>;
  /** The pair's pods that reported any per-pod series (saturation scaling's input). */
  pods?: PodMetrics[];
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

/** A model no series knows: not served, so no load, no latency and nothing running or waiting. */
export function zeroMetrics(): AggregateMetrics {
  return {
    load: { arrivalRate: 0, completionRate: 0, avgInputTokens: 0, avgOutputTokens: 0 },
    ttftAverage: 0,
    itlAverage: 0,
    saturation: { running: 0, waiting: 0 },
  };
}

/** The separator-joined key of the returned Map, the cache's format. */
export function pairKey(modelId: string, namespace: string): string {
  return `${modelId}:${namespace}`;
}

function promUrl(prom: PromAPI): string {
  const url = (prom as { url?: unknown }).url;
  return typeof url === 'string' ? url : 'Prometheus';
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
    if (stat === undefined || isPodStat(stat)) continue;
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

/** `{ key: value }` when the value is known, `{}` when not, for spreading into a result. */
function known<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: number });
}

/** The statistics of one pair as numbers; absent means unknown (see the top of this file). */
export function toMetrics(values: ReadonlyMap<string, number>): AggregateMetrics {
  const raw = (stat: string) => values.get(stat);
  const completions = finiteOr(raw(STATS.completionRate));
  const running = finiteOr(raw(STATS.running));
  const waiting = finiteOr(raw(STATS.waiting));
  const idle = completions === 0 && running === 0 && waiting === 0;
  // A ratio: 0/0 (NaN) or no series means nothing to average; 0 only for a model proven idle.
  const ratio = (stat: string) => {
    const v = raw(stat);
    if (v === undefined || Number.isNaN(v)) return idle ? 0 : undefined;
    return finiteOr(v);
  };
  const growth = finiteOr(raw(STATS.queueGrowth));
  // Arrivals = completions + growth of the requests in the system; a slope read from noisy gauges
  // can take that below 0, which no arrival rate is.
  const sum = completions === undefined || growth === undefined ? undefined : completions + growth;
  const arrivals = sum === undefined || !Number.isFinite(sum) ? undefined : Math.max(0, sum);
  const kv = finiteOr(raw(STATS.kvCacheUsage));
  const avgOutputTokens = ratio(STATS.avgOutputTokens);
  // Requests of at most one generated token have no gap between tokens: nothing to observe, and
  // an inter-token latency of 0 is then the truth, not a stand-in.
  const itlV = raw(STATS.itlAverage);
  const noGaps =
    itlV !== undefined && Number.isNaN(itlV) && avgOutputTokens !== undefined && avgOutputTokens <= 1;
  return {
    load: {
      ...known('arrivalRate', arrivals),
      ...known('completionRate', completions),
      ...known('avgInputTokens', ratio(STATS.avgInputTokens)),
      ...known('avgOutputTokens', avgOutputTokens),
    },
    ...known('ttftAverage', ratio(STATS.ttftAverage)),
    ...known('itlAverage', noGaps ? 0 : ratio(STATS.itlAverage)),
    saturation: { ...known('running', running), ...known('waiting', waiting), ...known('kvCacheUsage', kv) },
  };
}

function finiteOr(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** What each statistic of AggregateMetrics is read from, for messages naming an unknown one. */
export const STATISTIC_SOURCES = {
  arrivalRate: 'vllm:request_success_total with vllm:num_requests_running and vllm:num_requests_waiting',
  avgInputTokens: 'vllm:request_prompt_tokens',
  avgOutputTokens: 'vllm:request_generation_tokens',
  ttftAverage: 'vllm:time_to_first_token_seconds',
  itlAverage: 'vllm:inter_token_latency_seconds, or vllm:time_per_output_token_seconds before vLLM 0.11',
} as const;
export type StatisticName = keyof typeof STATISTIC_SOURCES;

/**
 * The statistics a VariantAutoscaling's status needs (load and latency) that are unknown, in a
 * fixed order. Saturation is not among them: no status field holds it.
 */
export function unknownStatistics(m: AggregateMetrics): StatisticName[] {
  const out: StatisticName[] = [];
  if (m.load.arrivalRate === undefined) out.push('arrivalRate');
  if (m.load.avgInputTokens === undefined) out.push('avgInputTokens');
  if (m.load.avgOutputTokens === undefined) out.push('avgOutputTokens');
  if (m.ttftAverage === undefined) out.push('ttftAverage');
  if (m.itlAverage === undefined) out.push('itlAverage');
  return out;
}

function failureMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Load, latency and saturation of one model in one namespace: ONE Prometheus call for all of them.
 * An absent number is unknown (see the top of this file).
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
    // No series at all in the window: the model is not served (or no longer), a true 0.
    return stats ? toMetrics(stats.values) : zeroMetrics();
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
 * map with its `newestSample` and unknown statistics; a pair Prometheus never saw is not in the map.
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
    namespaces: options.namespaces,
    freshnessRangeSeconds: options.freshnessRangeSeconds ?? DEFAULT_FRESHNESS_RANGE_S,
    ...(options.requestsOverSeconds ? { requestsOverSeconds: options.requestsOverSeconds } : {}),
  });
  let pairs: Map<string, PairStats>;
  let pods: Map<string, PodMetrics[]>;
  try {
    const data = await prom.query(query, options.time, { signal: options.signal });
    pairs = readStats(prom, data);
    // readStats checked it is a vector.
    pods = readPodSeries(promUrl(prom), data.result as PromVectorSeries[], pairKey);
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
    const requestsOver = new Map<number, number>();
    for (const [stat, v] of p.values) {
      // Kept as answered, a negative count too: it proves nothing (the actuator says so), never idle.
      if (stat.startsWith(REQUESTS_OVER_PREFIX) && Number.isFinite(v)) {
        requestsOver.set(Number(stat.slice(REQUESTS_OVER_PREFIX.length, -1)), v);
      }
    }
    out.set(key, {
      modelId: p.modelId,
      namespace: p.namespace,
      ...toMetrics(p.values),
      ...(newest !== undefined && Number.isFinite(newest) ? { newestSample: new Date(newest * 1000) } : {}),
      evaluatedAt: new Date(p.evaluatedAtS * 1000),
      ...(requestsOver.size > 0 ? { requestsOver } : {}),
      ...(pods.has(key) ? { pods: pods.get(key) } : {}),
    });
  }
  return out;
}

/** A copy the caller may change freely, with only the metrics (no sample times), absent kept absent. */
export function copyMetrics(m: AggregateMetrics): AggregateMetrics {
  const { load, saturation } = m;
  return {
    load: {
      ...known('arrivalRate', load.arrivalRate),
      ...known('completionRate', load.completionRate),
      ...known('avgInputTokens', load.avgInputTokens),
      ...known('avgOutputTokens', load.avgOutputTokens),
    },
    ...known('ttftAverage', m.ttftAverage),
    ...known('itlAverage', m.itlAverage),
    saturation: {
      ...known('running', saturation?.running),
      ...known('waiting', saturation?.waiting),
      ...known('kvCacheUsage', saturation?.kvCacheUsage),
    },
  };
}
