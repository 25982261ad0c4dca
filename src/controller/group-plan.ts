// The variants of one model in one namespace as the optimizer sizes them together: each parsed once
// per cycle, only those that can serve carrying a share of the load, and the group sized once per
// cycle for all its members (a cycle stays linear in the number of variants).
import { ACCELERATOR_LABEL, type Deployment, objectKey, type VariantAutoscaling } from '../kube/types.js';
import {
  type AcceleratorOption,
  type GroupVariant,
  type LoadProfile,
  parseModelProfile,
  resolveSlo,
  type SizingMemo,
  type SloResolution,
  type SloTargets,
  sizeGroup,
  type VariantOutcome,
} from '../optimizer/index.js';
import type { Decision, GroupMember, OptimizerConfigMaps } from './decision-types.js';
import type { GivenCorrection } from './given-types.js';
import { type ReplicaBounds, replicaBounds } from './replica-bounds.js';
import { deploymentReplicas } from './status.js';

export type Fail = Extract<Decision, { ok: false }>;
export const fail = (reason: Fail['reason'], message: string): Fail => ({ ok: false, reason, message });

export interface Member {
  /** minReplicas is the default's placeholder until the group is sized. */
  variant: GroupVariant;
  slo: SloTargets;
  sloSource: string;
  bounds: ReplicaBounds;
}

/** Per cycle: each VA parsed once, each group sized once. Dropped when a ConfigMap changes. */
export interface CycleCache {
  members: WeakMap<VariantAutoscaling, Member | Fail>;
  groups: WeakMap<GroupMember[], SizedGroup>;
  /** SLO resolutions by namespace, model and sloClassRef: the variants of a model share one. */
  slos: Map<string, SloResolution>;
}

export function newCycleCache(): CycleCache {
  return { members: new WeakMap(), groups: new WeakMap(), slos: new Map() };
}

interface SizedGroup {
  load: string;
  byKey: Map<string, GroupMember>;
  sized: Map<string, VariantOutcome>;
  size: number;
}

/** Why a variant's target cannot serve, or undefined when it can. */
export function targetProblem(d: Deployment | undefined): string | undefined {
  if (!d) return 'its Deployment does not exist';
  if (d.metadata?.deletionTimestamp) return 'its Deployment is being deleted';
  return undefined;
}

/** Per variant (object key), the option whose profile the measurements corrected this cycle. */
export type Corrections = ReadonlyMap<string, GivenCorrection>;

function parseMember(
  va: VariantAutoscaling,
  config: OptimizerConfigMaps,
  cache?: CycleCache,
  corrected?: Corrections,
): Member | Fail {
  const ns = va.metadata.namespace;
  const profile = parseModelProfile(va.spec.modelProfile);
  if (!profile.ok) return fail('InvalidProfile', `modelProfile refused: ${profile.problems.join('; ')}`);
  const fix = corrected?.get(objectKey(va));
  const bounds = replicaBounds(va);
  if (typeof bounds === 'string') return fail('InvalidProfile', bounds);
  const ref = va.spec.sloClassRef;
  if (!ref) return fail('InvalidProfile', 'spec.sloClassRef: required with spec.modelProfile');
  const sloKey = JSON.stringify([ns, va.spec.modelID, ref.name, ref.key]);
  let slo = cache?.slos.get(sloKey);
  if (!slo) {
    slo = resolveSlo(
      { namespace: ns, modelId: va.spec.modelID, sloClassRef: ref },
      config.serviceClasses.value,
      config.namespaceConfigMap?.(ns, ref.name),
    );
    cache?.slos.set(sloKey, slo);
  }
  if (!slo.ok) {
    const note = config.serviceClasses.problem ? ` (${config.serviceClasses.problem})` : '';
    return fail('NoServiceClass', `${slo.problem}${note}`);
  }
  const variant: GroupVariant = {
    key: objectKey(va),
    // The accelerator it runs on is sized with what was measured there; the others as given.
    options: (profile.value as AcceleratorOption[]).map((o) =>
      fix && o.acc === fix.acc ? { ...o, profile: fix.profile } : o,
    ),
    slo: slo.slo,
    minReplicas: 1,
    maxReplicas: bounds.max,
  };
  const label = va.metadata.labels?.[ACCELERATOR_LABEL];
  if (label) variant.currentAccelerator = label;
  return { variant, slo: slo.slo, sloSource: slo.source, bounds };
}

/**
 * A group member as the optimizer sees it (its minimum from `minDefault` unless annotated, what
 * its Deployment runs), or why it cannot be sized.
 */
export function member(
  m: GroupMember,
  config: OptimizerConfigMaps,
  minDefault: number,
  cache?: CycleCache,
  corrected?: Corrections,
): Member | Fail {
  let parsed = cache?.members.get(m.va);
  if (!parsed) {
    parsed = parseMember(m.va, config, cache, corrected);
    cache?.members.set(m.va, parsed);
  }
  if ('ok' in parsed) return parsed;
  const variant: GroupVariant = { ...parsed.variant, minReplicas: parsed.bounds.min ?? minDefault };
  if (m.deployment) variant.currentReplicas = deploymentReplicas(m.deployment);
  return { ...parsed, variant };
}

export interface GroupInput {
  self: GroupMember;
  selfMember: Member;
  group: GroupMember[];
  config: OptimizerConfigMaps;
  costs: Record<string, number>;
  load: LoadProfile;
  minOf: (va: VariantAutoscaling) => number;
  /** The source knows the Deployments: a member without one (or one being deleted) carries no load. */
  requireTarget: boolean;
  memo?: SizingMemo;
  cache?: CycleCache;
  corrected?: Corrections;
}

/** The group's sizing for `self`: per key outcomes and how many variants shared the load. */
export function sizeForMember(i: GroupInput): { sized: Map<string, VariantOutcome>; size: number } {
  const key = objectKey(i.self.va);
  const loadKey = JSON.stringify(i.load);
  const hit = i.cache?.groups.get(i.group);
  const mine = hit?.byKey.get(key);
  if (hit && hit.load === loadKey && mine?.va === i.self.va && mine.deployment === i.self.deployment) {
    if (hit.sized.has(key)) return hit;
  }
  const byKey = new Map<string, GroupMember>();
  for (const m of i.group) byKey.set(objectKey(m.va), m);
  const selfInGroup = byKey.get(key);
  const consistent = selfInGroup?.va === i.self.va && selfInGroup.deployment === i.self.deployment;
  const canServe = (m: GroupMember) => !i.requireTarget || targetProblem(m.deployment) === undefined;
  const variants: GroupVariant[] = [];
  for (const [k, m] of byKey) {
    if (k === key) continue;
    if (!canServe(m)) continue;
    const p = member(m, i.config, i.minOf(m.va), i.cache, i.corrected);
    if (!('ok' in p)) variants.push(p.variant);
  }
  // Itself always: what it would need, even where its own target cannot serve (nothing acts on it then).
  variants.push(i.selfMember.variant);
  variants.sort((a, b) => a.key.localeCompare(b.key));
  const sized = sizeGroup(variants, i.load, i.costs, i.memo);
  const out = { load: loadKey, byKey, sized, size: variants.length };
  // Shared by every member that sees the same group (and whose own target can serve, so it was in it).
  if (i.cache && consistent && canServe(i.self)) i.cache.groups.set(i.group, out);
  return out;
}
