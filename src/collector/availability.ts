// Are there usable vLLM metrics for a model? The reasons of the original's MetricsAvailable
// condition: MetricsFound, MetricsMissing (Prometheus never saw the model), MetricsStale (newest
// sample older than the limit, 5 min by default), PrometheusError (could not ask); and ours,
// MetricsIncomplete (fresh, with traffic, but a statistic the status needs is unknown).
import { failureSummary } from '../prometheus/errors.js';
import { availabilityQuery } from '../prometheus/promql.js';
import type { AggregateMetrics, CollectorObserver, MetricsAvailability, PromAPI } from '../types.js';
import { STATISTIC_SOURCES, showName, unknownStatistics } from './collect.js';

export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

/** How far back the freshness check looks: 3x the staleness limit, at least 15 min. */
export function freshnessRangeSeconds(staleAfterMs: number): number {
  return Math.max(15 * 60, Math.ceil((3 * staleAfterMs) / 1000));
}

/** "7m12s", "45s", "1h2m". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return sec ? `${m}m${sec}s` : `${m}m`;
  return `${sec}s`;
}

function which(modelId: string, namespace: string): string {
  return `model ${showName(modelId)} in namespace ${showName(namespace)}`;
}

/** `2023-11-14T22:13:20Z`: a sample time as it reads in a condition message. */
function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** Judges a pair from its newest sample time (undefined: none seen) at the evaluation time. */
export function availabilityFromSample(
  modelId: string,
  namespace: string,
  newestSample: Date | undefined,
  evaluatedAt: Date,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
): MetricsAvailability {
  if (!newestSample) {
    return {
      available: false,
      reason: 'MetricsMissing',
      message: `no vLLM metrics for ${which(modelId, namespace)}: check the ServiceMonitor/scrape config and model_name label`,
    };
  }
  const age = evaluatedAt.getTime() - newestSample.getTime();
  if (age > staleAfterMs) {
    return {
      available: false,
      reason: 'MetricsStale',
      // No age in the message: it would change every cycle and so rewrite every status (the condition
      // message is part of it); the sample's own time stays put while the metrics stay stale.
      message: `vLLM metrics for ${which(modelId, namespace)} are stale: newest sample at ${isoSeconds(newestSample)}, more than ${formatAge(staleAfterMs)} old; check that the vLLM pods are running and scraped`,
      newestSample,
    };
  }
  return {
    available: true,
    reason: 'MetricsFound',
    message: `vLLM metrics for ${which(modelId, namespace)} are available`,
    newestSample,
  };
}

/**
 * As availabilityFromSample, and for metrics that are fresh but miss a statistic the status needs:
 * MetricsIncomplete, naming each unknown statistic, the vLLM metric it comes from and the likely
 * causes. The message holds no numbers that move, so an unchanged condition is not rewritten.
 */
export function availabilityOf(
  modelId: string,
  namespace: string,
  metrics: AggregateMetrics,
  newestSample: Date | undefined,
  evaluatedAt: Date,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
  window?: string,
): MetricsAvailability {
  const base = availabilityFromSample(modelId, namespace, newestSample, evaluatedAt, staleAfterMs);
  if (!base.available) return base;
  const unknown = unknownStatistics(metrics);
  if (unknown.length === 0) return base;
  const what = unknown.map((s) => `${s} (${STATISTIC_SOURCES[s]})`).join(', ');
  const span = window ? `the ${window} window` : 'the window';
  return {
    available: false,
    reason: 'MetricsIncomplete',
    message: `vLLM metrics for ${which(modelId, namespace)} are incomplete: the model's series are fresh but ${what} ${unknown.length === 1 ? 'has' : 'have'} no samples in ${span}; likely causes: this vLLM version does not export the metric under that name, ${span} is shorter than two scrapes, or the model's pods stopped reporting; currentAlloc keeps its previous values`,
    ...(base.newestSample ? { newestSample: base.newestSample } : {}),
  };
}

/**
 * The PrometheusError availability. It carries the failure's summary, not its message: no reply
 * text in a status, and the same message while the cause is the same (no status write per cycle).
 */
export function availabilityFromError(modelId: string, namespace: string, err: unknown): MetricsAvailability {
  const cause = failureSummary(err);
  return {
    available: false,
    reason: 'PrometheusError',
    message: `cannot read vLLM metrics for ${which(modelId, namespace)} from Prometheus: ${cause}`,
  };
}

export interface AvailabilityOptions {
  time?: Date;
  signal?: AbortSignal;
  staleAfterMs?: number;
  observer?: CollectorObserver;
}

/**
 * One Prometheus call: the newest sample of the model's vLLM series. Resolves with
 * reason PrometheusError when Prometheus fails; rejects only when `signal` aborts.
 */
export async function checkMetricsAvailability(
  modelId: string,
  namespace: string,
  prom: PromAPI,
  options: AvailabilityOptions = {},
): Promise<MetricsAvailability> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const query = availabilityQuery(modelId, namespace, freshnessRangeSeconds(staleAfterMs));
  const observer = options.observer;
  observer?.queryStarted?.('availability');
  const started = performance.now();
  try {
    const data = await prom.query(query, options.time, { signal: options.signal });
    if (data.resultType !== 'vector') throw new Error(`expected a vector result, got ${data.resultType}`);
    const series = data.result.find(
      (s) =>
        s.metric.model_name === modelId &&
        s.metric.namespace === namespace &&
        Number.isFinite(Number(s.value[1])),
    );
    observer?.queryFinished?.('availability', 'success', (performance.now() - started) / 1000);
    const evaluatedAt = new Date((series?.value[0] ?? (options.time ?? new Date()).getTime() / 1000) * 1000);
    const newest = series ? new Date(Number(series.value[1]) * 1000) : undefined;
    return availabilityFromSample(modelId, namespace, newest, evaluatedAt, staleAfterMs);
  } catch (err) {
    observer?.queryFinished?.('availability', 'error', (performance.now() - started) / 1000);
    if (options.signal?.aborted) throw err;
    return availabilityFromError(modelId, namespace, err);
  }
}
