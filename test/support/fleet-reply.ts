// Replies of the joined fleet query as Prometheus would send them, for collector tests with a fake
// PromAPI: one series per (model, namespace, stat), tagged by the `stat` label.
import { type PodStatName, STATS, type StatName } from '../../src/prometheus/promql.js';
import type { PromVectorSeries } from '../../src/types.js';

/** Evaluation time of the fake replies, unix seconds. */
export const REPLY_TIME_S = 1_700_000_000;

export type Stats = Partial<Record<StatName, number | string>>;

/** The series of one pair; `model` undefined leaves the model_name label out (a broken target). */
export function statSeries(
  model: string | undefined,
  namespace: string,
  stats: Stats,
  t = REPLY_TIME_S,
): PromVectorSeries[] {
  const labels: Record<string, string> =
    model === undefined ? { namespace } : { model_name: model, namespace };
  return Object.entries(stats).map(([stat, v]) => ({
    metric: { ...labels, stat },
    value: [t, String(v)] as [number, string],
  }));
}

/** Every stat of a model with traffic at `rate` requests/min (a steady queue), its newest sample 5 s old. */
export function trafficStats(rate: number): Stats {
  return {
    [STATS.completionRate]: rate,
    [STATS.queueGrowth]: 0,
    [STATS.running]: rate > 0 ? 4 : 0,
    [STATS.waiting]: 0,
    [STATS.kvCacheUsage]: rate > 0 ? 0.25 : 0,
    [STATS.avgInputTokens]: 100,
    [STATS.avgOutputTokens]: 10,
    [STATS.ttftAverage]: 50,
    [STATS.itlAverage]: 5,
    [STATS.newestSample]: REPLY_TIME_S - 5,
  };
}

/** One per-pod series (podExpr's shape): pod stat `stat` of `pod`, with extra labels if any. */
export function podSeries(
  model: string,
  namespace: string,
  pod: string,
  stat: PodStatName,
  value: number | string,
  extra: Record<string, string> = {},
  t = REPLY_TIME_S,
): PromVectorSeries {
  return {
    metric: { model_name: model, namespace, pod, ...extra, stat },
    value: [t, String(value)] as [number, string],
  };
}
