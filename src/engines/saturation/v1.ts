// Saturation V1, as upstream WVA v0.5 decides it: a replica is saturated when its KV cache or its
// waiting queue reaches a threshold; the model scales up by one replica of its cheapest variant
// when the mean spare capacity of the non-saturated replicas runs low, and down by one replica of
// its most expensive variant when spreading the load over one replica fewer stays above the
// triggers. Percentages and queue lengths only; no token model.
import { goFixed } from './format.js';
import type {
  ModelSaturationAnalysis,
  ReplicaMetrics,
  SaturationScalingConfig,
  VariantReplicaState,
  VariantSaturationAnalysis,
} from './types.js';

function analyzeVariant(group: ReplicaMetrics[], c: SaturationScalingConfig): VariantSaturationAnalysis {
  const first = group[0]!;
  const saturatedReplicas: string[] = [];
  let nonSaturated = 0;
  let spareKv = 0;
  let spareQueue = 0;
  let maxKv = 0;
  let maxQueue = 0;
  for (const r of group) {
    if (r.kvCacheUsage > maxKv) maxKv = r.kvCacheUsage;
    if (r.queueLength > maxQueue) maxQueue = r.queueLength;
    if (r.kvCacheUsage >= c.kvCacheThreshold || r.queueLength >= c.queueLengthThreshold) {
      saturatedReplicas.push(r.podName);
      continue;
    }
    nonSaturated++;
    spareKv += c.kvCacheThreshold - r.kvCacheUsage;
    spareQueue += c.queueLengthThreshold - r.queueLength;
  }
  return {
    variantName: first.variantName,
    acceleratorName: first.acceleratorName,
    cost: first.cost,
    replicaCount: group.length,
    nonSaturatedCount: nonSaturated,
    maxKvCacheUsage: maxKv,
    maxQueueLength: maxQueue,
    avgSpareKvCapacity: nonSaturated > 0 ? spareKv / nonSaturated : 0,
    avgSpareQueueLength: nonSaturated > 0 ? spareQueue / nonSaturated : 0,
    saturatedReplicas,
  };
}

function scaleUpReason(
  kv: boolean,
  queue: boolean,
  a: ModelSaturationAnalysis,
  c: SaturationScalingConfig,
): string {
  const kvText = `(${goFixed(a.avgSpareKvCapacity, 3)} < ${goFixed(c.kvSpareTrigger, 3)})`;
  const qText = `(${goFixed(a.avgSpareQueueLength, 1)} < ${goFixed(c.queueSpareTrigger, 1)})`;
  if (kv && queue) return `both KV spare ${kvText} and queue spare ${qText}`;
  if (kv) return `KV spare Saturation low ${kvText}`;
  if (queue) return `queue spare Saturation low ${qText}`;
  return '';
}

// Removing one of N non-saturated replicas spreads their load over N-1.
function scaleDownSafe(
  n: number,
  avgSpareKv: number,
  avgSpareQueue: number,
  c: SaturationScalingConfig,
): boolean {
  if (n < 2) return false;
  const loadKv = c.kvCacheThreshold - avgSpareKv;
  const loadQueue = c.queueLengthThreshold - avgSpareQueue;
  const f = n / (n - 1);
  return (
    c.kvCacheThreshold - loadKv * f >= c.kvSpareTrigger &&
    c.queueLengthThreshold - loadQueue * f >= c.queueSpareTrigger
  );
}

/** Per-variant and model-level saturation of one model's replicas. `analyzedAt` is now. */
export function analyzeModelSaturation(
  modelId: string,
  namespace: string,
  replicas: ReplicaMetrics[],
  config: SaturationScalingConfig,
): ModelSaturationAnalysis {
  const analysis: ModelSaturationAnalysis = {
    modelId,
    namespace,
    analyzedAt: Date.now(),
    totalReplicas: 0,
    nonSaturatedCount: 0,
    avgSpareKvCapacity: 0,
    avgSpareQueueLength: 0,
    shouldScaleUp: false,
    scaleUpReason: '',
    scaleDownSafe: false,
    variantAnalyses: [],
  };
  if (replicas.length === 0) return analysis;

  const groups = new Map<string, ReplicaMetrics[]>();
  for (const r of replicas) {
    const g = groups.get(r.variantName);
    if (g) g.push(r);
    else groups.set(r.variantName, [r]);
  }
  let weightedKv = 0;
  let weightedQueue = 0;
  for (const group of groups.values()) {
    const v = analyzeVariant(group, config);
    analysis.variantAnalyses.push(v);
    analysis.nonSaturatedCount += v.nonSaturatedCount;
    weightedKv += v.avgSpareKvCapacity * v.nonSaturatedCount;
    weightedQueue += v.avgSpareQueueLength * v.nonSaturatedCount;
  }
  const n = analysis.nonSaturatedCount;
  analysis.totalReplicas = replicas.length;
  analysis.avgSpareKvCapacity = n > 0 ? weightedKv / n : 0;
  analysis.avgSpareQueueLength = n > 0 ? weightedQueue / n : 0;

  const kvLow = analysis.avgSpareKvCapacity < config.kvSpareTrigger;
  const queueLow = analysis.avgSpareQueueLength < config.queueSpareTrigger;
  analysis.shouldScaleUp = kvLow || queueLow;
  analysis.scaleUpReason = scaleUpReason(kvLow, queueLow, analysis, config);
  analysis.scaleDownSafe = scaleDownSafe(
    n,
    analysis.avgSpareKvCapacity,
    analysis.avgSpareQueueLength,
    config,
  );
  return analysis;
}

const NO_STATE: VariantReplicaState = {
  variantName: '',
  currentReplicas: 0,
  desiredReplicas: 0,
  pendingReplicas: 0,
};

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Target replicas per variant: at most one replica added to the cheapest variant without pending
 * pods, or removed from the most expensive one above a single replica. While any variant is
 * changing size (desired or ready pods differ from current), the whole model holds.
 */
export function calculateSaturationTargets(
  analysis: ModelSaturationAnalysis | null,
  states: VariantReplicaState[],
): Record<string, number> {
  const targets: Record<string, number> = {};
  if (!analysis || analysis.variantAnalyses.length === 0) {
    for (const s of states) targets[s.variantName] = s.currentReplicas;
    return targets;
  }
  const byName = new Map<string, VariantReplicaState>();
  for (const s of states) byName.set(s.variantName, s);
  const stateOf = (name: string) => byName.get(name) ?? NO_STATE;
  const desiredPending = (s: VariantReplicaState) =>
    s.desiredReplicas !== 0 && s.desiredReplicas !== s.currentReplicas;

  const inTransition = analysis.variantAnalyses.some((v) => {
    const s = stateOf(v.variantName);
    return desiredPending(s) || v.replicaCount !== s.currentReplicas;
  });
  if (inTransition) {
    for (const v of analysis.variantAnalyses) {
      const s = stateOf(v.variantName);
      targets[v.variantName] = desiredPending(s) ? s.desiredReplicas : s.currentReplicas;
    }
    return targets;
  }

  for (const v of analysis.variantAnalyses) targets[v.variantName] = v.replicaCount;
  if (analysis.shouldScaleUp) {
    let pick: { name: string; cost: number } | null = null;
    for (const v of analysis.variantAnalyses) {
      if (stateOf(v.variantName).pendingReplicas !== 0) continue;
      if (
        !pick ||
        v.cost < pick.cost ||
        (v.cost === pick.cost && compareNames(v.variantName, pick.name) < 0)
      ) {
        pick = { name: v.variantName, cost: v.cost };
      }
    }
    if (pick) targets[pick.name] = (targets[pick.name] ?? 0) + 1;
  } else if (analysis.scaleDownSafe) {
    let pick: { name: string; cost: number } | null = null;
    for (const v of analysis.variantAnalyses) {
      if ((targets[v.variantName] ?? 0) <= 1) continue;
      if (
        !pick ||
        v.cost > pick.cost ||
        (v.cost === pick.cost && compareNames(v.variantName, pick.name) > 0)
      ) {
        pick = { name: v.variantName, cost: v.cost };
      }
    }
    if (pick) targets[pick.name] = (targets[pick.name] ?? 0) - 1;
  }
  return targets;
}
