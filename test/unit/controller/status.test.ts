import { describe, expect, it } from 'vitest';
import { computeStatus, deepEqual, formatDecimal, statusUnchanged } from '../../../src/controller/status.js';
import { findCondition, formatTime, setCondition } from '../../../src/kube/conditions.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { validateObject, validateSpec } from '../../../src/kube/types.js';
import type { MetricsAvailability } from '../../../src/types.js';
import { deploymentObject, vaObject, variant } from '../../support/variants.js';

const T0 = new Date('2025-01-01T00:00:00.123Z');
const T1 = new Date('2025-01-01T00:01:00Z');

const found: MetricsAvailability = {
  available: true,
  reason: 'MetricsFound',
  message: 'metrics found for m in ns',
};
const promDown: MetricsAvailability = {
  available: false,
  reason: 'PrometheusError',
  message: 'Prometheus unreachable for m in ns',
};
const metrics = {
  load: { arrivalRate: 120.456, avgInputTokens: 512, avgOutputTokens: 128.004 },
  ttftAverage: 45.678,
  itlAverage: 12.3,
};

function va(): VariantAutoscaling {
  const o = vaObject('ns', 'v1', 'm');
  o.metadata.generation = 3;
  return o;
}
const dep = deploymentObject('ns', 'v1', 2);

describe('formatDecimal / formatTime', () => {
  it('writes two decimals matching the CRD pattern, never negative, NaN or Inf', () => {
    expect(formatDecimal(120.456)).toBe('120.46');
    expect(formatDecimal(0)).toBe('0.00');
    expect(formatDecimal(-3)).toBe('0.00');
    expect(formatDecimal(Number.NaN)).toBe('0.00');
    expect(formatDecimal(Number.POSITIVE_INFINITY)).toBe('0.00');
    for (const n of [1e-9, 5, 1234567.891, 1e25]) expect(formatDecimal(n)).toMatch(/^\d+(\.\d+)?$/);
  });
  it('formats metav1.Time with seconds precision', () => {
    expect(formatTime(T0)).toBe('2025-01-01T00:00:00Z');
  });
});

describe('setCondition', () => {
  it('keeps lastTransitionTime while status stays, moves it when status changes', () => {
    let c = setCondition([], { type: 'X', status: 'True', reason: 'A', message: 'a' }, T0);
    expect(c[0]?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
    c = setCondition(c, { type: 'X', status: 'True', reason: 'B', message: 'b' }, T1);
    expect(c[0]).toMatchObject({ reason: 'B', message: 'b', lastTransitionTime: '2025-01-01T00:00:00Z' });
    c = setCondition(c, { type: 'X', status: 'False', reason: 'C', message: 'c' }, T1);
    expect(c[0]?.lastTransitionTime).toBe('2025-01-01T00:01:00Z');
    expect(c).toHaveLength(1);
  });
  it('leaves other conditions alone and does not mutate its input', () => {
    const other = {
      type: 'OptimizationReady',
      status: 'True' as const,
      reason: 'R',
      message: 'm',
      lastTransitionTime: 'x',
    };
    const input = [other];
    const out = setCondition(input, { type: 'X', status: 'True', reason: 'A', message: 'a' }, T0);
    expect(out[0]).toEqual(other);
    expect(input).toHaveLength(1);
  });
});

describe('computeStatus', () => {
  it('writes currentAlloc from the Deployment and metrics, CRD strings with two decimals', () => {
    const s = computeStatus({
      va: va(),
      specProblems: [],
      deployment: dep,
      read: { metrics, availability: found },
      now: T0,
    });
    expect(s.currentAlloc).toEqual({
      accelerator: 'A100',
      numReplicas: 2,
      maxBatch: 4,
      variantCost: '0.00',
      ttftAverage: '45.68',
      itlAverage: '12.30',
      load: { arrivalRate: '120.46', avgInputTokens: '512.00', avgOutputTokens: '128.00' },
    });
    const m = findCondition(s, 'MetricsAvailable');
    expect(m).toMatchObject({ status: 'True', reason: 'MetricsFound', observedGeneration: 3 });
    expect(findCondition(s, 'Reconciled')).toMatchObject({ status: 'True', reason: 'Reconciled' });
  });

  it('prices the variant with unit costs: unit * accCount * replicas', () => {
    const s = computeStatus({
      va: va(),
      specProblems: [],
      deployment: dep,
      read: { metrics, availability: found },
      now: T0,
      unitCosts: { A100: 40 },
    });
    expect(s.currentAlloc?.variantCost).toBe('80.00');
  });

  it("moves an engine's desired allocation's lastRunTime only when the allocation changes", () => {
    const engine = (numReplicas: number) => ({
      variantName: 'v1',
      desired: { numReplicas, accelerator: 'A100' },
      conditions: [],
    });
    const at = (v: VariantAutoscaling, now: Date, replicas: number) =>
      computeStatus({
        va: v,
        specProblems: [],
        deployment: dep,
        read: { metrics, availability: found },
        now,
        engine: engine(replicas),
      });
    const v = va();
    v.status = at(v, T0, 2);
    expect(v.status.desiredOptimizedAlloc).toEqual({
      accelerator: 'A100',
      numReplicas: 2,
      lastRunTime: formatTime(T0),
    });
    expect(at(v, T1, 2).desiredOptimizedAlloc?.lastRunTime).toBe(formatTime(T0));
    expect(at(v, T1, 3).desiredOptimizedAlloc).toEqual({
      accelerator: 'A100',
      numReplicas: 3,
      lastRunTime: formatTime(T1),
    });
  });

  /** A VariantAutoscaling whose status was written from found metrics at T0. */
  function previouslyFound(): VariantAutoscaling {
    const v = va();
    v.status = computeStatus({
      va: v,
      specProblems: [],
      deployment: dep,
      read: { metrics, availability: found },
      now: T0,
    });
    return v;
  }

  it('on PrometheusError keeps the last load and latencies instead of zeros', () => {
    const v = previouslyFound();
    const s = computeStatus({
      va: v,
      specProblems: [],
      deployment: dep,
      read: { availability: promDown },
      now: T1,
    });
    expect(s.currentAlloc?.ttftAverage).toBe('45.68');
    expect(s.currentAlloc?.load.arrivalRate).toBe('120.46');
    expect(findCondition(s, 'MetricsAvailable')).toMatchObject({
      status: 'False',
      reason: 'PrometheusError',
      lastTransitionTime: '2025-01-01T00:01:00Z',
    });
  });

  it('on MetricsIncomplete keeps the previous currentAlloc; unknown numbers are never written', () => {
    const v = previouslyFound();
    const incomplete: MetricsAvailability = {
      available: false,
      reason: 'MetricsIncomplete',
      message: 'vLLM metrics for m in ns are incomplete: itlAverage unknown',
    };
    const partial = { load: { arrivalRate: 999, avgInputTokens: 1, avgOutputTokens: 1 }, ttftAverage: 1 };
    const next = (availability: MetricsAvailability) =>
      computeStatus({
        va: v,
        specProblems: [],
        deployment: dep,
        read: { metrics: partial, availability },
        now: T1,
      });
    const s = next(incomplete);
    expect(s.currentAlloc).toEqual(v.status?.currentAlloc);
    expect(findCondition(s, 'MetricsAvailable')).toMatchObject({
      status: 'False',
      reason: 'MetricsIncomplete',
    });
    // Even reported as available, metrics with an unknown member do not overwrite currentAlloc.
    expect(next(found).currentAlloc?.load.arrivalRate).toBe('120.46');
  });

  it('never invents a currentAlloc before metrics were ever available', () => {
    const s = computeStatus({
      va: va(),
      specProblems: [],
      deployment: dep,
      read: { availability: promDown },
      now: T0,
    });
    expect(s.currentAlloc).toBeUndefined();
    expect(findCondition(s, 'MetricsAvailable')?.reason).toBe('PrometheusError');
  });

  it('a missing Deployment gives Reconciled=False/DeploymentNotFound naming it', () => {
    const s = computeStatus({
      va: va(),
      specProblems: [],
      deployment: undefined,
      read: { metrics, availability: found },
      now: T0,
    });
    expect(s.currentAlloc).toBeUndefined();
    const c = findCondition(s, 'Reconciled');
    expect(c).toMatchObject({ status: 'False', reason: 'DeploymentNotFound' });
    expect(c?.message).toContain('ns/v1');
  });

  it('an invalid spec gives Reconciled=False/InvalidSpec listing the problems', () => {
    const s = computeStatus({
      va: va(),
      specProblems: ['spec.modelID: required'],
      deployment: dep,
      read: undefined,
      now: T0,
    });
    expect(findCondition(s, 'Reconciled')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(findCondition(s, 'Reconciled')?.message).toContain('spec.modelID');
    expect(findCondition(s, 'MetricsAvailable')).toBeUndefined();
  });

  it('is a fixed point: computing again with a later clock changes nothing', () => {
    const v = va();
    v.status = computeStatus({
      va: v,
      specProblems: [],
      deployment: dep,
      read: { metrics, availability: found },
      now: T0,
    });
    const again = computeStatus({
      va: v,
      specProblems: [],
      deployment: dep,
      read: { metrics, availability: found },
      now: T1,
    });
    expect(statusUnchanged(v.status, again)).toBe(true);
    const changed = computeStatus({
      va: v,
      specProblems: [],
      deployment: deploymentObject('ns', 'v1', 3),
      read: { metrics, availability: found },
      now: T1,
    });
    expect(statusUnchanged(v.status, changed)).toBe(false);
  });

  it('carries desiredOptimizedAlloc and foreign conditions over untouched', () => {
    const v = va();
    v.status = {
      desiredOptimizedAlloc: { accelerator: 'A100', numReplicas: 5 },
      conditions: [
        { type: 'OptimizationReady', status: 'True', reason: 'Done', message: '', lastTransitionTime: 'x' },
      ],
    };
    const s = computeStatus({
      va: v,
      specProblems: [],
      deployment: dep,
      read: { metrics, availability: found },
      now: T0,
    });
    expect(s.desiredOptimizedAlloc).toEqual({ accelerator: 'A100', numReplicas: 5 });
    expect(s.conditions?.map((c) => c.type)).toEqual([
      'OptimizationReady',
      'MetricsAvailable',
      'TargetResolved',
      'Reconciled',
    ]);
  });
});

describe('deepEqual', () => {
  it('treats undefined members as absent and compares arrays in order', () => {
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: { b: [1] } }, { a: { b: [1] } })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: '1' })).toBe(false);
  });
});

describe('validateSpec', () => {
  it('accepts the reference sample shape', () => {
    expect(validateSpec(variant('ns', 'a', 'm').spec)).toEqual([]);
    expect(validateObject(variant('ns', 'a', 'm'))).toEqual([]);
  });
  it('names each missing or wrong field', () => {
    const problems = validateSpec({
      modelID: '',
      sloClassRef: { name: 'x' },
      modelProfile: {
        accelerators: [
          {
            acc: 'A100',
            accCount: 0,
            maxBatchSize: 2.5,
            perfParms: { decodeParms: { alpha: 'abc' }, prefillParms: {} },
          },
        ],
      },
    });
    expect(problems.join('\n')).toMatch(/spec\.modelID: required/);
    expect(problems.join('\n')).toMatch(/sloClassRef\.key: required/);
    expect(problems.join('\n')).toMatch(/accCount: "0" must be an integer >= 1/);
    expect(problems.join('\n')).toMatch(/maxBatchSize: "2.5"/);
    expect(problems.join('\n')).toMatch(/decodeParms\.alpha: "abc" is not a number/);
    expect(problems.join('\n')).toMatch(/decodeParms\.beta: required/);
    expect(problems.join('\n')).toMatch(/prefillParms: required/);
  });
  it('rejects a missing spec and an empty accelerator list', () => {
    expect(validateSpec(undefined)[0]).toMatch(/^spec: required/);
    expect(
      validateSpec({
        modelID: 'm',
        sloClassRef: { name: 'a', key: 'b' },
        modelProfile: { accelerators: [] },
      }),
    ).toEqual(['spec.modelProfile.accelerators: required, a list of at least one accelerator']);
  });
});
