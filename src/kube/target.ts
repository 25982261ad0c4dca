// What a VariantAutoscaling scales, as upstream v0.5 reads it: the object its scaleTargetRef names
// (a Deployment, or any kind with a `scale` subresource), its replicas (current, ready, pending) and
// the TargetResolved condition. Pure: lookups are the caller's.
import type { Condition } from './types.js';
import type { ParsedSpec, ScaleTargetRef } from './va-spec.js';

export const TARGET_RESOLVED = 'TargetResolved';
export type TargetReason = 'TargetFound' | 'TargetNotFound';

/** The part of a target (Deployment, StatefulSet, LeaderWorkerSet, or an autoscaling/v1 Scale) read here. */
export interface TargetObject {
  kind?: string;
  metadata: { name: string; namespace: string; deletionTimestamp?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number };
}

export interface TargetReplicas {
  /** What the target asks for (spec.replicas; Kubernetes defaults an unset one to 1). */
  desired: number;
  /** Pods it has: status.replicas, or spec.replicas while the status says 0 (upstream's reading). */
  current: number;
  /** Ready pods; undefined when the target does not report them (a Scale subresource). */
  ready: number | undefined;
  /** current - ready, never negative; 0 when ready is unknown. */
  pending: number;
}

const count = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** Replicas of a target as upstream's engines read them. */
export function targetReplicas(t: TargetObject): TargetReplicas {
  const desired = count(t.spec?.replicas) ? t.spec.replicas : 1;
  const reported = count(t.status?.replicas) ? t.status.replicas : 0;
  const current = reported > 0 ? reported : desired;
  const ready = count(t.status?.readyReplicas) ? t.status.readyReplicas : undefined;
  return { desired, current, ready, pending: ready === undefined ? 0 : Math.max(0, current - ready) };
}

/** `Deployment llm/llama-8b`: how messages name a target. */
export function describeTarget(ref: ScaleTargetRef, namespace: string): string {
  return `${ref.kind} ${namespace}/${ref.name}`;
}

/**
 * The TargetResolved condition (without lastTransitionTime) for a VariantAutoscaling whose spec
 * resolved to `spec.target`, given what the lookup found.
 */
export function targetCondition(
  spec: Pick<ParsedSpec, 'target' | 'targetDefaulted'>,
  namespace: string,
  found: TargetObject | undefined,
  generation?: number,
): Omit<Condition, 'lastTransitionTime'> {
  const what = describeTarget(spec.target, namespace);
  const how = spec.targetDefaulted
    ? ' (no spec.scaleTargetRef: the Deployment named like the VariantAutoscaling)'
    : '';
  const base = {
    type: TARGET_RESOLVED,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  if (!found) {
    return {
      ...base,
      status: 'False',
      reason: 'TargetNotFound',
      message: `${what} not found${how}: its replicas are unknown and it is not scaled until it exists`,
    };
  }
  if (found.metadata.deletionTimestamp) {
    return {
      ...base,
      status: 'False',
      reason: 'TargetNotFound',
      message: `${what} is being deleted: it is not scaled`,
    };
  }
  return { ...base, status: 'True', reason: 'TargetFound', message: `${what} found${how}` };
}

/** The index key of a target: namespace, kind and name. */
export function targetKey(namespace: string, kind: string, name: string): string {
  return `${namespace}/${kind}/${name}`;
}

/**
 * Which VariantAutoscalings reference each target, so a target's event finds its VAs without a
 * scan of every VA. One entry per VA (its latest reference); a target may have several VAs.
 */
export class TargetIndex {
  private readonly byTarget = new Map<string, Set<string>>();
  private readonly byVariant = new Map<string, string>();

  /** Records (or moves) `vaKey`'s reference; undefined target: the VA is forgotten. */
  set(vaKey: string, target: string | undefined): void {
    const prev = this.byVariant.get(vaKey);
    if (prev === target) return;
    if (prev !== undefined) {
      const set = this.byTarget.get(prev);
      set?.delete(vaKey);
      if (set?.size === 0) this.byTarget.delete(prev);
    }
    if (target === undefined) {
      this.byVariant.delete(vaKey);
      return;
    }
    this.byVariant.set(vaKey, target);
    let set = this.byTarget.get(target);
    if (!set) {
      set = new Set();
      this.byTarget.set(target, set);
    }
    set.add(vaKey);
  }

  delete(vaKey: string): void {
    this.set(vaKey, undefined);
  }

  /** The VAs referencing a target, in no particular order. */
  variantsOf(target: string): string[] {
    return [...(this.byTarget.get(target) ?? [])];
  }

  /** The target a VA references, if recorded. */
  targetOf(vaKey: string): string | undefined {
    return this.byVariant.get(vaKey);
  }

  get size(): number {
    return this.byVariant.size;
  }
}
