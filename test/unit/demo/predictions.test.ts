// The per-variant table's PRED TTFT / PRED ITL for variants the SLO engine decided behind the
// engine seam: its prediction as the cycle report row carries it; '-' only where there is none.
import { describe, expect, it } from 'vitest';
import { formatLoopCycle } from '../../../src/cli/demo-loop-format.js';
import type { CycleReport } from '../../../src/controller/local.js';
import { engineWhy, loopCycle } from '../../../src/demo/closed-loop.js';
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

const row = (
  name: string,
  engine: string,
  message: string,
  predicted?: { ttftMs: number; itlMs: number },
): CycleReport['rows'][number] => ({
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
  ...(predicted ? { predicted } : {}),
});

// A message stating a prediction: the demo no longer reads it, only the row's field.
const SIZED =
  'slo-queueing: SLO engine: learned profile (26 cycles, ITL error 5.8 %, TTFT error 10.3 %); 1484 req/min -> 3 ' +
  '(predicted TTFT 212 ms, ITL 17.4 ms, utilisation 71 %) (target: 4 replicas); SaturationSafetyOverride: ' +
  'slo-queueing wanted 3 replicas, saturation V1 keeps 4: kept 4';

const cycleOf = (rows: CycleReport['rows']) =>
  loopCycle(
    { startedAt: new Date(0), durationMs: 1, rows },
    new VllmEmulator(config, { now: () => 0 }),
    true,
  );

describe('PRED columns of the SLO engine behind the seam', () => {
  it("shows the row's prediction, and none where saturation decided or nothing was sized", () => {
    const c = cycleOf([
      row('slo-v', 'slo-queueing', 'slo-queueing: SLO engine sized it', { ttftMs: 187.6, itlMs: 16.04 }),
      row('sat-v', 'saturation-v1', 'saturation-only decision: scale-up (target: 2 replicas)'),
      row('idle-v', 'slo-queueing', 'slo-queueing: no arrivals (target: 0 replicas)'),
    ]);
    const by = new Map(c.variants.map((v) => [v.name, v]));
    expect(by.get('slo-v')?.predicted).toEqual({ ttftMs: 187.6, itlMs: 16.04 });
    expect(by.get('sat-v')?.predicted).toBeUndefined();
    expect(by.get('idle-v')?.predicted).toBeUndefined();
    const text = formatLoopCycle(c);
    expect(text).toMatch(/slo-v\s+ns\s+slo-queueing\s+-\s+2 \(\d\)\s+187\.6\s+16\.0\s/);
    expect(text).toMatch(/sat-v\s+ns\s+saturation-v1\s+-\s+1 \(\d\)\s+-\s+-\s/);
  });

  it('takes no prediction from a condition message, only from the row', () => {
    // The message states a prediction, the row carries none: the column says so rather than parse it.
    const c = cycleOf([row('slo-v', 'slo-queueing', SIZED)]);
    expect(c.variants[0]?.predicted).toBeUndefined();
    expect(formatLoopCycle(c)).toMatch(/slo-v\s+ns\s+slo-queueing\s+-\s+2 \(\d\)\s+-\s+-\s/);
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
