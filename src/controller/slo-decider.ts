// Which engine decides a profile-less model each cycle: the SLO engine when the model has SLO
// targets (a service class lists it) and every serving variant has a learned performance model
// that is confident; the saturation engines otherwise, with the condition saying why not the SLO
// engine. Learning happens here first, once per model per cycle, from the cycle's per-pod series,
// so a decision always uses what the cycle measured. The SLO engine keeps saturation V1 as its floor.
import type { PodMetrics } from '../collector/pods.js';
import { createSaturationV1Engine } from '../engines/saturation-engine.js';
import { choosePerformance, createSloEngine, RateTrend, SLO_SIZING } from '../engines/slo/index.js';
import type { EstimatorState, LearnSettings } from '../engines/slo/learn/index.js';
import {
  ENGINE_NAMES,
  type ModelDecision,
  OPTIMIZATION_READY,
  type SaturationVariantInput,
  type VariantStatusContent,
} from '../engines/types.js';
import type { VariantAutoscaling } from '../kube/types.js';
import { Stabiliser } from '../optimizer/index.js';
import type { ServiceClass } from '../optimizer/inputs.js';
import type { SloTargets } from '../optimizer/types.js';
import type { Logger } from '../types.js';
import type { GroupMember } from './decision.js';
import { modelStartup, type PodStartup } from './pod-startup.js';
import type { FleetDecider, SaturationDecider, SaturationOutcome } from './saturation-decider.js';
import { variantPart } from './saturation-members.js';
import { sizingLoad } from './sizing-load.js';
import { decideGivenModel, type GivenModel, type GivenOutcome, givenFallback } from './slo-given.js';
import type { SloLearner } from './slo-learner.js';
import type { SloPersistence } from './slo-persistence.js';
import type { MetricsRead } from './status.js';

export interface SloDeciderOptions {
  /** Decides what the SLO engine does not, and gives the engine its input. */
  saturation: SaturationDecider;
  learner: SloLearner;
  /** service-classes-config as last parsed; undefined: missing or never valid (no model has an SLO). */
  serviceClasses: () => readonly ServiceClass[] | undefined;
  /** Persists the learner (loaded at a term's first cycle, saved every few cycles and on forget). */
  persistence?: SloPersistence;
  stabilizationWindowMs?: number;
  /** Monotonic ms for stabilisation; default performance.now(). */
  monotonic?: () => number;
  /** Wall clock, ms since the epoch: when each estimate was made. Default Date.now. */
  now?: () => number;
  /** The window the arrival rate is averaged over (WVA_QUERY_WINDOW); given, a rising load is sized ahead. */
  rateWindowMs?: number;
  /** Serve the requests waiting within this time (0: size for arrivals only). */
  backlogDrainMs?: number;
  learnSettings?: Partial<LearnSettings>;
  /** Pod start-up, measured per variant (WVA_POD_STARTUP where not); absent: the backlog now only. */
  startup?: PodStartup;
  logger?: Logger;
}

/** The model's decision this cycle: the SLO engine's, or why saturation decides instead. */
type ModelResult = { slo: ModelDecision } | { why: string | null };

/** The SLO of a model from the service classes: the first class by priority that lists it. */
export function sloOfModel(classes: readonly ServiceClass[] | undefined, modelId: string): SloTargets | null {
  const ordered = [...(classes ?? [])].sort((a, b) => a.priority - b.priority || a.key.localeCompare(b.key));
  for (const c of ordered) {
    const e = c.entries.find((x) => x.model === modelId);
    if (e) return e.slo;
  }
  return null;
}

function acceleratorOf(v: SaturationVariantInput): string {
  return v.acceleratorName || 'unknown';
}

/** The saturation outcome with `why` (not the SLO engine) in front of its headline and reason. */
export function explained(sat: SaturationOutcome, why: string): SaturationOutcome {
  const head = `${sat.model.engine}: ${why}`;
  const status: VariantStatusContent = {
    ...sat.status,
    conditions: sat.status.conditions.map((c) =>
      c.type === OPTIMIZATION_READY ? { ...c, message: `${head}; ${c.message}` } : c,
    ),
  };
  const out: SaturationOutcome = {
    ...sat,
    status,
    model: { ...sat.model, notes: [...sat.model.notes, head] },
  };
  if (sat.decision) out.decision = { ...sat.decision, reason: `${head}; ${sat.decision.reason}` };
  return out;
}

export class SloDecider {
  readonly stabiliser: Stabiliser;
  private readonly engine;
  private cycle = new Map<string, ModelResult>();
  /** Old-shape models (a given profile) this cycle. */
  private givenCycle = new Map<string, GivenModel>();
  private saidNotKept = false;
  private backlogDrainMs: number;

  constructor(private readonly o: SloDeciderOptions) {
    this.stabiliser = new Stabiliser(o.stabilizationWindowMs ?? 300_000);
    this.backlogDrainMs = o.backlogDrainMs ?? 0;
    // Sized as the benchmark measures it; the rate trend needs the window the rate averages over.
    this.engine = createSloEngine({
      saturation: createSaturationV1Engine(),
      stabiliser: this.stabiliser,
      targetFraction: SLO_SIZING.targetFraction,
      scaleDownFraction: SLO_SIZING.scaleDownFraction,
      ...(o.rateWindowMs !== undefined
        ? { trend: new RateTrend(o.rateWindowMs, SLO_SIZING.trendLeadMs) }
        : {}),
    });
  }

  /** A reloaded configuration: the stabilisation windows (its own and saturation's) and the drain time. */
  configure(o: { stabilizationWindowMs?: number; backlogDrainMs?: number }): void {
    if (o.stabilizationWindowMs !== undefined) {
      this.stabiliser.windowMs = o.stabilizationWindowMs;
      this.o.saturation.stabiliser.windowMs = o.stabilizationWindowMs;
    }
    if (o.backlogDrainMs !== undefined) this.backlogDrainMs = o.backlogDrainMs;
  }

  /** A cycle begins: each model learns and decides afresh (once) in it. */
  beginCycle(keys?: Set<string>): void {
    this.o.saturation.beginCycle(keys);
    this.cycle = new Map();
    this.givenCycle = new Map();
    this.o.persistence?.cycle();
  }

  /**
   * The fleet pass (the GPU limiter), once per cycle: the models the SLO engine decides are decided
   * here first, so their scale-ups are limited with saturation V1's, from the same free GPUs.
   */
  async prepare(): Promise<void> {
    await this.o.persistence?.ready();
    return this.o.saturation.prepare(this.fleet);
  }

  private readonly fleet: FleetDecider = {
    decide: ({ members, pods, read }) => {
      const va = members[0]?.va;
      if (!va) return undefined;
      const key = `${va.metadata.namespace}\0${va.spec.modelID}`;
      // Decided (and limited) already this cycle, outside the pass: not twice.
      if (this.cycle.has(key)) return 'slo' in (this.cycle.get(key) as ModelResult) ? null : undefined;
      const r = this.decideModel(va, members, pods ?? [], read);
      this.cycle.set(key, r);
      return 'slo' in r ? r.slo : undefined;
    },
    limited: (m) => this.cycle.set(`${m.namespace}\0${m.modelId}`, { slo: m }),
  };

  /** Leadership lost (or shutdown): save what was learned; the next term starts from what runs. */
  forget(): void {
    this.o.saturation.forget();
    this.stabiliser.clear();
    void this.o.persistence?.flush();
  }

  floor(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[] | undefined,
  ): number | undefined {
    return this.o.saturation.floor(va, group, pods);
  }

  /** The decision for `va` (a profile-less variant) from its model's, decided once per cycle. */
  async decide(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[] | undefined,
    read?: MetricsRead,
  ): Promise<SaturationOutcome> {
    await this.o.persistence?.ready();
    const key = `${va.metadata.namespace}\0${va.spec.modelID}`;
    let r = this.cycle.get(key);
    if (!r) {
      r = this.decideModel(va, group, pods ?? [], read);
      // Not in a fleet pass: limited alone, from what the cycle left free.
      if ('slo' in r) r = { slo: this.o.saturation.limitDecided([r.slo])[0] as ModelDecision };
      this.cycle.set(key, r);
    }
    if ('slo' in r) {
      const part = variantPart(r.slo, va, group);
      if (part.decision) return part;
    }
    // Not sized by the SLO engine (no SLO, no confident model, or not serving): saturation decides.
    const sat = this.o.saturation.decide(va, group, pods);
    return 'why' in r && r.why !== null ? explained(sat, r.why) : sat;
  }

  /**
   * For `va` with a given profile (old shape): learn from the cycle first (once per model), then
   * the optimizer sizes it with the profile as corrected (`plan`), or saturation decided (`fallback`).
   */
  async given(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[] | undefined,
  ): Promise<GivenOutcome> {
    await this.o.persistence?.ready();
    const key = `${va.metadata.namespace}\0${va.spec.modelID}`;
    let r = this.givenCycle.get(key);
    if (!r) {
      r = decideGivenModel(va, group, pods ?? [], {
        saturation: this.o.saturation,
        learner: this.o.learner,
        nowMs: (this.o.now ?? Date.now)(),
        ...(this.o.learnSettings ? { learnSettings: this.o.learnSettings } : {}),
      });
      this.givenCycle.set(key, r);
    }
    return 'plan' in r ? r : { fallback: givenFallback(va, group, r, explained) };
  }

  private decideModel(
    va: VariantAutoscaling,
    group: GroupMember[],
    pods: readonly PodMetrics[],
    read: MetricsRead | undefined,
  ): ModelResult {
    const modelId = va.spec.modelID;
    const namespace = va.metadata.namespace;
    if (!this.o.persistence && !this.saidNotKept) {
      // Said when learning starts, not at start-up: a run that fails before prints one error line.
      this.saidNotKept = true;
      this.o.logger?.info({}, 'learned performance models are not persisted: a restart learns them afresh');
    }
    const input = this.o.saturation.modelInputFor(va, group, pods);
    const nowMs = (this.o.now ?? Date.now)();
    const states = new Map<string, EstimatorState>();
    const notes = new Map<string, string>();
    for (const v of input.variants) {
      const learned = this.o.learner.observe(
        {
          model: modelId,
          namespace,
          variantName: v.variantName,
          accelerator: acceleratorOf(v),
          deployment: v.deployment ?? null,
          pods: input.pods.get(v.variantName) ?? [],
        },
        nowMs,
      );
      states.set(v.variantName, learned.state);
      if (learned.note) notes.set(v.variantName, learned.note);
    }
    const slo = sloOfModel(this.o.serviceClasses(), modelId);
    // No SLO: saturation decides as it always has; its own message says so.
    if (slo === null) return { why: null };
    if (input.variants.length === 0) return { why: 'no variant of the model is serving' };
    for (const v of input.variants) {
      const c = choosePerformance({
        learned: states.get(v.variantName) as EstimatorState,
        ...(this.o.learnSettings ? { learnSettings: this.o.learnSettings } : {}),
      });
      if (!c.ok) {
        const note = notes.get(v.variantName);
        const reason = c.reason.replace(/^learned profile /, '');
        return {
          why: `learned model for variant ${v.variantName} not usable yet (${reason})${note ? `; ${note}` : ''}`,
        };
      }
    }
    if (!read) return { why: 'the model’s metrics were not read this cycle' };
    const load = sizingLoad(read, 0);
    if (typeof load === 'string') return { why: `the model’s load is unknown: ${load}` };
    const decided = this.engine.decide({
      ...input,
      variants: input.variants.map((v) => ({
        ...v,
        learned: states.get(v.variantName) as EstimatorState,
        ...(this.o.learnSettings ? { learnSettings: this.o.learnSettings } : {}),
      })),
      slo,
      load: {
        arrivalRate: load.measuredArrivalRate,
        avgInputTokens: load.avgInputTokens,
        avgOutputTokens: load.avgOutputTokens,
      },
      ...(read.metrics?.saturation?.waiting !== undefined
        ? { waiting: read.metrics.saturation.waiting }
        : {}),
      backlogDrainMs: this.backlogDrainMs,
      ...(this.o.startup ? { startupMs: modelStartup(this.o.startup, namespace, input).ms } : {}),
      nowMs: (this.o.monotonic ?? (() => performance.now()))(),
    });
    if (decided.engine !== ENGINE_NAMES.slo) {
      const note = decided.notes.at(-1) ?? 'the SLO engine could not decide';
      return { why: note.replace(/^saturation V[12]: /, '') };
    }
    return { slo: decided };
  }
}
