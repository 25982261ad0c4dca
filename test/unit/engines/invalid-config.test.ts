// Which refused saturation entries concern a model, and the InvalidConfiguration condition they give.
import { describe, expect, it } from 'vitest';
import {
  parseSaturationScalingConfigMap,
  saturationConfigProblemsFor,
} from '../../../src/engines/saturation/configmap.js';
import { variantStatuses } from '../../../src/engines/status.js';
import type { ModelDecision } from '../../../src/engines/types.js';

const DEFAULT = 'kvCacheThreshold: 0.8\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3';

describe('saturationConfigProblemsFor', () => {
  const set = parseSaturationScalingConfigMap(
    {
      default: DEFAULT,
      here: 'model_id: a\nnamespace: ns1\nkvSpareTrigger: 2',
      anywhere: 'model_id: b\nqueueLengthThreshold: -1',
      typed: 'model_id: c\nnamespace: ns1\nkvCacheThreshold: high',
      broken: 'model_id: [',
    },
    { product: true },
  );
  const keys = (m: string, ns: string) => saturationConfigProblemsFor(set, m, ns).map((p) => p.key);

  it('an override concerns its model in its namespace, or everywhere without one', () => {
    expect(keys('a', 'ns1')).toEqual(['here']);
    expect(keys('a', 'ns2')).toEqual([]);
    expect(keys('b', 'ns1')).toEqual(['anywhere']);
    expect(keys('b', 'ns9')).toEqual(['anywhere']);
  });

  it('an override refused for a field type still names its model; one that does not parse concerns no model', () => {
    expect(keys('c', 'ns1')).toEqual(['typed']);
    expect(set.problems.map((p) => p.key).sort()).toEqual(['anywhere', 'broken', 'here', 'typed']);
    expect(keys('z', 'ns1')).toEqual([]);
  });

  it('a refused default concerns every model', () => {
    const bad = parseSaturationScalingConfigMap({ default: 'kvCacheThreshold: 2' }, { product: true });
    expect(saturationConfigProblemsFor(bad, 'any', 'where').map((p) => p.key)).toEqual(['default']);
    expect(bad.builtIn).toBe(true);
  });
});

describe('variantStatuses with invalid configuration', () => {
  const model = (decided: boolean): ModelDecision => ({
    modelId: 'm',
    namespace: 'ns',
    engine: 'saturation-v1',
    decisions: decided
      ? [
          {
            variantName: 'v',
            namespace: 'ns',
            modelId: 'm',
            engine: 'saturation-v1',
            acceleratorName: 'L4',
            currentReplicas: 2,
            targetReplicas: 3,
            action: 'scale-up',
            reason: 'saturation-only mode: scale-up',
            steps: [],
            cost: 5,
            gpusPerReplica: 1,
            spareCapacity: 0,
          },
        ]
      : [],
    skipped: decided ? [] : ['no pod of the model has KV-cache or queue samples'],
    notes: [],
    invalidConfiguration: [
      'key "x": kvCacheThreshold must be within [0, 1], got 2 (the "default" entry stands in)',
    ],
  });

  it('OptimizationReady False/InvalidConfiguration, the decision from what stood in kept, MetricsAvailable as before', () => {
    const [s] = variantStatuses(model(true), [{ variantName: 'v', knownAccelerator: 'L4' }]);
    expect(s?.desired).toEqual({ numReplicas: 3, accelerator: 'L4' });
    expect(s?.conditions).toEqual([
      {
        type: 'OptimizationReady',
        status: 'False',
        reason: 'InvalidConfiguration',
        message:
          'key "x": kvCacheThreshold must be within [0, 1], got 2 (the "default" entry stands in); decided meanwhile: saturation-only mode: scale-up (target: 3 replicas)',
      },
      expect.objectContaining({ type: 'MetricsAvailable', status: 'True', reason: 'MetricsFound' }),
    ]);
  });

  it('without a decision: desired kept, the condition still says what is invalid', () => {
    const [s] = variantStatuses(model(false), [{ variantName: 'v', knownAccelerator: '' }]);
    expect(s?.desired).toBeNull();
    expect(s?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'OptimizationReady=False/InvalidConfiguration',
      'MetricsAvailable=False/MetricsMissing',
    ]);
    expect(s?.conditions[0]?.message).toMatch(/; no decision meanwhile$/);
  });
});
