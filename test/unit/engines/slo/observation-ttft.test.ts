// The prefill point of an observation: TTFT minus the wait when both are measured, so a per-request
// overhead outside vLLM's prefill phase is learned (in gamma) and TTFT is predicted whole.
import { describe, expect, it } from 'vitest';
import { checkObservation } from '../../../../src/engines/slo/learn/index.js';

describe('checkObservation prefill point', () => {
  it('takes TTFT minus queue time when it is longer than the prefill phase', () => {
    const c = checkObservation(
      { itlMs: 8, batch: 10, prefillMs: 15, inputTokens: 500, queueMs: 4, ttftMs: 45 },
      64,
      0.8,
    );
    expect(c.prefill).toEqual({ x: 5000, y: 41, queueMs: 4, ttftMs: 45 });
  });

  it('keeps the prefill phase when TTFT minus queue time is shorter (windows a scrape apart) or absent', () => {
    const short = checkObservation(
      { itlMs: 8, batch: 10, prefillMs: 15, inputTokens: 500, queueMs: 4, ttftMs: 17 },
      64,
      0.8,
    );
    expect(short.prefill).toMatchObject({ y: 15 });
    const none = checkObservation({ itlMs: 8, batch: 10, prefillMs: 15, inputTokens: 500 }, 64, 0.8);
    expect(none.prefill).toEqual({ x: 5000, y: 15, queueMs: 0, ttftMs: 15 });
  });
});

describe('checkObservation while requests queue', () => {
  it('refuses the prefill point when the wait is several prefill phases, and keeps the decode point', () => {
    // A queue building: TTFT (at first token) holds the new long waits, queue time (at finish) the
    // older short ones, so TTFT minus queue reads far above the prefill phase.
    const c = checkObservation(
      { itlMs: 8, batch: 60, prefillMs: 120, inputTokens: 500, queueMs: 900, ttftMs: 1400 },
      64,
      0.8,
    );
    expect(c.prefill).toEqual({
      refused: expect.stringMatching(/^requests queued \(wait 900 ms > 4 x prefill 120 ms\)/),
    });
    expect(c.decode).toEqual({ x: 60, y: 8 });
  });

  it('takes the point when the wait is a few prefill phases at most (a scheduler step, unloaded)', () => {
    const c = checkObservation(
      { itlMs: 8, batch: 20, prefillMs: 30, inputTokens: 500, queueMs: 40, ttftMs: 90 },
      64,
      0.8,
    );
    expect(c.prefill).toEqual({ x: 10_000, y: 50, queueMs: 40, ttftMs: 90 });
    const edge = checkObservation(
      { itlMs: 8, batch: 20, prefillMs: 30, inputTokens: 500, queueMs: 120, ttftMs: 170 },
      64,
      0.8,
    );
    expect(edge.prefill).toMatchObject({ y: 50 });
  });
});
