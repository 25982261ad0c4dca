// The autoscale benchmark in small (the step and diurnal traces over 30 minutes, virtual time): its
// shape and the properties that must hold whatever the figures, not its speed.
import { describe, expect, it } from 'vitest';
import { SimFleet, worldBounds } from '../../../bench/autoscale/fleet.js';
import { POLICY_NAMES } from '../../../bench/autoscale/run.js';
import { benchModels } from '../../../bench/autoscale/traces.js';
import { readFleet } from '../../../bench/autoscale/view.js';
import { jsonRows, runBenchmark, SETTINGS } from '../../../bench/autoscale.js';

const MIN = 60_000;
const small = runBenchmark(SETTINGS, 30 * MIN, POLICY_NAMES, ['step', 'diurnal']);
const all = jsonRows(small).rows;
const rows = all.filter((r) => r.trace === 'step');
const diurnal = all.filter((r) => r.trace === 'diurnal');

describe('the autoscale benchmark, small', () => {
  it('gives one row per policy with the JSON fields, attainments as fractions', () => {
    expect(rows.map((r) => r.policy)).toEqual(POLICY_NAMES);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(
        [
          'actions',
          'gpuHours',
          'maxReplicas',
          'minuteAttainment',
          'policy',
          'recoverySeconds',
          'requestAttainment',
          'requestAttainmentStrict',
          'trace',
        ].sort(),
      );
      expect(r.trace).toBe('step');
      for (const a of [r.minuteAttainment, r.requestAttainment, r.requestAttainmentStrict]) {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
      }
      expect(r.gpuHours).toBeGreaterThan(0);
      expect(Number.isInteger(r.actions) && r.actions >= 0).toBe(true);
      expect(r.maxReplicas).toBeGreaterThanOrEqual(4);
      expect(r.recoverySeconds).not.toBeNull();
    }
    expect(JSON.parse(JSON.stringify(jsonRows(small)))).toEqual({ rows: all });
    expect(diurnal.map((r) => r.recoverySeconds)).toEqual(POLICY_NAMES.map(() => null));
  });

  it("counts requests by their own TTFT (the design's score) and, stricter, by TTFT and ITL", () => {
    for (const r of all) expect(r.requestAttainmentStrict).toBeLessThanOrEqual(r.requestAttainment);
    // Saturation V1 runs its pods hot: some requests meet TTFT but miss their own ITL.
    const v1 = all.filter((r) => r.policy === 'saturation-v1');
    for (const r of v1) expect(r.requestAttainmentStrict).toBeLessThan(r.requestAttainment);
  });

  it('the static peak fleet never misses a model-minute on the step trace and never scales', () => {
    const s = rows.find((r) => r.policy === 'static-peak')!;
    expect(s.minuteAttainment).toBe(1);
    expect(s.actions).toBe(0);
    expect(s.recoverySeconds).toBe(0);
  });

  it('learned costs less than the static peak fleet where the load swings (diurnal)', () => {
    const learned = diurnal.find((r) => r.policy === 'learned')!;
    const fixed = diurnal.find((r) => r.policy === 'static-peak')!;
    expect(learned.gpuHours).toBeLessThan(fixed.gpuHours);
  });

  it('is deterministic from the seed, and another seed gives another run', () => {
    const again = jsonRows(runBenchmark(SETTINGS, 30 * MIN, ['learned', 'saturation-v1'], ['step'])).rows;
    expect(again).toEqual(rows.filter((r) => r.policy === 'learned' || r.policy === 'saturation-v1'));
    const other = jsonRows(
      runBenchmark({ ...SETTINGS, seed: 8 }, 30 * MIN, ['saturation-v1'], ['step']),
    ).rows;
    expect(other[0]).not.toEqual(rows.find((r) => r.policy === 'saturation-v1'));
  });
});

describe('the simulated fleet', () => {
  const models = benchModels();
  const names = models.flatMap((m) => m.variants.map((v) => v.name));

  it('holds requests while no pod is ready, serves them once one is, and drains a removed pod', () => {
    const finished: number[] = [];
    const f = new SimFleet({
      models,
      initial: {},
      startupMs: 10_000,
      seed: 1,
      arrivalCv: 1,
      onFinished: (_, r) => finished.push(r.clientTtftMs),
    });
    f.setReplicas(names[0]!, 1, 0);
    for (let t = 0; t < 10_000; t += 1000) f.step(t, 1000, [300, 0]);
    expect(finished).toHaveLength(0);
    expect(f.unfinished()).toBeGreaterThan(0);
    for (let t = 10_000; t < 60_000; t += 1000) f.step(t, 1000, [300, 0]);
    // 5 requests/s; those held for the start-up waited for it (TTFT from the client's send).
    expect(finished.length).toBeGreaterThan(100);
    expect(Math.max(...finished)).toBeGreaterThan(5000);
    f.setReplicas(names[0]!, 0, 60_000);
    const before = finished.length;
    for (let t = 60_000; t < 120_000; t += 1000) f.step(t, 1000, [0, 0]);
    expect(finished.length).toBeGreaterThan(before);
    expect(f.unfinished()).toBe(0);
    expect(f.replicas).toBe(0);
  });

  it('bounds every policy the same: 0..max per variant, the cheapest variant kept when a model would have none', () => {
    const now = new Map([
      ['llama-a100', 2],
      ['llama-l40s', 3],
      ['qwen-h100', 1],
      ['qwen-a100', 0],
    ]);
    const b = worldBounds(
      models,
      (v) => now.get(v)!,
      new Map([
        ['llama-a100', 0],
        ['llama-l40s', 0],
        ['qwen-h100', 99],
      ]),
      40,
    );
    // Llama asked for none: its cheaper variant (L40S, variantCost 5) keeps 1; Qwen's cap is 40,
    // and a variant not asked about keeps its count.
    expect(Object.fromEntries(b)).toEqual({
      'llama-a100': 0,
      'llama-l40s': 1,
      'qwen-h100': 40,
      'qwen-a100': 0,
    });
    const cut = worldBounds(models, (v) => now.get(v)!, new Map([['qwen-h100', 0]]), 40);
    expect(cut.get('qwen-h100')).toBe(0);
    expect(cut.get('qwen-a100')).toBe(1);
  });

  it('shows policies only what a collector reads: no metrics from pods still starting', () => {
    const f = new SimFleet({
      models,
      initial: Object.fromEntries(names.map((n) => [n, 1])),
      startupMs: 60_000,
      seed: 2,
      arrivalCv: 1,
      onFinished: () => {},
    });
    for (let t = 0; t < 60_000; t += 1000) f.step(t, 1000, [600, 400]);
    f.setReplicas(names[0]!, 3, 60_000);
    for (let t = 60_000; t < 90_000; t += 1000) f.step(t, 1000, [600, 400]);
    const v = readFleet(f, 90_000, 60_000)[0]!.variants[0]!;
    expect(v.replicas).toBe(3);
    expect(v.ready).toBe(1);
    expect(v.pods).toHaveLength(1);
    expect(v.observation?.batch).toBeGreaterThan(0);
  });
});
