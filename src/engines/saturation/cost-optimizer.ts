// The V2 cost-aware optimiser, as upstream WVA v0.5 runs it: capacity the analyser says is missing
// is bought from the variants with the lowest cost per token of capacity; spare capacity is given
// back by the most expensive variants first, keeping one replica of the cheapest variant when
// nothing else would be left. GPU constraints are not considered.
import { goFixed } from './format.js';
import type { ModelScalingRequest, SaturationAction, VariantCapacity, VariantDecision } from './types.js';

function efficiency(v: VariantCapacity): number {
  return v.perReplicaCapacity > 0 ? v.cost / v.perReplicaCapacity : Number.POSITIVE_INFINITY;
}

// Array.prototype.sort is stable, so ties keep the analyser's order.
function scaleUp(targets: Map<string, number>, caps: VariantCapacity[], required: number): void {
  let remaining = required;
  for (const v of [...caps].sort((a, b) => efficiency(a) - efficiency(b) || 0)) {
    if (remaining <= 0) break;
    if (v.perReplicaCapacity <= 0) continue;
    const n = Math.ceil(remaining / v.perReplicaCapacity);
    targets.set(v.variantName, (targets.get(v.variantName) ?? 0) + n);
    remaining -= n * v.perReplicaCapacity;
  }
}

function scaleDown(targets: Map<string, number>, caps: VariantCapacity[], spare: number): void {
  let cheapest: VariantCapacity | undefined;
  for (const v of caps) if (!cheapest || v.cost < cheapest.cost) cheapest = v;
  let remaining = spare;
  for (const v of [...caps].sort((a, b) => b.cost - a.cost)) {
    if (remaining <= 0) break;
    if (v.perReplicaCapacity <= 0) continue;
    const current = targets.get(v.variantName) ?? 0;
    let othersServe = false;
    for (const [name, t] of targets) if (name !== v.variantName && t > 0) othersServe = true;
    const floor = v.variantName === cheapest?.variantName && !othersServe ? 1 : 0;
    const removable = current - floor;
    if (removable <= 0) continue;
    const k = Math.min(Math.floor(remaining / v.perReplicaCapacity), removable);
    if (k <= 0) continue;
    targets.set(v.variantName, current - k);
    remaining -= k * v.perReplicaCapacity;
  }
}

function actionOf(target: number, current: number): SaturationAction {
  return target > current ? 'scale-up' : target < current ? 'scale-down' : 'no-change';
}

/** One decision per variant of every request with an analysis, in the requests' order. */
export function costAwareOptimize(requests: ModelScalingRequest[]): VariantDecision[] {
  const out: VariantDecision[] = [];
  for (const req of requests) {
    const r = req.result;
    if (!r) continue;
    const targets = new Map<string, number>();
    for (const s of req.variantStates) targets.set(s.variantName, s.currentReplicas);
    if (r.requiredCapacity > 0) scaleUp(targets, r.variantCapacities, r.requiredCapacity);
    else if (r.spareCapacity > 0) scaleDown(targets, r.variantCapacities, r.spareCapacity);

    // Lookups by name, the last entry winning as in a map built from the lists.
    const caps = new Map(r.variantCapacities.map((v) => [v.variantName, v]));
    const states = new Map(req.variantStates.map((s) => [s.variantName, s]));
    for (const [name, target] of targets) {
      const cap = caps.get(name);
      const current = states.get(name)?.currentReplicas ?? 0;
      const action = actionOf(target, current);
      const reason =
        action === 'scale-up'
          ? `V2 scale-up (optimizer: cost-aware, required: ${goFixed(r.requiredCapacity, 0)})`
          : action === 'scale-down'
            ? `V2 scale-down (optimizer: cost-aware, spare: ${goFixed(r.spareCapacity, 0)})`
            : 'V2 steady state';
      out.push({
        variantName: name,
        namespace: req.namespace,
        modelId: req.modelId,
        acceleratorName: cap?.acceleratorName ?? '',
        cost: cap?.cost ?? 0,
        action,
        currentReplicas: current,
        targetReplicas: target,
        gpusPerReplica: 0,
        spareCapacity: 0,
        gpusAllocated: 0,
        wasLimited: false,
        limitedBy: '',
        decisionSteps: [],
        reason,
      });
    }
  }
  return out;
}
