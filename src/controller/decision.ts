// The optimizer's per-object entry point: from one VariantAutoscaling, what the collector read for
// its model, the other variants of that model in its namespace and the optimizer ConfigMaps, the
// decision to publish (accelerator and replicas) or why there is none. Pure apart from the
// Stabiliser it is handed, which remembers recent recommendations.

import { type Deployment, objectKey, type VariantAutoscaling } from '../kube/types.js';
import {
  SizingMemo,
  type SloTargets,
  Stabiliser,
  saturationHold,
  UNIT_COSTS_CONFIGMAP,
} from '../optimizer/index.js';
import type { Decision, GroupMember, MetricsRead, OptimizerConfigMaps } from './decision-types.js';
import type { GivenPlan } from './given-types.js';
import { type CycleCache, fail, member, newCycleCache, sizeForMember } from './group-plan.js';
import { JumpGuard, maxText } from './replica-bounds.js';
import { sizingLoad } from './sizing-load.js';
import { deploymentReplicas } from './status.js';

export { OPTIMIZATION_READY } from '../kube/types.js';
export type {
  ConfigMapState,
  Decision,
  GroupMember,
  OptimizationReason,
  OptimizerConfigMaps,
} from './decision-types.js';
export type { CycleCache } from './group-plan.js';
export { MAX_REPLICAS_ANNOTATION, MIN_REPLICAS_ANNOTATION } from './replica-bounds.js';

export interface DecisionInput {
  va: VariantAutoscaling;
  deployment?: Deployment;
  read: MetricsRead;
  /** Every variant of the same model in the same namespace, `va` included. */
  group: GroupMember[];
  config: OptimizerConfigMaps;
  now: Date;
  /** Monotonic milliseconds for the stabilisation window; default `now` (tests on a fake clock). */
  monotonicMs?: number;
  stabiliser: Stabiliser;
  /** Holds a jump of orders of magnitude until a second sample agrees; none: not guarded. */
  jumps?: JumpGuard;
  /** The source knows every Deployment: a variant without one (or one being deleted) carries no load. */
  requireTarget?: boolean;
  kvCacheThreshold: number;
  /** Size for the arrivals plus the rate that serves the requests waiting within this time; 0 or
   *  absent: arrivals only. */
  backlogDrainMs?: number;
  memo?: SizingMemo;
  /** Fewest replicas allowed without an annotation, per variant: 1, or 0 where scale to zero
   *  allows it (and for the variants that do not keep their model serving). */
  minReplicasDefault?: number | ((va: VariantAutoscaling) => number);
  /** What one cycle's decisions share (parsed members, group sizings); valid for one config. */
  cycle?: CycleCache;
  /** Given profiles as the measurements corrected them, and each variant's headline (the learner's). */
  performance?: GivenPlan;
}

function sloText(slo: SloTargets): string {
  const parts: string[] = [];
  if (slo.ttftMs) parts.push(`TTFT ${slo.ttftMs} ms`);
  if (slo.itlMs) parts.push(`ITL ${slo.itlMs} ms`);
  return parts.length > 0 ? parts.join(', ') : 'no latency target';
}

/** The decision for `input.va`; see the file comment. */
export function decideVariant(input: DecisionInput): Decision {
  const { va, config } = input;
  // Each member's own minimum (scale to zero decides per variant), not the deciding one's.
  const md = input.minReplicasDefault;
  const minOf = (v: VariantAutoscaling) => (typeof md === 'function' ? md(v) : (md ?? 1));
  const cache = input.cycle;
  const corrected = input.performance?.corrections;
  const self = member({ va, deployment: input.deployment }, config, minOf(va), cache, corrected);
  if ('ok' in self) return self;
  const load = sizingLoad(input.read, input.backlogDrainMs ?? 0);
  if (typeof load === 'string') return fail('MetricsUnavailable', `load unknown, nothing decided: ${load}`);
  const costs = config.unitCosts.value;
  if (!costs) {
    return fail(
      'NoUnitCosts',
      `${UNIT_COSTS_CONFIGMAP}: ${config.unitCosts.problem ?? 'missing'}; it gives each accelerator's cost`,
    );
  }
  const uncosted = self.variant.options.filter((o) => costs[o.acc] === undefined).map((o) => o.acc);
  if (uncosted.length === self.variant.options.length) {
    return fail(
      'NoUnitCosts',
      `no unit cost for ${uncosted.join(', ')}: add ${uncosted.length > 1 ? 'them' : 'it'} to ${UNIT_COSTS_CONFIGMAP}`,
    );
  }
  // The other variants of the model share its load; one that cannot be sized or whose target
  // cannot serve carries none.
  const key = objectKey(va);
  const { sized, size } = sizeForMember({
    self: { va, ...(input.deployment ? { deployment: input.deployment } : {}) },
    selfMember: self,
    group: input.group,
    config,
    costs,
    load,
    minOf,
    requireTarget: input.requireTarget ?? false,
    ...(input.memo ? { memo: input.memo } : {}),
    ...(cache ? { cache } : {}),
    ...(corrected ? { corrected } : {}),
  });
  const outcome = sized.get(key);
  if (!outcome) return fail('SLOUnreachable', 'no accelerator of the profile could be sized');
  if (!outcome.ok && outcome.reason === 'InvalidProfile') return fail('InvalidProfile', outcome.message);
  if (!outcome.ok)
    return fail(
      'SLOUnreachable',
      `SLO ${sloText(self.slo)} (${self.sloSource}) is out of reach: ${outcome.message}`,
    );
  const alloc = outcome.allocation;

  // What runs is where a key seen for the first time starts (a new object, or every object after a
  // restart or a change of leader), whatever its accelerator: a count found in status was written
  // by someone else (a previous leader, an admin, a bug) and is not acted on.
  const running = input.deployment ? deploymentReplicas(input.deployment) : undefined;
  const held = input.stabiliser.current(key);
  const current = held ?? running;
  const notes: string[] = [];
  let n = alloc.numReplicas;
  const t = input.monotonicMs ?? input.now.getTime();
  if (input.jumps) {
    const sample = input.read.availability.newestSample?.getTime();
    const jump = input.jumps.limit(
      key,
      n,
      Math.max(current ?? 0, running ?? 0),
      sample !== undefined && Number.isFinite(sample) ? `sample@${sample}` : `decision@${t}`,
    );
    if (jump.held) notes.push(jump.held);
    n = jump.n;
  }
  // The window runs on what the optimizer recommends; the saturation hold only defers the step down
  // it allows, so a hold (which noisy in-flight counts raise often) does not restart the window.
  const windowed = Math.min(input.stabiliser.recommend(key, t, n, running), self.bounds.max);
  let published = windowed;
  const before = Math.max(current ?? 0, running ?? 0);
  const hold =
    windowed < before
      ? saturationHold(
          { ...load, arrivalRate: load.measuredArrivalRate },
          input.read.metrics?.saturation,
          input.kvCacheThreshold,
        )
      : undefined;
  if (hold !== undefined) {
    notes.push(`scale-down to ${windowed} held at ${before}: ${hold}`);
    published = Math.min(before, self.bounds.max);
  } else if (published > n) {
    notes.push(
      `scale-down to ${n} waits: ${published} is kept until a lower count has been recommended for ${Math.round(input.stabiliser.windowMs / 1000)}s`,
    );
  }
  const shared = size > 1 ? `; load shared with ${size - 1} other variant(s) of the model` : '';
  const base = `${published} replica(s) of ${alloc.accelerator} for SLO ${sloText(self.slo)} (${self.sloSource})${shared}`;
  // A refused edit of a shared ConfigMap: the decision used the last good version; say so.
  for (const c of [config.serviceClasses, config.unitCosts])
    if (c.value !== undefined && c.problem) notes.push(c.problem);
  const capped = !alloc.sloMet;
  if (capped) {
    notes.push(
      `the SLO needs ${alloc.replicasForSlo} replicas but ${maxText(self.bounds)}: predicted latencies exceed it`,
    );
  }
  // Which engine decided and with which profile, first (as the other engines' messages do).
  const head = input.performance?.headlines.get(key);
  const text = notes.length > 0 ? `${base}; ${notes.join('; ')}` : base;
  return {
    ok: true,
    reason: capped ? 'MaxReplicasLimited' : 'OptimizationSucceeded',
    message: head ? `${head}; ${text}` : text,
    accelerator: alloc.accelerator,
    numReplicas: published,
    recommended: alloc.numReplicas,
    allocation: alloc,
    slo: self.slo,
    sloSource: self.sloSource,
  };
}

export interface VariantOptimizerOptions {
  /** The ConfigMaps; with beginCycle/prepare (OptimizerConfigStore) sloClassRef ConfigMaps are read too. */
  config: OptimizerConfigMaps & {
    beginCycle?(): void;
    prepare?(namespace: string, name: string): Promise<void>;
  };
  stabilizationWindowMs?: number;
  kvCacheThreshold?: number;
  backlogDrainMs?: number;
  minReplicasDefault?: (va: VariantAutoscaling) => number;
  /** Monotonic milliseconds for the stabilisation window; default performance.now(). */
  monotonic?: () => number;
}

/** Holds what decisions share across objects and cycles: ConfigMaps, the Stabiliser, a per-cycle memo. */
export class VariantOptimizer {
  readonly stabiliser: Stabiliser;
  readonly jumps = new JumpGuard();
  kvCacheThreshold: number;
  backlogDrainMs: number;
  private memo = new SizingMemo();
  private cycle = newCycleCache();
  private cycleConfig: unknown[] = [];

  constructor(private readonly o: VariantOptimizerOptions) {
    this.stabiliser = new Stabiliser(o.stabilizationWindowMs ?? 300_000);
    this.kvCacheThreshold = o.kvCacheThreshold ?? 0.9;
    this.backlogDrainMs = o.backlogDrainMs ?? 0;
  }

  configure(o: { stabilizationWindowMs?: number; kvCacheThreshold?: number; backlogDrainMs?: number }): void {
    if (o.stabilizationWindowMs !== undefined) this.stabiliser.windowMs = o.stabilizationWindowMs;
    if (o.kvCacheThreshold !== undefined) this.kvCacheThreshold = o.kvCacheThreshold;
    if (o.backlogDrainMs !== undefined) this.backlogDrainMs = o.backlogDrainMs;
  }

  /** A new cycle: fresh memo (shapes drift), and forget objects that are gone. */
  beginCycle(keys: Set<string>): void {
    this.memo = new SizingMemo();
    this.cycle = newCycleCache();
    this.stabiliser.retain(keys);
    this.jumps.retain(keys);
    this.o.config.beginCycle?.();
  }

  /** Leadership lost: the next term starts each object from what runs, as a new leader does. */
  forget(): void {
    this.stabiliser.clear();
    this.jumps.clear();
  }

  /** Reads what the decisions for these variants need that is not held yet (sloClassRef ConfigMaps). */
  async prepare(vas: VariantAutoscaling[]): Promise<void> {
    const prepare = this.o.config.prepare?.bind(this.o.config);
    if (!prepare) return;
    await Promise.all(
      vas.flatMap((v) =>
        v.spec.sloClassRef ? [prepare(v.metadata.namespace, v.spec.sloClassRef.name)] : [],
      ),
    );
  }

  decide(
    i: Pick<
      DecisionInput,
      'va' | 'deployment' | 'read' | 'group' | 'now' | 'monotonicMs' | 'requireTarget' | 'performance'
    >,
  ): Decision {
    // A ConfigMap that changed mid-cycle invalidates what was parsed and sized with the old one.
    const c = this.o.config;
    const now = [c.serviceClasses, c.unitCosts];
    if (now.some((x, j) => x !== this.cycleConfig[j])) {
      this.cycle = newCycleCache();
      this.cycleConfig = now;
    }
    return decideVariant({
      cycle: this.cycle,
      monotonicMs: (this.o.monotonic ?? (() => performance.now()))(),
      ...i,
      config: this.o.config,
      stabiliser: this.stabiliser,
      jumps: this.jumps,
      kvCacheThreshold: this.kvCacheThreshold,
      backlogDrainMs: this.backlogDrainMs,
      memo: this.memo,
      minReplicasDefault: this.o.minReplicasDefault ?? 1,
    });
  }
}
