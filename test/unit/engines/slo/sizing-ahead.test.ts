// Sizing ahead of the lags: the rate a rising load has now (RateTrend), the queue expected when new
// replicas serve (supply.ts), the mean ITL that keeps a quantile of requests within target
// (percentile.ts), and a variant that cannot meet the SLO leaving the load to the others.
import { describe, expect, it } from 'vitest';
import {
  createSloEngine,
  type SloModelInput,
  type SloVariantInput,
} from '../../../../src/engines/slo/engine.js';
import { itlMeanTarget, normalQuantile, tailProblem } from '../../../../src/engines/slo/percentile.js';
import { readyThroughput, waitingAtReadiness } from '../../../../src/engines/slo/supply.js';
import { RateTrend } from '../../../../src/engines/slo/trend.js';
import { SLO_TEST_LOAD, sloModel, sloVariant } from '../../../support/slo-inputs.js';
import { TRUE } from './synthetic.js';

const PROFILE = { ...TRUE, maxBatchSize: 64 };
const LOAD = SLO_TEST_LOAD;

const variant = (
  name: string,
  cost: number,
  current: number,
  extra: Partial<SloVariantInput> = {},
): SloVariantInput => sloVariant(name, cost, current, { profile: PROFILE, ...extra });

const model = (over: Partial<SloModelInput> = {}): SloModelInput =>
  sloModel(over, () => [variant('a100', 10, 2)]);

describe('RateTrend', () => {
  it('gives the last cycle its own rate after a step up, the window average otherwise', () => {
    const t = new RateTrend(60_000);
    expect(t.observe('m', 0, 700).rate).toBe(700);
    expect(t.observe('m', 30_000, 700)).toEqual({ rate: 700, average: 700 });
    // Half the window at 2100 averages 1400; the last 30 s alone were 2100.
    const up = t.observe('m', 60_000, 1400);
    expect(up.rate).toBeCloseTo(2100, 6);
    expect(up.recent).toBeCloseTo(2100, 6);
    expect(t.observe('m', 90_000, 2100).rate).toBeCloseTo(2100, 6);
    expect(t.observe('m', 120_000, 2100).rate).toBe(2100);
  });

  it('keeps the average when the rate falls, rises by less than the margin, or history is missing', () => {
    const t = new RateTrend(60_000);
    t.observe('m', 0, 2100);
    t.observe('m', 30_000, 2100);
    expect(t.observe('m', 60_000, 1400).rate).toBe(1400);
    const small = new RateTrend(60_000);
    small.observe('m', 0, 1000);
    small.observe('m', 30_000, 1000);
    expect(small.observe('m', 60_000, 1100).rate).toBe(1100);
    // Another key has no history; a gap longer than the window leaves nothing to difference.
    expect(t.observe('other', 60_000, 5000).rate).toBe(5000);
    const gap = new RateTrend(60_000);
    gap.observe('m', 0, 700);
    expect(gap.observe('m', 200_000, 2100).rate).toBe(2100);
  });

  it('with a lead, sizes a steady rise for the rate expected when new replicas serve', () => {
    const ramp = (lead: number) => {
      const t = new RateTrend(60_000, lead);
      let out = t.observe('m', 0, 1000);
      // +100 req/min every 30 s: the average is half a window (+100) behind now.
      for (let i = 1; i <= 4; i++) out = t.observe('m', i * 30_000, 1000 + 100 * i);
      return out;
    };
    expect(ramp(0).rate).toBe(1400);
    const ahead = ramp(60_000);
    expect(ahead.rate).toBeCloseTo(1400 + 100 + 200, 6);
    expect(ahead.ahead).toBeCloseTo(1700, 6);
    // A flat or falling load is not projected.
    const flat = new RateTrend(60_000, 60_000);
    for (let i = 0; i <= 4; i++)
      expect(flat.observe('m', i * 30_000, 1000 - 10 * i).rate).toBe(1000 - 10 * i);
    expect(() => new RateTrend(60_000, -1)).toThrow(/leadMs -1 is not a number of milliseconds >= 0/);
  });

  it('starts again when the clock goes back, and refuses a window that is not positive', () => {
    const t = new RateTrend(60_000);
    t.observe('m', 100_000, 700);
    t.observe('m', 130_000, 700);
    expect(t.observe('m', 10_000, 1400).rate).toBe(1400);
    expect(t.observe('m', 40_000, 1400).rate).toBe(1400);
    expect(() => new RateTrend(0)).toThrow(/windowMs 0 is not a positive number/);
  });
});

describe('supply at readiness', () => {
  it('counts what the ready replicas can serve, and the queue growing beyond it until new ones serve', () => {
    const one = readyThroughput([{ ready: 1, profile: PROFILE }], LOAD);
    expect(one).toBeGreaterThan(0);
    expect(readyThroughput([{ ready: 3, profile: PROFILE }], LOAD)).toBeCloseTo(3 * one, 6);
    expect(readyThroughput([{ ready: 0, profile: PROFILE }], LOAD)).toBe(0);
    const supply = [{ ready: 2, profile: PROFILE }];
    // Arrivals within what is ready: only the queue now.
    expect(waitingAtReadiness(50, one, supply, LOAD, 120_000)).toBe(50);
    // Arrivals beyond it: the shortfall for the start-up's two minutes is added.
    expect(waitingAtReadiness(50, 2 * one + 600, supply, LOAD, 120_000)).toBeCloseTo(50 + 1200, 6);
  });
});

describe('percentile sizing', () => {
  it('has the standard normal quantiles', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.9)).toBeCloseTo(1.281552, 5);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
    expect(() => normalQuantile(1)).toThrow(/not in \(0, 1\)/);
  });

  it('sizes the mean below the target by the spread of requests and the model error', () => {
    const t = { quantile: 0.9, itlCv: 0 };
    expect(itlMeanTarget(50, t)).toBe(50);
    const spread = itlMeanTarget(50, { quantile: 0.9, itlCv: 0.15 });
    expect(spread).toBeCloseTo(50 / (1 + 1.281552 * 0.15), 4);
    expect(itlMeanTarget(50, { quantile: 0.9, itlCv: 0.15 }, 0.1)).toBeLessThan(spread);
    expect(itlMeanTarget(50, { quantile: 0.95, itlCv: 0.15 })).toBeLessThan(spread);
    expect(tailProblem({ quantile: 0.4, itlCv: 0.1 })).toMatch(/tail quantile 0.4 must be above 0.5/);
    expect(tailProblem({ quantile: 0.9, itlCv: -1 })).toMatch(/tail itlCv -1 must be a number >= 0/);
    expect(tailProblem(t)).toBeNull();
  });
});

describe('the SLO engine sizing ahead', () => {
  it('asks for more replicas for a quantile of requests than for the mean, and says so', () => {
    // ITL binds (TTFT loose), so its margin shows in the count.
    const busy = model({
      slo: { ttftMs: 5000, itlMs: 14 },
      load: { ...LOAD, arrivalRate: 20_000 },
      variants: [variant('a100', 10, 1)],
    });
    const mean = createSloEngine().decide(busy).decisions[0]!;
    const tail = createSloEngine({ tail: { quantile: 0.9, itlCv: 0.2 } }).decide(busy).decisions[0]!;
    expect(tail.targetReplicas).toBeGreaterThan(mean.targetReplicas);
    expect(tail.reason).toMatch(/so the p90 of requests meets 14 ms/);
    const bad = createSloEngine({ tail: { quantile: 2, itlCv: 0.2 } }).decide(model());
    expect(bad.engine).toBe('saturation-v1');
    expect(bad.decisions[0]!.reason).toMatch(/tail quantile 2 must be above 0.5/);
  });

  it('sizes a rising load for the last cycle, not the lagging window average', () => {
    const at = (trend: boolean) => {
      const e = createSloEngine(trend ? { trend: new RateTrend(60_000) } : {});
      let last = 0;
      [10_000, 10_000, 20_000].forEach((avg, i) => {
        const d = e.decide(
          model({
            nowMs: i * 30_000,
            load: { ...LOAD, arrivalRate: avg },
            variants: [variant('a100', 10, 1)],
          }),
        ).decisions[0]!;
        last = d.targetReplicas;
        if (trend && i === 2)
          expect(d.reason).toMatch(/rising: 30000 req\/min over the last cycle, 20000 over the window/);
      });
      return last;
    };
    expect(at(true)).toBeGreaterThan(at(false));
  });

  it('on the cycle that asks, sizes the backlog for the queue expected when new replicas serve', () => {
    const short = { ...LOAD, arrivalRate: 20_000 };
    const base = createSloEngine().decide(model({ load: short, waiting: 10 })).decisions[0]!;
    const ahead = createSloEngine({ startupMs: 120_000 }).decide(model({ load: short, waiting: 10 }))
      .decisions[0]!;
    expect(ahead.targetReplicas).toBeGreaterThan(base.targetReplicas);
    expect(ahead.reason).toMatch(/expected waiting when new replicas serve \(10 now\)/);
    // Replicas already starting: they were asked for on that cycle; the queue does not ask again.
    const starting = model({
      load: short,
      waiting: 10_000,
      variants: [variant('a100', 10, 8, { pendingReplicas: 6 })],
    });
    const held = createSloEngine({ startupMs: 120_000 }).decide(starting).decisions[0]!;
    expect(held.reason).toMatch(/replicas starting count for the backlog/);
    const bad = createSloEngine({ startupMs: -1 }).decide(model());
    expect(bad.engine).toBe('saturation-v1');
    expect(bad.decisions[0]!.reason).toMatch(/startupMs -1 is not a number of milliseconds >= 0/);
  });

  it('leaves the load to the variants that meet the SLO when one cannot at any count', () => {
    const slow = { ...PROFILE, alpha: 40 };
    const d = createSloEngine().decide(
      model({
        variants: [variant('fast', 10, 2), variant('slow', 5, 3, { profile: slow })],
        load: { ...LOAD, arrivalRate: 6000 },
      }),
    );
    expect(d.engine).toBe('slo-queueing');
    const by = new Map(d.decisions.map((x) => [x.variantName, x]));
    expect(by.get('slow')!.steps[0]!.targetReplicas).toBe(1);
    expect(by.get('slow')!.reason).toMatch(
      /no replica count of slow meets the SLO .*the other variants carry the load/,
    );
    expect(by.get('fast')!.targetReplicas).toBeGreaterThan(2);
    // None can: saturation decides, saying why.
    const none = createSloEngine().decide(model({ variants: [variant('slow', 5, 3, { profile: slow })] }));
    expect(none.engine).toBe('saturation-v1');
    expect(none.decisions[0]!.reason).toMatch(/no replica count meets the SLO on slow/);
  });
});
