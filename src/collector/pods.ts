// Per-pod numbers for saturation scaling, read from the per-pod series of the fleet query
// (podExpr in src/prometheus/promql.ts): one record per pod, grouped by model and namespace.
//
// Unknown is not zero: a number the pod gave no finite sample for is absent from its record. What
// an engine does with an absent KV or queue number is the engine's rule, not the collector's.
import { sampleValue } from '../prometheus/parse.js';
import {
  BLOCK_SIZE_LABEL,
  MODEL_LABEL,
  NAMESPACE_LABEL,
  NUM_GPU_BLOCKS_LABEL,
  POD_LABEL,
  POD_NAME_LABEL,
  POD_STATS,
  STAT_LABEL,
} from '../prometheus/promql.js';
import type { PromVectorSeries } from '../types.js';

/** What one pod reported; every number absent when the pod gave no finite sample for it. */
export interface PodMetrics {
  /** From label `pod`, else `pod_name`. */
  pod: string;
  modelId: string;
  namespace: string;
  /** Highest KV-cache usage over the last minute, 0..1. */
  kvCacheUsage?: number;
  /** Most requests waiting at any sample over the last minute, whole requests. */
  queueLength?: number;
  /** Requests running, averaged over the last minute. */
  avgRunning?: number;
  /** From vllm:cache_config_info: set only when both labels are integers > 0. */
  numGpuBlocks?: number;
  blockSize?: number;
  /** Prompt / generated tokens per request over the last 5 minutes. */
  avgInputTokens?: number;
  avgOutputTokens?: number;
  /** Prefix-cache hits over queries over the last 5 minutes, kept only within 0..1. */
  prefixCacheHitRate?: number;
  /** Averages over the last minute, ms (the SLO engine's learner): inter-token latency, time to
   *  first token, and its parts prefill and waiting for a batch slot. */
  itlMs?: number;
  ttftMs?: number;
  prefillMs?: number;
  queueMs?: number;
}

const POD_STAT_VALUES: ReadonlySet<string> = new Set(Object.values(POD_STATS));

/** Whether a `stat` value tags a per-pod series (the pair readers skip those). */
export function isPodStat(stat: string): boolean {
  return POD_STAT_VALUES.has(stat);
}

/** The pod of a series: label `pod`, else `pod_name`; '' when neither (the sample is ignored). */
export function podOf(labels: Readonly<Record<string, string>>): string {
  return labels[POD_LABEL] || labels[POD_NAME_LABEL] || '';
}

/** A positive integer label, else undefined. */
function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function podKey(modelId: string, namespace: string, pod: string): string {
  // NUL cannot occur in a label value Prometheus accepts from a scrape.
  return `${namespace}\u0000${modelId}\u0000${pod}`;
}

/**
 * The per-pod records of a fleet reply, keyed by the pair key `pairKey` builds (model:namespace),
 * pods in the order of their first series. Series of other stats are ignored. A malformed value
 * throws PrometheusReplyError (as the pair reader does).
 */
export function readPodSeries(
  url: string,
  result: readonly PromVectorSeries[],
  pairKey: (modelId: string, namespace: string) => string,
): Map<string, PodMetrics[]> {
  const pods = new Map<string, PodMetrics>();
  for (const series of result) {
    const stat = series.metric[STAT_LABEL];
    if (stat === undefined || !isPodStat(stat)) continue;
    const pod = podOf(series.metric);
    if (pod === '') continue;
    const modelId = series.metric[MODEL_LABEL] ?? '';
    const namespace = series.metric[NAMESPACE_LABEL] ?? '';
    const key = podKey(modelId, namespace, pod);
    let rec = pods.get(key);
    if (!rec) {
      rec = { pod, modelId, namespace };
      pods.set(key, rec);
    }
    const value = sampleValue(url, series.value[1]);
    applyStat(rec, stat, value, series.metric);
  }
  const out = new Map<string, PodMetrics[]>();
  for (const rec of pods.values()) {
    const k = pairKey(rec.modelId, rec.namespace);
    const list = out.get(k);
    if (list) list.push(rec);
    else out.set(k, [rec]);
  }
  return out;
}

function applyStat(rec: PodMetrics, stat: string, value: number, labels: Record<string, string>): void {
  const finite = Number.isFinite(value);
  switch (stat) {
    case POD_STATS.kvCachePeak:
      if (finite) rec.kvCacheUsage = value;
      break;
    case POD_STATS.waitingPeak:
      if (finite) rec.queueLength = Math.trunc(value);
      break;
    case POD_STATS.runningAverage:
      if (finite) rec.avgRunning = value;
      break;
    case POD_STATS.cacheConfig: {
      const blocks = positiveInt(labels[NUM_GPU_BLOCKS_LABEL]);
      const size = positiveInt(labels[BLOCK_SIZE_LABEL]);
      // The first engine's shape that parses wins; a pod's engines share one config.
      if (blocks !== undefined && size !== undefined && rec.numGpuBlocks === undefined) {
        rec.numGpuBlocks = blocks;
        rec.blockSize = size;
      }
      break;
    }
    case POD_STATS.avgInputTokens:
      if (finite) rec.avgInputTokens = value;
      break;
    case POD_STATS.avgOutputTokens:
      if (finite) rec.avgOutputTokens = value;
      break;
    case POD_STATS.prefixCacheHitRate:
      if (finite && value >= 0 && value <= 1) rec.prefixCacheHitRate = value;
      break;
    // 0/0 (no request in the window) is NaN: unknown, left out.
    case POD_STATS.itlAverage:
      if (finite && value >= 0) rec.itlMs = value;
      break;
    case POD_STATS.ttftAverage:
      if (finite && value >= 0) rec.ttftMs = value;
      break;
    case POD_STATS.prefillAverage:
      if (finite && value >= 0) rec.prefillMs = value;
      break;
    case POD_STATS.queueAverage:
      if (finite && value >= 0) rec.queueMs = value;
      break;
  }
}

/** A copy the caller may change. */
export function copyPod(p: PodMetrics): PodMetrics {
  return { ...p };
}
