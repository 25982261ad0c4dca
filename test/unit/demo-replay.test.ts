// The demo's comparisons and engine switches: saturation V1 alone replayed on the emulator in
// virtual time, and the line a model's change of engines gets.
import { describe, expect, it } from 'vitest';
import { formatSwitch } from '../../src/cli/demo-loop-format.js';
import { engineSwitches, engineWhy } from '../../src/demo/closed-loop.js';
import type { LoopCycle } from '../../src/demo/loop-ledger.js';
import { scoreSaturationV1 } from '../../src/demo/saturation-replay.js';
import { scoreStaticFleet } from '../../src/demo/static-fleet.js';
import { parseEmulatorConfig } from '../../src/emulator/index.js';

describe('saturation V1 alone, replayed in virtual time', () => {
  const config = parseEmulatorConfig({
    seed: 3,
    models: [
      {
        model: 'm',
        architecture: 'meta-llama/Llama-3.1-8B-Instruct',
        namespace: 'ns',
        load: { pattern: 'step', rate: 300, steps: [{ at: '60s', rate: 6000 }] },
        variants: [{ name: 'v', replicas: 1, args: ['--max-num-seqs', '64'] }],
      },
    ],
  });
  const common = {
    config,
    slo: new Map([['ns/m', { ttftMs: 500, itlMs: 30 }]]),
    durationMs: 240_000,
    intervalMs: 10_000,
    windowMs: 10_000,
    warmupMs: 10_000,
    costOf: () => 10,
  };

  it('scales up after the step and pays for what it runs', () => {
    const v1 = scoreSaturationV1(common);
    const one = scoreStaticFleet({ ...common, replicas: new Map([['ns/v', 1]]) });
    expect(v1.actions).toBeGreaterThan(1);
    // More pods than the single one it started with: more replica-minutes, and cost follows them.
    expect(v1.replicaMinutes).toBeGreaterThan(one.replicaMinutes);
    expect(v1.cost).toBeCloseTo((v1.replicaMinutes / 60) * 10, 6);
    // Better than one pod through the step, with the same requests played.
    expect(v1.requests!.met / v1.requests!.total).toBeGreaterThan(one.requests!.met / one.requests!.total);
    expect(v1.attainment).toBeGreaterThanOrEqual(0);
    expect(v1.attainment).toBeLessThanOrEqual(1);
  });

  it('costs count only from costFromMs, the live run first cycle', () => {
    const held = scoreStaticFleet({ ...common, replicas: new Map([['ns/v', 2]]), costFromMs: 60_000 });
    expect(held.replicaMinutes).toBeCloseTo(2 * 3, 9);
  });
});

describe('engine switches', () => {
  const cycle = (atMs: number, engine: string, why?: string): LoopCycle => ({
    at: new Date(atMs),
    scored: true,
    variants: [],
    models: [
      {
        namespace: 'ns',
        modelId: 'm',
        slo: undefined,
        arrivalRate: 1,
        ttftMs: 1,
        itlMs: 1,
        withinSlo: true,
        engine,
        ...(why ? { engineWhy: why } : {}),
      },
    ],
  });

  it('marks the cycle a model changes engines, not its first, nor a floor coming and going', () => {
    const cycles = [cycle(1000, 'saturation-v1'), cycle(6000, 'saturation-v1')];
    expect(engineSwitches([], cycles[0]!)).toEqual([]);
    expect(engineSwitches(cycles.slice(0, 1), cycles[1]!)).toEqual([]);
    const slo = cycle(
      121_000,
      'slo-queueing',
      'learned profile (20 cycles, ITL error 1.0 %, TTFT error 2.0 %)',
    );
    const [s] = engineSwitches(cycles, slo);
    expect(s).toMatchObject({ cycle: 3, sinceStartMs: 120_000, from: 'saturation-v1', to: 'slo-queueing' });
    expect(
      formatSwitch({ ...s!, learned: [{ variant: 'v', cycles: 20, itlErrorPct: 1, ttftErrorPct: 2 }] }),
    ).toBe(
      '>>> cycle 3 (2.0 min): ns/m saturation-v1 -> SLO engine (learned: v ITL error 1.0 %, TTFT error 2.0 % over 20 cycles | learned profile (20 cycles, ITL error 1.0 %, TTFT error 2.0 %))',
    );
    // The SLO engine with V1's floor raising it is still the SLO engine.
    expect(engineSwitches([...cycles, slo], cycle(126_000, 'slo-queueing + saturation-v1 floor'))).toEqual(
      [],
    );
    // Back to saturation is a switch too, with saturation's reason.
    expect(engineSwitches([...cycles, slo], cycle(126_000, 'saturation-v1'))[0]?.to).toBe('saturation-v1');
  });

  it('reads why from the condition messages: the SLO engine first, else what saturation says first', () => {
    expect(
      engineWhy([
        'slo-queueing: no replica count of b meets the SLO',
        'slo-queueing: SLO engine: learned profile (25 cycles, ITL error 6.1 %, TTFT error 11.8 %); 1484 req/min -> 1',
      ]),
    ).toBe('learned profile (25 cycles, ITL error 6.1 %, TTFT error 11.8 %)');
    expect(
      engineWhy([
        'saturation-v1: learned model for variant v not usable yet (not yet: 7 of 20 cycles observed); saturation-only decision',
      ]),
    ).toBe('learned model for variant v not usable yet (not yet: 7 of 20 cycles observed)');
    expect(engineWhy([undefined])).toBeUndefined();
  });
});
