// Conditions of a VariantAutoscaling status, kept as apimachinery's meta.SetStatusCondition keeps
// them, and read defensively: a status another writer left malformed reads as having none.
import type { Condition, VariantAutoscalingStatus } from './types.js';

/** metav1.Time: RFC 3339 with seconds precision, UTC. */
export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * Sets one condition in a copy of `conditions`, as apimachinery's meta.SetStatusCondition does:
 * lastTransitionTime moves only when `status` changes; reason, message, observedGeneration follow.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const out = conditions.map((c) => ({ ...c }));
  const i = out.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? out[i] : undefined;
  const cond: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime:
      prev && prev.status === next.status && prev.lastTransitionTime
        ? prev.lastTransitionTime
        : formatTime(now),
  };
  if (next.observedGeneration !== undefined) cond.observedGeneration = next.observedGeneration;
  if (i >= 0) out[i] = cond;
  else out.push(cond);
  return out;
}

/**
 * The conditions of a status as a list of condition objects. Anything else there (a map, a string,
 * entries that are not objects with a type: what a hand-edited object or another writer may leave)
 * reads as absent, so that a reconcile never throws on it; our next write replaces it.
 */
export function conditionsOf(status: VariantAutoscalingStatus | undefined): Condition[] {
  const list: unknown = status?.conditions;
  if (!Array.isArray(list)) return [];
  return list.every(isCondition) ? list : list.filter(isCondition);
}

function isCondition(c: unknown): c is Condition {
  return typeof c === 'object' && c !== null && typeof (c as { type?: unknown }).type === 'string';
}

export function findCondition(
  status: VariantAutoscalingStatus | undefined,
  type: string,
): Condition | undefined {
  return conditionsOf(status).find((c) => c.type === type);
}
