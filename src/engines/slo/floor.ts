// Saturation V1 as the floor of a model's SLO decisions, counted for the model as a whole: never
// fewer replicas for the model than V1 keeps this cycle. Per variant it would deadlock whenever V1
// removes a replica from one variant (the dearest) while the SLO engine keeps that one and removes
// from another: each would hold the other's count and the model would never scale down.
import { STEP_NAMES, withStep } from '../steps.js';
import type { ScalingDecision } from '../types.js';

/**
 * The decisions with a `SaturationSafetyOverride` step each. When the model's total (counting only
 * replicas serving now) is below V1's,
 * the shortfall is made up on the variants V1 keeps more of, cheapest replica first, each at most
 * up to V1's count (a single variant is therefore lifted exactly to V1's target).
 */
export function modelFloor(
  ds: readonly ScalingDecision[],
  floor: ReadonlyMap<string, number>,
  serving: ReadonlyMap<string, number>,
): ScalingDecision[] {
  const of = (d: ScalingDecision) => floor.get(d.variantName);
  // Replicas asked for beyond those serving now do not count: they serve minutes later, and a
  // variant let down meanwhile would leave the model short while they start.
  const counted = (d: ScalingDecision) =>
    Math.min(d.targetReplicas, serving.get(d.variantName) ?? d.currentReplicas);
  const total = ds.reduce((a, d) => a + counted(d), 0);
  const kept = ds.reduce((a, d) => a + (of(d) ?? d.targetReplicas), 0);
  const lift = new Map<string, number>();
  let need = kept - total;
  const short = ds
    .filter((d) => (of(d) ?? 0) > d.targetReplicas)
    .sort((a, b) => a.cost - b.cost || a.variantName.localeCompare(b.variantName));
  for (const d of short) {
    if (need <= 0) break;
    const add = Math.min(need, (of(d) as number) - d.targetReplicas);
    lift.set(d.variantName, d.targetReplicas + add);
    need -= add;
  }
  return ds.map((d) => {
    const sat = of(d);
    if (sat === undefined)
      return withStep(d, STEP_NAMES.floor, d.targetReplicas, 'no saturation target for this variant', false);
    const n = lift.get(d.variantName);
    if (n !== undefined)
      return withStep(
        d,
        STEP_NAMES.floor,
        n,
        `${d.engine} wanted ${d.targetReplicas} replicas, saturation V1 keeps ${sat}: kept ${n} ` +
          `(the model keeps V1's ${kept})`,
        true,
      );
    const why =
      d.targetReplicas >= sat
        ? `${d.engine} target ${d.targetReplicas} is at least saturation's ${sat}`
        : `${d.engine} target ${d.targetReplicas} is below saturation's ${sat}, but the model keeps V1's ${kept} replicas`;
    return withStep(d, STEP_NAMES.floor, d.targetReplicas, why, false);
  });
}
