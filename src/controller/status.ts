// Pure computation of the next VariantAutoscaling status: no I/O, no clock of its own, so the
// reconciler, the local mode and the status writer's conflict retry all share one answer.

import type { VariantStatusContent } from '../engines/types.js';
import { resolveAccelerator } from '../kube/accelerator.js';
import { conditionsOf, findCondition, formatTime, setCondition } from '../kube/conditions.js';
import { describeTarget, targetCondition } from '../kube/target.js';
import {
  ACCELERATOR_LABEL,
  type AcceleratorProfile,
  type Allocation,
  type Condition,
  type ConditionStatus,
  type Deployment,
  METRICS_AVAILABLE,
  OPTIMIZATION_READY,
  RECONCILED,
  type ReconciledReason,
  type VariantAutoscaling,
  type VariantAutoscalingStatus,
} from '../kube/types.js';
import { parseSpec } from '../kube/va-spec.js';
import type { AggregateMetrics } from '../types.js';
import type { Decision, MetricsRead } from './decision-types.js';

export type { MetricsRead } from './decision-types.js';

export interface StatusInput {
  va: VariantAutoscaling;
  /** From validateSpec; non-empty: the object gets Reconciled=False/InvalidSpec and nothing else moves. */
  specProblems: string[];
  /** The Deployment of the same name and namespace; undefined when it does not exist. */
  deployment: Deployment | undefined;
  /** The collector's answer; undefined only when the spec was invalid (no model to ask about). */
  read: MetricsRead | undefined;
  now: Date;
  /** Cost of one accelerator unit per accelerator type (the original's accelerator-unit-costs); default 0. */
  unitCosts?: Record<string, number>;
  /** The optimizer's decision; absent: desiredOptimizedAlloc and OptimizationReady are left alone. */
  decision?: Decision;
  /** A saturation engine's status content; its conditions and desired allocation are applied. */
  engine?: VariantStatusContent;
}

/**
 * A number as the CRD wants it: a non-negative decimal string with two decimals (`^\d+(\.\d+)?$`).
 * Negative, NaN and infinite values cannot be written in that pattern and mean "broken input": 0.
 */
export function formatDecimal(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0.00';
  if (n >= 1e20) return '100000000000000000000.00';
  return n.toFixed(2);
}

/** The profile matching the accelerator label, else the first one listed. */
function pickProfile(va: VariantAutoscaling): AcceleratorProfile | undefined {
  const accs = va.spec.modelProfile?.accelerators ?? [];
  const label = va.metadata.labels?.[ACCELERATOR_LABEL];
  return accs.find((a) => a.acc === label) ?? accs[0];
}

/** Replicas the Deployment asks for; Kubernetes defaults an unset spec.replicas to 1. */
export function deploymentReplicas(d: Deployment): number {
  const r = d.spec?.replicas;
  return isReplicaCount(r) ? r : 1;
}

/** A whole number of replicas, 0 included: what an object written by someone else may not hold. */
export const isReplicaCount = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** The status fields from metrics, or undefined when any of them is unknown (never written as 0). */
function metricsAllocFields(
  m: AggregateMetrics,
): Pick<Allocation, 'load' | 'ttftAverage' | 'itlAverage'> | undefined {
  const { arrivalRate, avgInputTokens, avgOutputTokens } = m.load;
  const { ttftAverage, itlAverage } = m;
  if (
    arrivalRate === undefined ||
    avgInputTokens === undefined ||
    avgOutputTokens === undefined ||
    ttftAverage === undefined ||
    itlAverage === undefined
  ) {
    return undefined;
  }
  return {
    load: {
      arrivalRate: formatDecimal(arrivalRate),
      avgInputTokens: formatDecimal(avgInputTokens),
      avgOutputTokens: formatDecimal(avgOutputTokens),
    },
    ttftAverage: formatDecimal(ttftAverage),
    itlAverage: formatDecimal(itlAverage),
  };
}

// A condition's message may be at most this long (metav1.Condition); the API server refuses more.
const MAX_CONDITION_MESSAGE = 32768;

/**
 * The desired allocation, its lastRunTime moved only when accelerator or replicas change, so a
 * steady fleet is not patched every cycle.
 */
function desiredAlloc(
  prev: VariantAutoscalingStatus,
  accelerator: string,
  numReplicas: number,
  now: Date,
): NonNullable<VariantAutoscalingStatus['desiredOptimizedAlloc']> {
  const old = prev.desiredOptimizedAlloc;
  const same = old && old.accelerator === accelerator && old.numReplicas === numReplicas;
  return {
    accelerator,
    numReplicas,
    lastRunTime: same && old.lastRunTime ? old.lastRunTime : formatTime(now),
  };
}

/**
 * desiredOptimizedAlloc and OptimizationReady from a decision. A failed decision keeps the
 * previous desiredOptimizedAlloc.
 */
function applyDecision(
  prev: VariantAutoscalingStatus,
  next: VariantAutoscalingStatus,
  conditions: Condition[],
  d: Decision,
  now: Date,
  generation: number | undefined,
): Condition[] {
  if (d.ok) next.desiredOptimizedAlloc = desiredAlloc(prev, d.accelerator, d.numReplicas, now);
  return setCondition(
    conditions,
    {
      type: OPTIMIZATION_READY,
      status: d.ok ? 'True' : 'False',
      reason: d.reason,
      message: d.message.slice(0, MAX_CONDITION_MESSAGE),
      observedGeneration: generation,
    },
    now,
  );
}

/** A saturation engine's content: desired allocation and conditions. */
function applyEngine(
  prev: VariantAutoscalingStatus,
  next: VariantAutoscalingStatus,
  conditions: Condition[],
  e: VariantStatusContent,
  now: Date,
  generation: number | undefined,
): Condition[] {
  if (e.desired)
    next.desiredOptimizedAlloc = desiredAlloc(prev, e.desired.accelerator, e.desired.numReplicas, now);
  let out = conditions;
  for (const c of e.conditions) {
    out = setCondition(
      out,
      { ...c, message: c.message.slice(0, MAX_CONDITION_MESSAGE), observedGeneration: generation },
      now,
    );
    // The transition counts against the stored condition, not one set earlier in this compute
    // (MetricsAvailable from the fleet read): else a False the engine repeats would be rewritten
    // with a new time every cycle.
    const stored = findCondition(prev, c.type);
    const since = stored?.status === c.status ? stored.lastTransitionTime : undefined;
    out = out.map((x) => (x.type === c.type ? { ...x, lastTransitionTime: since || formatTime(now) } : x));
  }
  return out;
}

/**
 * The status the controller wants for `va`. `currentAlloc`, our two conditions and (given a
 * decision) `desiredOptimizedAlloc` with OptimizationReady move; `actuation` and other writers'
 * conditions are carried over untouched.
 * When metrics are not available the previous load and latencies are kept: publishing zeros
 * would tell an autoscaler the model is idle.
 */
export function computeStatus(input: StatusInput): VariantAutoscalingStatus {
  const { va, now } = input;
  const prev = va.status ?? {};
  const generation = va.metadata.generation;
  const next: VariantAutoscalingStatus = { ...prev };
  let conditions = conditionsOf(prev);
  const ns = va.metadata.namespace;
  const name = va.metadata.name;

  const reconciled = (status: ConditionStatus, reason: ReconciledReason, message: string) => {
    conditions = setCondition(
      conditions,
      { type: RECONCILED, status, reason, message, observedGeneration: generation },
      now,
    );
  };

  if (input.specProblems.length > 0 || !input.read) {
    reconciled(
      'False',
      'InvalidSpec',
      `Invalid spec: ${input.specProblems.join('; ')}`.slice(0, MAX_CONDITION_MESSAGE),
    );
    if (input.decision) conditions = applyDecision(prev, next, conditions, input.decision, now, generation);
    next.conditions = conditions;
    return next;
  }

  const av = input.read.availability;
  conditions = setCondition(
    conditions,
    {
      type: METRICS_AVAILABLE,
      status: av.available ? 'True' : 'False',
      reason: av.reason,
      message: av.message.slice(0, MAX_CONDITION_MESSAGE),
      observedGeneration: generation,
    },
    now,
  );
  if (input.decision) conditions = applyDecision(prev, next, conditions, input.decision, now, generation);
  if (input.engine) conditions = applyEngine(prev, next, conditions, input.engine, now, generation);

  const d = input.deployment;
  const spec = parseSpec(va.spec, name);
  if (spec.ok) conditions = setCondition(conditions, targetCondition(spec.spec, ns, d, generation), now);
  if (!d) {
    const what = spec.ok ? describeTarget(spec.spec.target, ns) : `Deployment ${ns}/${name}`;
    reconciled(
      'False',
      'DeploymentNotFound',
      `${what} not found: currentAlloc needs its replica count and was not updated`,
    );
    next.conditions = conditions;
    return next;
  }

  const profile = pickProfile(va);
  const placed = resolveAccelerator(va.metadata.labels, d.spec?.template?.spec);
  const accelerator = placed.source === 'unknown' ? profile?.acc || placed.accelerator : placed.accelerator;
  const numReplicas = deploymentReplicas(d);
  const accCount = profile?.accCount ?? 1;
  const unitCost = input.unitCosts?.[accelerator] ?? 0;
  const fresh = av.available && input.read.metrics ? metricsAllocFields(input.read.metrics) : undefined;
  const measured =
    fresh ??
    (prev.currentAlloc
      ? {
          load: { ...prev.currentAlloc.load },
          ttftAverage: prev.currentAlloc.ttftAverage,
          itlAverage: prev.currentAlloc.itlAverage,
        }
      : undefined);
  if (measured) {
    next.currentAlloc = {
      accelerator,
      numReplicas,
      maxBatch: profile?.maxBatchSize ?? 0,
      variantCost: formatDecimal(unitCost * accCount * numReplicas),
      ...measured,
    };
    reconciled(
      'True',
      'Reconciled',
      `currentAlloc reflects ${spec.ok ? describeTarget(spec.spec.target, ns) : `Deployment ${ns}/${name}`} and model ${va.spec.modelID}`,
    );
  } else {
    reconciled(
      'True',
      'Reconciled',
      `No metrics yet for model ${va.spec.modelID}: currentAlloc is written once metrics are available`,
    );
  }
  next.conditions = conditions;
  return next;
}

/** The part of the status the controller owns: what it patches and compares. */
export function ownedStatus(s: VariantAutoscalingStatus | undefined): VariantAutoscalingStatus {
  const out: VariantAutoscalingStatus = {};
  if (s?.currentAlloc) out.currentAlloc = s.currentAlloc;
  if (s?.desiredOptimizedAlloc) out.desiredOptimizedAlloc = s.desiredOptimizedAlloc;
  if (s?.actuation) out.actuation = s.actuation;
  if (s?.conditions) out.conditions = s.conditions;
  return out;
}

/** Structural equality of JSON-shaped values; `undefined` members count as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

/** True when writing `next` over `current` would change nothing the controller owns. */
export function statusUnchanged(
  current: VariantAutoscalingStatus | undefined,
  next: VariantAutoscalingStatus,
): boolean {
  return deepEqual(ownedStatus(current), ownedStatus(next));
}
