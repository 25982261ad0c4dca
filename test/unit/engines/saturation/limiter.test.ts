import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocateGreedyBySaturation,
  createTypeAllocator,
  type GpuAllocator,
  gpuInventory,
  limitDecisions,
  normalizeAcceleratorName,
  type VariantDecision,
} from '../../../../src/engines/saturation/index.js';
import { decision } from './builders.js';

describe('normalizeAcceleratorName', () => {
  it.each([
    ['A100', 'A100'],
    ['NVIDIA-A100-PCIE-80GB', 'A100'],
    ['nvidia-h100', 'h100'],
    ['AMD-MI300X-192G', 'MI300X'],
    ['Intel-Gaudi-2-96GB', 'Gaudi-2'],
    ['INTEL-Max', 'Max'],
    ['Google-TPU-v5e', 'TPU'],
    ['-x', 'x'],
    ['L4-', ''],
    ['', ''],
  ])('%s -> %s', (input, out) => {
    expect(normalizeAcceleratorName(input)).toBe(out);
  });
});

describe('gpuInventory', () => {
  const nodes = {
    n1: { 'NVIDIA-A100-SXM4-80GB': { count: 8 }, 'NVIDIA-L4': { count: 2 } },
    n2: { A100: { count: 4 } },
  };

  it('sums GPUs per normalised type over every node', () => {
    expect(gpuInventory(nodes)).toEqual({
      limitByType: { A100: 12, L4: 2 },
      usedByType: {},
      availableByType: { A100: 12, L4: 2 },
      totalLimit: 14,
      totalUsed: 0,
      totalAvailable: 14,
    });
  });

  it('takes used GPUs away per type, never below 0, and counts used types the nodes lack', () => {
    const used = { A100: 13, H100: 2 };
    const inv = gpuInventory(nodes, used);
    expect(inv.availableByType).toEqual({ A100: 0, L4: 2 });
    expect(inv.totalUsed).toBe(15);
    expect(inv.totalAvailable).toBe(0);
    expect(inv.usedByType).toEqual(used);
    expect(inv.usedByType).not.toBe(used);
  });

  it('is empty without nodes', () => {
    expect(gpuInventory({})).toMatchObject({ limitByType: {}, totalLimit: 0, totalAvailable: 0 });
  });
});

describe('createTypeAllocator', () => {
  it('grants from the pool of the decision accelerator, up to what is left', () => {
    const a = createTypeAllocator({ A100: 5, L4: 2 });
    expect(a.remaining()).toBe(7);
    expect(a.tryAllocate(decision('x', { acceleratorName: 'A100' }), 3)).toBe(3);
    expect(a.remainingForType('A100')).toBe(2);
    expect(a.tryAllocate(decision('x', { acceleratorName: 'A100' }), 4)).toBe(2);
    expect(a.tryAllocate(decision('x', { acceleratorName: 'A100' }), 1)).toBe(0);
    expect(a.remaining()).toBe(2);
    expect(a.remainingForType('L4')).toBe(2);
    expect(a.remainingForType('H100')).toBe(0);
  });

  it('grants nothing for an unknown type or a non-positive request, and throws without an accelerator', () => {
    const a = createTypeAllocator({ A100: 5 });
    expect(a.tryAllocate(decision('x', { acceleratorName: 'NVIDIA-A100-80GB' }), 2)).toBe(0);
    expect(a.tryAllocate(decision('x', { acceleratorName: '' }), 0)).toBe(0);
    expect(() => a.tryAllocate(decision('x', { acceleratorName: '' }), 1)).toThrow(/ns\/x/);
    expect(a.remaining()).toBe(5);
  });

  it('does not keep a reference to the map it was given', () => {
    const avail = { A100: 5 };
    createTypeAllocator(avail).tryAllocate(decision('x'), 5);
    expect(avail).toEqual({ A100: 5 });
  });
});

function up(
  name: string,
  current: number,
  target: number,
  over: Partial<VariantDecision> = {},
): VariantDecision {
  return decision(name, { currentReplicas: current, targetReplicas: target, action: 'scale-up', ...over });
}

describe('allocateGreedyBySaturation', () => {
  it('serves the least spare capacity first, then the lowest cost', () => {
    const ds = [
      up('roomy', 1, 3, { spareCapacity: 0.5, cost: 1 }),
      up('tight-dear', 1, 3, { spareCapacity: 0.1, cost: 20 }),
      up('tight-cheap', 1, 3, { spareCapacity: 0.1, cost: 5 }),
    ];
    const out = allocateGreedyBySaturation(ds, createTypeAllocator({ A100: 3 }));
    expect(out.map((d) => [d.variantName, d.targetReplicas, d.gpusAllocated, d.wasLimited])).toEqual([
      ['roomy', 1, 0, true],
      ['tight-dear', 2, 1, true],
      ['tight-cheap', 3, 2, false],
    ]);
  });

  it('keeps ties in input order', () => {
    const ds = [up('b', 0, 1), up('a', 0, 1)];
    const out = allocateGreedyBySaturation(ds, createTypeAllocator({ A100: 1 }));
    expect(out.map((d) => d.targetReplicas)).toEqual([1, 0]);
  });

  it('grants whole replicas of several GPUs, the remainder staying consumed', () => {
    const a = createTypeAllocator({ A100: 3 });
    const out = allocateGreedyBySaturation([up('x', 1, 3, { gpusPerReplica: 2 })], a);
    expect(out[0]).toMatchObject({ targetReplicas: 2, gpusAllocated: 2, wasLimited: true });
    expect(a.remaining()).toBe(0);
  });

  it('counts a replica without GPUs per replica as one GPU', () => {
    const out = allocateGreedyBySaturation(
      [up('x', 0, 2, { gpusPerReplica: 0 })],
      createTypeAllocator({ A100: 5 }),
    );
    expect(out[0]).toMatchObject({ targetReplicas: 2, gpusAllocated: 2, wasLimited: false });
  });

  it('treats an allocator error as no grant', () => {
    const out = allocateGreedyBySaturation(
      [up('x', 1, 2, { acceleratorName: '' })],
      createTypeAllocator({ A100: 5 }),
    );
    expect(out[0]).toMatchObject({ targetReplicas: 1, gpusAllocated: 0, wasLimited: true });
  });

  it('leaves holds and scale-downs untouched, and never mutates its input', () => {
    const ds = [
      decision('down', { currentReplicas: 3, targetReplicas: 1, action: 'scale-down' }),
      up('x', 1, 2),
    ];
    const before = structuredClone(ds);
    const out = allocateGreedyBySaturation(ds, createTypeAllocator({}));
    expect(ds).toEqual(before);
    expect(out[0]).toEqual(ds[0]);
    expect(out[0]).not.toBe(ds[0]);
  });
});

describe('limitDecisions', () => {
  it('returns no decisions as they are', () => {
    const ds: VariantDecision[] = [];
    const r = limitDecisions('gpu-limiter', { A100: 4 }, ds);
    expect(r.decisions).toBe(ds);
    expect(r.usedByType).toEqual({});
  });

  it('subtracts GPUs held by current replicas, cuts scale-ups and records a step on every decision', () => {
    const ds = [
      up('a', 2, 4, { gpusPerReplica: 2, spareCapacity: 0.01 }),
      up('b', 1, 2, { acceleratorName: 'L4', gpusPerReplica: 1 }),
      decision('c', { currentReplicas: 1, targetReplicas: 1, gpusPerReplica: 2 }),
      decision('d', { acceleratorName: '', currentReplicas: 5, targetReplicas: 5, gpusPerReplica: 1 }),
    ];
    const r = limitDecisions('gpu-limiter', { A100: 9, L4: 4 }, ds);
    // A100: 9 - (2*2 + 1*2) = 3 free -> a needs 4, gets 3 -> +1 replica (2 GPUs).
    expect(r.usedByType).toEqual({ A100: 6, L4: 1 });
    const [a, b, c, d] = r.decisions;
    expect(a).toMatchObject({
      targetReplicas: 3,
      gpusAllocated: 2,
      wasLimited: true,
      limitedBy: 'gpu-limiter',
    });
    expect(a!.decisionSteps).toEqual([
      {
        name: 'gpu-limiter',
        action: 'scale-up',
        targetReplicas: 3,
        reason: 'limited: allocated 2 GPUs for +1 replicas',
        wasConstrained: true,
      },
    ]);
    expect(b).toMatchObject({ targetReplicas: 2, wasLimited: false, limitedBy: '' });
    expect(b!.decisionSteps[0]!.reason).toBe('allocated 1 GPUs for +1 replicas');
    expect(c!.decisionSteps[0]).toMatchObject({
      reason: 'no scale-up (target=1, current=1)',
      action: 'no-change',
      wasConstrained: false,
    });
    expect(d!.decisionSteps).toHaveLength(1);
  });

  it('keeps the action of a scale-up cut to nothing', () => {
    const r = limitDecisions('gpu-limiter', { A100: 1 }, [up('a', 1, 2)]);
    expect(r.decisions[0]).toMatchObject({ action: 'scale-up', targetReplicas: 1, wasLimited: true });
    expect(r.decisions[0]!.decisionSteps[0]).toMatchObject({
      action: 'scale-up',
      reason: 'no scale-up (target=1, current=1)',
      wasConstrained: true,
    });
  });

  it('looks the decision accelerator up as written (a product name finds no normalised pool)', () => {
    const r = limitDecisions('gpu-limiter', { A100: 8 }, [
      up('a', 0, 1, { acceleratorName: 'NVIDIA-A100-80GB' }),
    ]);
    expect(r.decisions[0]).toMatchObject({ targetReplicas: 0, wasLimited: true });
  });

  it('appends to earlier steps without touching the input decisions', () => {
    const step = {
      name: 'saturation',
      action: 'scale-up' as const,
      targetReplicas: 2,
      reason: 'r',
      wasConstrained: false,
    };
    const ds = [up('a', 1, 2, { decisionSteps: [step] })];
    const before = structuredClone(ds);
    const r = limitDecisions('gpu-limiter', { A100: 8 }, ds);
    expect(ds).toEqual(before);
    expect(r.decisions[0]!.decisionSteps.map((s) => s.name)).toEqual(['saturation', 'gpu-limiter']);
  });

  it('never grants more GPUs than are free, never lowers a target below current', () => {
    const arb = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd'),
      acc: fc.constantFrom('A100', 'L4', ''),
      cur: fc.integer({ min: 0, max: 5 }),
      delta: fc.integer({ min: -2, max: 4 }),
      gpr: fc.integer({ min: 0, max: 4 }),
      spare: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(arb, { maxLength: 6 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        (xs, a100, l4) => {
          const ds = xs.map((x) =>
            decision(x.name, {
              acceleratorName: x.acc,
              currentReplicas: x.cur,
              targetReplicas: Math.max(0, x.cur + x.delta),
              gpusPerReplica: x.gpr,
              spareCapacity: x.spare,
            }),
          );
          const r = limitDecisions('l', { A100: a100, L4: l4 }, ds);
          let granted = 0;
          r.decisions.forEach((d, i) => {
            const orig = ds[i]!;
            if (orig.targetReplicas > orig.currentReplicas) {
              expect(d.targetReplicas).toBeGreaterThanOrEqual(orig.currentReplicas);
              expect(d.targetReplicas).toBeLessThanOrEqual(orig.targetReplicas);
              granted += d.gpusAllocated;
            } else {
              expect(d.targetReplicas).toBe(orig.targetReplicas);
            }
            expect(d.decisionSteps.at(-1)!.name).toBe('l');
          });
          expect(granted).toBeLessThanOrEqual(a100 + l4);
        },
      ),
    );
  });
});

describe('GpuAllocator contract', () => {
  it('a custom allocator is called with GPUs for the whole scale-up', () => {
    const calls: number[] = [];
    const a: GpuAllocator = {
      tryAllocate: (_d, g) => {
        calls.push(g);
        return g;
      },
      remaining: () => 0,
    };
    allocateGreedyBySaturation([up('x', 1, 4, { gpusPerReplica: 2 })], a);
    expect(calls).toEqual([6]);
  });
});
