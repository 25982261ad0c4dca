import { describe, expect, it } from 'vitest';
import { formatLoopCycle } from '../../src/cli/demo-loop-format.js';
import type { Decision } from '../../src/controller/decision.js';
import type { CycleReport } from '../../src/controller/local.js';
import { engineOf } from '../../src/demo/closed-loop.js';
import {
  applyScenario,
  findScenario,
  type LoopCycle,
  meetsSlo,
  peakReplicas,
  SCENARIOS,
  scoreLoop,
} from '../../src/demo/index.js';
import { scoreStaticFleet } from '../../src/demo/static-fleet.js';
import { parseEmulatorConfig } from '../../src/emulator/index.js';

const variant = (over: Partial<LoopCycle['variants'][number]>) => ({
  namespace: 'ns',
  name: 'v',
  modelId: 'm',
  desired: 1,
  current: 1,
  ready: 1,
  predicted: undefined,
  reason: 'OptimizationSucceeded',
  engine: 'slo-queueing',
  actuated: 'Scaled',
  ...over,
});
const model = (withinSlo: boolean | undefined) => ({
  namespace: 'ns',
  modelId: 'm',
  slo: { ttftMs: 500, itlMs: 24 },
  arrivalRate: 600,
  ttftMs: 100,
  itlMs: 10,
  withinSlo,
});
const cycle = (sec: number, scored: boolean, pods: number, within: boolean | undefined): LoopCycle => ({
  at: new Date(sec * 1000),
  scored,
  variants: [variant({ current: pods, desired: pods })],
  models: [model(within)],
});

describe('closed-loop scoring', () => {
  it('meetsSlo: both targets, a missing target ignored, unknown latency undecided', () => {
    expect(meetsSlo({ ttftMs: 500, itlMs: 24 }, 400, 20)).toBe(true);
    expect(meetsSlo({ ttftMs: 500, itlMs: 24 }, 600, 20)).toBe(false);
    expect(meetsSlo({ ttftMs: 500, itlMs: 24 }, 400, 30)).toBe(false);
    expect(meetsSlo({ ttftMs: 500 }, 400, undefined)).toBe(true);
    expect(meetsSlo({ ttftMs: 500, itlMs: 24 }, undefined, 20)).toBeUndefined();
    expect(meetsSlo(undefined, 1, 1)).toBeUndefined();
  });

  it('attainment over scored model-cycles only; replica-minutes as pods x time until the next cycle', () => {
    const cycles = [
      cycle(0, false, 2, false),
      cycle(30, true, 4, false),
      cycle(60, true, 4, true),
      cycle(90, true, 1, undefined),
    ];
    const s = scoreLoop(cycles, new Date(120_000), 3);
    expect(s).toMatchObject({ cycles: 2, met: 1, attainment: 0.5, actions: 3 });
    expect(s.replicaMinutes).toBeCloseTo((2 * 30 + 4 * 30 + 4 * 30 + 1 * 30) / 60, 9);
    expect(scoreLoop([], new Date(0), 0).attainment).toBeUndefined();
  });

  it('peak replicas per variant: the most it ran or was asked for', () => {
    const cycles = [cycle(0, true, 2, true), cycle(30, true, 5, true), cycle(60, true, 3, true)];
    cycles[2]!.variants[0]!.desired = 7;
    expect(peakReplicas(cycles)).toEqual(new Map([['ns/v', 7]]));
  });
});

describe('static peak fleet replay', () => {
  const config = parseEmulatorConfig({
    seed: 1,
    models: [
      {
        model: 'm',
        architecture: 'meta-llama/Llama-3.1-8B-Instruct',
        namespace: 'ns',
        load: { pattern: 'step', rate: 600, steps: [{ at: '60s', rate: 6000 }] },
        variants: [{ name: 'v', replicas: 1 }],
      },
    ],
  });
  const replay = (replicas: number) =>
    scoreStaticFleet({
      config,
      replicas: new Map([['ns/v', replicas]]),
      slo: new Map([['ns/m', { ttftMs: 500, itlMs: 30 }]]),
      durationMs: 120_000,
      intervalMs: 10_000,
      windowMs: 10_000,
      warmupMs: 10_000,
    });
  it('holds the count all along: replica-minutes are count x duration, no actions', () => {
    // 100 requests/s of 512-token prompts: on A100s the prefill alone needs about eight pods.
    const s = replay(8);
    expect(s).toMatchObject({ replicaMinutes: 16, actions: 0, cycles: 12 });
    expect(s.attainment).toBe(1);
  });
  it('too few pods for the step miss the SLO once it comes', () => {
    // Cycles at 10..60 s read the window before the step; from 70 s on one pod is swamped.
    expect(replay(1)).toMatchObject({ cycles: 12, met: 6 });
  });
});

describe('scenarios', () => {
  const config = parseEmulatorConfig({
    models: [
      {
        model: 'meta-llama/Llama-3.1-8B-Instruct',
        namespace: 'llm-prod',
        load: { pattern: 'steady', rate: 1 },
        variants: [{ name: 'a' }],
      },
    ],
  });
  it('every scenario has a unique name; findScenario names the choices for an unknown one', () => {
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    expect(findScenario('autoscale').name).toBe('autoscale');
    expect(() => findScenario('nope')).toThrow(
      /unknown scenario "nope": use one of autoscale, steady, spike, diurnal, idle/,
    );
  });
  it('applies loads and the start-up delay; refuses a scenario for models the config does not serve', () => {
    const s = findScenario('spike');
    const out = applyScenario(config, s);
    expect(out.startupDelay).toBe(s.startupDelayMs);
    expect(out.models[0]!.load.pattern).toBe('spikes');
    expect(() => applyScenario(config, findScenario('autoscale'))).toThrow(
      /sets the load of llm-prod\/ibm-granite\/granite-3.3-8b-instruct, .*which the emulator config does not serve/,
    );
  });
});

describe('request-level SLO attainment and cost', () => {
  it('counts each request against the targets on its own, and weights replica-hours by variantCost', () => {
    const config = parseEmulatorConfig({
      seed: 2,
      models: [
        {
          model: 'm',
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'ns',
          load: { pattern: 'steady', rate: 600 },
          variants: [{ name: 'v', replicas: 1 }],
        },
      ],
    });
    const s = scoreStaticFleet({
      config,
      replicas: new Map([['ns/v', 2]]),
      slo: new Map([['ns/m', { ttftMs: 500, itlMs: 30 }]]),
      durationMs: 60_000,
      intervalMs: 10_000,
      windowMs: 10_000,
      warmupMs: 10_000,
      costOf: () => 10,
    });
    // Two A100 pods for 10 requests/s: every request within targets.
    expect(s.requests!.total).toBeGreaterThan(400);
    expect(s.requests!.met).toBe(s.requests!.total);
    // 2 pods x 1 minute x 10 = 1/3 of a cost-hour.
    expect(s.cost).toBeCloseTo((2 * 10) / 60, 9);
    const strict = scoreStaticFleet({
      config,
      replicas: new Map([['ns/v', 2]]),
      slo: new Map([['ns/m', { ttftMs: 1, itlMs: 30 }]]),
      durationMs: 60_000,
      intervalMs: 10_000,
      windowMs: 10_000,
      warmupMs: 10_000,
    });
    expect(strict.requests!.met).toBe(0);
  });
});

describe('the per-variant line names the engine that decided', () => {
  const row = (over: Partial<CycleReport['rows'][number]>): CycleReport['rows'][number] => ({
    name: 'v',
    namespace: 'ns',
    modelId: 'm',
    replicas: 1,
    status: undefined,
    condition: undefined,
    conditions: [],
    outcome: 'written',
    ...over,
  });
  const ok = (reason: 'OptimizationSucceeded' | 'SaturationSafetyOverride') =>
    ({ ok: true, reason }) as Extract<Decision, { ok: true }>;

  it('saturation engine, SLO engine, SLO engine under the V1 floor, none', () => {
    expect(engineOf(row({ engine: 'saturation-v1' }))).toBe('saturation-v1');
    expect(engineOf(row({ decision: ok('OptimizationSucceeded') }))).toBe('slo-queueing');
    expect(engineOf(row({ decision: ok('SaturationSafetyOverride') }))).toBe(
      'slo-queueing + saturation-v1 floor',
    );
    expect(engineOf(row({}))).toBe('-');
    const text = formatLoopCycle({
      at: new Date(0),
      scored: true,
      variants: [variant({ name: 'sat-v', engine: 'saturation-v2' })],
      models: [model(true)],
    });
    expect(text).toMatch(/VARIANT\s+NAMESPACE\s+ENGINE/);
    expect(text).toMatch(/sat-v\s+ns\s+saturation-v2/);
  });
});
