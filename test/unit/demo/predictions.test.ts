// The per-variant table's PRED TTFT / PRED ITL for variants the learned SLO engine decided: its
// prediction as its condition message states it; '-' only where there is none.
import { describe, expect, it } from 'vitest';
import { formatLoopCycle } from '../../../src/cli/demo-loop-format.js';
import type { CycleReport } from '../../../src/controller/local.js';
import { engineWhy, loopCycle, sloPrediction } from '../../../src/demo/closed-loop.js';
import { parseEmulatorConfig, VllmEmulator } from '../../../src/emulator/index.js';

const config = parseEmulatorConfig({
  seed: 1,
  models: [
    {
      model: 'm',
      architecture: 'meta-llama/Llama-3.1-8B-Instruct',
      namespace: 'ns',
      load: { pattern: 'steady', rate: 600 },
      variants: [
        { name: 'slo-v', replicas: 2 },
        { name: 'sat-v', replicas: 1 },
        { name: 'idle-v', replicas: 1 },
      ],
    },
  ],
});

const row = (name: string, engine: string, message: string): CycleReport['rows'][number] => ({
  name,
  namespace: 'ns',
  modelId: 'm',
  replicas: 1,
  status: undefined,
  condition: undefined,
  conditions: [
    {
      type: 'OptimizationReady',
      status: 'True',
      reason: 'OptimizationSucceeded',
      message,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ],
  outcome: 'written',
  engine,
});

// The SLO engine's message as the status renders it: the engine, its reason, the target; V1's floor after.
const SIZED =
  'slo-queueing: SLO engine: learned profile (26 cycles, ITL error 5.8 %, TTFT error 10.3 %); 1484 req/min -> 3 ' +
  '(predicted TTFT 212 ms, ITL 17.4 ms, utilisation 71 %) (target: 4 replicas); SaturationSafetyOverride: ' +
  'slo-queueing wanted 3 replicas, saturation V1 keeps 4: kept 4';

describe('PRED columns of the learned SLO engine', () => {
  it('shows the prediction the SLO engine sized with, and none where saturation decided or nothing was sized', () => {
    const c = loopCycle(
      {
        startedAt: new Date(0),
        durationMs: 1,
        rows: [
          row('slo-v', 'slo-queueing', SIZED),
          row('sat-v', 'saturation-v1', 'saturation-only decision: scale-up (target: 2 replicas)'),
          row('idle-v', 'slo-queueing', 'slo-queueing: no arrivals (target: 0 replicas)'),
        ],
      },
      new VllmEmulator(config, { now: () => 0 }),
      true,
    );
    const by = new Map(c.variants.map((v) => [v.name, v]));
    expect(by.get('slo-v')?.predicted).toEqual({ ttftMs: 212, itlMs: 17.4 });
    expect(by.get('sat-v')?.predicted).toBeUndefined();
    expect(by.get('idle-v')?.predicted).toBeUndefined();
    const text = formatLoopCycle(c);
    expect(text).toMatch(/slo-v\s+ns\s+slo-queueing\s+-\s+2 \(\d\)\s+212\.0\s+17\.4\s/);
    expect(text).toMatch(/sat-v\s+ns\s+saturation-v1\s+-\s+1 \(\d\)\s+-\s+-\s/);
  });

  it('reads a prediction only from an SLO engine decision', () => {
    expect(sloPrediction('slo-queueing + saturation-v1 floor', SIZED)).toEqual({ ttftMs: 212, itlMs: 17.4 });
    // A saturation message quoting the SLO engine's numbers is still no prediction of saturation's.
    expect(sloPrediction('saturation-v1', SIZED)).toBeUndefined();
    expect(sloPrediction('slo-queueing', undefined)).toBeUndefined();
  });
});

describe('why a model is not with the SLO engine', () => {
  it('keeps every blocker the learner lists, not only the first', () => {
    expect(
      engineWhy([
        'saturation-v1: learned model for variant llama-8b-a100 not usable yet (not yet: input tokens x batch has not varied (delta unidentified); TTFT prediction error 32.8 % is not below 15.0 %); saturation-only decision: no change (target: 6 replicas)',
      ]),
    ).toBe(
      'learned model for variant llama-8b-a100 not usable yet (not yet: input tokens x batch has not varied (delta unidentified); TTFT prediction error 32.8 % is not below 15.0 %)',
    );
    expect(engineWhy(['saturation-v1: no variant of the model is serving; saturation-only decision'])).toBe(
      'no variant of the model is serving',
    );
  });
});
