import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newRequest, VllmEngine } from '../../../src/simulator/engine.js';
import { GPUS, MODELS } from '../../../src/simulator/hardware.js';
import { RooflineLatencyModel } from '../../../src/simulator/latency.js';
import { type SimulationOptions, simulate } from '../../../src/simulator/run.js';
import { engineSetup } from '../../../src/simulator/vllm-args.js';

const llama = MODELS['llama-3.1-8b']!;
const h100 = new RooflineLatencyModel(llama, GPUS.H100!);
const a100 = new RooflineLatencyModel(llama, GPUS.A100!);
const setup = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'H100');

function closedLoop(clients: number, input: number, output = 64, o: Partial<SimulationOptions> = {}) {
  return simulate({
    setup,
    replicas: 1,
    durationMs: Number.POSITIVE_INFINITY,
    concurrency: clients,
    maxRequests: clients * 6,
    input: { mean: input, cv: 0 },
    output: { mean: output, cv: 0 },
    seed: 1,
    ...o,
  });
}

/** TTFT of one request alone on an idle engine. */
function aloneTtft(prompt: number): number {
  const e = new VllmEngine(
    { maxNumSeqs: 256, maxNumBatchedTokens: 8192, blockSize: 16, numGpuBlocks: setup.numGpuBlocks },
    h100,
  );
  const r = newRequest(0, 0, prompt, 2);
  e.enqueue(r);
  e.advanceTo(1e9);
  return r.firstTokenMs! - r.arrivalMs;
}

describe('simulator physics', () => {
  it('decodes Llama-3.1-8B on one H100 at batch 1 in 6-9 ms a token', () => {
    const ms = h100.stepMs({ prefills: [], decodes: 1, decodeContext: 512 });
    expect(ms).toBeGreaterThanOrEqual(6);
    expect(ms).toBeLessThanOrEqual(9);
  });

  it('step time grows with the batch and with its context', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 4000 }),
        (batch, context, more, moreContext) => {
          const t = (d: number, c: number) => h100.stepMs({ prefills: [], decodes: d, decodeContext: d * c });
          expect(t(batch + more, context)).toBeGreaterThan(t(batch, context));
          expect(t(batch, context + moreContext)).toBeGreaterThan(t(batch, context));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ITL grows with the number of concurrent requests and with their context', () => {
    const itl = [1, 8, 32, 96].map((c) => closedLoop(c, 512).report.itlMs.mean);
    for (let i = 1; i < itl.length; i++) expect(itl[i]!).toBeGreaterThan(itl[i - 1]!);
    expect(closedLoop(32, 4096).report.itlMs.mean).toBeGreaterThan(closedLoop(32, 256).report.itlMs.mean);
  });

  it('a longer prompt has a longer TTFT', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 64, max: 30_000 }), (p, more) => {
        expect(aloneTtft(p + more)).toBeGreaterThan(aloneTtft(p));
      }),
      { numRuns: 60 },
    );
  });

  it('exhausting the KV cache causes preemptions and a longer TTFT', () => {
    // Memory for about 32k tokens of KV.
    const tight = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'H100', {
      gpuMemoryUtilization: 0.26,
      maxModelLen: 4096,
    });
    const roomy = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'H100', { maxModelLen: 4096 });
    // Half of what 48 requests of 1024 + 512 tokens hold at their end.
    expect(tight.numGpuBlocks).toBeLessThan((48 * (1024 + 512)) / 16 / 2);
    const run = (s: typeof tight) => closedLoop(48, 1024, 512, { setup: s });
    const t = run(tight).report;
    const r = run(roomy).report;
    expect(r.preemptions).toBe(0);
    expect(t.preemptions).toBeGreaterThan(0);
    expect(t.kvUsage.max).toBeGreaterThan(0.95);
    expect(t.ttftMs.mean).toBeGreaterThan(r.ttftMs.mean * 1.5);
  });

  it("Little's law holds at steady load: requests in the system = arrival rate x time in it", () => {
    const res = simulate({
      setup,
      replicas: 2,
      durationMs: 600_000,
      rate: 8,
      input: { mean: 512, cv: 0.5 },
      output: { mean: 200, cv: 0.5 },
      seed: 3,
    });
    const reqs = res.requests;
    const from = 60_000;
    const to = 540_000;
    // Occupancy sampled every 100 ms, independent of request boundaries.
    let occupied = 0;
    let samples = 0;
    for (let t = from; t < to; t += 100) {
      samples++;
      for (const r of reqs) if (r.arrivalMs <= t && r.finishedMs! > t) occupied++;
    }
    const inWindow = reqs.filter((r) => r.arrivalMs >= from && r.arrivalMs < to);
    const lambda = inWindow.length / ((to - from) / 1000);
    const w = inWindow.reduce((a, r) => a + (r.finishedMs! - r.arrivalMs), 0) / inWindow.length / 1000;
    expect(occupied / samples).toBeCloseTo(lambda * w, 0);
    expect(Math.abs(occupied / samples - lambda * w) / (lambda * w)).toBeLessThan(0.05);
  });

  it('completions never exceed what arrived nor the replica capacity', () => {
    const capacity = closedLoop(256, 512, 128).report.requestsPerSecond;
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 200, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (rate, seed) => {
          const r = simulate({
            setup,
            replicas: 1,
            durationMs: 20_000,
            rate,
            input: { mean: 512, cv: 0 },
            output: { mean: 128, cv: 0 },
            seed,
          });
          const arrived = r.requests.length;
          const completedBy20s = r.requests.filter((x) => x.finishedMs! <= 20_000).length;
          expect(completedBy20s).toBeLessThanOrEqual(arrived);
          expect(completedBy20s / 20).toBeLessThanOrEqual(capacity * 1.05);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('an A100 decodes slower than an H100 by about their bandwidth ratio', () => {
    const ratio = GPUS.H100!.bandwidth / GPUS.A100!.bandwidth;
    for (const decodes of [1, 16, 64]) {
      const b = { prefills: [], decodes, decodeContext: decodes * 1024 };
      const slower = a100.stepMs(b) / h100.stepMs(b);
      expect(slower).toBeGreaterThan(ratio * 0.85);
      expect(slower).toBeLessThan(ratio * 1.1);
    }
  });

  it('the same seed gives the same run, request by request, in virtual time', () => {
    const o: SimulationOptions = {
      setup,
      replicas: 3,
      durationMs: 60_000,
      rate: 20,
      arrivals: 'gamma',
      cv: 3,
      input: { mean: 800, cv: 1 },
      output: { mean: 150, cv: 1 },
      seed: 11,
    };
    const a = simulate(o);
    const b = simulate(o);
    expect(b.requests).toEqual(a.requests);
    expect(simulate({ ...o, seed: 12 }).requests).not.toEqual(a.requests);
  });
});
