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
