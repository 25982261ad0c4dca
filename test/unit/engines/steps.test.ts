// The shared stages after an engine: each appends one step, and the message is rendered from them.
import { describe, expect, it } from 'vitest';
import {
  applyBounds,
  limitFleet,
  MAX_REPLICAS,
  renderDecisionMessage,
  saturationFloor,
  scaleToZeroStage,
} from '../../../src/engines/steps.js';
import type { ModelDecision, ScalingDecision } from '../../../src/engines/types.js';

const decision = (over: Partial<ScalingDecision> = {}): ScalingDecision => ({
  variantName: 'v',
  namespace: 'ns',
  modelId: 'm',
  engine: 'slo-queueing',
  acceleratorName: 'A100',
  currentReplicas: 2,
  targetReplicas: 2,
  action: 'no-change',
  reason: 'sized for the SLO',
  steps: [],
  cost: 10,
  gpusPerReplica: 1,
  spareCapacity: 0,
  ...over,
});

describe('saturationFloor', () => {
  it('never fewer than saturation V1 keeps; the message gives both', () => {
    const d = saturationFloor(decision({ targetReplicas: 1, action: 'scale-down' }), 3);
    expect(d).toMatchObject({ targetReplicas: 3, action: 'scale-up' });
    expect(d.steps).toEqual([
      {
        name: 'SaturationSafetyOverride',
        action: 'scale-up',
        targetReplicas: 3,
        reason: 'slo-queueing wanted 1 replicas, saturation V1 keeps 3: kept 3',
        wasConstrained: true,
      },
    ]);
    expect(renderDecisionMessage('head', d)).toBe(
      'head; SaturationSafetyOverride: slo-queueing wanted 1 replicas, saturation V1 keeps 3: kept 3',
    );
  });

  it('leaves a decision at or above the floor, and one with no saturation target, as it is', () => {
    const above = saturationFloor(decision({ targetReplicas: 4 }), 3);
    expect(above.targetReplicas).toBe(4);
    expect(above.steps[0]?.wasConstrained).toBe(false);
    expect(saturationFloor(decision(), undefined).targetReplicas).toBe(2);
    expect(renderDecisionMessage('head', above)).toBe('head');
  });

  it('does not change the decision it was given', () => {
    const d = decision({ targetReplicas: 1 });
    saturationFloor(d, 3);
    expect(d).toEqual(decision({ targetReplicas: 1 }));
  });
});

describe('applyBounds', () => {
  it.each([
    [{ min: 3 }, 1, 3, true],
    [{ max: 4 }, 9, 4, true],
    [{ min: 1, max: 4 }, 2, 2, false],
    [{}, 5_000_000_000, MAX_REPLICAS, true],
    [{}, -2, 0, true],
    [{ min: 5, max: 3 }, 1, 5, true],
  ])('%j: %d -> %d', (bounds, target, want, constrained) => {
    const d = applyBounds(decision({ targetReplicas: target }), bounds);
    expect(d.targetReplicas).toBe(want);
    expect(d.steps.at(-1)?.wasConstrained).toBe(constrained);
  });

  it('a target that is not a number keeps the current count', () => {
    expect(applyBounds(decision({ targetReplicas: Number.NaN }), {}).targetReplicas).toBe(2);
  });
});

describe('scaleToZeroStage', () => {
  it('keeps the cheapest variant at one replica when scale to zero is off and all would go', () => {
    const ds = [
      decision({ variantName: 'a', cost: 20, targetReplicas: 0 }),
      decision({ variantName: 'b', cost: 5, targetReplicas: 0 }),
    ];
    const r = scaleToZeroStage('m', ds, { config: {}, requestCount: 0, envDefault: false });
    expect(r.applied).toBe(true);
    expect(r.decisions.map((d) => d.targetReplicas)).toEqual([0, 1]);
    expect(r.decisions[1]?.steps.at(-1)).toMatchObject({ name: 'ScaleToZero', wasConstrained: true });
  });
});

describe('limitFleet', () => {
  const model = (id: string, d: ScalingDecision): ModelDecision => ({
    modelId: id,
    namespace: 'ns',
    engine: 'saturation-v1',
    decisions: [d],
    skipped: [],
    notes: [],
  });

  it('limits every model together: the most saturated scale-up gets the last GPU, the other is cut', () => {
    const a = model(
      'a',
      decision({ modelId: 'a', variantName: 'a', currentReplicas: 1, targetReplicas: 2, spareCapacity: 0.3 }),
    );
    const b = model(
      'b',
      decision({
        modelId: 'b',
        variantName: 'b',
        currentReplicas: 1,
        targetReplicas: 2,
        spareCapacity: 0.05,
      }),
    );
    // 3 A100s, 2 held by the current replicas: one left.
    const [la, lb] = limitFleet([a, b], { A100: 3 });
    expect(lb?.decisions[0]).toMatchObject({ targetReplicas: 2, action: 'scale-up' });
    expect(la?.decisions[0]).toMatchObject({ targetReplicas: 1, action: 'no-change' });
    expect(la?.decisions[0]?.steps.at(-1)).toEqual({
      name: 'GpuLimiter',
      action: 'no-change',
      targetReplicas: 1,
      reason: 'no scale-up (target=1, current=1)',
      wasConstrained: true,
    });
    // The inputs are untouched.
    expect(a.decisions[0]?.targetReplicas).toBe(2);
  });
});
