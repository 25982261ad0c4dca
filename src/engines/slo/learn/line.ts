// One latency line y = intercept + slope x learned online: recursive least squares in information
// form (six exponentially forgotten sums), regularised towards a prior that is never forgotten, so
// memory and per-observation cost are constant and an unexcited direction cannot wind up.

import type { LearnSettings } from './settings.js';

/** The line a prior or an estimate gives; milliseconds, and milliseconds per unit of x. */
export interface Line {
  intercept: number;
  slope: number;
}

/** A prior line and how much it weighs, in observations' worth. */
export interface LinePrior extends Line {
  weight: number;
}

/** Exponentially forgotten sums of the accepted observations: weight, x, x², y, x·y, y². */
export interface LineStats {
  s0: number;
  s1: number;
  s2: number;
  t0: number;
  t1: number;
  u2: number;
}

/** Everything one line remembers; small, plain and JSON-safe. */
export interface LineState {
  stats: LineStats;
  /** Rolling mean of the squared relative innovation of accepted observations. */
  noise: number;
  /** Observations accepted since the start. */
  accepted: number;
  /** Observations gated in a row as outliers. */
  outlierRun: number;
  /** The slope last identified from the data; it stands in for the prior's while x is steady. */
  heldSlope: number | null;
}

/** What one line needs of the learner's settings, and the x its prior's slope is weighed at. */
export type LineSettings = Pick<
  LearnSettings,
  | 'forgetting'
  | 'gateSigmas'
  | 'noiseFloor'
  | 'warmup'
  | 'changeRun'
  | 'changeDiscount'
  | 'minSpread'
  | 'maxSlopeUncertainty'
  | 'minWeight'
  | 'minIntercept'
> & {
  /** A typical x, so the prior's slope weighs as much as its intercept at that x. */
  referenceX: number;
};

export type LineVerdict = 'accepted' | 'outlier' | 'change';

export function emptyLineState(): LineState {
  return {
    stats: { s0: 0, s1: 0, s2: 0, t0: 0, t1: 0, u2: 0 },
    noise: 0.01,
    accepted: 0,
    outlierRun: 0,
    heldSlope: null,
  };
}

export function predict(line: Line, x: number): number {
  return line.intercept + line.slope * x;
}

/** Weighted coefficient of variation of x; 0 with no data or a mean of 0. */
export function regressorSpread(stats: LineStats): number {
  if (!(stats.s0 > 0)) return 0;
  const mean = stats.s1 / stats.s0;
  if (!(mean > 0)) return 0;
  const variance = Math.max(0, stats.s2 / stats.s0 - mean * mean);
  return Math.sqrt(variance) / mean;
}

/**
 * The top of the range of x the line has measured: the weighted mean plus two weighted standard
 * deviations (forgotten with the data); 0 with no data.
 */
export function measuredUpTo(stats: LineStats): number {
  if (!(stats.s0 > 0)) return 0;
  const mean = stats.s1 / stats.s0;
  const variance = Math.max(0, stats.s2 / stats.s0 - mean * mean);
  const top = mean + 2 * Math.sqrt(variance);
  return Number.isFinite(top) ? top : 0;
}

/**
 * Whether x lies outside the weighted mean ± two standard deviations of the x measured so far, and
 * by more than the spread a slope needs (`minSpread` of the mean; a steady x is not a new range).
 */
function beyondMeasured(stats: LineStats, x: number, minSpread: number): boolean {
  if (!(stats.s0 > 0)) return false;
  const mean = stats.s1 / stats.s0;
  const sd = Math.sqrt(Math.max(0, stats.s2 / stats.s0 - mean * mean));
  return Math.abs(x - mean) > Math.max(2 * sd, minSpread * Math.abs(mean));
}

/**
 * The slope's standard error times x_ref, relative to the mean y: how uncertain a prediction at a
 * typical x is because of the slope alone. Classic least squares over the forgotten sums: the
 * information along the slope's direction, once the intercept is accounted for, is
 * Sxx = s2 − s1²/s0, and the noise is the residual scatter about the best line (floored, so
 * clean data still needs x to have varied).
 */
export function slopeUncertainty(stats: LineStats, s: LineSettings): number {
  const { s0, s1, s2, t0, t1, u2 } = stats;
  if (!(s0 > 2 && t0 > 0)) return Number.POSITIVE_INFINITY;
  const sxx = s2 - (s1 * s1) / s0;
  if (!(sxx > 0)) return Number.POSITIVE_INFINITY;
  const meanY = t0 / s0;
  const sxy = t1 - (s1 * t0) / s0;
  const syy = Math.max(0, u2 - (t0 * t0) / s0);
  const residual = Math.max(0, syy - (sxy * sxy) / sxx) / (s0 - 2);
  const sigma = Math.max(Math.sqrt(residual), s.noiseFloor * meanY);
  return ((sigma / Math.sqrt(sxx)) * s.referenceX) / meanY;
}

/**
 * Whether the data alone pins the slope: x has varied over enough observations, and enough for
 * the slope's uncertainty to widen a prediction at a typical x by at most `maxSlopeUncertainty`.
 */
export function slopeIdentifiedNow(state: LineState, s: LineSettings): boolean {
  return (
    state.stats.s0 >= s.minWeight &&
    regressorSpread(state.stats) >= s.minSpread &&
    slopeUncertainty(state.stats, s) <= s.maxSlopeUncertainty
  );
}

/** The slope is known: identified now or earlier (then held while x stays steady). */
export function slopeKnown(state: LineState, s: LineSettings): boolean {
  return state.heldSlope !== null || slopeIdentifiedNow(state, s);
}

/**
 * The estimate: the least-squares line over the forgotten sums plus the prior's penalty
 * w·((a − a₀)² + (x_ref·(b − b₀))²), with a >= minIntercept and b >= 0. While the slope is not
 * identified it stays at the prior's (or the slope held from earlier) and only the intercept moves.
 */
export function solveLine(prior: LinePrior, state: LineState, s: LineSettings): Line {
  const st = state.stats;
  const identified = slopeIdentifiedNow(state, s);
  const slope0 = identified ? prior.slope : (state.heldSlope ?? prior.slope);
  const w = Math.max(prior.weight, 1e-9);
  const wb = w * s.referenceX * s.referenceX;
  // Normal equations A θ = v of the penalised problem.
  const a00 = st.s0 + w;
  const a01 = st.s1;
  const a11 = st.s2 + wb;
  const v0 = st.t0 + w * prior.intercept;
  const v1 = st.t1 + wb * slope0;
  const lo = s.minIntercept;
  if (!identified) {
    const slope = Math.max(0, slope0);
    return { intercept: Math.max(lo, (v0 - a01 * slope) / a00), slope };
  }
  const cost = (a: number, b: number) => a00 * a * a + 2 * a01 * a * b + a11 * b * b - 2 * (v0 * a + v1 * b);
  const det = a00 * a11 - a01 * a01;
  const candidates: Line[] = [];
  if (det > 0)
    candidates.push({ intercept: (a11 * v0 - a01 * v1) / det, slope: (a00 * v1 - a01 * v0) / det });
  // The convex problem's minimum on a bound: one of these when the free one breaks a constraint.
  candidates.push({ intercept: lo, slope: Math.max(0, (v1 - a01 * lo) / a11) });
  candidates.push({ intercept: Math.max(lo, v0 / a00), slope: 0 });
  let best: Line = { intercept: lo, slope: 0 };
  let bestCost = cost(best.intercept, best.slope);
  for (const c of candidates) {
    if (!(c.intercept >= lo && c.slope >= 0 && Number.isFinite(c.intercept) && Number.isFinite(c.slope)))
      continue;
    const j = cost(c.intercept, c.slope);
    if (j < bestCost) {
      best = c;
      bestCost = j;
    }
  }
  return best;
}

/**
 * Judges and, unless it is an outlier, takes one observation (x, y) with y > 0 and x >= 0 finite.
 * The caller predicts with `current` before calling, so the innovation is an honest forecast error.
 */
export function updateLine(
  prior: LinePrior,
  state: LineState,
  current: Line,
  x: number,
  y: number,
  s: LineSettings,
): { state: LineState; verdict: LineVerdict } {
  const predicted = predict(current, x);
  const rel = (y - predicted) / predicted;
  const sigma = Math.max(Math.sqrt(state.noise), s.noiseFloor);
  let verdict: LineVerdict = 'accepted';
  let discount = 1;
  // Beyond the measured range with the slope unknown, the prediction rests on the prior's slope:
  // its miss there is the slope's error, not noise, and the point is what identifies the slope
  // (gated, a filled batch would come back as a "change" that discards the history it needs).
  const excites = !slopeKnown(state, s) && beyondMeasured(state.stats, x, s.minSpread);
  if (!excites && state.accepted >= s.warmup && Math.abs(rel) > s.gateSigmas * sigma) {
    if (state.outlierRun + 1 < s.changeRun) {
      return { state: { ...state, outlierRun: state.outlierRun + 1 }, verdict: 'outlier' };
    }
    verdict = 'change';
    discount = s.changeDiscount;
  }
  const f = s.forgetting * discount;
  const st = state.stats;
  const stats: LineStats = {
    s0: f * st.s0 + 1,
    s1: f * st.s1 + x,
    s2: f * st.s2 + x * x,
    t0: f * st.t0 + y,
    t1: f * st.t1 + x * y,
    u2: f * st.u2 + y * y,
  };
  // After a change the gate widens to admit the new level while the estimate moves to it (as a
  // Kalman filter inflates its covariance); the rolling noise then shrinks back on its own.
  const k = 0.1;
  const noise =
    verdict === 'change'
      ? Math.min(1, Math.max(state.noise, (rel / s.gateSigmas) ** 2))
      : excites
        ? state.noise
        : (1 - k) * state.noise + k * Math.min(rel * rel, 1);
  const next: LineState = {
    stats,
    noise,
    accepted: state.accepted + 1,
    outlierRun: 0,
    heldSlope: state.heldSlope,
  };
  if (slopeIdentifiedNow(next, s)) next.heldSlope = solveLine(prior, next, s).slope;
  return { state: next, verdict };
}
