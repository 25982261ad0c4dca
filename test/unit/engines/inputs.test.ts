// A saturation engine's per-variant input from the VariantAutoscaling's fields and its Deployment.
import { describe, expect, it } from 'vitest';
import {
  gpusPerReplica,
  isActiveTarget,
  requestCountOf,
  saturationVariantInput,
  type TargetDeployment,
} from '../../../src/engines/inputs.js';

const dep = (over: Partial<TargetDeployment> = {}): TargetDeployment => ({
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { resources: { requests: { 'nvidia.com/gpu': '2', cpu: '4' } } },
          { resources: { requests: { 'amd.com/gpu': 1 } } },
        ],
      },
    },
  },
  status: { replicas: 3, readyReplicas: 2 },
  ...over,
});

describe('saturationVariantInput', () => {
  it('reads current, pending, desired, GPUs and cost as upstream does', () => {
    expect(
      saturationVariantInput(
        { name: 'v', variantCost: '12.5', acceleratorLabel: 'A100', desiredReplicas: 4, maxReplicas: 8 },
        dep(),
      ),
    ).toMatchObject({
      variantName: 'v',
      cost: 12.5,
      acceleratorName: 'A100',
      currentReplicas: 3,
      desiredReplicas: 4,
      pendingReplicas: 1,
      gpusPerReplica: 3,
      maxReplicas: 8,
    });
  });

  it('a target with no ready pods has every replica pending; status 0 falls back to spec', () => {
    const none = saturationVariantInput({ name: 'v' }, dep({ status: { replicas: 0 } }));
    expect(none).toMatchObject({
      currentReplicas: 3,
      pendingReplicas: 3,
      cost: 10,
      acceleratorName: '',
      desiredReplicas: 0,
    });
  });

  it('counts one GPU when none is requested, and ignores unparsable requests', () => {
    expect(gpusPerReplica(null)).toBe(1);
    expect(
      gpusPerReplica({
        spec: {
          template: { spec: { containers: [{ resources: { requests: { 'nvidia.com/gpu': 'two' } } }] } },
        },
      }),
    ).toBe(1);
  });

  it('active: spec.replicas > 0, unset counting 1', () => {
    expect(isActiveTarget(dep())).toBe(true);
    expect(isActiveTarget({})).toBe(true);
    expect(isActiveTarget({ spec: { replicas: 0 } })).toBe(false);
  });

  it('a request count is known only from a counted answer', () => {
    expect(requestCountOf({ kind: 'count', requests: 0 })).toBe(0);
    expect(requestCountOf({ kind: 'no-value' })).toBeNull();
    expect(requestCountOf({ kind: 'no-series' })).toBeNull();
    expect(requestCountOf({ kind: 'unknown', reason: 'x' })).toBeNull();
  });
});
