// The saturation engines in the controller: for a VariantAutoscaling without an SLO profile, the
// decision of its model (per model and namespace, once per cycle, kept for the cycle's
// reconciles), from the per-pod series of the cycle's snapshot mapped to variants through their
// Deployments. The engine decides; this only gathers its input, adds the stabilisation stage and
// hands back what the status and the actuator publish.
import type { PodMetrics } from '../collector/pods.js';
import { matchPodsToVariants } from '../engines/pods.js';
import {
  parseSaturationScalingConfigMap,
  SATURATION_DEFAULT_KEY,
  type SaturationConfigSet,
  saturationConfigProblemsFor,
  saturationEngineSettings,
} from '../engines/saturation/configmap.js';
import { createSaturationV1Engine, createSaturationV2Engine } from '../engines/saturation-engine.js';
import { withStep } from '../engines/steps.js';
import {
  ENGINE_NAMES,
  type Engine,
  type ModelDecision,
  type SaturationModelInput,
} from '../engines/types.js';
import { objectKey, type VariantAutoscaling } from '../kube/types.js';
import { Stabiliser } from '../optimizer/index.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { GroupMember } from './decision.js';
import { freeGpus, limitAgainst } from './saturation-limit.js';
import { type Active, activeMembers, variantPart } from './saturation-members.js';
import type {
  FleetDecider,
  FleetModel,
  SaturationDeciderOptions,
  SaturationOutcome,
} from './saturation-options.js';
import { podObjectsOf } from './saturation-pods.js';
import { scaleToZeroInputFor } from './saturation-zero.js';

export type {
  FleetDecider,
  FleetModel,
  SaturationConfigSource,
  SaturationDeciderOptions,
  SaturationOutcome,
} from './saturation-options.js';

export const STABILIZATION_STEP = 'Stabilization';

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
  /** The fleet pass of this cycle (prepare), once started. */
  private preparing: Promise<void> | undefined;
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
    this.preparing = undefined;
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
    const active = activeMembers(group);
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
    return variantPart(m, va, group);
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
    const active = activeMembers(group, 'slo').map((a) => ({
      ...a,
      input: { ...a.input, desiredReplicas: 0 },
    }));
    const input = this.modelInput(va.spec.modelID, ns, active, pods);
    // No pod of the SLO-sized variants reports: no floor.
    if (![...input.pods.values()].some((ps) => ps.length > 0)) return null;
    return this.v1.decide(input);
  }

  private limiterOn(): boolean {
    return saturationEngineSettings(this.configFor(this.o.config.namespace)).enableLimiter;
  }

  /**
   * The GPU limiter over decisions made outside the fleet pass (the SLO engine's, model by model),
   * against the same GPUs still free this cycle; as they are when enableLimiter is off.
   */
  limitDecided(models: ModelDecision[]): ModelDecision[] {
    return this.limiterOn() ? this.limit(models) : models;
  }

  /** The GPU limiter over `models` together, against the GPUs still free this cycle. */
  private limit(models: ModelDecision[]): ModelDecision[] {
    const gpus = this.o.gpus;
    if (!gpus) return models;
    if (!this.remaining) {
      const cap = gpus.capacity();
      if (!cap) {
        const note = 'GPU limiter: Node GPU capacity not known yet; not limited';
        return models.map((m) => ({ ...m, notes: [...m.notes, note] }));
      }
      this.remaining = freeGpus(cap, gpus.usage());
    }
    return limitAgainst(models, this.remaining);
  }

  /**
   * With the GPU limiter on and the fleet known, every profile-less model is decided at the cycle's
   * first saturation reconcile and the fleet's scale-ups limited together, as upstream orders them
   * (least spare capacity first, then lowest cost); the reconciles then read their model's result.
   * `other` (the SLO engine) decides the models it can first, and its scale-ups take part too,
   * whichever saturation analyzer runs (upstream limits V1's only: V2's are decided when reached).
   * Without the fleet, each model is limited when it is reached. Never rejects.
   */
  async prepare(other?: FleetDecider): Promise<void> {
    // A model decided before the Pods are listed would look pod-less for a cycle: wait (bounded).
    const pods = this.o.pods;
    if (pods?.listed && !pods.synced()) await pods.listed();
    const fleet = this.o.fleet;
    if (!fleet || (this.engine() !== this.v1 && !other) || !this.limiterOn()) return;
    const cycle = this.cycle;
    this.preparing ??= fleet()
      // A cycle that began meanwhile decides afresh; this one's results are dropped.
      .then((models) => (cycle === this.cycle ? this.decideFleet(models, other) : undefined))
      .catch((err: unknown) =>
        this.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'saturation fleet not read; the GPU limiter goes model by model this cycle',
        ),
      );
    return this.preparing;
  }

  private decideFleet(models: FleetModel[], other: FleetDecider | undefined): void {
    const v1 = this.engine() === this.v1;
    const items: Array<
      | { other: true; model: ModelDecision }
      | {
          other?: false;
          key: string;
          modelId: string;
          ns: string;
          active: Active[];
          model: ModelDecision;
          unmatched: string[];
        }
    > = [];
    for (const fm of models) {
      const first = fm.members[0];
      if (!first) continue;
      const ns = first.va.metadata.namespace;
      const modelId = first.va.spec.modelID;
      const key = `${ns}\0${modelId}`;
      const active = activeMembers(fm.members);
      if (this.cycle.has(key) || active.length === 0) continue;
      const decided = other?.decide(fm);
      if (decided === null) continue;
      if (decided) {
        items.push({ other: true, model: decided });
        continue;
      }
      if (!v1) continue;
      items.push({ key, modelId, ns, active, ...this.engineDecide(modelId, ns, active, fm.pods ?? []) });
    }
    const limited = this.limit(items.map((i) => i.model));
    items.forEach((it, i) => {
      const m = limited[i] as ModelDecision;
      if (it.other) other?.limited(m);
      else this.cycle.set(it.key, this.finishModel(m, it.modelId, it.ns, it.active, it.unmatched));
    });
  }

  private modelInput(
    modelId: string,
    namespace: string,
    active: Active[],
    pods: readonly PodMetrics[],
  ): SaturationModelInput & { unmatched: string[] } {
    const matched = matchPodsToVariants({
      pods,
      podObjects: podObjectsOf(this.o.pods, pods),
      variants: active.map((a) => ({
        variantName: a.input.variantName,
        namespace,
        deploymentName: a.deploymentName,
        ...(a.selector ? { selector: a.selector } : {}),
      })),
    });
    return {
      modelId,
      namespace,
      variants: active.map((a) => a.input),
      pods: matched.byVariant,
      config: this.configFor(namespace),
      scaleToZero: scaleToZeroInputFor(
        this.o.scaleToZero,
        modelId,
        namespace,
        this.o.scaleToZeroEnabled?.() ?? false,
      ),
      unmatched: matched.unmatched.map((u) => u.reason),
    };
  }

  /** The model's engine input as this cycle's decision would build it (the SLO engine's hook); `slo`: its old-shape variants. */
  /**
   * Saturation's decision over the model's old-shape variants (their given profile contradicted):
   * limited and stabilised as any saturation decision, apart from the profile-less one's cache.
   */
  decideGiven(va: VariantAutoscaling, group: GroupMember[], pods: readonly PodMetrics[]): ModelDecision {
    return this.decideModel(va.spec.modelID, va.metadata.namespace, activeMembers(group, 'slo'), pods);
  }

  modelInputFor(va: VariantAutoscaling, group: GroupMember[], pods: readonly PodMetrics[], engine?: 'slo') {
    return this.modelInput(va.spec.modelID, va.metadata.namespace, activeMembers(group, engine), pods);
  }

  private engineDecide(
    modelId: string,
    namespace: string,
    active: Active[],
    pods: readonly PodMetrics[],
  ): { model: ModelDecision; unmatched: string[] } {
    const input = this.modelInput(modelId, namespace, active, pods);
    return { model: this.engine().decide(input), unmatched: input.unmatched };
  }

  private decideModel(modelId: string, namespace: string, active: Active[], pods: readonly PodMetrics[]) {
    const { model: decided, unmatched } = this.engineDecide(modelId, namespace, active, pods);
    const model =
      this.engine() === this.v1 && this.limiterOn() ? (this.limit([decided])[0] as ModelDecision) : decided;
    return this.finishModel(model, modelId, namespace, active, unmatched);
  }

  /** Notes logged, stabilisation, and the configuration problems concerning the model. */
  private finishModel(
    model: ModelDecision,
    modelId: string,
    namespace: string,
    active: Active[],
    unmatched: string[],
  ): ModelDecision {
    const notes = [...model.notes];
    if (this.o.pods && !this.o.pods.synced())
      notes.push('pods not listed yet: no pod maps to a variant until they are');
    for (const n of notes) this.sayOnce(`note\0${namespace}\0${modelId}\0${n}`, { namespace, modelId }, n);
    // A pod of no variant (another workload serving the model name, a pod gone) is ignored.
    if (unmatched.length > 0 && (this.log.isLevelEnabled?.('debug') ?? true))
      for (const u of unmatched) this.log.debug({ namespace, modelId }, `pod ignored: ${u}`);
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
    const invalid = saturationConfigProblemsFor(this.configFor(namespace), modelId, namespace).map(
      (p) =>
        `${p.message} (${p.key === SATURATION_DEFAULT_KEY ? 'the built-in thresholds 0.80 / 5 / 0.1 / 3 stand in' : 'the "default" entry stands in'})`,
    );
    return { ...model, decisions, notes, ...(invalid.length > 0 ? { invalidConfiguration: invalid } : {}) };
  }
}
