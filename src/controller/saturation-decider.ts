// The saturation engines in the controller: for a VariantAutoscaling without an SLO profile, the
// decision of its model (per model and namespace, once per cycle, kept for the cycle's
// reconciles), from the per-pod series of the cycle's snapshot mapped to variants through their
// Deployments. The engine decides; this only gathers its input, adds the stabilisation stage and
// hands back what the status and the actuator publish.
import type { PodMetrics } from '../collector/pods.js';
import { isActiveTarget, saturationVariantInput, type TargetDeployment } from '../engines/inputs.js';
import { matchPodsToVariants, type PodObject } from '../engines/pods.js';
import {
  parseSaturationScalingConfigMap,
  type SaturationConfigSet,
  saturationEngineSettings,
} from '../engines/saturation/configmap.js';
import { normalizeAcceleratorName } from '../engines/saturation/limiter.js';
import { createSaturationV1Engine, createSaturationV2Engine } from '../engines/saturation-engine.js';
import { variantStatuses } from '../engines/status.js';
import { limitFleet, withStep } from '../engines/steps.js';
import {
  ENGINE_NAMES,
  type Engine,
  type ModelDecision,
  type SaturationModelInput,
  type SaturationVariantInput,
  type ScalingDecision,
  type VariantStatusContent,
} from '../engines/types.js';
import { resolveAccelerator } from '../kube/accelerator.js';
import { ACCELERATOR_LABEL, objectKey, type VariantAutoscaling } from '../kube/types.js';
import { parseSpec, scaledOf } from '../kube/va-spec.js';
import { Stabiliser } from '../optimizer/index.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { GroupMember } from './decision.js';
import { replicaBounds } from './replica-bounds.js';

/** Where the saturation ConfigMap's data comes from (SaturationConfigHolder's shape). */
export interface SaturationConfigSource {
  readonly namespace: string;
  version: number;
  dataFor(namespace: string): { data: Record<string, string> | undefined };
}

export interface SaturationDeciderOptions {
  config: SaturationConfigSource;
  /** A scale-down is published only after the lower count was decided for this long. */
  stabilizationWindowMs?: number;
  monotonic?: () => number;
  /** WVA_SCALE_TO_ZERO, read each cycle. */
  scaleToZeroEnabled?: () => boolean;
  logger?: Logger;
  /**
   * The GPU limiter's inputs, read once per cycle when the global default has enableLimiter: GPUs
   * per accelerator type on the Nodes (null: not known yet, nothing is limited), and GPUs the
   * managed targets hold now (replicas x GPU requests per pod).
   */
  gpus?: { capacity(): Record<string, number> | null; usage(): Record<string, number> };
  /** Saturation V1 as a floor under the SLO engine's decisions; default true. */
  floor?: boolean;
  /** The engines (tests wrap them); default fresh V1 and V2 engines. */
  engines?: { v1?: Engine; v2?: Engine };
}

/** What one VariantAutoscaling gets from its model's decision. */
export interface SaturationOutcome {
  /** The engine's decision for this variant, after every stage; absent: nothing decided for it. */
  decision?: ScalingDecision;
  /** The status content (desired allocation and §6 conditions). */
  status: VariantStatusContent;
  model: ModelDecision;
}

export const STABILIZATION_STEP = 'Stabilization';

/**
 * The pod objects the owner chain needs, read from the pods' names: a Deployment's pod is named
 * `<deployment>-<template hash>-<suffix>` and carries the hash as a label, so its ReplicaSet and
 * the Deployment follow without a Pod informer. A pod of any other shape matches no variant.
 */
export function podObjectsFromNames(pods: readonly PodMetrics[]): Map<string, PodObject> {
  const out = new Map<string, PodObject>();
  for (const p of pods) {
    const parts = p.pod.split('-');
    if (parts.length < 3) continue;
    const rs = parts.slice(0, -1).join('-');
    out.set(`${p.namespace}/${p.pod}`, {
      name: p.pod,
      namespace: p.namespace,
      labels: { 'pod-template-hash': parts[parts.length - 2] as string },
      ownerReferences: [{ kind: 'ReplicaSet', name: rs, controller: true }],
    });
  }
  return out;
}

interface Active {
  va: VariantAutoscaling;
  input: SaturationVariantInput;
  deploymentName: string;
  running: number;
}

export class SaturationDecider {
  private readonly v1: Engine;
  private readonly v2: Engine;
  private readonly log: Logger;
  readonly stabiliser: Stabiliser;
  private cycle = new Map<string, ModelDecision>();
  /** V1's decision per model for the floor; null: no pod of the model's variants reports. */
  private floors = new Map<string, ModelDecision | null>();
  /** GPUs per type still free this cycle (the limiter's); undefined until first needed. */
  private remaining: Record<string, number> | undefined;
  private parsed = new Map<string, SaturationConfigSet>();
  private parsedVersion = -1;
  private readonly said = new Set<string>();

  constructor(private readonly o: SaturationDeciderOptions) {
    this.log = o.logger ?? silentLogger;
    this.v1 = o.engines?.v1 ?? createSaturationV1Engine();
    this.v2 = o.engines?.v2 ?? createSaturationV2Engine();
    this.stabiliser = new Stabiliser(o.stabilizationWindowMs ?? 300_000);
  }

  /** A cycle begins: every model decides afresh (once) in it. */
  beginCycle(keys?: Set<string>): void {
    this.cycle = new Map();
    this.floors = new Map();
    this.remaining = undefined;
    if (keys) this.stabiliser.retain(keys);
  }

  /** Leadership lost: the next term starts each variant from what runs. */
  forget(): void {
    this.stabiliser.clear();
  }

  private configFor(namespace: string): SaturationConfigSet {
    if (this.parsedVersion !== this.o.config.version) {
      this.parsed = new Map();
      this.parsedVersion = this.o.config.version;
    }
    let set = this.parsed.get(namespace);
    if (!set) {
      set = parseSaturationScalingConfigMap(this.o.config.dataFor(namespace).data, { product: true });
      for (const p of set.problems) this.sayOnce(`config\0${p.message}`, { field: p.field }, p.message);
      this.parsed.set(namespace, set);
    }
    return set;
  }

  private sayOnce(id: string, obj: object, msg: string): void {
    if (this.said.has(id)) return;
    if (this.said.size >= 10_000) this.said.clear();
    this.said.add(id);
    this.log.warn(obj, msg);
  }

  /** The engine every model uses: read from the global copy's `default`. */
  engine(): Engine {
    const global = this.configFor(this.o.config.namespace);
    return saturationEngineSettings(global).analyzer === 'v2' ? this.v2 : this.v1;
  }

  /** The decision for `va` (a profile-less variant) from its model's, decided once per cycle. */
  decide(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[] | undefined,
  ): SaturationOutcome {
    const ns = va.metadata.namespace;
    const modelId = va.spec.modelID;
    const key = `${ns}\0${modelId}`;
    const active = this.activeMembers(group);
    let model = this.cycle.get(key);
    if (!model) {
      model = this.decideModel(modelId, ns, active, pods ?? []);
      this.cycle.set(key, model);
    }
    const self = active.find((a) => a.va.metadata.name === va.metadata.name);
    const m: ModelDecision = self
      ? model
      : {
          ...model,
          skipped: [
            `variant ${va.metadata.name}: its scale target is missing, being deleted or at 0 replicas (scale from zero watches it)`,
          ],
          decisions: [],
        };
    const status = variantStatuses(m, [
      { variantName: va.metadata.name, knownAccelerator: knownAccelerator(va, group) },
    ])[0] as VariantStatusContent;
    const decision = m.decisions.find((d) => d.variantName === va.metadata.name);
    return decision ? { decision, status, model: m } : { status, model: m };
  }

  /**
   * What saturation V1 would keep for `va`, a variant the SLO engine sizes: V1 over the model's
   * SLO-sized variants, from what runs (their own desired counts are the SLO engine's, not a size
   * change in progress). Undefined where no pod of the variant reports saturation numbers.
   */
  floor(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[] | undefined,
  ): number | undefined {
    if (this.o.floor === false || !pods || pods.length === 0) return undefined;
    const ns = va.metadata.namespace;
    const key = `${ns}\0${va.spec.modelID}`;
    let model = this.floors.get(key);
    if (model === undefined) {
      model = this.floorModel(va, group, pods);
      this.floors.set(key, model);
    }
    if (model === null) return undefined;
    return model.decisions.find((d) => d.variantName === va.metadata.name)?.targetReplicas;
  }

  private floorModel(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[],
  ): ModelDecision | null {
    const ns = va.metadata.namespace;
    // Cheap first: no pod named after one of the group's Deployments, no floor (nothing built).
    const owners = new Set<string>();
    for (const o of podObjectsFromNames(pods).values()) {
      const rs = o.ownerReferences?.[0]?.name ?? '';
      owners.add(rs.slice(0, rs.lastIndexOf('-')));
    }
    if (!group.some((m) => owners.has(scaledOf(m.va).name))) return null;
    const active = this.activeMembers(group, 'slo').map((a) => ({
      ...a,
      input: { ...a.input, desiredReplicas: 0 },
    }));
    return this.v1.decide(this.modelInput(va.spec.modelID, ns, active, pods));
  }

  /** Members the saturation engine sizes: profile-less, target found, not deleting, replicas > 0. */
  private activeMembers(group: GroupMember[], engine: 'saturation' | 'slo' = 'saturation'): Active[] {
    const out: Active[] = [];
    for (const m of group) {
      const spec = parseSpec(m.va.spec, m.va.metadata.name);
      if (!spec.ok || spec.spec.engine !== engine) continue;
      const d = m.deployment as TargetDeployment | undefined;
      if (!d || m.deployment?.metadata.deletionTimestamp || !isActiveTarget(d)) continue;
      const bounds = replicaBounds(m.va);
      const input = saturationVariantInput(
        {
          name: m.va.metadata.name,
          variantCost: m.va.spec.variantCost,
          acceleratorLabel: m.va.metadata.labels?.[ACCELERATOR_LABEL] ?? '',
          desiredReplicas: m.va.status?.desiredOptimizedAlloc?.numReplicas ?? 0,
          ...(typeof bounds === 'object'
            ? { ...(bounds.min !== undefined ? { minReplicas: bounds.min } : {}), maxReplicas: bounds.max }
            : {}),
        },
        d,
      );
      out.push({ va: m.va, input, deploymentName: scaledOf(m.va).name, running: input.currentReplicas });
    }
    return out;
  }

  private limiterOn(): boolean {
    return saturationEngineSettings(this.configFor(this.o.config.namespace)).enableLimiter;
  }

  /**
   * The GPU limiter over one model, against what is left of the fleet's GPUs this cycle: scale-ups
   * of models decided earlier in the cycle hold theirs, so the fleet is never granted more than the
   * Nodes have. Accelerator names are matched by their normalised type.
   */
  private limit(model: ModelDecision): ModelDecision {
    const gpus = this.o.gpus;
    if (!gpus) return model;
    if (!this.remaining) {
      const cap = gpus.capacity();
      if (!cap)
        return {
          ...model,
          notes: [...model.notes, 'GPU limiter: Node GPU capacity not known yet; not limited'],
        };
      const used = gpus.usage();
      this.remaining = Object.fromEntries(
        Object.entries(cap).map(([t, n]) => [t, Math.max(0, n - (used[t] ?? 0))]),
      );
    }
    const remaining = this.remaining;
    const typed = model.decisions.map((d) => ({
      ...d,
      acceleratorName: normalizeAcceleratorName(d.acceleratorName),
    }));
    // limitFleet subtracts this model's own running GPUs again: hand it those back.
    const own: Record<string, number> = {};
    for (const d of typed)
      own[d.acceleratorName] = (own[d.acceleratorName] ?? 0) + d.currentReplicas * d.gpusPerReplica;
    const avail = { ...remaining };
    for (const [t, n] of Object.entries(own)) if (t in avail) avail[t] = (avail[t] ?? 0) + n;
    const [limited] = limitFleet([{ ...model, decisions: typed }], avail);
    const decisions = (limited as ModelDecision).decisions.map((d, i) => {
      const grown = Math.max(0, d.targetReplicas - d.currentReplicas) * d.gpusPerReplica;
      if (grown > 0 && d.acceleratorName in remaining)
        remaining[d.acceleratorName] = Math.max(0, (remaining[d.acceleratorName] ?? 0) - grown);
      const before = model.decisions[i] as ScalingDecision;
      const reason = d.engine === ENGINE_NAMES.saturationV1 ? `saturation-only mode: ${d.action}` : d.reason;
      const last = d.steps[d.steps.length - 1];
      if (last?.wasConstrained) {
        last.reason = `scale-up to ${before.targetReplicas} cut to ${d.targetReplicas}: not enough free ${d.acceleratorName} GPUs (${last.reason})`;
      }
      return { ...d, reason, acceleratorName: before.acceleratorName };
    });
    return { ...model, decisions };
  }

  private modelInput(
    modelId: string,
    namespace: string,
    active: Active[],
    pods: readonly PodMetrics[],
  ): SaturationModelInput & { unmatched: string[] } {
    const matched = matchPodsToVariants({
      pods,
      podObjects: podObjectsFromNames(pods),
      variants: active.map((a) => ({
        variantName: a.input.variantName,
        namespace,
        deploymentName: a.deploymentName,
      })),
    });
    return {
      modelId,
      namespace,
      variants: active.map((a) => a.input),
      pods: matched.byVariant,
      config: this.configFor(namespace),
      scaleToZero: {
        config: {},
        requestCount: null,
        envDefault: this.o.scaleToZeroEnabled?.() ?? false,
      },
      unmatched: matched.unmatched.map((u) => u.reason),
    };
  }

  /** The model's engine input as this cycle's decision would build it (the SLO engine's hook). */
  modelInputFor(va: VariantAutoscaling, group: GroupMember[], pods: readonly PodMetrics[]) {
    return this.modelInput(va.spec.modelID, va.metadata.namespace, this.activeMembers(group), pods);
  }

  private decideModel(modelId: string, namespace: string, active: Active[], pods: readonly PodMetrics[]) {
    const input = this.modelInput(modelId, namespace, active, pods);
    const engine = this.engine();
    const decided = engine.decide(input);
    const model = engine === this.v1 && this.limiterOn() ? this.limit(decided) : decided;
    const notes = [...model.notes, ...input.unmatched];
    for (const n of notes) this.sayOnce(`note\0${namespace}\0${modelId}\0${n}`, { namespace, modelId }, n);
    const t = (this.o.monotonic ?? (() => performance.now()))();
    const byName = new Map(active.map((a) => [a.input.variantName, a]));
    const decisions = model.decisions.map((d) => {
      const a = byName.get(d.variantName);
      if (!a) return d;
      const published = this.stabiliser.recommend(objectKey(a.va), t, d.targetReplicas, a.running);
      if (published <= d.targetReplicas) return d;
      const secs = Math.round(this.stabiliser.windowMs / 1000);
      const held = withStep(
        d,
        STABILIZATION_STEP,
        published,
        `scale-down to ${d.targetReplicas} waits: ${published} is kept until a lower count has been decided for ${secs}s`,
        true,
      );
      // The headline names the action that is published, not the one that waits.
      return d.engine === ENGINE_NAMES.saturationV1
        ? { ...held, reason: `saturation-only mode: ${held.action}` }
        : held;
    });
    return { ...model, decisions, notes };
  }
}

/** The accelerator a variant is known by: its previous desired one, its label, its placement. */
function knownAccelerator(va: VariantAutoscaling, group: GroupMember[]): string {
  const prev = va.status?.desiredOptimizedAlloc?.accelerator;
  if (prev) return prev;
  const d = group.find((m) => m.va === va)?.deployment;
  return resolveAccelerator(va.metadata.labels, d?.spec?.template?.spec).accelerator;
}
