// The SLO engine behind the seam: each variant's performance model (a confident learned one, or a
// given profile), the queueing model's sizing of the model's variants together for the measured
// load plus its backlog, replicas still starting counted as supply, saturation V1 as a floor, then
// stabilisation, scale to zero and bounds. Whatever it cannot decide with an SLO (no SLO, no usable
// model, an SLO no replica count meets, unknown load) goes to saturation V1, with the reason.
import { withBacklog } from '../../optimizer/backlog.js';
import { type GroupVariant, sizeGroup, type VariantOutcome } from '../../optimizer/group.js';
import { SizingMemo } from '../../optimizer/memo.js';
import { analyseReplica } from '../../optimizer/sizing.js';
import type { Stabiliser } from '../../optimizer/stabilize.js';
import type { LoadProfile, QueueProfile, SloTargets } from '../../optimizer/types.js';
import { createSaturationV1Engine } from '../saturation-engine.js';
import { actionOf, applyBounds, scaleToZeroStage, withStep } from '../steps.js';
import {
  ENGINE_NAMES,
  type Engine,
  type ModelDecision,
  type SaturationModelInput,
  type SaturationVariantInput,
  type ScalingDecision,
} from '../types.js';
import { modelFloor } from './floor.js';
import {
  choosePerformance,
  type MeasuredRange,
  type PerformanceChoice,
  type PerformanceInputs,
} from './performance.js';

/** One variant as the SLO engine takes it: the saturation inputs plus its performance model. */
export interface SloVariantInput extends SaturationVariantInput, PerformanceInputs {}

export interface SloModelInput extends SaturationModelInput {
  variants: readonly SloVariantInput[];
  /** The model's targets; null: no service class lists it. */
  slo: SloTargets | null;
  /** The model's measured load (arrivals per minute and tokens); null: unknown this cycle. */
  load: LoadProfile | null;
  /** Requests waiting in the model's pods now; undefined: unknown. */
  waiting?: number;
  /** Serve the waiting requests within this time (0: size for arrivals only). */
  backlogDrainMs?: number;
  /** The injected monotonic clock (ms), for stabilisation: a wall clock stepped forward would end a window early. */
  nowMs: number;
}

export interface SloEngineOptions {
  /** The engine used as floor (and fallback unless `fallback` is given); saturation V1 by default. */
  saturation?: Engine;
  /**
   * The engine that decides what the SLO engine cannot (saturation V2 when the model's saturation
   * config names it); `saturation` by default. The floor stays `saturation` either way.
   */
  fallback?: Engine;
  /** Scale-down stabilisation across cycles (the caller owns it); none: publish what is sized. */
  stabiliser?: Stabiliser;
  /**
   * Size for this fraction of each target (0 < f <= 1, default 1), one for both or one per target:
   * room for what the averages of one window scatter around the model's steady state, and for
   * requests judged one by one scattering around the average (ITL more than TTFT's prefill).
   */
  targetFraction?: number | TargetFractions;
  /**
   * A dead band (0 < f <= 1, default 1: none): a variant scales down only as far as the count that
   * meets this further fraction of the targets, so a count whose neighbour below sits at the edge
   * of the SLO does not go down and come back up every few cycles (each return costs a pod start).
   */
  scaleDownFraction?: number;
}

export interface TargetFractions {
  ttftMs?: number;
  itlMs?: number;
}

export const SLO_STEP = 'SloSizing';
export const STABILISATION_STEP = 'Stabilization';

function engineLabel(name: string): string {
  if (name === ENGINE_NAMES.saturationV1) return 'saturation V1';
  if (name === ENGINE_NAMES.saturationV2) return 'saturation V2';
  return name;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(0)} %`;
}

/** The saturation decision, each variant's reason saying why saturation decided. */
function fallback(model: SloModelInput, saturation: Engine, why: string): ModelDecision {
  const d = saturation.decide(model);
  const headline = `${engineLabel(saturation.name)}: ${why}`;
  return {
    ...d,
    decisions: d.decisions.map((x) => ({ ...x, reason: `${headline}; ${x.reason}` })),
    notes: [...d.notes, headline],
  };
}

function fractionOf(f: number | undefined): number {
  return f !== undefined && Number.isFinite(f) && f > 0 && f <= 1 ? f : 1;
}

function sloTargetsOf(slo: SloTargets | null, fraction: number | TargetFractions): SloTargets | null {
  if (slo === null) return null;
  const ft = fractionOf(typeof fraction === 'number' ? fraction : fraction.ttftMs);
  const fi = fractionOf(typeof fraction === 'number' ? fraction : fraction.itlMs);
  const out: SloTargets = {};
  if (slo.ttftMs !== undefined && Number.isFinite(slo.ttftMs) && slo.ttftMs > 0) out.ttftMs = slo.ttftMs * ft;
  if (slo.itlMs !== undefined && Number.isFinite(slo.itlMs) && slo.itlMs > 0) out.itlMs = slo.itlMs * fi;
  return out.ttftMs === undefined && out.itlMs === undefined ? null : out;
}

function loadProblem(load: LoadProfile | null): string | null {
  if (load === null) return 'the model’s load is unknown this cycle';
  const ok = (v: number) => Number.isFinite(v) && v >= 0;
  if (!ok(load.arrivalRate)) return `the arrival rate ${load.arrivalRate} is not a rate`;
  if (load.arrivalRate > 0 && !(load.avgInputTokens > 0 && load.avgOutputTokens > 0))
    return 'requests arrive but their token counts are unknown';
  return null;
}

type Sized = Map<string, VariantOutcome>;

function size(
  model: SloModelInput,
  chosen: Map<string, PerformanceChoice & { ok: true }>,
  slo: SloTargets,
  arrivalRate: number,
  memo: SizingMemo,
): Sized {
  const load = model.load as LoadProfile;
  const costs: Record<string, number> = {};
  const group: GroupVariant[] = model.variants.map((v) => {
    // The variant's own name stands for its accelerator, so each variant is costed by its variantCost.
    costs[v.variantName] = v.cost;
    return {
      key: v.variantName,
      options: [{ acc: v.variantName, accCount: 1, profile: chosen.get(v.variantName)!.profile }],
      slo,
      currentAccelerator: v.variantName,
      currentReplicas: v.currentReplicas,
      minReplicas: v.minReplicas !== undefined && v.minReplicas > 0 ? Math.ceil(v.minReplicas) : 0,
      ...(v.maxReplicas !== undefined ? { maxReplicas: Math.floor(v.maxReplicas) } : {}),
    };
  });
  return sizeGroup(group, { ...load, arrivalRate }, costs, memo);
}

/**
 * The fewest replicas from `from` up to `upTo` whose predicted load per replica stays within the
 * measured range: a model whose slope is unidentified is not extrapolated to larger batches.
 */
function leastWithin(
  profile: QueueProfile,
  load: LoadProfile,
  ratePerSecond: number,
  from: number,
  upTo: number,
  range: MeasuredRange,
): number {
  for (let n = Math.max(1, from); n < upTo; n++) {
    const batch = analyseReplica(profile, load, ratePerSecond / n).avgInService;
    if (batch <= range.maxBatch && batch * load.avgInputTokens <= range.maxPrefillX) return n;
  }
  return upTo;
}

/**
 * Replicas for the same share of the load at the dead band's stricter targets, or null when no
 * count meets them (then the band holds nothing: it must not pin a variant high).
 */
function bandCount(
  profile: QueueProfile,
  load: LoadProfile,
  slo: SloTargets,
  ratePerSecond: number,
  memo: SizingMemo,
): number | null {
  try {
    const plan = memo.plan(profile, load.avgInputTokens, load.avgOutputTokens, slo);
    return ratePerSecond > 0 ? Math.ceil(ratePerSecond / plan.ratePerReplica) : 0;
  } catch {
    return null;
  }
}

function decision(model: SloModelInput, v: SloVariantInput, target: number, reason: string): ScalingDecision {
  const action = actionOf(target, v.currentReplicas);
  return {
    variantName: v.variantName,
    namespace: model.namespace,
    modelId: model.modelId,
    engine: ENGINE_NAMES.slo,
    acceleratorName: v.acceleratorName,
    currentReplicas: v.currentReplicas,
    targetReplicas: target,
    action,
    reason,
    steps: [{ name: SLO_STEP, action, targetReplicas: target, reason, wasConstrained: false }],
    cost: v.cost,
    gpusPerReplica: v.gpusPerReplica > 0 ? v.gpusPerReplica : 1,
    spareCapacity: 0,
  };
}

function decideSlo(
  model: SloModelInput,
  o: SloEngineOptions,
  saturation: Engine,
  memo: SizingMemo,
): ModelDecision {
  const back = o.fallback ?? saturation;
  const slo = sloTargetsOf(model.slo, o.targetFraction ?? 1);
  if (slo === null) return fallback(model, back, 'no SLO for this model');
  if (model.variants.length === 0) return fallback(model, back, 'the model has no variants');
  const chosen = new Map<string, PerformanceChoice & { ok: true }>();
  for (const v of model.variants) {
    const c = choosePerformance(v);
    if (!c.ok) return fallback(model, back, `no usable performance model for ${v.variantName}: ${c.reason}`);
    chosen.set(v.variantName, c);
  }
  const loadWhy = loadProblem(model.load);
  if (loadWhy !== null) return fallback(model, back, loadWhy);
  const load = model.load as LoadProfile;

  const targets = new Map<string, { n: number; why: string }>();
  if (load.arrivalRate === 0) {
    for (const v of model.variants) targets.set(v.variantName, { n: v.minReplicas ?? 0, why: 'no arrivals' });
  } else {
    const arrivals = size(model, chosen, slo, load.arrivalRate, memo);
    const drainMs = model.backlogDrainMs ?? 0;
    const total = withBacklog(load.arrivalRate, model.waiting, drainMs);
    const backlog = total > load.arrivalRate ? size(model, chosen, slo, total, memo) : arrivals;
    // Pods still starting are supply already asked for: while any is starting, the queue that builds
    // meanwhile does not ask for more (it would ask again every cycle until they serve).
    const starting = model.variants.reduce((a, v) => a + Math.max(0, v.pendingReplicas), 0);
    const bandF = fractionOf(o.scaleDownFraction);
    const strict = bandF < 1 ? (sloTargetsOf(slo, bandF) as SloTargets) : null;
    for (const v of model.variants) {
      const a = arrivals.get(v.variantName);
      const b = backlog.get(v.variantName);
      if (a === undefined || !a.ok) {
        const why = a === undefined ? 'not sized' : a.message;
        const infeasible = a !== undefined && a.reason === 'SLOUnreachable';
        return fallback(
          model,
          back,
          infeasible ? `no replica count meets the SLO on ${v.variantName}: ${why}` : why,
        );
      }
      const na = a.allocation.numReplicas;
      const nb = b?.ok ? b.allocation.numReplicas : na;
      let n = Math.max(na, nb);
      let extra = nb > na ? ` + backlog of ${model.waiting} waiting` : '';
      if (starting > 0 && n > na && n > v.currentReplicas) {
        n = Math.max(na, v.currentReplicas);
        extra = `; ${starting} replicas starting count for the backlog`;
      }
      if (strict !== null && n < v.currentReplicas) {
        // The same share of the load (the group's split), only the targets stricter.
        const profile = chosen.get(v.variantName)!.profile;
        const m = bandCount(profile, load, strict, a.allocation.assignedRate, memo);
        const keep = m === null ? n : Math.min(v.currentReplicas, m);
        if (keep > n) {
          extra = `${extra}; scale-down held at ${keep} within the dead band`;
          n = keep;
        }
      }
      const c = chosen.get(v.variantName)!;
      if (c.withinMeasured !== undefined && n < v.currentReplicas) {
        // Beyond the measured range one replica at a time: each step is measured before the next.
        const r = a.allocation.assignedRate;
        const within = leastWithin(c.profile, load, r, n, v.currentReplicas, c.withinMeasured);
        const keep = Math.min(within, v.currentReplicas - 1);
        if (keep > n) {
          extra = `${extra}; down to ${keep} only: fewer would load each replica beyond the measured range`;
          n = keep;
        }
      }
      const at = a.allocation.predicted;
      targets.set(v.variantName, {
        n,
        why:
          `SLO engine: ${c.reason}; ${(a.allocation.assignedRate * 60).toFixed(0)} req/min${extra} -> ${n} ` +
          `(predicted TTFT ${at.ttftMs.toFixed(0)} ms, ITL ${at.itlMs.toFixed(1)} ms, utilisation ${pct(at.utilization)})`,
      });
    }
  }

  // Saturation V1's targets in this cycle are the floor.
  const sat = saturation.decide(model);
  const floor = new Map(sat.decisions.map((d) => [d.variantName, d.targetReplicas]));
  let ds = modelFloor(
    model.variants.map((v) => {
      const t = targets.get(v.variantName)!;
      return decision(model, v, t.n, t.why);
    }),
    floor,
    new Map(model.variants.map((v) => [v.variantName, Math.max(0, v.currentReplicas - v.pendingReplicas)])),
  );
  if (o.stabiliser) {
    const st = o.stabiliser;
    ds = ds.map((d) => {
      const key = `${model.namespace}/${d.variantName}`;
      // One history per variant whatever the accelerator: a switch waits out the window too.
      const n = st.recommend(key, model.nowMs, d.targetReplicas, d.currentReplicas);
      return n === d.targetReplicas
        ? withStep(d, STABILISATION_STEP, n, 'unchanged', false)
        : withStep(d, STABILISATION_STEP, n, `scale-down held: ${n} recommended within the window`, true);
    });
  }
  const enforced = scaleToZeroStage(model.modelId, ds, model.scaleToZero);
  const byName = new Map(model.variants.map((v) => [v.variantName, v]));
  const decisions = enforced.decisions.map((d) => {
    const v = byName.get(d.variantName);
    const b = applyBounds(d, { min: v?.minReplicas, max: v?.maxReplicas });
    const lifted = b.steps.find((s) => s.name === 'SaturationSafetyOverride' && s.wasConstrained);
    return lifted ? { ...b, reason: `${b.reason}; SaturationSafetyOverride: ${lifted.reason}` } : b;
  });
  return {
    modelId: model.modelId,
    namespace: model.namespace,
    engine: ENGINE_NAMES.slo,
    decisions,
    skipped: [],
    notes: sat.notes,
  };
}

/** The SLO engine. Pure but for the optional stabiliser and fallback the caller passes; never throws. */
export function createSloEngine(o: SloEngineOptions = {}): Engine<SloModelInput> {
  const saturation = o.saturation ?? createSaturationV1Engine();
  return {
    name: ENGINE_NAMES.slo,
    decide(model: SloModelInput): ModelDecision {
      try {
        // One memo per decision: learned profiles move every cycle.
        return decideSlo(model, o, saturation, new SizingMemo());
      } catch (err) {
        const why = `the SLO engine failed on this model's input: ${err instanceof Error ? err.message : String(err)}`;
        return fallback(model, o.fallback ?? saturation, why);
      }
    },
  };
}
