// The optimizer's per-object entry point: from one VariantAutoscaling, what the collector read for
// its model, the other variants of that model in its namespace and the optimizer ConfigMaps, the
// decision to publish (accelerator and replicas) or why there is none. Pure apart from the
// Stabiliser it is handed, which remembers recent recommendations.

import { ACCELERATOR_LABEL, type Deployment, objectKey, type VariantAutoscaling } from '../kube/types.js';
import {
  type AcceleratorOption,
  type GroupVariant,
  parseModelProfile,
  resolveSlo,
  type ServiceClass,
  SizingMemo,
  type SloTargets,
  Stabiliser,
  saturationHold,
  sizeGroup,
  UNIT_COSTS_CONFIGMAP,
  type VariantAllocation,
  type VariantOutcome,
} from '../optimizer/index.js';
import { sizingLoad } from './sizing-load.js';
import { deploymentReplicas, isReplicaCount, type MetricsRead } from './status.js';

export { OPTIMIZATION_READY } from '../kube/types.js';

export const MIN_REPLICAS_ANNOTATION = 'wva.llmd.ai/min-replicas';
export const MAX_REPLICAS_ANNOTATION = 'wva.llmd.ai/max-replicas';

export type OptimizationReason =
  | 'OptimizationSucceeded'
  | 'MaxReplicasLimited'
  | 'SLOUnreachable'
  | 'InvalidProfile'
  | 'NoServiceClass'
  | 'NoUnitCosts'
  | 'MetricsUnavailable'
  | 'OptimizationFailed';

/** A ConfigMap as the optimizer holds it: the last good parse, and what is wrong now, if anything. */
export interface ConfigMapState<T> {
  value?: T;
  problem?: string;
}

export interface OptimizerConfigMaps {
  serviceClasses: ConfigMapState<ServiceClass[]>;
  unitCosts: ConfigMapState<Record<string, number>>;
  /** Data of ConfigMap `name` in `namespace` (an sloClassRef target), when known. */
  namespaceConfigMap?(namespace: string, name: string): Record<string, string> | undefined;
}

export interface GroupMember {
  va: VariantAutoscaling;
  deployment?: Deployment;
}

export interface DecisionInput {
  va: VariantAutoscaling;
  deployment?: Deployment;
  read: MetricsRead;
  /** Every variant of the same model in the same namespace, `va` included. */
  group: GroupMember[];
  config: OptimizerConfigMaps;
  now: Date;
  stabiliser: Stabiliser;
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
}

/** Per cycle: each VA parsed once, each group sized once. Dropped when a ConfigMap changes. */
export interface CycleCache {
  members: WeakMap<VariantAutoscaling, Member | Fail>;
  groups: Map<string, Map<string, VariantOutcome>>;
}

function newCycleCache(): CycleCache {
  return { members: new WeakMap(), groups: new Map() };
}

export type Decision =
  | {
      ok: true;
      reason: 'OptimizationSucceeded' | 'MaxReplicasLimited';
      message: string;
      accelerator: string;
      /** What to publish (after the saturation guard and the stabilisation window). */
      numReplicas: number;
      /** What the model recommends this cycle. */
      recommended: number;
      allocation: VariantAllocation;
      slo: SloTargets;
      sloSource: string;
    }
  | {
      ok: false;
      reason: Exclude<OptimizationReason, 'OptimizationSucceeded' | 'MaxReplicasLimited'>;
      message: string;
    };

type Fail = Extract<Decision, { ok: false }>;
const fail = (reason: Fail['reason'], message: string): Fail => ({ ok: false, reason, message });

function replicaBounds(va: VariantAutoscaling, minDefault: number): { min: number; max?: number } | string {
  const a = va.metadata.annotations ?? {};
  const read = (name: string, floor: number): number | undefined | string => {
    const raw = a[name];
    if (raw === undefined) return undefined;
    const n = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || n < floor)
      return `annotation ${name}: "${raw}" must be a whole number >= ${floor}`;
    return n;
  };
  const min = read(MIN_REPLICAS_ANNOTATION, minDefault);
  const max = read(MAX_REPLICAS_ANNOTATION, 1);
  if (typeof min === 'string') return min;
  if (typeof max === 'string') return max;
  const lo = min ?? minDefault;
  if (max !== undefined && max < lo)
    return `annotation ${MAX_REPLICAS_ANNOTATION}: ${max} is below the minimum ${lo}`;
  return max === undefined ? { min: lo } : { min: lo, max };
}

function sloText(slo: SloTargets): string {
  const parts: string[] = [];
  if (slo.ttftMs) parts.push(`TTFT ${slo.ttftMs} ms`);
  if (slo.itlMs) parts.push(`ITL ${slo.itlMs} ms`);
  return parts.length > 0 ? parts.join(', ') : 'no latency target';
}

interface Member {
  variant: GroupVariant;
  slo: SloTargets;
  sloSource: string;
}

/** A group member as the optimizer sees it, or why it cannot be sized. */
function member(
  m: GroupMember,
  config: OptimizerConfigMaps,
  minDefault: number,
  cache?: CycleCache,
): Member | Fail {
  const cached = cache?.members.get(m.va);
  if (cached) return withDeployment(cached, m.deployment);
  const parsed = parseMember(m.va, config, minDefault);
  cache?.members.set(m.va, parsed);
  return withDeployment(parsed, m.deployment);
}

function withDeployment(m: Member | Fail, d: Deployment | undefined): Member | Fail {
  if ('ok' in m || !d) return m;
  return { ...m, variant: { ...m.variant, currentReplicas: deploymentReplicas(d) } };
}

function parseMember(va: VariantAutoscaling, config: OptimizerConfigMaps, minDefault: number): Member | Fail {
  const ns = va.metadata.namespace;
  const profile = parseModelProfile(va.spec.modelProfile);
  if (!profile.ok) return fail('InvalidProfile', `modelProfile refused: ${profile.problems.join('; ')}`);
  const bounds = replicaBounds(va, minDefault);
  if (typeof bounds === 'string') return fail('InvalidProfile', bounds);
  const ref = va.spec.sloClassRef;
  const slo = resolveSlo(
    { namespace: ns, modelId: va.spec.modelID, sloClassRef: ref },
    config.serviceClasses.value,
    config.namespaceConfigMap?.(ns, ref.name),
  );
  if (!slo.ok) {
    const note = config.serviceClasses.problem ? ` (${config.serviceClasses.problem})` : '';
    return fail('NoServiceClass', `${slo.problem}${note}`);
  }
  const variant: GroupVariant = {
    key: objectKey(va),
    options: profile.value as AcceleratorOption[],
    slo: slo.slo,
    minReplicas: bounds.min,
    ...(bounds.max === undefined ? {} : { maxReplicas: bounds.max }),
  };
  const label = va.metadata.labels?.[ACCELERATOR_LABEL];
  if (label) variant.currentAccelerator = label;
  return { variant, slo: slo.slo, sloSource: slo.source };
}

/** The decision for `input.va`; see the file comment. */
export function decideVariant(input: DecisionInput): Decision {
  const { va, config } = input;
  // Each member's own minimum (scale to zero decides per variant), not the deciding one's.
  const md = input.minReplicasDefault;
  const minOf = (v: VariantAutoscaling) => (typeof md === 'function' ? md(v) : (md ?? 1));
  const cache = input.cycle;
  const self = member({ va, deployment: input.deployment }, config, minOf(va), cache);
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
  // The other variants of the model share its load; one that cannot be sized carries none.
  const key = objectKey(va);
  const others = input.group
    .filter((m) => objectKey(m.va) !== key)
    .map((m) => member(m, config, minOf(m.va), cache))
    .filter((m): m is Member => !('ok' in m));
  const variants = [self.variant, ...others.map((m) => m.variant)].sort((a, b) => a.key.localeCompare(b.key));
  // Every member of a group gets the same sizing: computed once per cycle for the same inputs.
  // Object versions too: a VA edited during the cycle is sized again, not answered from before.
  const versions = [
    ...new Set(
      [va, ...input.group.map((m) => m.va)].map((v) => `${objectKey(v)}@${v.metadata.resourceVersion ?? ''}`),
    ),
  ].sort();
  const signature = JSON.stringify([
    variants.map((v) => [v.key, v.currentReplicas, v.currentAccelerator]),
    versions,
    load,
  ]);
  let sized = cache?.groups.get(signature);
  if (!sized) {
    sized = sizeGroup(variants, load, costs, input.memo);
    cache?.groups.set(signature, sized);
  }
  const outcome = sized.get(key);
  if (!outcome) return fail('SLOUnreachable', 'no accelerator of the profile could be sized');
  if (!outcome.ok && outcome.reason === 'InvalidProfile') return fail('InvalidProfile', outcome.message);
  if (!outcome.ok)
    return fail(
      'SLOUnreachable',
      `SLO ${sloText(self.slo)} (${self.sloSource}) is out of reach: ${outcome.message}`,
    );
  const alloc = outcome.allocation;

  const prev = va.status?.desiredOptimizedAlloc;
  const prevN =
    prev && prev.accelerator === alloc.accelerator && isReplicaCount(prev.numReplicas)
      ? prev.numReplicas
      : undefined;
  const running = input.deployment ? deploymentReplicas(input.deployment) : undefined;
  const current = prevN ?? running;
  // Where the stabiliser starts on first sight (a new object, or every object after a restart or a
  // change of leader): the count published before, else what runs, if it runs on this accelerator.
  const onAccelerator = (self.variant.currentAccelerator ?? alloc.accelerator) === alloc.accelerator;
  const start = prevN ?? (onAccelerator ? running : undefined);
  const notes: string[] = [];
  let n = alloc.numReplicas;
  const sat = input.read.metrics?.saturation;
  const hold =
    current !== undefined && n < current
      ? saturationHold({ ...load, arrivalRate: load.measuredArrivalRate }, sat, input.kvCacheThreshold)
      : undefined;
  if (hold !== undefined && current !== undefined) {
    notes.push(`scale-down to ${n} held at ${current}: ${hold}`);
    n = current;
  }
  const published = Math.min(
    input.stabiliser.recommend(key, input.now, alloc.accelerator, n, start),
    self.variant.maxReplicas ?? Number.MAX_SAFE_INTEGER,
  );
  if (published > n) {
    notes.push(
      `scale-down to ${n} waits: ${published} is kept until a lower count has been recommended for ${Math.round(input.stabiliser.windowMs / 1000)}s`,
    );
  }
  const shared =
    variants.length > 1 ? `; load shared with ${variants.length - 1} other variant(s) of the model` : '';
  const base = `${published} replica(s) of ${alloc.accelerator} for SLO ${sloText(self.slo)} (${self.sloSource})${shared}`;
  // A refused edit of a shared ConfigMap: the decision used the last good version; say so.
  for (const c of [config.serviceClasses, config.unitCosts])
    if (c.value !== undefined && c.problem) notes.push(c.problem);
  const capped = !alloc.sloMet;
  if (capped) {
    notes.push(
      `the SLO needs ${alloc.replicasForSlo} replicas but ${MAX_REPLICAS_ANNOTATION} caps at ${alloc.numReplicas}: predicted latencies exceed it`,
    );
  }
  return {
    ok: true,
    reason: capped ? 'MaxReplicasLimited' : 'OptimizationSucceeded',
    message: notes.length > 0 ? `${base}; ${notes.join('; ')}` : base,
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
}

/** Holds what decisions share across objects and cycles: ConfigMaps, the Stabiliser, a per-cycle memo. */
export class VariantOptimizer {
  readonly stabiliser: Stabiliser;
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
    this.o.config.beginCycle?.();
  }

  /** Leadership lost: the next term starts each object from its status, as a new leader does. */
  forget(): void {
    this.stabiliser.clear();
  }

  /** Reads what the decisions for these variants need that is not held yet (sloClassRef ConfigMaps). */
  async prepare(vas: VariantAutoscaling[]): Promise<void> {
    const prepare = this.o.config.prepare?.bind(this.o.config);
    if (!prepare) return;
    await Promise.all(vas.map((v) => prepare(v.metadata.namespace, v.spec.sloClassRef.name)));
  }

  decide(i: Pick<DecisionInput, 'va' | 'deployment' | 'read' | 'group' | 'now'>): Decision {
    // A ConfigMap that changed mid-cycle invalidates what was parsed and sized with the old one.
    const c = this.o.config;
    const now = [c.serviceClasses, c.unitCosts];
    if (now.some((x, j) => x !== this.cycleConfig[j])) {
      this.cycle = newCycleCache();
      this.cycleConfig = now;
    }
    return decideVariant({
      cycle: this.cycle,
      ...i,
      config: this.o.config,
      stabiliser: this.stabiliser,
      kvCacheThreshold: this.kvCacheThreshold,
      backlogDrainMs: this.backlogDrainMs,
      memo: this.memo,
      minReplicasDefault: this.o.minReplicasDefault ?? 1,
    });
  }
}
