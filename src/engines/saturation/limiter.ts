// The GPU limiter, as upstream WVA v0.5 applies it to V1 decisions: GPUs per accelerator type
// from the cluster's nodes, less what running replicas hold, are handed to scale-ups in order of
// least spare capacity, then lowest cost. A scale-up that does not fit is cut to what does.
import type { DecisionStep, GpuAllocator, VariantDecision } from './types.js';

/**
 * The short accelerator type of a product name: `NVIDIA-A100-PCIE-80GB` -> `A100`,
 * `Intel-Gaudi-2-96GB` -> `Gaudi-2`. A name without `-` is its own type.
 */
export function normalizeAcceleratorName(name: string): string {
  if (!name.includes('-')) return name;
  const parts = name.split('-');
  const vendor = parts[0]!.toUpperCase();
  if (vendor === 'INTEL' && parts.length >= 3) return `${parts[1]}-${parts[2]}`;
  return parts[1]!;
}

export interface GpuInventory {
  limitByType: Record<string, number>;
  usedByType: Record<string, number>;
  availableByType: Record<string, number>;
  totalLimit: number;
  totalUsed: number;
  totalAvailable: number;
}

/** GPU capacity per type from `nodes` (node -> product name -> count), less `usedByType`. */
export function gpuInventory(
  nodes: Record<string, Record<string, { count: number }>>,
  usedByType: Record<string, number> = {},
): GpuInventory {
  const limitByType: Record<string, number> = {};
  let totalLimit = 0;
  for (const models of Object.values(nodes)) {
    for (const [model, info] of Object.entries(models)) {
      const type = normalizeAcceleratorName(model);
      limitByType[type] = (limitByType[type] ?? 0) + info.count;
      totalLimit += info.count;
    }
  }
  const used = { ...usedByType };
  let totalUsed = 0;
  for (const n of Object.values(used)) totalUsed += n;
  const availableByType: Record<string, number> = {};
  for (const [type, limit] of Object.entries(limitByType)) {
    availableByType[type] = Math.max(0, limit - (used[type] ?? 0));
  }
  return {
    limitByType,
    usedByType: used,
    availableByType,
    totalLimit,
    totalUsed,
    totalAvailable: Math.max(0, totalLimit - totalUsed),
  };
}

/**
 * An allocator over separate pools per accelerator type, looked up by the decision's accelerator
 * name as written. A decision without one is an error.
 */
export function createTypeAllocator(
  availableByType: Record<string, number>,
): GpuAllocator & { remainingForType(type: string): number } {
  const pools = new Map(Object.entries(availableByType));
  let total = 0;
  for (const n of pools.values()) total += n;
  return {
    tryAllocate(d: VariantDecision, gpusRequested: number): number {
      if (gpusRequested <= 0) return 0;
      if (d.acceleratorName === '') {
        throw new Error(`decision for ${d.namespace}/${d.variantName} has no accelerator name`);
      }
      const available = pools.get(d.acceleratorName) ?? 0;
      if (available <= 0) return 0;
      const granted = Math.min(gpusRequested, available);
      pools.set(d.acceleratorName, available - granted);
      total -= granted;
      return granted;
    },
    remaining: () => total,
    remainingForType: (type: string) => pools.get(type) ?? 0,
  };
}

/**
 * Grants GPUs to scale-ups, least spare capacity first (then lowest cost), cutting each to the
 * whole replicas its grant covers. Returns fresh decisions in input order; others are copied as-is.
 */
export function allocateGreedyBySaturation(ds: VariantDecision[], a: GpuAllocator): VariantDecision[] {
  const out = ds.map((d) => ({ ...d, decisionSteps: [...d.decisionSteps] }));
  const order = out
    .filter((d) => d.targetReplicas > d.currentReplicas)
    .sort((x, y) => x.spareCapacity - y.spareCapacity || x.cost - y.cost);
  for (const d of order) {
    const need = d.targetReplicas - d.currentReplicas;
    const gpr = d.gpusPerReplica > 0 ? d.gpusPerReplica : 1;
    let got = 0;
    try {
      got = a.tryAllocate(d, need * gpr);
    } catch {
      got = 0;
    }
    // A grant that is not a whole number of replicas stays consumed, as upstream does.
    const add = Math.floor(got / gpr);
    d.gpusAllocated = add * gpr;
    d.targetReplicas = d.currentReplicas + add;
    if (add < need) d.wasLimited = true;
  }
  return out;
}

function limiterReason(d: VariantDecision): string {
  const change = d.targetReplicas - d.currentReplicas;
  if (change <= 0) return `no scale-up (target=${d.targetReplicas}, current=${d.currentReplicas})`;
  const text = `allocated ${d.gpusAllocated} GPUs for +${change} replicas`;
  return d.wasLimited ? `limited: ${text}` : text;
}

/**
 * Runs the greedy limiter over `ds` against the GPUs of `limitByType` not held by the decisions'
 * current replicas, and records a step named `limiterName` on every decision. The action is never
 * rewritten, even when a scale-up is cut to nothing.
 */
export function limitDecisions(
  limiterName: string,
  limitByType: Record<string, number>,
  ds: VariantDecision[],
): { decisions: VariantDecision[]; usedByType: Record<string, number> } {
  if (ds.length === 0) return { decisions: ds, usedByType: {} };
  const usedByType: Record<string, number> = {};
  for (const d of ds) {
    if (d.acceleratorName === '') continue;
    usedByType[d.acceleratorName] =
      (usedByType[d.acceleratorName] ?? 0) + d.currentReplicas * d.gpusPerReplica;
  }
  const availableByType: Record<string, number> = {};
  for (const [type, limit] of Object.entries(limitByType)) {
    availableByType[type] = Math.max(0, limit - (usedByType[type] ?? 0));
  }
  const decisions = allocateGreedyBySaturation(ds, createTypeAllocator(availableByType));
  for (const d of decisions) {
    if (d.wasLimited) d.limitedBy = limiterName;
    const reason = limiterReason(d);
    const step: DecisionStep = {
      name: limiterName,
      action: d.action,
      targetReplicas: d.targetReplicas,
      reason,
      wasConstrained: d.wasLimited,
    };
    d.decisionSteps.push(step);
  }
  return { decisions, usedByType };
}
