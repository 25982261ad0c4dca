// A saturation engine's condition over the fleet read's: its transition time is the stored one's
// while the engine keeps saying the same, so an unchanged world writes no new status.
import { describe, expect, it } from 'vitest';
import { computeStatus, statusUnchanged } from '../../../src/controller/status.js';
import type { VariantStatusContent } from '../../../src/engines/types.js';
import { findCondition, formatTime } from '../../../src/kube/conditions.js';
import { deploymentObject, foundReading, vaObject } from '../../support/variants.js';

const T0 = new Date('2025-01-01T00:00:00Z');
const T1 = new Date('2025-01-01T00:00:30Z');
const T2 = new Date('2025-01-01T00:01:00Z');

/** The engine's word for a variant at 0 replicas: no number, MetricsAvailable False. */
function engine(status: 'True' | 'False'): VariantStatusContent {
  return {
    variantName: 'v',
    desired: null,
    conditions: [
      {
        type: 'MetricsAvailable',
        status,
        reason: status === 'True' ? 'MetricsFound' : 'MetricsMissing',
        message: status === 'True' ? 'pods report' : 'variant v: its scale target is at 0 replicas',
      },
    ],
  };
}

function cycle(va: ReturnType<typeof vaObject>, e: VariantStatusContent, now: Date) {
  return computeStatus({
    va,
    specProblems: [],
    deployment: deploymentObject('ns', 'v', 0),
    // The fleet read found the model (its other variants' pods): MetricsAvailable True, then the engine's.
    read: foundReading('m', 'ns'),
    now,
    engine: e,
  });
}

describe("a saturation engine's conditions over the fleet read's", () => {
  it('a False repeated cycle after cycle keeps its first transition time: nothing to write', () => {
    const va = vaObject('ns', 'v', 'm');
    const first = cycle(va, engine('False'), T0);
    expect(findCondition(first, 'MetricsAvailable')).toMatchObject({
      status: 'False',
      lastTransitionTime: formatTime(T0),
    });
    const second = cycle({ ...va, status: first }, engine('False'), T1);
    expect(findCondition(second, 'MetricsAvailable')?.lastTransitionTime).toBe(formatTime(T0));
    expect(statusUnchanged(first, second)).toBe(true);
  });

  it('a real change of status is a transition at that cycle', () => {
    const va = vaObject('ns', 'v', 'm');
    const first = cycle(va, engine('False'), T0);
    const second = cycle({ ...va, status: first }, engine('True'), T1);
    expect(findCondition(second, 'MetricsAvailable')).toMatchObject({
      status: 'True',
      lastTransitionTime: formatTime(T1),
    });
    const third = cycle({ ...va, status: second }, engine('False'), T2);
    expect(findCondition(third, 'MetricsAvailable')?.lastTransitionTime).toBe(formatTime(T2));
  });
});
