// The queueing model's limits, monotonicity, infeasible targets and refused inputs.
import { describe, expect, it } from 'vitest';
import {
  analyseReplica,
  MAX_BATCH_SIZE,
  maxRatePerReplica,
  ReplicaModel,
  SizingMemo,
  SloInfeasibleError,
  sizeReplicas,
} from '../../../src/optimizer/index.js';

const profile = { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 };
const load = { arrivalRate: 120, avgInputTokens: 128, avgOutputTokens: 256 };

function finite(a: object): void {
  for (const [k, v] of Object.entries(a)) {
    if (typeof v === 'number') expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
  }
}

describe('limits of the model', () => {
  it('N = 1 is M/M/1/K: response time and throughput as the closed forms give them', () => {
    const p = { alpha: 2, beta: 0.5, gamma: 10, delta: 0.01, maxBatchSize: 1, maxQueueSize: 9 };
    const l = { arrivalRate: 0, avgInputTokens: 100, avgOutputTokens: 11 };
    const serviceMs = 10 + 0.01 * 100 + 10 * (2 + 0.5); // prefill(1) + 10 decodes
    const mu = 1 / serviceMs;
    const k = 10;
    for (const lambda of [0.2 * mu, 0.7 * mu, 0.95 * mu]) {
      const rho = lambda / mu;
      const pK = (rho ** k * (1 - rho)) / (1 - rho ** (k + 1));
      const avgInSystem = rho / (1 - rho) - ((k + 1) * rho ** (k + 1)) / (1 - rho ** (k + 1));
      const x = lambda * (1 - pK);
      const a = analyseReplica(p, l, lambda * 1000);
      expect(a.throughput).toBeCloseTo(x * 1000, 9);
      expect(a.responseMs).toBeCloseTo(avgInSystem / x, 6);
      expect(a.serviceMs).toBeCloseTo(serviceMs, 6);
      expect(a.waitMs).toBeCloseTo(avgInSystem / x - serviceMs, 6);
      expect(a.effectiveBatch).toBeCloseTo(1, 9);
      expect(a.itlMs).toBeCloseTo(2.5, 9);
    }
  });

  it('in = 0: no prefill, TTFT is the wait alone', () => {
    const a = analyseReplica(profile, { ...load, avgInputTokens: 0 }, 0.2);
    finite(a);
    expect(a.prefillMs).toBe(0);
    expect(a.ttftMs).toBe(a.waitMs);
  });

  it('out = 1 with a prompt: prefill only, no decode steps, finite latencies', () => {
    const s = sizeReplicas({
      profile,
      load: { ...load, avgOutputTokens: 1 },
      slo: { ttftMs: 100, itlMs: 30 },
    });
    finite(s.predicted);
    expect(s.ratePerReplica).toBeGreaterThan(0);
    const a = analyseReplica(profile, { ...load, avgOutputTokens: 1 }, 1);
    expect(a.serviceMs).toBeCloseTo(a.prefillMs, 6);
  });

  it('in = 0 and out = 1: one decode step per request, never NaN', () => {
    const l = { arrivalRate: 600, avgInputTokens: 0, avgOutputTokens: 1 };
    const a = analyseReplica(profile, l, 10);
    finite(a);
    expect(a.prefillMs).toBe(0);
    // One decode of a batch of n* is the whole service time.
    expect(a.itlMs).toBeCloseTo(a.serviceMs, 6);
    const s = sizeReplicas({ profile, load: l, slo: { itlMs: 22 } });
    expect(Number.isInteger(s.numReplicas)).toBe(true);
    expect(s.predicted.itlMs).toBeLessThanOrEqual(22 * (1 + 1e-6));
  });

  it('Q = 0: no queue, no wait, and arrivals beyond the batch are refused', () => {
    const p = { ...profile, maxQueueSize: 0 };
    const model = new ReplicaModel(p, 128, 256);
    for (const f of [0.1, 0.5, 0.99]) {
      const a = model.analyse(model.lambdaMax * f);
      finite(a);
      expect(a.waitMs).toBe(0);
      expect(a.blocking).toBeGreaterThan(0);
      expect(a.throughput).toBeLessThan(a.arrivalRate);
    }
  });

  it('the largest N accepted (MAX_BATCH_SIZE) sizes in finite numbers', () => {
    const p = { alpha: 5, beta: 0.0001, gamma: 20, delta: 0.00001, maxBatchSize: MAX_BATCH_SIZE };
    const s = sizeReplicas({
      profile: p,
      load: { ...load, arrivalRate: 6e6 },
      slo: { ttftMs: 5000, itlMs: 14 },
    });
    finite(s.predicted);
    expect(s.numReplicas).toBeGreaterThanOrEqual(1);
    expect(s.predicted.itlMs).toBeLessThanOrEqual(14 * (1 + 1e-6));
  });

  it('no load: minReplicas, latencies of a lone request', () => {
    const s = sizeReplicas({ profile, load: { ...load, arrivalRate: 0 }, slo: { ttftMs: 500 } });
    expect(s.numReplicas).toBe(1);
    expect(s.predicted.utilization).toBe(0);
    expect(s.predicted.ttftMs).toBeCloseTo(5.2 + 0.1 * 128, 9);
    expect(s.predicted.itlMs).toBeCloseTo(20.58 + 0.41, 9);
    expect(
      sizeReplicas({ profile, load: { ...load, arrivalRate: 0 }, slo: {}, minReplicas: 0 }).numReplicas,
    ).toBe(0);
  });

  it('past saturation (a capped count) the model still gives finite, large latencies', () => {
    const s = sizeReplicas({
      profile,
      load: { ...load, arrivalRate: 6000 },
      slo: { ttftMs: 500 },
      maxReplicas: 2,
    });
    expect(s.numReplicas).toBe(2);
    expect(s.sloMet).toBe(false);
    expect(s.replicasForSlo).toBeGreaterThan(2);
    finite(s.predicted);
    expect(s.predicted.ttftMs).toBeGreaterThan(500);
    expect(s.predicted.utilization).toBeCloseTo(1, 2);
  });
});

describe('monotonicity in the rate', () => {
  it.each([
    ['sample VA', profile, 128, 256],
    ['large batch', { alpha: 5.5, beta: 0.02, gamma: 25, delta: 0.0015, maxBatchSize: 512 }, 1024, 128],
    ['decode only', profile, 0, 64],
  ] as const)('%s: TTFT and ITL never fall as the rate rises', (_n, p, inT, outT) => {
    const model = new ReplicaModel(p, inT, outT);
    let prev = model.analyse(0);
    for (let i = 1; i <= 400; i++) {
      const a = model.analyse((model.lambdaMax * 1.2 * i) / 400);
      expect(a.ttftMs).toBeGreaterThanOrEqual(prev.ttftMs - 1e-9 * prev.ttftMs);
      expect(a.itlMs).toBeGreaterThanOrEqual(prev.itlMs - 1e-9 * prev.itlMs);
      expect(a.throughput).toBeGreaterThanOrEqual(prev.throughput * (1 - 1e-12));
      prev = a;
    }
  });

  it('rate* meets each target: the prediction at rate* is within the tolerance of the binding one', () => {
    const slo = { ttftMs: 400, itlMs: 24 };
    const rate = maxRatePerReplica(profile, load, slo);
    const at = analyseReplica(profile, load, rate);
    expect(at.ttftMs).toBeLessThanOrEqual(400 * (1 + 1e-6));
    expect(at.itlMs).toBeLessThanOrEqual(24 * (1 + 1e-6));
    const binding = Math.max(at.ttftMs / 400, at.itlMs / 24);
    expect(binding).toBeCloseTo(1, 5);
  });
});

describe('infeasible targets', () => {
  it("a TTFT below the lone request's prefill: SloInfeasibleError naming 'ttft' and the best", () => {
    const run = () => sizeReplicas({ profile, load, slo: { ttftMs: 10, itlMs: 30 } });
    expect(run).toThrow(SloInfeasibleError);
    try {
      run();
    } catch (err) {
      const e = err as SloInfeasibleError;
      expect(e.target).toBe('ttft');
      expect(e.message).toMatch(/^ttft target 10 ms cannot be met/);
      expect(e.bestMs).toBeGreaterThan(18);
      expect(e.bestMs).toBeLessThan(18.2);
    }
  });

  it("an ITL below alpha: names 'itl'", () => {
    expect(() => sizeReplicas({ profile, load, slo: { itlMs: 20 } })).toThrow(
      /^itl target 20 ms cannot be met/,
    );
  });

  it('a target met everywhere leaves rate* at the top of the stable range', () => {
    const model = new ReplicaModel(profile, 128, 256);
    const top = model.analyse(model.lambdaMax).throughput;
    expect(maxRatePerReplica(profile, load, { itlMs: 1000, ttftMs: 1e6 })).toBeCloseTo(top, 9);
    expect(maxRatePerReplica(profile, load, {})).toBeCloseTo(top, 9);
  });
});

describe('bad inputs are refused with RangeError naming the field', () => {
  const bad: Array<[string, () => unknown, RegExp]> = [
    [
      'NaN alpha',
      () => sizeReplicas({ profile: { ...profile, alpha: Number.NaN }, load, slo: {} }),
      /profile\.alpha/,
    ],
    [
      'negative beta',
      () => sizeReplicas({ profile: { ...profile, beta: -1 }, load, slo: {} }),
      /profile\.beta/,
    ],
    [
      'a string for gamma',
      () => sizeReplicas({ profile: { ...profile, gamma: '5.2' as unknown as number }, load, slo: {} }),
      /profile\.gamma .*the string "5\.2"/,
    ],
    [
      'Infinity delta',
      () => sizeReplicas({ profile: { ...profile, delta: Infinity }, load, slo: {} }),
      /profile\.delta/,
    ],
    [
      'fractional batch',
      () => sizeReplicas({ profile: { ...profile, maxBatchSize: 2.5 }, load, slo: {} }),
      /profile\.maxBatchSize/,
    ],
    [
      'zero output tokens',
      () => sizeReplicas({ profile, load: { ...load, avgOutputTokens: 0 }, slo: {} }),
      /avgOutputTokens/,
    ],
    [
      'negative arrival',
      () => sizeReplicas({ profile, load: { ...load, arrivalRate: -1 }, slo: {} }),
      /arrivalRate/,
    ],
    [
      'NaN arrival',
      () => sizeReplicas({ profile, load: { ...load, arrivalRate: Number.NaN }, slo: {} }),
      /arrivalRate/,
    ],
    ['NaN ttft target', () => sizeReplicas({ profile, load, slo: { ttftMs: Number.NaN } }), /slo\.ttftMs/],
    [
      'max below min',
      () => sizeReplicas({ profile, load, slo: {}, minReplicas: 3, maxReplicas: 2 }),
      /maxReplicas/,
    ],
    ['fractional min', () => sizeReplicas({ profile, load, slo: {}, minReplicas: 1.5 }), /minReplicas/],
    [
      'all-zero profile',
      () =>
        sizeReplicas({ profile: { alpha: 0, beta: 0, gamma: 0, delta: 0, maxBatchSize: 4 }, load, slo: {} }),
      /no service time/,
    ],
    ['negative rate', () => analyseReplica(profile, load, -1), /ratePerSecond/],
  ];
  it.each(bad)('%s', (_name, run, message) => {
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });
});

describe('SizingMemo', () => {
  it('gives what sizeReplicas gives, computing rate* once per profile, shape and SLO', () => {
    const memo = new SizingMemo();
    for (const arrivalRate of [0, 60, 120, 600, 6000]) {
      const input = { profile, load: { ...load, arrivalRate }, slo: { ttftMs: 500, itlMs: 24 } };
      expect(memo.size(input)).toEqual(sizeReplicas(input));
    }
    expect(memo.planCount).toBe(1);
    memo.size({ profile, load, slo: { ttftMs: 600, itlMs: 24 } });
    expect(memo.planCount).toBe(2);
    memo.clear();
    expect(memo.planCount).toBe(0);
  });

  it('remembers an infeasible SLO as the same error', () => {
    const memo = new SizingMemo();
    const input = { profile, load, slo: { itlMs: 5 } };
    expect(() => memo.size(input)).toThrow(SloInfeasibleError);
    expect(() => memo.size(input)).toThrow(/^itl target 5 ms/);
    expect(memo.planCount).toBe(1);
  });
});
