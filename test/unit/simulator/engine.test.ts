import { describe, expect, it } from 'vitest';
import { type EngineConfig, newRequest, type SimRequest, VllmEngine } from '../../../src/simulator/engine.js';
import type { LatencyModel, StepBatch } from '../../../src/simulator/latency.js';

/** 10 ms per step whatever the batch; records every batch. */
class FixedLatency implements LatencyModel {
  batches: StepBatch[] = [];
  stepMs(b: StepBatch): number {
    this.batches.push({ prefills: [...b.prefills], decodes: b.decodes, decodeContext: b.decodeContext });
    return 10;
  }
}

function engine(cfg: Partial<EngineConfig> = {}) {
  const latency = new FixedLatency();
  const e = new VllmEngine(
    { maxNumSeqs: 256, maxNumBatchedTokens: 8192, blockSize: 16, numGpuBlocks: 10_000, ...cfg },
    latency,
  );
  return { e, latency };
}

function drain(e: VllmEngine): SimRequest[] {
  const out: SimRequest[] = [];
  for (let i = 0; i < 100_000 && e.load > 0; i++) out.push(...e.stepOnce());
  return out;
}

describe('VllmEngine', () => {
  it('prefills in one step, then decodes one token a step, with timestamps', () => {
    const { e } = engine();
    e.enqueue(newRequest(1, 0, 100, 5));
    const [r] = drain(e);
    expect(r!.scheduledMs).toBe(0);
    expect(r!.firstTokenMs).toBe(10);
    expect(r!.finishedMs).toBe(50);
    expect(r!.generated).toBe(5);
  });

  it('chunks a prompt longer than the token budget over several steps', () => {
    const { e, latency } = engine({ maxNumBatchedTokens: 512 });
    e.enqueue(newRequest(1, 0, 1200, 2));
    const [r] = drain(e);
    expect(latency.batches.slice(0, 3).map((b) => b.prefills[0])).toEqual([
      { tokens: 512, context: 0 },
      { tokens: 512, context: 512 },
      { tokens: 176, context: 1024 },
    ]);
    expect(r!.firstTokenMs).toBe(30);
  });

  it('serves running requests first and admits waiting ones first come first served', () => {
    const { e, latency } = engine({ maxNumBatchedTokens: 300 });
    e.enqueue(newRequest(1, 0, 200, 3));
    e.enqueue(newRequest(2, 0, 200, 3));
    e.stepOnce();
    // Step 1: all of request 1's prompt and a 100-token chunk of request 2's.
    expect(latency.batches[0]!.prefills).toEqual([
      { tokens: 200, context: 0 },
      { tokens: 100, context: 0 },
    ]);
    e.stepOnce();
    // Step 2: request 1 decodes, request 2 finishes its prompt.
    expect(latency.batches[1]).toEqual({
      prefills: [{ tokens: 100, context: 100 }],
      decodes: 1,
      decodeContext: 200,
    });
  });

  it('never runs more than --max-num-seqs requests at once', () => {
    const { e } = engine({ maxNumSeqs: 4 });
    for (let i = 0; i < 10; i++) e.enqueue(newRequest(i, 0, 10, 20));
    e.stepOnce();
    expect(e.gauges()).toMatchObject({ running: 4, waiting: 6 });
    const done = drain(e);
    expect(done).toHaveLength(10);
    // FCFS: the first four finish first.
    expect(done.slice(0, 4).map((r) => r.id)).toEqual([0, 1, 2, 3]);
  });

  it('preempts the most recently admitted request when KV blocks run out, and it recomputes', () => {
    // 10 blocks of 16 tokens = 160 tokens of KV; two requests that each grow to 96 tokens.
    const { e } = engine({ numGpuBlocks: 10 });
    e.enqueue(newRequest(1, 0, 64, 32));
    e.enqueue(newRequest(2, 0, 64, 32));
    const done = drain(e);
    expect(done).toHaveLength(2);
    expect(e.gauges().preemptions).toBeGreaterThan(0);
    const second = done.find((r) => r.id === 2)!;
    expect(second.preemptions).toBeGreaterThan(0);
    expect(done.find((r) => r.id === 1)!.preemptions).toBe(0);
    expect(second.generated).toBe(32);
    expect(e.gauges().kvUsage).toBe(0);
  });

  it('reports KV usage as blocks in use over blocks', () => {
    const { e } = engine({ numGpuBlocks: 100 });
    e.enqueue(newRequest(1, 0, 160, 10));
    e.stepOnce();
    expect(e.gauges().kvUsage).toBeCloseTo(0.1);
  });

  it('advanceTo stops at the time asked (a step in flight ends past it) and idles until work arrives', () => {
    const { e } = engine();
    expect(e.advanceTo(1000)).toEqual([]);
    expect(e.now).toBe(1000);
    e.enqueue(newRequest(1, 1000, 10, 3));
    expect(e.advanceTo(1015)).toEqual([]);
    expect(e.now).toBe(1020);
    const done = e.advanceTo(2000);
    expect(done.map((r) => r.finishedMs)).toEqual([1030]);
    expect(e.now).toBe(2000);
  });

  it('tells a listener each token gap as vLLM observes inter-token latency', () => {
    const gaps: Array<[number, number]> = [];
    const e = new VllmEngine(
      { maxNumSeqs: 8, maxNumBatchedTokens: 8192, blockSize: 16, numGpuBlocks: 1000 },
      new FixedLatency(),
      0,
      { tokens: (ms, n) => gaps.push([ms, n]) },
    );
    e.enqueue(newRequest(1, 0, 10, 3));
    e.enqueue(newRequest(2, 0, 10, 3));
    drain(e);
    expect(gaps).toEqual([
      [10, 2],
      [10, 2],
    ]);
  });
});
