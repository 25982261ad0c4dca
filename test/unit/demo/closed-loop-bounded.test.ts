// A demo run until Ctrl-C: what the closed loop holds stays bounded however many cycles it records,
// and the summary's figures (running totals) are those of every cycle.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { CycleReport, Manifests } from '../../../src/controller/local.js';
import {
  ClosedLoop,
  type LoopCycle,
  peakReplicas,
  RECENT_ACTIONS,
  RECENT_SWITCHES,
  scoreLoop,
} from '../../../src/demo/index.js';
import { Recent } from '../../../src/demo/loop-tally.js';
import { parseEmulatorConfig, VllmEmulator } from '../../../src/emulator/index.js';
import { silentLogger } from '../../../src/telemetry/logger.js';

const config = parseEmulatorConfig({
  seed: 1,
  models: [
    {
      model: 'm',
      architecture: 'meta-llama/Llama-3.1-8B-Instruct',
      namespace: 'ns',
      load: { pattern: 'idle' },
      variants: [{ name: 'v', replicas: 1 }],
    },
  ],
});
const manifests: Manifests = {
  variants: [
    {
      apiVersion: 'llmd.ai/v1alpha1',
      kind: 'VariantAutoscaling',
      metadata: { name: 'v', namespace: 'ns' },
      spec: { modelID: 'm', variantCost: '20.0' },
    } as unknown as Manifests['variants'][number],
  ],
  deployments: [],
};

/** A controller cycle at `atMs` where `engine` decided the one variant. */
function report(atMs: number, engine: string): CycleReport {
  return {
    startedAt: new Date(atMs),
    durationMs: 1,
    rows: [
      {
        name: 'v',
        namespace: 'ns',
        modelId: 'm',
        replicas: 1,
        status: undefined,
        condition: undefined,
        conditions: [],
        outcome: 'written',
        engine,
        metrics: {
          load: { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 100 },
          ttftAverage: 100,
          itlAverage: 10,
        } as unknown as NonNullable<CycleReport['rows'][number]['metrics']>,
      },
    ],
  };
}

/**
 * Elements of every array, Map and Set reachable from `root`, not entering `skip` (what the loop
 * was handed: the emulator and the options it runs with are not the loop's own records).
 */
function retained(root: object, skip: readonly object[]): number {
  const seen = new Set<object>(skip);
  let n = 0;
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (Array.isArray(x)) n += x.length;
    if (x instanceof Map || x instanceof Set) {
      n += x.size;
      for (const e of x instanceof Map ? [...x.keys(), ...x.values()] : x) walk(e);
      return;
    }
    for (const v of Object.values(x)) walk(v);
  };
  walk(root);
  return n;
}

describe('the closed loop of a long demo run', () => {
  it('holds as many records after thousands of cycles as after a few hundred, and scores them all', async () => {
    let clock = 1_000_000;
    const emulator = new VllmEmulator(config, { now: () => clock });
    const options = {
      emulator,
      config,
      manifests,
      registry: new Registry(),
      collector: { requestsOver: () => ({ kind: 'no-series' as const }) },
      logger: silentLogger,
    };
    const loop = new ClosedLoop(options);
    const skip = [options, ...Object.values(options)];
    const all: LoopCycle[] = [];
    // Every cycle changes engines and scales: switches and actions come as fast as cycles do.
    const cycle = async (i: number) => {
      clock += 5000;
      await loop.scaler.scale('ns', 'v', 1 + (i % 3));
      all.push(loop.record(report(clock, i % 2 === 0 ? 'saturation-v1' : 'slo-queueing'), i > 2));
    };
    for (let i = 0; i < 300; i++) await cycle(i);
    const early = retained(loop, skip);
    for (let i = 300; i < 3300; i++) await cycle(i);
    expect(retained(loop, skip)).toBe(early);

    // The latest switches and actions are kept, every one is counted.
    expect(loop.switches.length).toBe(RECENT_SWITCHES);
    expect(loop.switches.total).toBe(3299);
    expect(loop.switches.list().at(-1)?.cycle).toBe(3300);
    expect(loop.scaler.actions.length).toBe(RECENT_ACTIONS);
    // The first cycle's 1 -> 1 is no change.
    expect(loop.scaler.actions.total).toBe(3299);
    // The running totals are those of every cycle recorded.
    const end = new Date(clock + 5000);
    expect(loop.tally.score(end, 3299)).toEqual(scoreLoop(all, end, 3299, () => 20));
    expect(loop.tally.peak).toEqual(peakReplicas(all));
    expect(loop.tally.count).toBe(3300);
  });

  it('Recent keeps the latest items in order and counts all; a limit below 1 is refused', () => {
    const r = new Recent<number>(3);
    r.push(1, 2);
    expect(r.list()).toEqual([1, 2]);
    r.push(3, 4, 5);
    expect(r.list()).toEqual([3, 4, 5]);
    expect(r.total).toBe(5);
    expect(() => new Recent(0)).toThrow(/limit must be an integer >= 1, got 0/);
  });
});
