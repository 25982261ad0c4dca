// Saturation V1 as a floor for the model as a whole: what it lifts, what it leaves, and why.
import { describe, expect, it } from 'vitest';
import { modelFloor } from '../../../../src/engines/slo/floor.js';
import type { ScalingDecision } from '../../../../src/engines/types.js';

function d(variantName: string, cost: number, current: number, target: number): ScalingDecision {
  return {
    variantName,
    namespace: 'ns',
    modelId: 'm',
    engine: 'slo-queueing',
    acceleratorName: variantName,
    currentReplicas: current,
    targetReplicas: target,
    action: target > current ? 'scale-up' : target < current ? 'scale-down' : 'no-change',
    reason: '',
    steps: [],
    cost,
    gpusPerReplica: 1,
    spareCapacity: 0,
  };
}

const targets = (ds: ScalingDecision[]) => ds.map((x) => x.targetReplicas);

describe('modelFloor', () => {
  it('lifts a single variant exactly to saturation V1, naming both counts', () => {
    const out = modelFloor([d('a', 10, 2, 1)], new Map([['a', 3]]), new Map([['a', 2]]));
    expect(targets(out)).toEqual([3]);
    expect(out[0]!.steps.at(-1)).toMatchObject({ name: 'SaturationSafetyOverride', wasConstrained: true });
    expect(out[0]!.steps.at(-1)!.reason).toMatch(
      /slo-queueing wanted 1 replicas, saturation V1 keeps 3: kept 3/,
    );
  });

  it('lets the model scale down when V1 removes from one variant and the SLO engine from another', () => {
    // V1 drops the dear variant first, the SLO engine keeps it: per variant each would hold the
    // other's count for ever. Counted for the model, it goes down by V1's one replica.
    const out = modelFloor(
      [d('dear', 20, 2, 2), d('cheap', 10, 5, 1)],
      new Map([
        ['dear', 1],
        ['cheap', 5],
      ]),
      new Map([
        ['dear', 2],
        ['cheap', 5],
      ]),
    );
    expect(targets(out)).toEqual([2, 4]);
    expect(out[0]!.steps.at(-1)!.wasConstrained).toBe(false);
    expect(out[0]!.steps.at(-1)!.reason).toMatch(/below saturation's 1|at least saturation's 1/);
  });

  it('does not count replicas asked for but not serving: a switch of variant keeps the old ones', () => {
    // The SLO engine moves the load from a to b at once; b's new pods serve minutes later.
    const out = modelFloor(
      [d('a', 10, 6, 1), d('b', 5, 1, 8)],
      new Map([
        ['a', 6],
        ['b', 1],
      ]),
      new Map([
        ['a', 6],
        ['b', 1],
      ]),
    );
    expect(targets(out)).toEqual([6, 8]);
  });

  it('leaves decisions at or above V1 alone, and variants V1 says nothing of', () => {
    const out = modelFloor(
      [d('a', 10, 2, 4), d('b', 5, 1, 1)],
      new Map([['a', 2]]),
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    expect(targets(out)).toEqual([4, 1]);
    expect(out[1]!.steps.at(-1)!.reason).toBe('no saturation target for this variant');
  });

  it('makes up a shortfall on the cheapest replicas first, each at most to V1’s count', () => {
    const out = modelFloor(
      [d('dear', 20, 3, 0), d('cheap', 5, 3, 0)],
      new Map([
        ['dear', 3],
        ['cheap', 2],
      ]),
      new Map([
        ['dear', 3],
        ['cheap', 3],
      ]),
    );
    expect(targets(out)).toEqual([3, 2]);
  });
});
