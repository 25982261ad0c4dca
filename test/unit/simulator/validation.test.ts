import { describe, expect, it } from 'vitest';
import { errors, MEASURED_RUNS, replay } from '../../../src/simulator/validation.js';

describe('the simulator against published vLLM runs', () => {
  const results = MEASURED_RUNS.map((run) => ({ run, errs: errors(run, replay(run)) }));
  const mae = (k: 'ttft' | 'itl' | 'e2e') => {
    const xs = results.flatMap((r) => (r.errs[k] === undefined ? [] : [r.errs[k]!]));
    return { n: xs.length, mae: xs.reduce((a, b) => a + b, 0) / xs.length };
  };

  it('replays at least three runs from at least two sources', () => {
    expect(MEASURED_RUNS.length).toBeGreaterThanOrEqual(3);
    expect(new Set(MEASURED_RUNS.map((r) => r.source)).size).toBeGreaterThanOrEqual(2);
  });

  it('keeps the mean absolute error within 15 % on E2E and ITL and 30 % on TTFT', () => {
    const e2e = mae('e2e');
    const itl = mae('itl');
    const ttft = mae('ttft');
    expect(e2e.n).toBeGreaterThanOrEqual(3);
    expect(itl.n).toBeGreaterThanOrEqual(3);
    expect(ttft.n).toBeGreaterThanOrEqual(3);
    expect(e2e.mae).toBeLessThanOrEqual(0.15);
    expect(itl.mae).toBeLessThanOrEqual(0.15);
    expect(ttft.mae).toBeLessThanOrEqual(0.3);
  });

  it('misses no single run by more than 40 % on any metric', () => {
    for (const { run, errs } of results)
      for (const [k, v] of Object.entries(errs)) expect(v, `${run.id} ${k}`).toBeLessThanOrEqual(0.4);
  });
});
