// The SLO engine behind the seam: which model it sizes with, what it decides, and when saturation
// V1 decides instead (with the reason in the decision).
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../../src/collector/pods.js';
import { createSaturationV2Engine } from '../../../../src/engines/saturation-engine.js';
import { createSloEngine, type SloModelInput } from '../../../../src/engines/slo/engine.js';
import { type EstimatorState, PerformanceEstimator } from '../../../../src/engines/slo/learn/index.js';
import { Stabiliser } from '../../../../src/optimizer/stabilize.js';
import { calmPods, sloModel, sloVariant } from '../../../support/slo-inputs.js';
import { measure, seeded, steadyLoad, TRUE, variedLoad } from './synthetic.js';

const key = { model: 'llama-8b', namespace: 'ns', accelerator: 'A100', argsFingerprint: 'x' };
const PROFILE = { ...TRUE, maxBatchSize: 64 };

function learned(cycles: number, load: 'varied' | 'steady' = 'varied'): EstimatorState {
  const e = new PerformanceEstimator({
    key,
    maxBatchSize: 64,
    neutral: { alpha: 5, beta: 0.05, gamma: 10, delta: 0.001 },
  });
  const rand = seeded(11);
  for (let i = 0; i < cycles; i++)
    e.observe(measure(TRUE, load === 'varied' ? variedLoad(rand) : steadyLoad(), rand, 0.02), i * 30_000);
  return e.snapshot();
}

const variant = sloVariant;

const model = (over: Partial<SloModelInput> = {}): SloModelInput =>
  sloModel(over, () => [variant('a100', 10, 2, { profile: PROFILE })]);

describe('createSloEngine', () => {
  it('sizes with a given profile and says so', () => {
    const d = createSloEngine().decide(model());
    expect(d.engine).toBe('slo-queueing');
    const one = d.decisions[0]!;
    expect(one.targetReplicas).toBeGreaterThanOrEqual(1);
    expect(one.reason).toMatch(/^SLO engine: given profile/);
  });

  it('leaves a variant with no replica and no usable model at 0; the others carry the load', () => {
    const e = createSloEngine();
    const l40s = variant('l40s', 20, 0, { learned: learned(5), minReplicas: 0 });
    const d = e.decide(model({ variants: [variant('a100', 10, 2, { profile: PROFILE }), l40s] }));
    expect(d.engine).toBe('slo-queueing');
    const [a100, idle] = d.decisions;
    expect(a100!.reason).toMatch(/^SLO engine: given profile/);
    expect(idle!.targetReplicas).toBe(0);
    expect(idle!.reason).toMatch(/no replica and no usable performance model \(learned profile not yet/);
    // With replicas serving (or a minimum), its load cannot be predicted: the model falls back.
    const serving = e.decide(
      model({ variants: [variant('a100', 10, 2, { profile: PROFILE }), { ...l40s, currentReplicas: 1 }] }),
    );
    expect(serving.engine).toBe('saturation-v1');
    const kept = e.decide(
      model({ variants: [variant('a100', 10, 2, { profile: PROFILE }), { ...l40s, minReplicas: 1 }] }),
    );
    expect(kept.engine).toBe('saturation-v1');
    // No variant with a usable model: the fallback decides.
    const none = e.decide(model({ variants: [l40s] }));
    expect(none.engine).toBe('saturation-v1');
    expect(none.decisions[0]?.reason ?? none.notes.join(' ')).toMatch(/no usable performance model for l40s/);
  });

  it('takes saturation V1 as the floor of the replicas serving, not of those it asked for and that still start', () => {
    const e = createSloEngine();
    const asked = variant('a100', 10, 36, { profile: PROFILE, pendingReplicas: 25 });
    const m = model({ variants: [asked] });
    const d = e.decide({ ...m, pods: new Map([['a100', calmPods('a100', 11)]]) }).decisions[0]!;
    // The load needs far fewer than the 36 asked for earlier: the starting ones are not held.
    expect(d.targetReplicas).toBeLessThan(36);
    expect(d.targetReplicas).toBeGreaterThanOrEqual(1);
    expect(d.reason).not.toMatch(/saturation V1 keeps 36/);
  });

  it('keeps the replicas still starting while saturation V1 finds the serving ones saturated', () => {
    const e = createSloEngine();
    const m = model({
      variants: [variant('a100', 10, 3, { profile: PROFILE, pendingReplicas: 2 })],
      load: { arrivalRate: 600, avgInputTokens: 512, avgOutputTokens: 128 },
    });
    const hot: PodMetrics[] = [
      { pod: 'a100-0', modelId: 'llama-8b', namespace: 'ns', kvCacheUsage: 0.95, queueLength: 40 },
    ];
    const held = e.decide({ ...m, pods: new Map([['a100', hot]]) }).decisions[0]!;
    expect(held.targetReplicas).toBe(3);
    expect(held.reason).toMatch(/the 2 starting kept: saturation V1 finds the 1 serving saturated/);
    // The same load with the serving pod calm: the starting ones the load does not need go.
    const calm = e.decide({ ...m, pods: new Map([['a100', calmPods('a100', 1)]]) }).decisions[0]!;
    expect(calm.targetReplicas).toBeLessThan(3);
  });

  it('sizes with a confident learned model and names its cycles and error', () => {
    const d = createSloEngine().decide(
      model({ variants: [variant('a100', 10, 2, { learned: learned(60) })] }),
    );
    expect(d.engine).toBe('slo-queueing');
    expect(d.decisions[0]!.reason).toMatch(/^SLO engine: learned profile \(60 cycles, ITL error \d+\.\d %/);
  });

  it('more load asks for more replicas', () => {
    const e = createSloEngine();
    const at = (rate: number) =>
      e.decide(model({ load: { arrivalRate: rate, avgInputTokens: 512, avgOutputTokens: 128 } }))
        .decisions[0]!.targetReplicas;
    expect(at(12_000)).toBeGreaterThan(at(3000));
  });

  it('falls back to saturation V1 without an SLO, a usable model, or identifiable parameters', () => {
    const e = createSloEngine();
    const noSlo = e.decide(model({ slo: null }));
    expect(noSlo.engine).toBe('saturation-v1');
    expect(noSlo.decisions[0]!.reason).toMatch(/^saturation V1: no SLO for this model/);

    const young = e.decide(model({ variants: [variant('a100', 10, 2, { learned: learned(5) })] }));
    expect(young.engine).toBe('saturation-v1');
    expect(young.decisions[0]!.reason).toMatch(
      /no usable performance model for a100: learned profile not yet/,
    );
  });

  it('sizes with a model whose slopes are unidentified only within the batch range it measured', () => {
    // Measured at batch 24 only: at 2 replicas the load per replica stays near it, at fewer it would not.
    const steady = learned(60, 'steady');
    const e = createSloEngine();
    const at = (current: number, arrivalRate: number) =>
      e.decide(
        model({
          variants: [variant('a100', 10, current, { learned: steady })],
          load: { arrivalRate, avgInputTokens: 1000, avgOutputTokens: 128 },
        }),
      ).decisions[0]!;
    const hot = at(2, 40_000);
    expect(hot.engine).toBe('slo-queueing');
    expect(hot.reason).toMatch(
      /learned profile within the measured range \(batch up to 24\.\d; batch has not varied/,
    );
    expect(hot.targetReplicas).toBeGreaterThan(2);
    // Less load on 6 replicas: down only as far as keeps each replica within the measured batches
    // (the SLO alone would allow fewer), and beyond them one replica at a time.
    expect(at(6, 2000).reason).toMatch(
      /down to 3 only: fewer would load each replica beyond the measured range -> 3/,
    );
    const calm = at(6, 4000);
    expect(calm.targetReplicas).toBe(5);
    expect(calm.reason).toMatch(/down to 5 only/);
    // A given profile, which has the slopes, goes before a model confident only within its range.
    const both = e.decide(
      model({ variants: [variant('a100', 10, 6, { learned: steady, profile: PROFILE })] }),
    );
    expect(both.decisions[0]!.reason).toMatch(/^SLO engine: given profile;/);
    // A model whose slopes are identified is not held to a range.
    expect(
      e.decide(model({ variants: [variant('a100', 10, 6, { learned: learned(60) })] })).decisions[0]!.reason,
    ).not.toMatch(/measured range/);
  });

  it('falls back when no replica count meets the SLO', () => {
    const d = createSloEngine().decide(model({ slo: { ttftMs: 1, itlMs: 30 } }));
    expect(d.engine).toBe('saturation-v1');
    expect(d.decisions[0]!.reason).toMatch(/no replica count meets the SLO on a100/);
  });

  it('never throws for a broken learned state: that variant has no usable model', () => {
    const bad = { ...learned(60), decode: null } as unknown as EstimatorState;
    const d = createSloEngine().decide(model({ variants: [variant('a100', 10, 2, { learned: bad })] }));
    expect(d.engine).toBe('saturation-v1');
    expect(d.decisions).toHaveLength(1);
  });

  it('puts the load on the variant that serves a request per second for less', () => {
    const fast = { ...PROFILE };
    const d = createSloEngine().decide(
      model({
        variants: [
          variant('cheap', 4, 1, { profile: fast, minReplicas: 0 }),
          variant('dear', 20, 1, { profile: fast, minReplicas: 0 }),
        ],
        load: { arrivalRate: 6000, avgInputTokens: 512, avgOutputTokens: 128 },
      }),
    );
    const by = new Map(d.decisions.map((x) => [x.variantName, x.targetReplicas]));
    expect(by.get('cheap')).toBeGreaterThan(1);
    // Saturation V1 keeps what runs while it is calm; the SLO engine does not ask for more there.
    expect(by.get('dear')).toBeLessThanOrEqual(1);
  });

  it('counts replicas still starting as supply for the backlog', () => {
    const e = createSloEngine();
    const waiting = 20_000;
    const idle = e.decide(model({ waiting, variants: [variant('a100', 10, 6, { profile: PROFILE })] }))
      .decisions[0]!.targetReplicas;
    const starting = e.decide(
      model({ waiting, variants: [variant('a100', 10, 6, { profile: PROFILE, pendingReplicas: 4 })] }),
    ).decisions[0]!;
    expect(idle).toBeGreaterThan(6);
    expect(starting.targetReplicas).toBe(6);
    expect(starting.reason).toMatch(/replicas starting count for the backlog/);
  });

  it('keeps saturation V1 as a floor, naming both counts', () => {
    const hot: PodMetrics[] = [0, 1].map((i) => ({
      pod: `a100-${i}`,
      modelId: 'llama-8b',
      namespace: 'ns',
      kvCacheUsage: 0.95,
      queueLength: 20,
    }));
    const m = model({ load: { arrivalRate: 60, avgInputTokens: 512, avgOutputTokens: 128 } });
    const d = createSloEngine().decide({ ...m, pods: new Map([['a100', hot]]) }).decisions[0]!;
    expect(d.targetReplicas).toBe(3);
    expect(d.reason).toMatch(
      /SaturationSafetyOverride: slo-queueing wanted 1 replicas, saturation V1 keeps 3/,
    );
  });

  it('holds a scale-down for the stabilisation window', () => {
    const e = createSloEngine({ stabiliser: new Stabiliser(300_000) });
    const at = (nowMs: number, current: number) =>
      e.decide(
        model({
          nowMs,
          variants: [variant('a100', 10, current, { profile: PROFILE })],
          load: { arrivalRate: 600, avgInputTokens: 512, avgOutputTokens: 128 },
        }),
      ).decisions[0]!.targetReplicas;
    expect(at(0, 5)).toBe(5);
    expect(at(60_000, 5)).toBe(5);
    expect(at(301_000, 5)).toBeLessThan(5);
  });

  it('sizes for a fraction of the targets when asked, so more replicas', () => {
    const load = { arrivalRate: 12_000, avgInputTokens: 512, avgOutputTokens: 128 };
    const full = createSloEngine().decide(model({ load })).decisions[0]!.targetReplicas;
    const tight = createSloEngine({ targetFraction: 0.4 }).decide(model({ load })).decisions[0]!
      .targetReplicas;
    expect(tight).toBeGreaterThan(full);
  });

  it('falls back to the engine it is given (saturation V2) and names it, the floor staying V1', () => {
    const e = createSloEngine({ fallback: createSaturationV2Engine() });
    const young = e.decide(model({ variants: [variant('a100', 10, 2, { learned: learned(5) })] }));
    expect(young.engine).toBe('saturation-v2');
    expect(young.decisions[0]!.reason).toMatch(/^saturation V2: no usable performance model for a100/);
    const hot: PodMetrics[] = [0, 1].map((i) => ({
      pod: `a100-${i}`,
      modelId: 'llama-8b',
      namespace: 'ns',
      kvCacheUsage: 0.95,
      queueLength: 20,
    }));
    const m = model({ load: { arrivalRate: 60, avgInputTokens: 512, avgOutputTokens: 128 } });
    const d = e.decide({ ...m, pods: new Map([['a100', hot]]) }).decisions[0]!;
    expect(d.reason).toMatch(/saturation V1 keeps 3/);
  });

  it('takes a fraction per target: each tightens only its own target', () => {
    const load = { arrivalRate: 12_000, avgInputTokens: 512, avgOutputTokens: 128 };
    const n = (f: number | { ttftMs?: number; itlMs?: number }, slo: { ttftMs: number; itlMs: number }) =>
      createSloEngine({ targetFraction: f }).decide(model({ load, slo })).decisions[0]!.targetReplicas;
    const itlBinds = { ttftMs: 100_000, itlMs: 14 };
    const ttftBinds = { ttftMs: 150, itlMs: 10_000 };
    expect(n({ itlMs: 0.8 }, itlBinds)).toBeGreaterThan(n(1, itlBinds));
    expect(n({ itlMs: 0.8 }, ttftBinds)).toBe(n(1, ttftBinds));
    expect(n({ ttftMs: 0.7 }, ttftBinds)).toBeGreaterThan(n(1, ttftBinds));
    // Out-of-range fractions mean no margin rather than a broken target.
    expect(n({ ttftMs: 0, itlMs: Number.NaN }, itlBinds)).toBe(n(1, itlBinds));
  });

  it('holds a scale-down within the dead band, and scales down past it', () => {
    const load = (arrivalRate: number) => ({ arrivalRate, avgInputTokens: 512, avgOutputTokens: 128 });
    const slo = { ttftMs: 150, itlMs: 10_000 };
    const n = (o: { scaleDownFraction?: number }, current: number, rate: number) =>
      createSloEngine(o).decide(
        model({ slo, load: load(rate), variants: [variant('a100', 10, current, { profile: PROFILE })] }),
      ).decisions[0]!;
    // Scaling up from 1 shows the counts sized at the target and at the band's stricter one.
    const sized = n({}, 1, 12_000).targetReplicas;
    const strict = createSloEngine({ targetFraction: 0.7 }).decide(
      model({ slo, load: load(12_000), variants: [variant('a100', 10, 1, { profile: PROFILE })] }),
    ).decisions[0]!.targetReplicas;
    expect(strict).toBeGreaterThan(sized);
    // From the stricter count: without the band it goes down (one, as saturation V1 allows), with it not.
    expect(n({}, strict, 12_000).targetReplicas).toBe(strict - 1);
    const held = n({ scaleDownFraction: 0.7 }, strict, 12_000);
    expect(held.targetReplicas).toBe(strict);
    expect(held.reason).toMatch(/scale-down held at \d+ within the dead band/);
    // Above the band it scales down, and the band never holds a scale-up back.
    expect(n({ scaleDownFraction: 0.7 }, strict + 3, 12_000).targetReplicas).toBeLessThan(strict + 3);
    expect(n({ scaleDownFraction: 0.7 }, 1, 12_000).targetReplicas).toBe(sized);
    // A band whose stricter target no count meets (TTFT 15 ms: below any prefill) holds nothing.
    expect(n({ scaleDownFraction: 0.1 }, strict, 12_000).targetReplicas).toBe(strict - 1);
  });

  it('is deterministic', () => {
    const m = model({ variants: [variant('a100', 10, 2, { learned: learned(60) })] });
    expect(createSloEngine().decide(m)).toEqual(createSloEngine().decide(m));
  });
});
