// The SLO engine's prediction as data on its decision: the latencies its message states for the
// count it sized, and none where it sized no share (no arrivals, a variant that cannot meet the SLO)
// or where saturation decided.
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../../src/collector/pods.js';
import {
  createSloEngine,
  type SloModelInput,
  type SloVariantInput,
} from '../../../../src/engines/slo/engine.js';
import type { ScalingDecision } from '../../../../src/engines/types.js';
import { SLO_TEST_LOAD, sloModel, sloVariant } from '../../../support/slo-inputs.js';
import { TRUE } from './synthetic.js';

const PROFILE = { ...TRUE, maxBatchSize: 64 };

const variant = (name: string, cost: number, current: number, extra: Partial<SloVariantInput> = {}) =>
  sloVariant(name, cost, current, { profile: PROFILE, ...extra });

const model = (over: Partial<SloModelInput> = {}): SloModelInput =>
  sloModel(over, () => [variant('a100', 10, 2)]);

/** The prediction the decision's message states, as numbers (rounded as the message rounds them). */
function stated(d: ScalingDecision): { ttftMs: number; itlMs: number } | undefined {
  const m = /\(predicted TTFT (\d+) ms, ITL (\d+\.\d) ms/.exec(d.reason);
  return m ? { ttftMs: Number(m[1]), itlMs: Number(m[2]) } : undefined;
}

describe('the SLO engine decision carries its prediction', () => {
  it('as the values its message states, at each load', () => {
    const e = createSloEngine();
    const seen = new Set<string>();
    for (const arrivalRate of [600, 2000, 3000]) {
      const d = e.decide(model({ load: { ...SLO_TEST_LOAD, arrivalRate } })).decisions[0]!;
      const said = stated(d);
      expect(said).toBeDefined();
      expect(d.predicted).toBeDefined();
      expect(Math.round(d.predicted!.ttftMs)).toBe(said!.ttftMs);
      expect(Number(d.predicted!.itlMs.toFixed(1))).toBe(said!.itlMs);
      seen.add(JSON.stringify(d.predicted));
    }
    // A prediction per sizing, not one constant.
    expect(seen.size).toBe(3);
  });

  it('keeps it where the starting replicas are kept (the message still states it)', () => {
    const m = model({
      variants: [variant('a100', 10, 3, { pendingReplicas: 2 })],
      load: { ...SLO_TEST_LOAD, arrivalRate: 600 },
    });
    const hot: PodMetrics[] = [
      { pod: 'a100-0', modelId: 'llama-8b', namespace: 'ns', kvCacheUsage: 0.95, queueLength: 40 },
    ];
    const d = createSloEngine().decide({ ...m, pods: new Map([['a100', hot]]) }).decisions[0]!;
    expect(d.reason).toMatch(/the 2 starting kept/);
    expect(d.predicted).toBeDefined();
    expect(Math.round(d.predicted!.ttftMs)).toBe(stated(d)!.ttftMs);
  });

  it('has none where no share was sized or saturation decided', () => {
    const e = createSloEngine();
    const idle = e.decide(model({ load: { ...SLO_TEST_LOAD, arrivalRate: 0 } }));
    expect(idle.engine).toBe('slo-queueing');
    expect(idle.decisions[0]!.predicted).toBeUndefined();

    const slow = { ...PROFILE, alpha: 40 };
    const mixed = e.decide(
      model({
        variants: [variant('fast', 10, 2), variant('slow', 5, 3, { profile: slow })],
        load: { ...SLO_TEST_LOAD, arrivalRate: 6000 },
      }),
    );
    const by = new Map(mixed.decisions.map((x) => [x.variantName, x]));
    expect(by.get('slow')!.reason).toMatch(/no replica count of slow meets the SLO/);
    expect(by.get('slow')!.predicted).toBeUndefined();
    const fast = by.get('fast')!;
    expect(fast.predicted).toBeDefined();
    expect(Math.round(fast.predicted!.ttftMs)).toBe(stated(fast)!.ttftMs);

    const noSlo = e.decide(model({ slo: null }));
    expect(noSlo.engine).toBe('saturation-v1');
    expect(noSlo.decisions.every((x) => x.predicted === undefined)).toBe(true);
  });
});
