// The SLO engine behind the seam: each variant's performance model (a confident learned one, or a
// given profile), the queueing model's sizing of the model's variants together for the measured
// load plus its backlog, replicas still starting counted as supply, saturation V1 as a floor, then
// stabilisation, scale to zero and bounds. Whatever it cannot decide with an SLO (no SLO, no usable
// model, an SLO no replica count meets, unknown load) goes to saturation V1, with the reason.
import { withBacklog } from '../../optimizer/backlog.js';
import { type GroupVariant, sizeGroup, type VariantOutcome } from '../../optimizer/group.js';
import { SizingMemo } from '../../optimizer/memo.js';
import type { Stabiliser } from '../../optimizer/stabilize.js';
import type { LoadProfile, SloTargets } from '../../optimizer/types.js';
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
import { itlMeanTarget, type TailOptions, tailProblem } from './percentile.js';
import { choosePerformance, type PerformanceChoice, type PerformanceInputs } from './performance.js';
import { bandCount, leastWithin, unreachableOnly } from './sizing-limits.js';
import { waitingAtReadiness } from './supply.js';
import { fractionOf, loadProblem, sloTargetsOf, type TargetFractions } from './targets.js';
import type { RateEstimate, RateTrend } from './trend.js';

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
  /** This decision's start-up (the option's meaning), e.g. measured per cycle; given, it wins over the option. */
  startupMs?: number;
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
  /**
   * The models' recent window averages (the caller owns it, like the stabiliser): a rising load is
   * sized for the last cycle's own rate instead of the lagging average. None: the average as given.
   */
  trend?: RateTrend;
  /**
   * Milliseconds from asking for a replica to its serving. Given, the cycle that asks for replicas
   * (none starting yet) sizes the backlog for the queue expected when they serve, not the one now.
   */
  startupMs?: number;
  /**
   * Size each variant so that this quantile of its requests' own ITL meets the target (the mean
   * with the margin percentile.ts derives); replaces targetFraction for ITL. None: the mean.
   */
  tail?: TailOptions;
}

export type { TargetFractions };

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

type Sized = Map<string, VariantOutcome>;

function size(
  model: SloModelInput,
  chosen: Map<string, PerformanceChoice & { ok: true }>,
  slos: Map<string, SloTargets>,
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
      slo: slos.get(v.variantName)!,
      currentAccelerator: v.variantName,
      currentReplicas: v.currentReplicas,
      minReplicas: v.minReplicas !== undefined && v.minReplicas > 0 ? Math.ceil(v.minReplicas) : 0,
      ...(v.maxReplicas !== undefined ? { maxReplicas: Math.floor(v.maxReplicas) } : {}),
    };
  });
  return sizeGroup(group, { ...load, arrivalRate }, costs, memo);
}

/** A variant's count and why; `predicted` where the engine sized a share of the load for it. */
type Target = { n: number; why: string; predicted?: ScalingDecision['predicted'] };

function decision(model: SloModelInput, v: SloVariantInput, t: Target): ScalingDecision {
  const action = actionOf(t.n, v.currentReplicas);
  return {
    variantName: v.variantName,
    namespace: model.namespace,
    modelId: model.modelId,
    engine: ENGINE_NAMES.slo,
    acceleratorName: v.acceleratorName,
    currentReplicas: v.currentReplicas,
    targetReplicas: t.n,
    action,
    reason: t.why,
    steps: [{ name: SLO_STEP, action, targetReplicas: t.n, reason: t.why, wasConstrained: false }],
    cost: v.cost,
    gpusPerReplica: v.gpusPerReplica > 0 ? v.gpusPerReplica : 1,
    spareCapacity: 0,
    ...(t.predicted ? { predicted: t.predicted } : {}),
  };
}

function decideSlo(
  model: SloModelInput,
  o: SloEngineOptions,
  saturation: Engine,
  memo: SizingMemo,
): ModelDecision {
  const back = o.fallback ?? saturation;
  // Recorded every cycle the load is known, whoever decides: the next cycle's estimate needs it.
  const est: RateEstimate | null =
    o.trend && model.load !== null && loadProblem(model.load) === null
      ? o.trend.observe(`${model.namespace}/${model.modelId}`, model.nowMs, model.load.arrivalRate)
      : null;
  const slo = sloTargetsOf(model.slo, o.targetFraction ?? 1);
  if (slo === null) return fallback(model, back, 'no SLO for this model');
  if (model.variants.length === 0) return fallback(model, back, 'the model has no variants');
  const chosen = new Map<string, PerformanceChoice & { ok: true }>();
  // A variant with no replica and no minimum has nothing serving to predict and nothing to learn
  // from: it stays at 0 and the variants with a usable model carry the load. One with replicas and
  // no usable model sends the model to the fallback (its load cannot be predicted).
  const idle = new Map<string, string>();
  for (const v of model.variants) {
    const c = choosePerformance(v);
    if (c.ok) chosen.set(v.variantName, c);
    else if (v.currentReplicas === 0 && !((v.minReplicas ?? 0) > 0)) idle.set(v.variantName, c.reason);
    else return fallback(model, back, `no usable performance model for ${v.variantName}: ${c.reason}`);
  }
  if (chosen.size === 0) {
    const [name, why] = [...idle][0]!;
    return fallback(model, back, `no usable performance model for ${name}: ${why}`);
  }
  const sized: SloModelInput = {
    ...model,
    variants: model.variants.filter((v) => chosen.has(v.variantName)),
  };
  const tailWhy = o.tail ? tailProblem(o.tail) : null;
  if (tailWhy !== null) return fallback(model, back, tailWhy);
  const startupMs = model.startupMs ?? o.startupMs;
  if (startupMs !== undefined && !(Number.isFinite(startupMs) && startupMs >= 0))
    return fallback(
      model,
      back,
      `startupMs ${startupMs} is not a number of milliseconds >= 0: give the time a new replica takes to serve, or leave it out`,
    );
  // Per variant: with a tail quantile the ITL target is the mean that keeps it, from each
  // variant's own prediction error.
  const rawItl = model.slo?.itlMs;
  const slos = new Map<string, SloTargets>(
    sized.variants.map((v) => [
      v.variantName,
      o.tail && slo.itlMs !== undefined && rawItl !== undefined
        ? { ...slo, itlMs: itlMeanTarget(rawItl, o.tail, chosen.get(v.variantName)!.itlError) }
        : slo,
    ]),
  );
  const loadWhy = loadProblem(model.load);
  if (loadWhy !== null) return fallback(model, back, loadWhy);
  const load: LoadProfile = est
    ? { ...(model.load as LoadProfile), arrivalRate: est.rate }
    : (model.load as LoadProfile);
  const rising =
    est?.ahead !== undefined
      ? `; rising: sized for ${est.ahead.toFixed(0)} req/min expected when new replicas serve, ${est.average.toFixed(0)} over the window`
      : est?.recent !== undefined
        ? `; rising: ${est.recent.toFixed(0)} req/min over the last cycle, ${est.average.toFixed(0)} over the window`
        : '';

  const targets = new Map<string, Target>();
  if (load.arrivalRate === 0) {
    for (const v of sized.variants) targets.set(v.variantName, { n: v.minReplicas ?? 0, why: 'no arrivals' });
  } else {
    const arrivals = size(sized, chosen, slos, load.arrivalRate, memo);
    const drainMs = model.backlogDrainMs ?? 0;
    // Pods still starting are supply already asked for: while any is starting, the queue that builds
    // meanwhile does not ask for more (it would ask again every cycle until they serve).
    const starting = sized.variants.reduce((a, v) => a + Math.max(0, v.pendingReplicas), 0);
    let waiting = model.waiting;
    let ahead = false;
    if (startupMs !== undefined && startupMs > 0 && starting === 0 && drainMs > 0 && waiting !== undefined) {
      const supply = sized.variants.map((v) => ({
        ready: Math.max(0, v.currentReplicas - v.pendingReplicas),
        profile: chosen.get(v.variantName)!.profile,
      }));
      const w = waitingAtReadiness(waiting, load.arrivalRate, supply, load, startupMs);
      ahead = w > waiting;
      waiting = w;
    }
    const total = withBacklog(load.arrivalRate, waiting, drainMs);
    const backlog = total > load.arrivalRate ? size(sized, chosen, slos, total, memo) : arrivals;
    const bandF = fractionOf(o.scaleDownFraction);
    // A variant whose accelerator cannot meet the SLO at any count carries no share (the group has
    // sized the others for the whole load) and keeps only its minimum; the model falls back only
    // when no variant can meet it, or a profile cannot be sized at all.
    const out = unreachableOnly(sized.variants, arrivals);
    if (out.fallback !== null) return fallback(model, back, out.fallback);
    for (const v of sized.variants) {
      const a = arrivals.get(v.variantName);
      const b = backlog.get(v.variantName);
      if (a === undefined || !a.ok) {
        const min = v.minReplicas !== undefined && v.minReplicas > 0 ? Math.ceil(v.minReplicas) : 0;
        targets.set(v.variantName, {
          n: min,
          why: `SLO engine: no replica count of ${v.variantName} meets the SLO (${a?.ok === false ? a.message : 'not sized'}); the other variants carry the load -> ${min}`,
        });
        continue;
      }
      const na = a.allocation.numReplicas;
      const nb = b?.ok ? b.allocation.numReplicas : na;
      let n = Math.max(na, nb);
      const queue = ahead
        ? ` + backlog of ${Math.round(waiting ?? 0)} expected waiting when new replicas serve (${model.waiting} now)`
        : ` + backlog of ${model.waiting} waiting`;
      let extra = `${nb > na ? queue : ''}${rising}`;
      if (starting > 0 && n > na && n > v.currentReplicas) {
        n = Math.max(na, v.currentReplicas);
        extra = `; ${starting} replicas starting count for the backlog${rising}`;
      }
      const strict = bandF < 1 ? sloTargetsOf(slos.get(v.variantName)!, bandF) : null;
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
        predicted: { ttftMs: at.ttftMs, itlMs: at.itlMs },
        why:
          `SLO engine: ${c.reason}; ${(a.allocation.assignedRate * 60).toFixed(0)} req/min${extra} -> ${n} ` +
          `(predicted TTFT ${at.ttftMs.toFixed(0)} ms, ITL ${at.itlMs.toFixed(1)} ms, utilisation ${pct(at.utilization)}` +
          `${o.tail ? `; mean ITL sized for ${slos.get(v.variantName)!.itlMs?.toFixed(1)} ms so the p${Math.round(o.tail.quantile * 100)} of requests meets ${rawItl} ms` : ''})`,
      });
    }
  }

  for (const [name, why] of idle)
    targets.set(name, {
      n: 0,
      why: `SLO engine: no replica and no usable performance model (${why}); the other variants carry the load -> 0`,
    });
  // Saturation V1's targets in this cycle are the floor, judged on the replicas serving now (what
  // the floor counts): given the starting ones and the count last published, V1 would only echo
  // that count while they start, and one overshoot would be held until every pod served.
  const sat = saturation.decide({
    ...model,
    variants: model.variants.map((v) => {
      const serving = Math.max(0, v.currentReplicas - v.pendingReplicas);
      return { ...v, currentReplicas: serving, desiredReplicas: serving, pendingReplicas: 0 };
    }),
  });
  const floor = new Map(sat.decisions.map((d) => [d.variantName, d.targetReplicas]));
  for (const v of model.variants) {
    // Pods still starting are not cancelled while V1 finds the serving ones saturated: the model's
    // count for the load may be right, the backlog those pods are to drain is already there.
    const t = targets.get(v.variantName)!;
    const serving = Math.max(0, v.currentReplicas - v.pendingReplicas);
    if (v.pendingReplicas > 0 && (floor.get(v.variantName) ?? 0) > serving && t.n < v.currentReplicas)
      targets.set(v.variantName, {
        ...t,
        n: v.currentReplicas,
        why: `${t.why}; the ${v.pendingReplicas} starting kept: saturation V1 finds the ${serving} serving saturated`,
      });
  }
  let ds = modelFloor(
    model.variants.map((v) => decision(model, v, targets.get(v.variantName)!)),
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
