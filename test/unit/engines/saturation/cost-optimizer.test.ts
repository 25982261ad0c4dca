import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnalyzerResult,
  costAwareOptimize,
  type ModelScalingRequest,
  type VariantCapacity,
} from '../../../../src/engines/saturation/index.js';
import { state } from './builders.js';

function cap(
  variantName: string,
  cost: number,
  perReplicaCapacity: number,
  over: Partial<VariantCapacity> = {},
) {
  return {
    variantName,
    acceleratorName: `acc-${variantName}`,
    cost,
    replicaCount: 0,
    pendingReplicas: 0,
    perReplicaCapacity,
    totalCapacity: 0,
    totalDemand: 0,
    utilization: 0,
    ...over,
  } satisfies VariantCapacity;
}

function result(caps: VariantCapacity[], requiredCapacity: number, spareCapacity: number): AnalyzerResult {
  return {
    analyzerName: 'saturation-token-based',
    modelId: 'm',
    namespace: 'ns',
    analyzedAt: 0,
    variantCapacities: caps,
    totalSupply: 0,
    totalDemand: 0,
    utilization: 0,
    requiredCapacity,
    spareCapacity,
  };
}

function request(r: AnalyzerResult | null, states = [state('a', 1), state('b', 1)]): ModelScalingRequest {
  return { modelId: 'm', namespace: 'ns', result: r, variantStates: states };
}

const targetsOf = (req: ModelScalingRequest) =>
  Object.fromEntries(costAwareOptimize([req]).map((d) => [d.variantName, d.targetReplicas]));

describe('costAwareOptimize', () => {
  it('yields nothing for a request without an analysis', () => {
    expect(costAwareOptimize([request(null)])).toEqual([]);
    expect(costAwareOptimize([])).toEqual([]);
  });

  it('buys required capacity from the lowest cost per token first, in whole replicas', () => {
    // a: 10 per 1000 tokens = 0.01/token; b: 15 per 3000 = 0.005/token, so b first.
    const r = result([cap('a', 10, 1000), cap('b', 15, 3000)], 7000, 0);
    const ds = costAwareOptimize([request(r)]);
    expect(ds.map((d) => [d.variantName, d.targetReplicas, d.action])).toEqual([
      ['a', 1, 'no-change'],
      ['b', 4, 'scale-up'],
    ]);
    expect(ds[1]).toMatchObject({
      modelId: 'm',
      namespace: 'ns',
      acceleratorName: 'acc-b',
      cost: 15,
      currentReplicas: 1,
      reason: 'V2 scale-up (optimizer: cost-aware, required: 7000)',
      gpusPerReplica: 0,
      spareCapacity: 0,
      gpusAllocated: 0,
      wasLimited: false,
      limitedBy: '',
      decisionSteps: [],
    });
    expect(ds[0]!.reason).toBe('V2 steady state');
  });

  it('skips variants without capacity and adds a variant not in the states to the end', () => {
    const r = result([cap('zero', 0, 0), cap('new', 5, 100)], 150, 0);
    const ds = costAwareOptimize([request(r, [state('zero', 1)])]);
    expect(ds.map((d) => [d.variantName, d.currentReplicas, d.targetReplicas, d.action])).toEqual([
      ['zero', 1, 1, 'no-change'],
      ['new', 0, 2, 'scale-up'],
    ]);
  });

  it('does not skip variants with pending replicas on scale-up', () => {
    const r = result([cap('a', 1, 100, { pendingReplicas: 2 })], 50, 0);
    expect(targetsOf(request(r, [state('a', 3, { pendingReplicas: 2 })]))).toEqual({ a: 4 });
  });

  it('keeps cost-efficiency ties in analyser order', () => {
    const r = result([cap('b', 2, 200), cap('a', 1, 100)], 100, 0);
    expect(targetsOf(request(r))).toEqual({ a: 1, b: 2 });
  });

  it('rounds the reason figures as Go %.0f does (ties to even)', () => {
    const up = costAwareOptimize([request(result([cap('a', 1, 1000)], 2.5, 0), [state('a', 1)])]);
    expect(up[0]!.reason).toBe('V2 scale-up (optimizer: cost-aware, required: 2)');
    const down = costAwareOptimize([request(result([cap('a', 1, 1)], 0, 3.5), [state('a', 5)])]);
    expect(down[0]!.reason).toBe('V2 scale-down (optimizer: cost-aware, spare: 4)');
  });

  it('gives spare capacity back from the most expensive variant first, whole replicas only', () => {
    const r = result([cap('cheap', 5, 1000), cap('dear', 20, 1000)], 0, 2500);
    const ds = costAwareOptimize([request(r, [state('cheap', 3), state('dear', 3)])]);
    expect(ds.map((d) => [d.variantName, d.targetReplicas, d.action])).toEqual([
      ['cheap', 3, 'no-change'],
      ['dear', 1, 'scale-down'],
    ]);
    expect(ds[1]!.reason).toBe('V2 scale-down (optimizer: cost-aware, spare: 2500)');
  });

  it('moves on to cheaper variants when the dearer one cannot give enough', () => {
    const r = result([cap('cheap', 5, 100), cap('dear', 20, 1000)], 0, 1350);
    // dear: floor(1350/1000)=1 of 1 -> 0, remaining 350; cheap: 3 replicas and no other serving -> floor 1.
    expect(targetsOf(request(r, [state('cheap', 4), state('dear', 1)]))).toEqual({ cheap: 1, dear: 0 });
  });

  it('keeps one replica of the cheapest variant only when no other variant keeps any', () => {
    const r = result([cap('cheap', 5, 100), cap('dear', 20, 10_000)], 0, 1000);
    // The dear variant's replica is more than the spare, so it stays and the cheapest may reach 0.
    expect(targetsOf(request(r, [state('cheap', 2), state('dear', 1)]))).toEqual({ cheap: 0, dear: 1 });
    const alone = result([cap('cheap', 5, 100)], 0, 1000);
    expect(targetsOf(request(alone, [state('cheap', 4)]))).toEqual({ cheap: 1 });
  });

  it('picks the first of equally cheap variants as the protected one', () => {
    const r = result([cap('x', 5, 100), cap('y', 5, 100)], 0, 10_000);
    // Both removable; y keeps nothing once x... x is processed first (stable), then y sees x at 0.
    expect(targetsOf(request(r, [state('x', 2), state('y', 2)]))).toEqual({ x: 0, y: 0 });
    const xOnly = result([cap('x', 5, 100), cap('y', 5, 100)], 0, 10_000);
    expect(targetsOf(request(xOnly, [state('x', 2), state('y', 0)]))).toEqual({ x: 1, y: 0 });
  });

  it('keeps targets at current when neither capacity is asked nor spare', () => {
    const r = result([cap('a', 5, 100)], 0, 0);
    const ds = costAwareOptimize([request(r, [state('a', 2), state('orphan', 3)])]);
    expect(ds.map((d) => [d.variantName, d.targetReplicas, d.acceleratorName, d.cost, d.reason])).toEqual([
      ['a', 2, 'acc-a', 5, 'V2 steady state'],
      ['orphan', 3, '', 0, 'V2 steady state'],
    ]);
  });

  it('decides each request on its own, in order', () => {
    const one = { ...request(result([cap('a', 1, 10)], 15, 0), [state('a', 1)]), modelId: 'one' };
    const two = { ...request(result([cap('b', 1, 10)], 0, 0), [state('b', 2)]), modelId: 'two' };
    const ds = costAwareOptimize([one, request(null), two]);
    expect(ds.map((d) => [d.modelId, d.variantName, d.targetReplicas])).toEqual([
      ['one', 'a', 3],
      ['two', 'b', 2],
    ]);
  });

  it('never returns negative targets, meets required capacity, and leaves its input alone', () => {
    const capArb = fc
      .tuple(
        fc.constantFrom('a', 'b', 'c'),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 5000 }),
      )
      .map(([n, c, p]) => cap(n, c, p));
    fc.assert(
      fc.property(
        fc.uniqueArray(capArb, { maxLength: 3, selector: (c) => c.variantName }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 8 })), { maxLength: 3 }),
        fc.double({ min: 0, max: 50_000, noNaN: true }),
        fc.boolean(),
        (caps, sts, amount, up) => {
          const req = request(
            result(caps, up ? amount : 0, up ? 0 : amount),
            sts.map(([n, c]) => state(n, c)),
          );
          const before = structuredClone(req);
          const ds = costAwareOptimize([req]);
          expect(req).toEqual(before);
          expect(costAwareOptimize([req])).toEqual(ds);
          for (const d of ds) expect(d.targetReplicas).toBeGreaterThanOrEqual(0);
          if (up && caps.some((c) => c.perReplicaCapacity > 0)) {
            const perName = new Map(caps.map((c) => [c.variantName, c.perReplicaCapacity]));
            const added = ds.reduce(
              (s, d) => s + (d.targetReplicas - d.currentReplicas) * (perName.get(d.variantName) ?? 0),
              0,
            );
            expect(added).toBeGreaterThanOrEqual(amount - 1e-6);
          }
        },
      ),
    );
  });
});
