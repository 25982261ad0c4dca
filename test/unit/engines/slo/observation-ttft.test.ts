// The prefill point of an observation: TTFT minus the wait when both are measured, so a per-request
// overhead outside vLLM's prefill phase is learned (in gamma) and TTFT is predicted whole.
import { describe, expect, it } from 'vitest';
import {
  checkObservation,
  neutralPrior,
  PerformanceEstimator,
  type PerformanceObservation,
} from '../../../../src/engines/slo/learn/index.js';

/** An observation checked as a pod of max_num_seqs 64 covering the whole window. */
const check = (o: PerformanceObservation) => checkObservation(o, 64, 0.8);

describe('checkObservation prefill point', () => {
  it('takes TTFT minus queue time when it is longer than the prefill phase', () => {
    const c = check({ itlMs: 8, batch: 10, prefillMs: 15, inputTokens: 500, queueMs: 4, ttftMs: 45 });
    expect(c.prefill).toEqual({ x: 5000, y: 41, queueMs: 4, ttftMs: 45 });
  });

  it('keeps the prefill phase when TTFT minus queue time is shorter (windows a scrape apart) or absent', () => {
    const short = check({ itlMs: 8, batch: 10, prefillMs: 15, inputTokens: 500, queueMs: 4, ttftMs: 17 });
    expect(short.prefill).toMatchObject({ y: 15 });
    const none = check({ itlMs: 8, batch: 10, prefillMs: 15, inputTokens: 500 });
    expect(none.prefill).toEqual({ x: 5000, y: 15, queueMs: 0, ttftMs: 15 });
  });
});

describe('checkObservation while requests queue', () => {
  it('refuses the prefill point when the wait is several prefill phases, and keeps the decode point', () => {
    // A queue building: TTFT (at first token) holds the new long waits, queue time (at finish) the
    // older short ones, so TTFT minus queue reads far above the prefill phase.
    const c = check({ itlMs: 8, batch: 60, prefillMs: 120, inputTokens: 500, queueMs: 900, ttftMs: 1400 });
    expect(c.prefill).toEqual({
      refused: expect.stringMatching(/^requests queued \(wait 900 ms > 4 x prefill 120 ms\)/),
    });
    expect(c.decode).toEqual({ x: 60, y: 8 });
  });

  it('takes the point when the wait is a few prefill phases at most (a scheduler step, unloaded)', () => {
    const c = check({ itlMs: 8, batch: 20, prefillMs: 30, inputTokens: 500, queueMs: 40, ttftMs: 90 });
    expect(c.prefill).toEqual({ x: 10_000, y: 50, queueMs: 40, ttftMs: 90 });
    const edge = check({ itlMs: 8, batch: 20, prefillMs: 30, inputTokens: 500, queueMs: 120, ttftMs: 170 });
    expect(edge.prefill).toMatchObject({ y: 50 });
  });
});

// Windows of one A100 pod of granite-3.3-8b (1024-token prompts) in the learned demo's trace, replayed
// on the emulator: the first windows of a load step (TTFT already holds the new waits, queue time
// still the old short ones), and the end of the overload (queue time still holds the long waits).
const BUILDING = { itlMs: 30, batch: 20, prefillMs: 119, inputTokens: 1025, queueMs: 24, ttftMs: 546 };
const DRAINING = { itlMs: 30, batch: 51.2, prefillMs: 357, inputTokens: 1026, queueMs: 1261, ttftMs: 994 };

describe('checkObservation while a queue builds or drains', () => {
  it('refuses the prefill point when TTFT minus the wait is several prefill phases (a queue building)', () => {
    const c = check(BUILDING);
    expect(c.prefill).toEqual({
      refused: expect.stringMatching(/^requests queuing \(TTFT 546 ms - wait 24 ms > 4 x prefill 119 ms\)/),
    });
    expect(c.decode).toEqual({ x: 20, y: 30 });
  });

  it('refuses the prefill point when TTFT is below the wait (a queue draining)', () => {
    const c = check(DRAINING);
    expect(c.prefill).toEqual({
      refused: expect.stringMatching(/^queue draining \(TTFT 994 ms < wait 1261 ms\)/),
    });
    expect(c.decode).toEqual({ x: 51.2, y: 30 });
  });

  it('takes the point up to TTFT minus the wait of 4 prefill phases (an overhead outside the phase)', () => {
    const c = check({ itlMs: 8, batch: 20, prefillMs: 30, inputTokens: 500, queueMs: 10, ttftMs: 130 });
    expect(c.prefill).toEqual({ x: 10_000, y: 120, queueMs: 10, ttftMs: 130 });
  });

  it('keeps the learned TTFT within its error through a step whose first windows queue', () => {
    const e = new PerformanceEstimator({
      key: {
        model: 'ibm-granite/granite-3.3-8b-instruct',
        namespace: 'llm',
        accelerator: 'A100',
        argsFingerprint: 'f',
      },
      maxBatchSize: 64,
      neutral: neutralPrior('ibm-granite/granite-3.3-8b-instruct', 'A100'),
    });
    // Steady windows: prefill phase 100 ms + 0.0008 ms per token x request, 28 ms outside it.
    const steady = (batch: number): PerformanceObservation => {
      const prefillMs = 100 + 0.0008 * 1024 * batch;
      return {
        itlMs: 20 + 0.2 * batch,
        batch,
        prefillMs,
        inputTokens: 1024,
        queueMs: 12,
        ttftMs: 12 + prefillMs + 28,
      };
    };
    let t = 0;
    const next = () => {
      t += 5000;
      return t;
    };
    for (let i = 0; i < 25; i++) e.observe(steady(4 + (i % 5) * 10), next());
    const before = e.predict(20, 1024).prefillMs;
    e.observe(BUILDING, next());
    e.observe({ ...BUILDING, batch: 29.2, prefillMs: 158, queueMs: 56, ttftMs: 837 }, next());
    e.observe({ ...BUILDING, batch: 37.2, prefillMs: 350, queueMs: 150, ttftMs: 2001 }, next());
    e.observe(DRAINING, next());
    // Nothing of the step moved the prefill line, and the model stays trusted after it.
    expect(e.predict(20, 1024).prefillMs).toBeCloseTo(before, 6);
    for (let i = 0; i < 5; i++) e.observe(steady(4 + (i % 5) * 10), next());
    const s = e.status();
    expect(s.ttftErrorPct as number).toBeLessThan(15);
    expect(s.usable).toBe(true);
  });
});

describe('checkObservation with short prompts', () => {
  it('takes a steady window whose prefill phase is a few ms: its scheduler wait and overhead are many phases but no queue', () => {
    // 40-token prompts: prefill 5 ms, a step's wait 30 ms, 26 ms of overhead outside the prefill phase.
    const c = check({ itlMs: 8, batch: 10, prefillMs: 5, inputTokens: 40, queueMs: 30, ttftMs: 61 });
    expect(c.prefill).toEqual({ x: 400, y: 31, queueMs: 30, ttftMs: 61 });
  });

  it('still refuses a real queue behind a short prefill', () => {
    const waiting = check({ itlMs: 8, batch: 60, prefillMs: 5, inputTokens: 40, queueMs: 900, ttftMs: 1200 });
    expect(waiting.prefill).toEqual({ refused: expect.stringMatching(/^requests queued/) });
    const building = check({ itlMs: 8, batch: 60, prefillMs: 5, inputTokens: 40, queueMs: 20, ttftMs: 400 });
    expect(building.prefill).toEqual({ refused: expect.stringMatching(/^requests queuing/) });
  });
});
