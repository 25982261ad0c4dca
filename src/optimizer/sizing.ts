// Sizing: the largest per-replica arrival rate that meets every SLO target (rate*), then the
// replicas that carry the load at that rate.
//
// WVA bisects each target over the whole stable range. Here one bracketing root finder (Illinois)
// per target, the bracket ends' analyses shared between targets, and the second target searched
// only below the first's rate, since only the smaller rate counts.
import { ReplicaModel } from './queue-model.js';
import {
  type LoadProfile,
  type QueueProfile,
  type ReplicaAnalysis,
  type Sizing,
  type SizingInput,
  SloInfeasibleError,
  type SloTargetName,
  type SloTargets,
} from './types.js';
import { checkInput, checkLoad, checkProfile, checkSlo } from './validate.js';

/** Relative tolerance on a target, and the most steps per target (WVA's values). */
export const TARGET_TOLERANCE = 1e-6;
export const MAX_STEPS = 100;

/** rate* of one replica for one shape of load and one SLO. */
export interface RatePlan {
  model: ReplicaModel;
  /** Requests per second. */
  ratePerReplica: number;
  /** The replica at rate*. */
  atRate: ReplicaAnalysis;
}

type Metric = (a: ReplicaAnalysis) => number;
const metricOf: Record<SloTargetName, Metric> = { ttft: (a) => a.ttftMs, itl: (a) => a.itlMs };

function within(y: number, target: number): boolean {
  return Math.abs(y - target) <= TARGET_TOLERANCE * target;
}

/**
 * The largest lambda in [lo.arrivalRate, hi.arrivalRate] whose metric stays within the target,
 * as the analysis there; the metric rises with the rate.
 */
function largestMeeting(
  model: ReplicaModel,
  name: SloTargetName,
  target: number,
  lo: ReplicaAnalysis,
  hi: ReplicaAnalysis,
): ReplicaAnalysis {
  const f = metricOf[name];
  const fLo = f(lo);
  if (within(fLo, target)) return lo;
  if (target < fLo) throw new SloInfeasibleError(name, target, fLo);
  const fHi = f(hi);
  if (fHi <= target || within(fHi, target)) return hi;
  // Illinois: regula falsi that halves the stale end's residual, so it never stalls on one side.
  let a = lo.arrivalRate / 1000;
  let b = hi.arrivalRate / 1000;
  let ga = fLo - target;
  let gb = fHi - target;
  let best = lo;
  let side = 0;
  for (let i = 0; i < MAX_STEPS; i++) {
    let x = b - (gb * (b - a)) / (gb - ga);
    if (!(x > a && x < b)) x = 0.5 * (a + b);
    const at = model.analyse(x);
    const g = f(at) - target;
    if (within(f(at), target)) return at;
    if (g < 0) {
      a = x;
      ga = g;
      best = at;
      if (side === -1) gb *= 0.5;
      side = -1;
    } else {
      b = x;
      gb = g;
      if (side === 1) ga *= 0.5;
      side = 1;
    }
    if (b - a <= Number.EPSILON * b) break;
  }
  return best;
}

function activeTargets(slo: SloTargets): Array<[SloTargetName, number]> {
  const out: Array<[SloTargetName, number]> = [];
  if (slo.itlMs !== undefined && slo.itlMs > 0) out.push(['itl', slo.itlMs]);
  if (slo.ttftMs !== undefined && slo.ttftMs > 0) out.push(['ttft', slo.ttftMs]);
  return out;
}

/** rate* for a built model; throws SloInfeasibleError naming the first target out of reach. */
export function planRate(model: ReplicaModel, slo: SloTargets): RatePlan {
  const lo = model.analyse(model.lambdaMin);
  let hi = model.analyse(model.lambdaMax);
  for (const [name, target] of activeTargets(slo)) {
    // Targets met at the current upper end leave it; otherwise the rate comes down.
    if (metricOf[name](hi) <= target) continue;
    hi = largestMeeting(model, name, target, lo, hi);
  }
  return { model, ratePerReplica: hi.throughput, atRate: hi };
}

/** Replicas for the load at a plan's rate*, and the latencies predicted at that count. */
export function replicasFor(
  plan: RatePlan,
  load: LoadProfile,
  minReplicas: number,
  maxReplicas: number,
): Sizing {
  const perSecond = load.arrivalRate / 60;
  const forSlo =
    perSecond > 0 ? Math.max(Math.ceil(perSecond / plan.ratePerReplica), minReplicas) : minReplicas;
  const numReplicas = Math.min(forSlo, maxReplicas);
  const at = numReplicas > 0 ? plan.model.analyse(perSecond / numReplicas / 1000) : plan.model.analyse(0);
  return {
    numReplicas,
    ratePerReplica: plan.ratePerReplica,
    predicted: { ttftMs: at.ttftMs, itlMs: at.itlMs, utilization: numReplicas > 0 ? at.utilization : 0 },
    replicasForSlo: forSlo,
    sloMet: forSlo <= maxReplicas,
  };
}

/**
 * Replicas that carry `load` within `slo` on `profile`. RangeError for bad input (naming the
 * field); SloInfeasibleError (target 'ttft' or 'itl') when no stable rate meets a target.
 */
export function sizeReplicas(input: SizingInput): Sizing {
  const [min, max] = checkInput(input);
  const model = new ReplicaModel(input.profile, input.load.avgInputTokens, input.load.avgOutputTokens);
  return replicasFor(planRate(model, input.slo), input.load, min, max);
}

/** One replica of `profile` under `load`'s request shape at `ratePerSecond` requests per second. */
export function analyseReplica(
  profile: QueueProfile,
  load: LoadProfile,
  ratePerSecond: number,
): ReplicaAnalysis {
  checkProfile(profile);
  checkLoad({ ...load, arrivalRate: 0 });
  if (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond < 0) {
    throw new RangeError(`ratePerSecond must be a finite number >= 0, got ${String(ratePerSecond)}`);
  }
  return new ReplicaModel(profile, load.avgInputTokens, load.avgOutputTokens).analyse(ratePerSecond / 1000);
}

/** rate* (req/s) of one replica of `profile` for `load`'s request shape within `slo`. */
export function maxRatePerReplica(profile: QueueProfile, load: LoadProfile, slo: SloTargets): number {
  checkProfile(profile);
  checkLoad({ ...load, arrivalRate: 0 });
  checkSlo(slo);
  return planRate(new ReplicaModel(profile, load.avgInputTokens, load.avgOutputTokens), slo).ratePerReplica;
}
