import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEARN_SETTINGS,
  learnedProfilesJson,
  neutralPrior,
  PerformanceEstimator,
  type PerformanceObservation,
  restoreLearnedProfiles,
  serializeLearnedProfiles,
} from '../../../../src/engines/slo/learn/index.js';

const KEY = { model: 'org/Model-70B', namespace: 'llm', accelerator: 'A100', argsFingerprint: 'abcd' };
const RUNS = { numRuns: 150, seed: 20261207 };

// Any number a broken exporter could produce, and absent fields.
const wild = fc.oneof(
  fc.double({ noNaN: false }),
  fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-320, 1e308),
  fc.double({ min: 0.001, max: 5000, noNaN: true }),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const wildObservation: fc.Arbitrary<PerformanceObservation> = fc.record({
  itlMs: wild,
  batch: wild,
  prefillMs: maybe(wild),
  inputTokens: maybe(wild),
  queueMs: maybe(wild),
  ttftMs: maybe(wild),
  coverage: maybe(wild),
});

// Physically possible lines and loads, with up to 50 % noise.
const line = fc.record({
  alpha: fc.double({ min: 0.5, max: 200, noNaN: true }),
  beta: fc.double({ min: 0, max: 5, noNaN: true }),
  gamma: fc.double({ min: 1, max: 500, noNaN: true }),
  delta: fc.double({ min: 0, max: 0.05, noNaN: true }),
});
const cycle = fc.record({
  batch: fc.double({ min: 0.1, max: 128, noNaN: true }),
  inputTokens: fc.double({ min: 1, max: 32_000, noNaN: true }),
  noise: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
});

function estimator(given?: {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}): PerformanceEstimator {
  return new PerformanceEstimator({
    key: KEY,
    maxBatchSize: 128,
    neutral: neutralPrior(KEY.model, KEY.accelerator),
    ...(given ? { given } : {}),
  });
}

function expectSound(e: PerformanceEstimator): void {
  const p = e.profile();
  for (const v of [p.alpha, p.beta, p.gamma, p.delta]) expect(Number.isFinite(v)).toBe(true);
  expect(p.alpha).toBeGreaterThanOrEqual(DEFAULT_LEARN_SETTINGS.minIntercept);
  expect(p.gamma).toBeGreaterThanOrEqual(DEFAULT_LEARN_SETTINGS.minIntercept);
  expect(p.beta).toBeGreaterThanOrEqual(0);
  expect(p.delta).toBeGreaterThanOrEqual(0);
  const s = e.status();
  for (const v of [s.itlErrorPct, s.ttftErrorPct])
    if (v !== null) expect(Number.isFinite(v) && v >= 0).toBe(true);
  expect(s.reason.length).toBeGreaterThan(10);
  // A refusal quotes the value refused ("ITL is NaN"); nothing else may leak into the sentence.
  expect(s.reason).not.toMatch(/undefined|\[object|null/);
  const at = e.predict(64, 2000);
  expect(Number.isFinite(at.itlMs) && at.itlMs > 0 && Number.isFinite(at.prefillMs) && at.prefillMs > 0).toBe(
    true,
  );
}

describe('properties of the estimator', () => {
  it('never leaves its constraints nor produces NaN, whatever it is fed', () => {
    fc.assert(
      fc.property(fc.array(wildObservation, { maxLength: 60 }), (obs) => {
        const e = estimator();
        for (const [i, o] of obs.entries()) e.observe(o, i * 30_000);
        expectSound(e);
      }),
      RUNS,
    );
  });

  it('keeps its constraints on noisy measurements of any plausible line, with any given profile', () => {
    fc.assert(
      fc.property(
        line,
        fc.option(line, { nil: undefined }),
        fc.array(cycle, { minLength: 1, maxLength: 80 }),
        (truth, given, cycles) => {
          const e = estimator(given && { ...given, alpha: given.alpha, gamma: given.gamma });
          cycles.forEach((c, i) => {
            const f = 1 + c.noise;
            e.observe(
              {
                itlMs: (truth.alpha + truth.beta * c.batch) * f,
                batch: c.batch,
                prefillMs: (truth.gamma + truth.delta * c.inputTokens * c.batch) * f,
                inputTokens: c.inputTokens,
                queueMs: 0,
              },
              i * 30_000,
            );
          });
          expectSound(e);
        },
      ),
      RUNS,
    );
  });

  it('restores from its own document to the same profile and status', () => {
    fc.assert(
      fc.property(fc.array(wildObservation, { minLength: 1, maxLength: 40 }), (obs) => {
        const e = estimator();
        for (const [i, o] of obs.entries()) e.observe(o, 1_000_000 + i * 30_000);
        const text = learnedProfilesJson(serializeLearnedProfiles([e], 1_000_000));
        const r = restoreLearnedProfiles(text, { nowMs: 2_000_000, current: [KEY] });
        expect(r.error).toBeNull();
        expect(r.refused).toEqual([]);
        if (e.snapshot().updatedAtMs === null) return;
        expect(r.estimators[0]!.profile()).toEqual(e.profile());
        expect(r.estimators[0]!.status()).toEqual(e.status());
      }),
      RUNS,
    );
  });
});

describe('properties of restoring', () => {
  it('never throws on arbitrary JSON or text, and restores only sound estimators', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.string()), (input) => {
        const r = restoreLearnedProfiles(input, { nowMs: 0 });
        expect(r.error === null || typeof r.error === 'string').toBe(true);
        for (const e of r.estimators) expectSound(e);
      }),
      RUNS,
    );
  });

  it('refuses or restores soundly a document with any one field replaced', () => {
    const e = estimator();
    for (let i = 0; i < 30; i++)
      e.observe({ itlMs: 20 + i, batch: 1 + i, prefillMs: 100 + 3 * i, inputTokens: 900 }, i * 30_000);
    const doc = JSON.parse(learnedProfilesJson(serializeLearnedProfiles([e], 0)));
    const paths: string[][] = [];
    const walk = (v: unknown, path: string[]) => {
      paths.push(path);
      if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
    };
    walk(doc, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.jsonValue(), (path, value) => {
        const copy = structuredClone(doc);
        let o = copy as Record<string, unknown>;
        for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
        o[path.at(-1)!] = value;
        const r = restoreLearnedProfiles(copy, { nowMs: 30 * 30_000 });
        for (const x of r.estimators) expectSound(x);
        expect(r.estimators.length + r.refused.length + (r.error ? 1 : 0)).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});
