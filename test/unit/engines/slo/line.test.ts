import { describe, expect, it } from 'vitest';
import { DEFAULT_LEARN_SETTINGS } from '../../../../src/engines/slo/learn/index.js';
import {
  emptyLineState,
  type LinePrior,
  type LineSettings,
  type LineState,
  regressorSpread,
  solveLine,
  updateLine,
} from '../../../../src/engines/slo/learn/line.js';

const S: LineSettings = { ...DEFAULT_LEARN_SETTINGS, referenceX: 32 };
const PRIOR: LinePrior = { intercept: 10, slope: 0.1, weight: DEFAULT_LEARN_SETTINGS.neutralPriorWeight };

function learn(points: [number, number][], prior: LinePrior = PRIOR): LineState {
  let state = emptyLineState();
  for (const [x, y] of points) state = updateLine(prior, state, solveLine(prior, state, S), x, y, S).state;
  return state;
}

describe('the line estimator', () => {
  it('fits a line through exact points, up to the prior weight', () => {
    const pts: [number, number][] = [];
    for (let i = 0; i < 40; i++) pts.push([4 + (i % 10) * 6, 5 + 0.3 * (4 + (i % 10) * 6)]);
    const line = solveLine(PRIOR, learn(pts), S);
    // The prior, a tenth of an observation against about 33, pulls a couple of percent at most.
    expect(Math.abs(line.intercept - 5) / 5).toBeLessThan(0.05);
    expect(Math.abs(line.slope - 0.3) / 0.3).toBeLessThan(0.03);
  });

  it('keeps slopes non-negative: data falling with x gives a flat line at the mean', () => {
    const pts: [number, number][] = [];
    for (let i = 0; i < 40; i++) pts.push([10 + (i % 5) * 10, 30 - (i % 5) * 4]);
    const line = solveLine(PRIOR, learn(pts), S);
    expect(line.slope).toBe(0);
    expect(line.intercept).toBeGreaterThan(15);
    expect(line.intercept).toBeLessThan(30);
  });

  it('keeps intercepts positive: a line through the origin or below is held at the floor', () => {
    const pts: [number, number][] = [];
    for (let i = 0; i < 40; i++) pts.push([10 + (i % 5) * 10, -2 + 0.5 * (10 + (i % 5) * 10)]);
    const line = solveLine(PRIOR, learn(pts), S);
    expect(line.intercept).toBe(S.minIntercept);
    expect(line.slope).toBeGreaterThan(0.3);
  });

  it('measures the spread of x as its weighted coefficient of variation', () => {
    expect(
      regressorSpread(
        learn([
          [10, 5],
          [10, 5],
          [10, 5],
        ]).stats,
      ),
    ).toBeLessThan(1e-6);
    expect(
      regressorSpread(
        learn([
          [5, 5],
          [15, 5],
        ]).stats,
      ),
    ).toBeCloseTo(0.5, 1);
    expect(regressorSpread(emptyLineState().stats)).toBe(0);
  });

  it('accepts a run of outliers as a change after changeRun cycles', () => {
    const steady: [number, number][] = Array.from({ length: 30 }, (_, i) => [
      10 + (i % 3) * 10,
      10 + 0.1 * (10 + (i % 3) * 10),
    ]);
    let state = learn(steady);
    const verdicts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = updateLine(PRIOR, state, solveLine(PRIOR, state, S), 20, 40, S);
      state = r.state;
      verdicts.push(r.verdict);
    }
    expect(verdicts).toEqual(['outlier', 'outlier', 'change', 'accepted']);
  });
  // A variant that served a steady load (batch 7.5-12, slope unidentified, the prior's half-true
  // slope standing in) meets a step that fills its batch: the high-batch windows are what identify
  // the slope, not outliers.
  it('takes a point beyond the measured range while the slope is unknown, and identifies the slope from it', () => {
    const truth = (b: number) => 7.6 + 0.165 * b;
    const prior: LinePrior = { intercept: 8, slope: 0.08, weight: DEFAULT_LEARN_SETTINGS.neutralPriorWeight };
    const steady: [number, number][] = Array.from({ length: 30 }, (_, i) => {
      const b = 7.5 + (i % 10) * 0.5;
      return [b, truth(b) * (1 + 0.01 * ((i % 3) - 1))];
    });
    let state = learn(steady, prior);
    expect(solveLine(prior, state, S).slope).toBeCloseTo(0.08, 6);
    const r = updateLine(prior, state, solveLine(prior, state, S), 63, truth(63), S);
    expect(r.verdict).toBe('accepted');
    state = r.state;
    const line = solveLine(prior, state, S);
    expect(Math.abs(line.slope - 0.165) / 0.165).toBeLessThan(0.1);
    // Both ends predicted: the saturated pod's ITL and the steady load's, history kept.
    expect(Math.abs(line.intercept + line.slope * 64 - truth(64)) / truth(64)).toBeLessThan(0.03);
    expect(Math.abs(line.intercept + line.slope * 10 - truth(10)) / truth(10)).toBeLessThan(0.03);
  });

  it('still gates a far point inside the measured range, and one beyond it once the slope is known', () => {
    const varied: [number, number][] = Array.from({ length: 30 }, (_, i) => [
      10 + (i % 3) * 10,
      10 + 0.1 * (10 + (i % 3) * 10),
    ]);
    const state = learn(varied);
    expect(updateLine(PRIOR, state, solveLine(PRIOR, state, S), 60, 40, S).verdict).toBe('outlier');
    const steady = learn(Array.from({ length: 30 }, () => [10, 11] as [number, number]));
    expect(updateLine(PRIOR, steady, solveLine(PRIOR, steady, S), 10, 30, S).verdict).toBe('outlier');
  });
});
