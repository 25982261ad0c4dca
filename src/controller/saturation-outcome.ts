// A saturation decision as the reconciler uses it: fetched for one variant (a failure of the engine
// becomes a condition, never a failed reconcile) and turned into what the actuator acts on.
import type { ActuationInput } from '../actuator/actuator.js';
import { METRICS_AVAILABLE } from '../engines/types.js';
import type { VariantAutoscaling } from '../kube/types.js';
import type { Decision, GroupMember } from './decision.js';
import type { SaturationDecider, SaturationOutcome } from './saturation-decider.js';
import type { MetricsRead } from './status.js';

/** What decides a profile-less variant: the saturation engines, or the SLO engine over them (which also reads the model's load). */
export interface ModelDecider {
  decide(
    ...a: [...Parameters<SaturationDecider['decide']>, read?: MetricsRead]
  ): SaturationOutcome | Promise<SaturationOutcome>;
}

/** The decider the controller holds for profile-less variants (SaturationDecider or SloDecider). */
export type VariantDecider = Pick<SaturationDecider, 'beginCycle' | 'floor' | 'forget'> &
  Partial<Pick<SaturationDecider, 'prepare'>> &
  ModelDecider;

/** This variant's part of its model's decision (decided once per cycle for the model). */
export async function saturationOutcome(
  decider: ModelDecider & Partial<Pick<SaturationDecider, 'prepare'>>,
  group: () => Promise<GroupMember[]>,
  va: VariantAutoscaling,
  read: MetricsRead,
): Promise<SaturationOutcome> {
  try {
    // With the GPU limiter on, the fleet is decided together first (once per cycle).
    await decider.prepare?.();
    return await decider.decide(va, await group(), read.pods, read);
  } catch (err) {
    const why = `the saturation engine failed on model ${va.spec.modelID}: ${err instanceof Error ? err.message : String(err)}`;
    return {
      status: {
        variantName: va.metadata.name,
        desired: null,
        conditions: [{ type: METRICS_AVAILABLE, status: 'False', reason: 'MetricsMissing', message: why }],
      },
      model: {
        modelId: va.spec.modelID,
        namespace: va.metadata.namespace,
        engine: 'saturation',
        decisions: [],
        skipped: [why],
        notes: [],
      },
    };
  }
}

/** What the actuator acts on: this cycle's decision for the variant, else why there is none. */
export function saturationActuation(sat: SaturationOutcome): Pick<ActuationInput, 'decision' | 'undecided'> {
  const desired = sat.decision ? sat.status.desired : null;
  if (desired) return { decision: { accelerator: desired.accelerator, numReplicas: desired.numReplicas } };
  return { undecided: `${sat.model.engine}: ${sat.model.skipped.join('; ') || 'nothing decided'}` };
}

/**
 * The SLO engine's decision under saturation V1's floor: never fewer replicas than V1 would keep.
 * The message gives both counts; the reason says the floor decided.
 */
export function withSaturationFloor(d: Decision, floor: number | undefined): Decision {
  if (!d.ok || floor === undefined || floor <= d.numReplicas) return d;
  return {
    ...d,
    reason: 'SaturationSafetyOverride',
    numReplicas: floor,
    message: `${d.message}; SaturationSafetyOverride: the SLO engine wanted ${d.numReplicas} replicas, saturation V1 keeps ${floor}: kept ${floor}`,
  };
}
