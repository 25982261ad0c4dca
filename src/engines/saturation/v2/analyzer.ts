// Saturation V2, as upstream WVA v0.5 analyses a model: capacity and demand in KV-cache tokens.
// A replica holds at most k1 = its KV tokens x kvCacheThreshold, and at most k2 = what it was seen
// holding when its queue backed up (remembered per model, accelerator and output-length bucket),
// else what its vLLM batch budget allows. Demand is tokens in use plus queued prompts. The model
// asks for capacity above scaleUpThreshold utilisation and offers it back under scaleDownBoundary.
import { trunc } from '../format.js';
import type {
  AnalyzerResult,
  ReplicaMetrics,
  SaturationV2Input,
  SaturationV2State,
  VariantCapacity,
  VariantReplicaState,
} from '../types.js';
import { findCompatibleCapacity, getCapacity, putCapacity } from './capacity-store.js';
import { estimateCapacityFromParams } from './vllm-args.js';

export const V2_ANALYZER_NAME = 'saturation-token-based';
/** Observed k2 values kept per bucket. */
export const K2_HISTORY_WINDOW = 10;
/** The gateway queue's bytes per token. */
export const BYTES_PER_TOKEN = 4;

/** The output-length bucket k2 observations are kept in. */
export function classifyOutputLength(avgOutputTokens: number): 'short' | 'medium' | 'long' {
  if (avgOutputTokens < 100) return 'short';
  if (avgOutputTokens < 500) return 'medium';
  return 'long';
}

interface Processed {
  effective: number;
  demand: number;
}

function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length > 0 ? s / xs.length : 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : trunc((s[mid - 1]! + s[mid]!) / 2);
}

/** k2: observed saturation, else its remembered mean, else the batch-budget estimate, else k1. */
function replicaK2(
  input: SaturationV2Input,
  state: SaturationV2State,
  r: ReplicaMetrics,
  k1: number,
): number {
  const tokensInUse = r.tokensInUse ?? 0;
  const avgIn = r.avgInputTokens ?? 0;
  const avgOut = r.avgOutputTokens ?? 0;
  const key = `${input.modelId}|${r.acceleratorName}|${classifyOutputLength(avgOut)}`;
  const history = Object.hasOwn(state.k2History, key) ? state.k2History[key]! : [];
  if (r.queueLength >= trunc(input.config.queueLengthThreshold) && tokensInUse > 0) {
    state.k2History[key] = [...history, tokensInUse].slice(-K2_HISTORY_WINDOW);
    return tokensInUse;
  }
  if (history.length > 0) {
    const m = mean(history);
    if (m > 0) return trunc(m);
  }
  const params = getCapacity(state, input.namespace, input.modelId, r.variantName)?.vllmParams ?? null;
  const estimate = estimateCapacityFromParams(params, avgIn, avgOut);
  return estimate > 0 ? estimate : k1;
}

/** Effective capacity and demand of every replica with KV data, grouped by variant. */
function processReplicas(
  input: SaturationV2Input,
  state: SaturationV2State,
  states: Map<string, VariantReplicaState>,
): Map<string, Processed[]> {
  const byVariant = new Map<string, Processed[]>();
  for (const r of input.replicaMetrics) {
    const total = r.totalKvCapacityTokens ?? 0;
    if (total <= 0) continue;
    const avgIn = r.avgInputTokens ?? 0;
    const demand = (r.tokensInUse ?? 0) + (avgIn > 0 ? r.queueLength * trunc(avgIn) : 0);
    const k1 = trunc(total * input.config.kvCacheThreshold);
    const effective = Math.min(k1, replicaK2(input, state, r, k1));
    const existing = getCapacity(state, input.namespace, input.modelId, r.variantName);
    putCapacity(state, input.namespace, input.modelId, r.variantName, {
      acceleratorName: r.acceleratorName,
      gpuCount: states.get(r.variantName)?.gpusPerReplica ?? 0,
      numGpuBlocks: r.numGpuBlocks ?? 0,
      blockSize: r.blockSize ?? 0,
      totalKvCapacityTokens: total,
      effectiveCapacity: effective,
      vllmParams: existing?.vllmParams ?? null,
      learnedFrom: 'live',
    });
    const list = byVariant.get(r.variantName);
    if (list) list.push({ effective, demand });
    else byVariant.set(r.variantName, [{ effective, demand }]);
  }
  return byVariant;
}

interface Workload {
  avgIn: number;
  avgOut: number;
  hitRate: number;
}

function modelWorkload(replicas: ReplicaMetrics[]): Workload {
  const withTraffic = replicas.filter((r) => (r.avgInputTokens ?? 0) > 0 || (r.avgOutputTokens ?? 0) > 0);
  return {
    avgIn: mean(withTraffic.map((r) => r.avgInputTokens ?? 0)),
    avgOut: mean(withTraffic.map((r) => r.avgOutputTokens ?? 0)),
    hitRate: mean(withTraffic.map((r) => r.prefixCacheHitRate ?? 0)),
  };
}

/** Per-replica capacity of a variant none of whose pods report KV data, from what the store knows. */
function storedCapacity(
  input: SaturationV2Input,
  state: SaturationV2State,
  s: VariantReplicaState,
  acceleratorName: string,
  w: Workload,
): number {
  const record = getCapacity(state, input.namespace, input.modelId, s.variantName);
  if (!record) return 0;
  if (record.effectiveCapacity > 0) {
    if (record.learnedFrom === 'live') return record.effectiveCapacity;
    const estimate =
      record.vllmParams && w.avgOut > 0
        ? estimateCapacityFromParams(record.vllmParams, w.avgIn, w.avgOut)
        : 0;
    if (estimate <= 0) return record.effectiveCapacity;
    let bounded = estimate;
    const threshold = input.config.kvCacheThreshold;
    if (record.totalKvCapacityTokens > 0 && threshold > 0) {
      const k1 = trunc(record.totalKvCapacityTokens * threshold);
      if (k1 > 0 && k1 < bounded) bounded = k1;
    }
    const c = findCompatibleCapacity(
      state,
      input.modelId,
      record.acceleratorName,
      record.gpuCount,
      record.vllmParams,
    );
    if (c && c.learnedFrom === 'live' && c.effectiveCapacity > 0 && c.effectiveCapacity < bounded) {
      bounded = c.effectiveCapacity;
    }
    return bounded;
  }
  if (record.vllmParams) {
    const c = findCompatibleCapacity(
      state,
      input.modelId,
      acceleratorName,
      s.gpusPerReplica ?? 0,
      record.vllmParams,
    );
    return c ? c.effectiveCapacity : 0;
  }
  return 0;
}

function queueDemand(input: SaturationV2Input, w: Workload): number {
  const q = input.schedulerQueue;
  if (!q || (q.queueSize === 0 && q.queueBytes === 0)) return 0;
  return (
    Math.max(q.queueBytes / BYTES_PER_TOKEN, q.queueSize * w.avgIn) * (1 - w.hitRate) + q.queueSize * w.avgOut
  );
}

/**
 * Token supply and demand of one model, per variant of `variantStates` and in total, with the
 * capacity to add (requiredCapacity) or that may go (spareCapacity). Reads and updates `state`:
 * the k2 history and the capacity store. `analyzedAt` is now.
 */
export function analyzeSaturationV2(input: SaturationV2Input, state: SaturationV2State): AnalyzerResult {
  const states = new Map(input.variantStates.map((s) => [s.variantName, s]));
  const processed = processReplicas(input, state, states);
  const w = modelWorkload(input.replicaMetrics);

  const variantCapacities: VariantCapacity[] = [];
  for (const s of input.variantStates) {
    const first = input.replicaMetrics.find((r) => r.variantName === s.variantName);
    const acceleratorName = first?.acceleratorName ?? '';
    const ready = Math.max(0, s.currentReplicas - s.pendingReplicas);
    const own = processed.get(s.variantName);
    let perReplicaCapacity = 0;
    let totalDemand = 0;
    if (own && own.length > 0) {
      perReplicaCapacity = median(own.map((p) => p.effective));
      for (const p of own) totalDemand += p.demand;
    } else {
      perReplicaCapacity = storedCapacity(input, state, s, acceleratorName, w);
    }
    const totalCapacity = ready * perReplicaCapacity;
    variantCapacities.push({
      variantName: s.variantName,
      acceleratorName,
      cost: first?.cost ?? 0,
      replicaCount: ready,
      pendingReplicas: s.pendingReplicas,
      perReplicaCapacity,
      totalCapacity,
      totalDemand,
      utilization: totalCapacity > 0 ? totalDemand / totalCapacity : 0,
    });
  }

  let supply = 0;
  let anticipated = 0;
  let demand = 0;
  for (const v of variantCapacities) {
    supply += v.totalCapacity;
    anticipated += (v.replicaCount + v.pendingReplicas) * v.perReplicaCapacity;
    demand += v.totalDemand;
  }
  demand += queueDemand(input, w);
  const up = input.config.scaleUpThreshold ?? 0;
  const down = input.config.scaleDownBoundary ?? 0;
  return {
    analyzerName: V2_ANALYZER_NAME,
    modelId: input.modelId,
    namespace: input.namespace,
    analyzedAt: Date.now(),
    variantCapacities,
    totalSupply: supply,
    totalDemand: demand,
    utilization: supply > 0 ? demand / supply : 0,
    requiredCapacity: up > 0 ? Math.max(0, demand / up - anticipated) : 0,
    spareCapacity: down > 0 ? Math.max(0, supply - demand / down) : 0,
  };
}
