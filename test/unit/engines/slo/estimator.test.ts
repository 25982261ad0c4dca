import { describe, expect, it } from 'vitest';
import {
  neutralPrior,
  PerformanceEstimator,
  type PerformanceObservation,
  type PriorParameters,
} from '../../../../src/engines/slo/learn/index.js';
import { type Cycle, measure, seeded, steadyLoad, TRUE, variedLoad } from './synthetic.js';

const KEY = { model: 'org/Model-8B', namespace: 'llm', accelerator: 'H100', argsFingerprint: 'f00d' };
const CYCLE_MS = 30_000;

function estimator(given?: PriorParameters): PerformanceEstimator {
  return new PerformanceEstimator({
    key: KEY,
    maxBatchSize: 64,
    neutral: neutralPrior(KEY.model, KEY.accelerator),
    ...(given ? { given } : {}),
  });
}

/** Feeds `n` cycles measured on `truth`, starting at cycle `from`. */
function feed(
  e: PerformanceEstimator,
  truth: PriorParameters,
  n: number,
  opts: { seed?: number; noise?: number; load?: (r: () => number) => Cycle; from?: number } = {},
): void {
  const rand = seeded(opts.seed ?? 7);
  const load = opts.load ?? variedLoad;
  for (let i = 0; i < n; i++)
    e.observe(measure(truth, load(rand), rand, opts.noise ?? 0.05), ((opts.from ?? 0) + i) * CYCLE_MS);
}

function relErr(got: number, want: number): number {
  return Math.abs(got - want) / want;
}

describe('convergence on varied load', () => {
  it('learns both lines within a few percent after 60 cycles of 5 % noise', () => {
    const e = estimator();
    feed(e, TRUE, 60);
    const p = e.profile();
    expect(relErr(p.alpha, TRUE.alpha)).toBeLessThan(0.05);
    expect(relErr(p.beta, TRUE.beta)).toBeLessThan(0.08);
    expect(relErr(p.gamma, TRUE.gamma)).toBeLessThan(0.25);
    expect(relErr(p.delta, TRUE.delta)).toBeLessThan(0.05);
    expect(p.maxBatchSize).toBe(64);
  });

  // The neutral prior, weighted as half a cycle, is what keeps it from exact on clean data.
  it('predicts latencies across the whole batch range within 5 % on clean data', () => {
    const e = estimator();
    feed(e, TRUE, 60, { noise: 0 });
    for (const batch of [1, 8, 32, 64]) {
      const got = e.predict(batch, 1000);
      expect(relErr(got.itlMs, TRUE.alpha + TRUE.beta * batch)).toBeLessThan(0.05);
      expect(relErr(got.prefillMs, TRUE.gamma + TRUE.delta * 1000 * batch)).toBeLessThan(0.05);
    }
  });

  it('gets closer with more cycles on every seed tried', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const e = estimator();
      feed(e, TRUE, 200, { seed });
      const p = e.profile();
      expect(relErr(p.beta, TRUE.beta)).toBeLessThan(0.1);
      expect(relErr(p.delta, TRUE.delta)).toBeLessThan(0.05);
    }
  });
});

describe('confidence', () => {
  it('becomes usable on clean data once the error is low over enough cycles', () => {
    const e = estimator();
    feed(e, TRUE, 19, { noise: 0.02 });
    expect(e.status().usable).toBe(false);
    expect(e.status().reason).toMatch(/^not yet: 19 of 20 cycles observed/);
    feed(e, TRUE, 11, { noise: 0.02, seed: 8, from: 19 });
    const s = e.status();
    expect(s.usable).toBe(true);
    expect(s.cycles).toBe(30);
    expect(s.itlErrorPct!).toBeLessThan(15);
    expect(s.ttftErrorPct!).toBeLessThan(15);
    expect(s.identified).toEqual({ alpha: true, beta: true, gamma: true, delta: true });
    expect(s.reason).toMatch(/^learned profile \(30 cycles, ITL error \d+\.\d %, TTFT error \d+\.\d %\)$/);
  });

  it('stays not usable on noisy data, saying the error is too high', () => {
    const e = estimator();
    feed(e, TRUE, 200, { noise: 0.3 });
    const s = e.status();
    expect(s.usable).toBe(false);
    expect(s.itlErrorPct!).toBeGreaterThan(15);
    expect(s.reason).toMatch(/ITL prediction error \d+\.\d % is not below 15\.0 %/);
  });

  it('counts TTFT as queue time plus the predicted prefill', () => {
    const queued = estimator();
    const bare = estimator();
    const rand = seeded(3);
    for (let i = 0; i < 60; i++) {
      const m = measure(TRUE, { ...variedLoad(rand), queueMs: 0 }, rand, 0);
      // A wait as long as the prefill phase (beyond QUEUED_WAIT phases it is refused: see checkObservation).
      const queueMs = m.prefillMs as number;
      queued.observe({ ...m, queueMs, ttftMs: queueMs + (m.prefillMs as number) }, i * CYCLE_MS);
      bare.observe(m, i * CYCLE_MS);
    }
    // The same prefill error is diluted in a TTFT twice as long: half the relative error.
    const withQueue = queued.status().ttftErrorPct as number;
    const without = bare.status().ttftErrorPct as number;
    expect(without).toBeGreaterThan(0);
    expect(withQueue).toBeCloseTo(without / 2, 1);
  });

  it('needs prefill measurements before it is usable', () => {
    const e = estimator();
    const rand = seeded(4);
    for (let i = 0; i < 40; i++) {
      const m = measure(TRUE, variedLoad(rand), rand, 0.01);
      e.observe({ itlMs: m.itlMs, batch: m.batch }, i * CYCLE_MS);
    }
    const s = e.status();
    expect(s.usable).toBe(false);
    expect(s.ttftErrorPct).toBeNull();
    expect(s.reason).toContain('no prefill measurement yet');
  });
});

describe('forgetting', () => {
  const CHANGED: PriorParameters = { alpha: 14, beta: 0.2, gamma: 40, delta: 0.006 };

  it('follows a step change of the true lines within 25 cycles', () => {
    const e = estimator();
    feed(e, TRUE, 100);
    feed(e, CHANGED, 25, { seed: 11, from: 100 });
    const p = e.profile();
    expect(relErr(p.alpha, CHANGED.alpha)).toBeLessThan(0.1);
    expect(relErr(p.beta, CHANGED.beta)).toBeLessThan(0.1);
    expect(relErr(p.delta, CHANGED.delta)).toBeLessThan(0.1);
  });

  it('follows a slow drift (each step inside the gate) through forgetting alone', () => {
    const e = estimator();
    feed(e, TRUE, 60);
    const rand = seeded(12);
    for (let i = 0; i < 150; i++) {
      const f = 1 + (0.5 * Math.min(i, 100)) / 100;
      const truth = {
        alpha: TRUE.alpha * f,
        beta: TRUE.beta * f,
        gamma: TRUE.gamma * f,
        delta: TRUE.delta * f,
      };
      const out = e.observe(measure(truth, variedLoad(rand), rand, 0.02), (60 + i) * CYCLE_MS);
      expect(out.decode).toBe('accepted');
    }
    expect(relErr(e.profile().alpha, TRUE.alpha * 1.5)).toBeLessThan(0.08);
    expect(relErr(e.profile().beta, TRUE.beta * 1.5)).toBeLessThan(0.08);
    expect(e.status().usable).toBe(true);
  });
});

describe('gating', () => {
  function trained(): PerformanceEstimator {
    const e = estimator();
    feed(e, TRUE, 60, { noise: 0.03 });
    return e;
  }

  const broken: [string, PerformanceObservation, RegExp][] = [
    ['NaN ITL', { itlMs: Number.NaN, batch: 10 }, /ITL is NaN/],
    ['zero batch', { itlMs: 10, batch: 0, prefillMs: 60, inputTokens: 1000 }, /batch 0 <= 0/],
    ['negative batch', { itlMs: 10, batch: -3, prefillMs: 60, inputTokens: 1000 }, /batch -3 <= 0/],
    [
      'infinite batch',
      { itlMs: 10, batch: Number.POSITIVE_INFINITY, prefillMs: 60, inputTokens: 1000 },
      /batch is Infinity/,
    ],
    [
      'batch above max_num_seqs',
      { itlMs: 10, batch: 500, prefillMs: 60, inputTokens: 1000 },
      /above max batch size 64/,
    ],
    [
      'young series',
      { itlMs: 1, batch: 10, prefillMs: 1, inputTokens: 1000, coverage: 0.3 },
      /young series or a scrape gap/,
    ],
  ];
  for (const [name, obs, why] of broken) {
    it(`refuses ${name} without moving the estimate`, () => {
      const e = trained();
      const before = e.profile();
      const out = e.observe(obs, 61 * CYCLE_MS);
      expect(out.decode).toBe('refused');
      expect(out.refusal).toMatch(why);
      expect(e.profile()).toEqual(before);
      expect(e.status().cycles).toBe(60);
    });
  }

  it('refuses a broken prefill point but still learns the decode point', () => {
    const e = trained();
    const out = e.observe({ itlMs: 10, batch: 10, prefillMs: Number.NaN, inputTokens: 1000 }, 61 * CYCLE_MS);
    expect(out).toEqual({ decode: 'accepted', prefill: 'refused', refusal: 'prefill time is NaN' });
  });

  it('gates a single outlier (a restart spike) by its normalised innovation', () => {
    const e = trained();
    const before = e.profile();
    const spike = measure(
      { ...TRUE, alpha: TRUE.alpha * 6, gamma: TRUE.gamma * 20 },
      { batch: 20, inputTokens: 900 },
      seeded(1),
      0,
    );
    const out = e.observe(spike, 61 * CYCLE_MS);
    expect(out.decode).toBe('outlier');
    expect(out.prefill).toBe('outlier');
    expect(e.profile()).toEqual(before);
    // Ordinary cycles after it are accepted as before.
    const rand = seeded(5);
    expect(e.observe(measure(TRUE, variedLoad(rand), rand, 0.03), 62 * CYCLE_MS).decode).toBe('accepted');
  });

  it('two isolated outliers among clean cycles move nothing', () => {
    const e = trained();
    const rand = seeded(6);
    const clean = estimator();
    feed(clean, TRUE, 60, { noise: 0.03 });
    for (let i = 0; i < 20; i++) {
      const m = measure(TRUE, variedLoad(rand), rand, 0.03);
      e.observe(m, (60 + i) * CYCLE_MS);
      clean.observe(m, (60 + i) * CYCLE_MS);
      if (i === 5 || i === 12)
        // TTFT moves with the prefill: the prefill line is fitted to TTFT minus the wait.
        e.observe(
          { ...m, itlMs: m.itlMs * 8, prefillMs: m.prefillMs! / 10, ttftMs: m.queueMs! + m.prefillMs! / 10 },
          (60 + i) * CYCLE_MS,
        );
    }
    expect(e.profile()).toEqual(clean.profile());
  });
});

describe('identifiability', () => {
  it('keeps beta and delta at the prior under steady load, and says why it is not usable', () => {
    const e = estimator();
    const prior = neutralPrior(KEY.model, KEY.accelerator);
    feed(e, TRUE, 100, { load: steadyLoad, noise: 0.02 });
    const p = e.profile();
    expect(p.beta).toBe(prior.beta);
    expect(p.delta).toBe(prior.delta);
    const s = e.status();
    expect(s.identified).toEqual({ alpha: true, beta: false, gamma: true, delta: false });
    expect(s.usable).toBe(false);
    expect(s.reason).toBe('not yet: batch has not varied (beta and delta unidentified)');
    // At the one load it sees, its predictions are right: the intercepts absorbed the difference.
    expect(s.itlErrorPct!).toBeLessThan(5);
    expect(relErr(e.predict(24, 1000).itlMs, TRUE.alpha + TRUE.beta * 24)).toBeLessThan(0.03);
  });

  it('under steady load is usable within the range it measured, and says how far that goes', () => {
    const e = estimator();
    feed(e, TRUE, 100, { load: steadyLoad, noise: 0.02 });
    const r = e.status().withinMeasured!;
    // One batch size (24) and one input length (1000): the range is that point.
    expect(r.maxBatch).toBeCloseTo(24, 4);
    expect(r.maxPrefillX).toBeCloseTo(24_000, 1);
    // Not while it is still young or its error is high, nor once it is usable everywhere.
    const young = estimator();
    feed(young, TRUE, 5, { load: steadyLoad, noise: 0.02 });
    expect(young.status().withinMeasured).toBeNull();
    const noisy = estimator();
    feed(noisy, TRUE, 100, { load: steadyLoad, noise: 0.4 });
    expect(noisy.status().withinMeasured).toBeNull();
    const varied = estimator();
    feed(varied, TRUE, 60, { noise: 0.02 });
    expect(varied.status().usable).toBe(true);
    expect(varied.status().withinMeasured).toBeNull();
  });

  it('does not identify a slope from a narrow batch range in noisy data, but does in clean data', () => {
    const narrow = (r: () => number): Cycle => ({ batch: 20 + r() * 10, inputTokens: 1000, queueMs: 5 });
    const noisy = estimator();
    feed(noisy, TRUE, 100, { load: narrow, noise: 0.1 });
    expect(noisy.status().identified.beta).toBe(false);
    expect(noisy.profile().beta).toBe(neutralPrior(KEY.model, KEY.accelerator).beta);
    const clean = estimator();
    feed(clean, TRUE, 100, { load: narrow, noise: 0.005 });
    expect(clean.status().identified.beta).toBe(true);
    expect(relErr(clean.profile().beta, TRUE.beta)).toBeLessThan(0.15);
  });

  it('holds a slope learned earlier when the load then stays steady', () => {
    const e = estimator();
    feed(e, TRUE, 60, { noise: 0.02 });
    feed(e, TRUE, 400, { load: steadyLoad, noise: 0.02, from: 60 });
    expect(e.status().identified.beta).toBe(true);
    expect(relErr(e.profile().beta, TRUE.beta)).toBeLessThan(0.1);
    expect(e.status().usable).toBe(true);
  });

  it('a given profile may stand in for slopes the load cannot identify', () => {
    const given = { alpha: 9.2, beta: 0.115, gamma: 26, delta: 0.0041 };
    const e = estimator(given);
    feed(e, TRUE, 40, { load: steadyLoad, noise: 0.02 });
    const s = e.status();
    expect(e.profile().beta).toBe(given.beta);
    expect(s.usable).toBe(true);
    expect(s.reason).toMatch(/^given profile, corrected by the measurements \(40 cycles/);
  });
});

describe('a given profile that contradicts the measurements', () => {
  const WRONG = { alpha: 4, beta: 0.03, gamma: 8, delta: 0.001 };

  it('is reported, and the learned estimate replaces it once confident', () => {
    const e = estimator(WRONG);
    feed(e, TRUE, 60, { noise: 0.03 });
    const s = e.status();
    expect(s.contradicted).toBe(true);
    expect(s.usable).toBe(true);
    expect(s.reason).toMatch(
      /^learned profile \(60 cycles, .*\) replaces the given one: the given profile contradicts/,
    );
    expect(relErr(e.profile().beta, TRUE.beta)).toBeLessThan(0.1);
  });

  it('under steady load is reported and not used', () => {
    const e = estimator(WRONG);
    feed(e, TRUE, 60, { load: steadyLoad, noise: 0.03 });
    const s = e.status();
    expect(s.contradicted).toBe(true);
    expect(s.usable).toBe(false);
    expect(s.reason).toMatch(
      /^the given profile contradicts the measurements \(its predictions are off by ITL \d+\.\d % and TTFT \d+\.\d % over 60 cycles\); not yet: batch has not varied/,
    );
  });

  it('a profile that agrees is not reported', () => {
    const e = estimator({ ...TRUE });
    feed(e, TRUE, 60, { noise: 0.03 });
    expect(e.status().contradicted).toBe(false);
  });
});

describe('arguments', () => {
  it('refuses an impossible prior, max batch size or clock with a RangeError naming it', () => {
    const neutral = neutralPrior(KEY.model, KEY.accelerator);
    expect(
      () => new PerformanceEstimator({ key: KEY, maxBatchSize: 64, neutral, given: { ...TRUE, alpha: 0 } }),
    ).toThrow(/given profile: alpha must be > 0/);
    expect(
      () => new PerformanceEstimator({ key: KEY, maxBatchSize: 64, neutral: { ...neutral, beta: -1 } }),
    ).toThrow(/neutral prior: beta must be >= 0/);
    expect(() => new PerformanceEstimator({ key: KEY, maxBatchSize: 0, neutral })).toThrow(/maxBatchSize/);
    expect(() => estimator().observe({ itlMs: 10, batch: 4 }, Number.NaN)).toThrow(/nowMs/);
    expect(
      () => new PerformanceEstimator({ key: KEY, maxBatchSize: 64, neutral, settings: { forgetting: 1.5 } }),
    ).toThrow('forgetting must be in (0, 1], got 1.5');
    expect(
      () => new PerformanceEstimator({ key: KEY, maxBatchSize: 64, neutral, settings: { minCycles: 0 } }),
    ).toThrow('minCycles must be an integer >= 1, got 0');
  });
});

describe('status before any data', () => {
  it('says there is no observation yet, or why the last one was refused', () => {
    const e = estimator();
    expect(e.status()).toMatchObject({
      cycles: 0,
      itlErrorPct: null,
      usable: false,
      reason: 'not yet: no observation yet',
    });
    e.observe({ itlMs: 10, batch: 0 }, 0);
    expect(e.status().reason).toBe(
      'not yet: no valid observation yet (last refused: batch 0 <= 0 (nothing running))',
    );
  });
});
