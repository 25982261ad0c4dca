// What an actuation did, as status.actuation and the Actuated condition say it, and the reading of a
// Deployment's replicas the actuator acts from.
import { setCondition } from '../kube/conditions.js';
import type { Deployment, VariantAutoscalingStatus } from '../kube/types.js';

export const ACTUATED = 'Actuated';
export type ActuatedReason =
  | 'Published'
  | 'Scaled'
  | 'NoDecision'
  | 'DeploymentNotFound'
  | 'DeploymentDeleting'
  | 'HPAConflict'
  | 'HPAsNotListed'
  | 'ScaleFailed';

export interface ActuationResult {
  applied: boolean;
  reason: ActuatedReason;
  message: string;
  /** Replicas published (and, in scale mode, asked of the Deployment). */
  published?: number;
}

/** The largest count a Deployment's spec.replicas (an int32) can hold. */
const INT32_MAX = 2_147_483_647;

/** A replica count that may be acted on. */
export const isCount = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= INT32_MAX;

/** Replicas the Deployment asks for; unset means 1, as the API server defaults it. */
export function specReplicas(d: Deployment | undefined): number | undefined {
  if (!d) return undefined;
  const r = d.spec?.replicas;
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 1;
}

/** Ready replicas; a Deployment without a status yet is unknown, an absent readyReplicas is 0. */
export function readyReplicas(d: Deployment | undefined): number | undefined {
  if (!d?.status) return undefined;
  const r = d.status.readyReplicas;
  return typeof r === 'number' && r >= 0 ? r : 0;
}

/** The status with actuation applied: status.actuation.applied and the Actuated condition. */
export function withActuation(
  status: VariantAutoscalingStatus,
  r: ActuationResult,
  now: Date,
  generation?: number,
): VariantAutoscalingStatus {
  return {
    ...status,
    actuation: { applied: r.applied },
    conditions: setCondition(
      status.conditions ?? [],
      {
        type: ACTUATED,
        status: r.applied ? 'True' : 'False',
        reason: r.reason,
        message: r.message.slice(0, 32768),
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      now,
    ),
  };
}
