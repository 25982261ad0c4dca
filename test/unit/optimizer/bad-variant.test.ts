// One variant whose profile cannot be sized is refused alone: the model's other variants are still
// sized, and the refusal names the accelerator and what is wrong, up to the status condition.
import { describe, expect, it } from 'vitest';
import { decideVariant, type GroupMember } from '../../../src/controller/decision.js';
import { OptimizerConfigStore } from '../../../src/controller/optimizer-config.js';
import { computeStatus, type MetricsRead } from '../../../src/controller/status.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { type GroupVariant, SizingMemo, sizeGroup } from '../../../src/optimizer/index.js';
import { Stabiliser } from '../../../src/optimizer/stabilize.js';

const GOOD = { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 };
const ZERO = { alpha: 0, beta: 0, gamma: 0, delta: 0, maxBatchSize: 4 };
const load = { arrivalRate: 600, avgInputTokens: 128, avgOutputTokens: 256 };
const slo = { ttftMs: 500, itlMs: 24 };
const costs = { A100: 35, H100: 70 };

function variant(key: string, options: GroupVariant['options']): GroupVariant {
  return { key, options, slo, minReplicas: 1 };
}

describe('sizeGroup: a profile that cannot be sized', () => {
  it('refuses that variant as InvalidProfile, naming the accelerator and the request shape; sizes the others', () => {
    const out = sizeGroup(
      [
        variant('prod/good', [{ acc: 'A100', accCount: 1, profile: GOOD }]),
        variant('prod/bad', [{ acc: 'H100', accCount: 1, profile: ZERO }]),
      ],
      load,
      costs,
      new SizingMemo(),
    );
    const good = out.get('prod/good');
    expect(good?.ok).toBe(true);
    // The refused variant carries none of the load: the good one is sized for all of it.
    if (good?.ok) expect(good.allocation.assignedRate).toBeCloseTo(10, 9);
    const bad = out.get('prod/bad');
    expect(bad).toMatchObject({ ok: false, reason: 'InvalidProfile' });
    if (bad && !bad.ok) {
      expect(bad.message).toMatch(
        /^the profile for H100 cannot be sized for 128 input and 256 output tokens/,
      );
      expect(bad.message).toMatch(/no service time/);
    }
  });

  it('a bad accelerator beside a good one in the same variant is left out, and said so', () => {
    const out = sizeGroup(
      [
        variant('prod/mixed', [
          { acc: 'H100', accCount: 1, profile: ZERO },
          { acc: 'A100', accCount: 1, profile: GOOD },
        ]),
      ],
      load,
      costs,
    );
    const mixed = out.get('prod/mixed');
    expect(mixed?.ok).toBe(true);
    if (mixed?.ok) {
      expect(mixed.allocation.accelerator).toBe('A100');
      expect(mixed.allocation.notChosen.join(' ')).toMatch(/H100 \(profile refused: .*no service time/);
    }
  });
});

const accOf = (name: string, p: typeof GOOD) => ({
  acc: name,
  accCount: 1,
  maxBatchSize: p.maxBatchSize,
  perfParms: {
    decodeParms: { alpha: String(p.alpha), beta: String(p.beta) },
    prefillParms: { gamma: String(p.gamma), delta: String(p.delta) },
  },
});

function va(name: string, acc: ReturnType<typeof accOf>): VariantAutoscaling {
  return {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: { name, namespace: 'prod', resourceVersion: '1' },
    spec: {
      modelID: 'llama',
      sloClassRef: { name: 'premium', key: 'llama' },
      modelProfile: { accelerators: [acc] },
    },
  } as VariantAutoscaling;
}

describe('decideVariant: a variant whose profile is all "0"', () => {
  const store = new OptimizerConfigStore({ namespace: 'wva' });
  store.setServiceClasses({
    'premium.yaml':
      'name: Premium\npriority: 1\ndata:\n  - model: llama\n    slo-tpot: 24\n    slo-ttft: 500\n',
  });
  store.setUnitCosts({
    A100: '{ "device": "a", "cost": "35.00" }',
    H100: '{ "device": "h", "cost": "70.00" }',
  });
  const read = {
    metrics: { load, ttftAverage: 100, itlAverage: 20 },
    availability: { available: true, reason: 'MetricsFound', message: 'found' },
  } as MetricsRead;
  const good = va('good', accOf('A100', GOOD));
  const bad = va('bad', accOf('H100', ZERO));
  const group: GroupMember[] = [{ va: good }, { va: bad }];
  const now = new Date('2026-06-01T12:00:00Z');
  const decide = (v: VariantAutoscaling) =>
    decideVariant({
      va: v,
      read,
      group,
      config: store,
      now,
      stabiliser: new Stabiliser(300_000),
      kvCacheThreshold: 0.9,
    });

  it('the good variant is sized for the whole load; the bad one alone is refused in its condition', () => {
    const g = decide(good);
    expect(g.ok).toBe(true);
    if (g.ok) expect(g.allocation.assignedRate).toBeCloseTo(10, 9);
    const b = decide(bad);
    expect(b).toMatchObject({ ok: false, reason: 'InvalidProfile' });
    const status = computeStatus({
      va: bad,
      specProblems: [],
      deployment: undefined,
      read,
      now,
      decision: b,
    });
    const ready = status.conditions?.find((c) => c.type === 'OptimizationReady');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidProfile' });
    expect(ready?.message).toMatch(/profile for H100 cannot be sized .*no service time/);
  });
});
