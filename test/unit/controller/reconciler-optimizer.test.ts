// The reconciler with an optimizer: the decision goes into the same status write as currentAlloc,
// is computed once per reconcile, sees the other variants of the model, and a failing optimizer
// never stops currentAlloc.
import { describe, expect, it } from 'vitest';
import type { DecisionInput, VariantOptimizer } from '../../../src/controller/decision.js';
import { LocalSource } from '../../../src/controller/local.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { cycleDriver } from '../../support/cycles.js';
import { deploymentObject, vaObject, variant } from '../../support/variants.js';

const read: MetricsRead = {
  metrics: {
    load: { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 50 },
    ttftAverage: 90,
    itlAverage: 20,
  },
  availability: { available: true, reason: 'MetricsFound', message: 'found' },
};
const collector = { read: async () => read };

function source() {
  const s = new LocalSource();
  s.load({
    variants: [
      vaObject('prod', 'a', 'm1'),
      vaObject('prod', 'b', 'm1'),
      vaObject('prod', 'c', 'm2'),
      vaObject('dev', 'd', 'm1'),
    ],
    deployments: ['a', 'b', 'c'].map((n) => deploymentObject('prod', n, 2)),
  });
  return s;
}

type Seen = Pick<DecisionInput, 'va' | 'group'>;

function optimizer(decide: (i: Seen) => ReturnType<VariantOptimizer['decide']>) {
  const calls: Seen[] = [];
  return {
    calls,
    o: {
      beginCycle: () => {},
      prepare: async () => {},
      decide: (i: Seen) => {
        calls.push(i);
        return decide(i);
      },
    } as unknown as VariantOptimizer,
  };
}

describe('Reconciler with an optimizer', () => {
  it('writes desiredOptimizedAlloc with currentAlloc, once per object, with the model group of its namespace', async () => {
    const s = source();
    const opt = optimizer(() => ({
      ok: true,
      reason: 'OptimizationSucceeded',
      message: '3 replica(s) of A100',
      accelerator: 'A100',
      numReplicas: 3,
      recommended: 3,
      allocation: {} as never,
      slo: {},
      sloSource: 'x',
    }));
    const driver = cycleDriver({ source: s, writer: s, collector, optimizer: opt.o, now: () => new Date(0) });
    const cycle = await driver.runCycle();
    expect(cycle.results.map((x) => x.outcome)).toEqual(['written', 'written', 'written', 'written']);
    expect(opt.calls).toHaveLength(4);
    const groupOf = (name: string) =>
      opt.calls
        .find((c) => c.va.metadata.name === name)
        ?.group.map((m) => m.va.metadata.name)
        .sort();
    expect(groupOf('a')).toEqual(['a', 'b']);
    expect(groupOf('c')).toEqual(['c']);
    expect(groupOf('d')).toEqual(['d']);
    const st = s.getVariant('prod', 'a')?.status;
    expect(st?.desiredOptimizedAlloc).toEqual({
      accelerator: 'A100',
      numReplicas: 3,
      lastRunTime: '1970-01-01T00:00:00Z',
    });
    expect(st?.currentAlloc?.numReplicas).toBe(2);
    expect(st?.conditions?.find((c) => c.type === 'OptimizationReady')?.status).toBe('True');
  });

  it('an invalid spec: OptimizationReady=False (InvalidProfile) instead of a stale True', async () => {
    const s = new LocalSource();
    const bad = variant('prod', 'x', 'm1', { spec: { modelID: 'm1', modelProfile: { accelerators: [] } } });
    s.load({ variants: [bad as unknown as VariantAutoscaling], deployments: [] });
    const opt = optimizer(() => {
      throw new Error('not called for an invalid spec');
    });
    const r = new Reconciler({ source: s, writer: s, collector, optimizer: opt.o });
    await r.reconcile('prod/x');
    expect(opt.calls).toHaveLength(0);
    const conds = s.getVariant('prod', 'x')?.status?.conditions ?? [];
    expect(conds.find((c) => c.type === 'Reconciled')?.reason).toBe('InvalidSpec');
    expect(conds.find((c) => c.type === 'OptimizationReady')).toMatchObject({
      status: 'False',
      reason: 'InvalidProfile',
    });
  });

  it('an optimizer that throws: OptimizationFailed, and currentAlloc is still written', async () => {
    const s = source();
    const opt = optimizer(() => {
      throw new Error('boom');
    });
    const r = new Reconciler({ source: s, writer: s, collector, optimizer: opt.o });
    const res = await r.reconcile('prod/a');
    expect(res.outcome).toBe('written');
    const st = s.getVariant('prod', 'a')?.status;
    expect(st?.currentAlloc?.numReplicas).toBe(2);
    expect(st?.desiredOptimizedAlloc).toBeUndefined();
    expect(st?.conditions?.find((c) => c.type === 'OptimizationReady')).toMatchObject({
      status: 'False',
      reason: 'OptimizationFailed',
      message: 'optimizer failed: boom',
    });
  });
});
