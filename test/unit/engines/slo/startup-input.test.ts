// The start-up a decision sizes the backlog ahead with, given per decision (the controller measures
// it per cycle): it wins over the engine's option, 0 turns the sizing ahead off, a bad one falls back.
import { describe, expect, it } from 'vitest';
import { createSloEngine, type SloModelInput } from '../../../../src/engines/slo/engine.js';
import { SLO_TEST_LOAD, sloModel, sloVariant } from '../../../support/slo-inputs.js';
import { TRUE } from './synthetic.js';

const PROFILE = { ...TRUE, maxBatchSize: 64 };
const model = (over: Partial<SloModelInput> = {}): SloModelInput =>
  sloModel({ load: { ...SLO_TEST_LOAD, arrivalRate: 20_000 }, waiting: 10, ...over }, () => [
    sloVariant('a100', 10, 2, { profile: PROFILE }),
  ]);

describe('startupMs on the decision', () => {
  it('overrides the option: a longer start-up sizes for a larger queue, 0 sizes for the queue now', () => {
    const now = createSloEngine().decide(model()).decisions[0]!;
    const short = createSloEngine({ startupMs: 0 }).decide(model({ startupMs: 30_000 })).decisions[0]!;
    const long = createSloEngine({ startupMs: 30_000 }).decide(model({ startupMs: 240_000 })).decisions[0]!;
    const off = createSloEngine({ startupMs: 240_000 }).decide(model({ startupMs: 0 })).decisions[0]!;
    expect(short.reason).toMatch(/expected waiting when new replicas serve \(10 now\)/);
    expect(long.targetReplicas).toBeGreaterThan(short.targetReplicas);
    expect(long.targetReplicas).toBeGreaterThan(now.targetReplicas);
    expect(off.targetReplicas).toBe(now.targetReplicas);
    expect(off.reason).not.toMatch(/expected waiting/);
  });

  it('a bad one falls back to saturation, naming it', () => {
    const bad = createSloEngine().decide(model({ startupMs: Number.NaN }));
    expect(bad.engine).toBe('saturation-v1');
    expect(bad.decisions[0]!.reason).toMatch(/startupMs NaN is not a number of milliseconds >= 0/);
  });
});
