// The first cycle after a start decides profile-less models only once the Pod informer has listed:
// a model decided before would look pod-less for a cycle and be rewritten in the next.
import { describe, expect, it } from 'vitest';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import type { PodView } from '../../../src/kube/pods.js';

describe('SaturationDecider.prepare and the Pod list', () => {
  it('waits for the Pods to be listed once, then not again', async () => {
    let synced = false;
    const waits: number[] = [];
    const pods: PodView = {
      pod: () => undefined,
      synced: () => synced,
      listed: async (timeoutMs) => {
        waits.push(timeoutMs ?? -1);
        synced = true;
        return true;
      },
    };
    const decider = new SaturationDecider({
      config: new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config'),
      stabilizationWindowMs: 0,
      pods,
    });
    decider.beginCycle();
    await decider.prepare();
    expect(waits).toHaveLength(1);
    expect(synced).toBe(true);
    await decider.prepare();
    decider.beginCycle();
    await decider.prepare();
    expect(waits).toHaveLength(1);
  });

  it('a list that never comes ends the wait; the cycle goes on', async () => {
    const pods: PodView = { pod: () => undefined, synced: () => false, listed: async () => false };
    const decider = new SaturationDecider({
      config: new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config'),
      stabilizationWindowMs: 0,
      pods,
    });
    decider.beginCycle();
    await expect(decider.prepare()).resolves.toBeUndefined();
  });
});
