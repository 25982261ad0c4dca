// The stabilisation window is measured on a monotonic clock: a wall clock stepped forward (NTP, a
// VM resumed, an operator) must not end it early and let a scale-down through.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VariantOptimizer } from '../../../src/controller/decision.js';
import { LocalSource } from '../../../src/controller/local.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { premiumStore } from '../../support/controller-fixtures.js';
import { cycleDriver } from '../../support/cycles.js';
import { deploymentObject, vaObject } from '../../support/variants.js';

const reading: MetricsRead = {
  metrics: {
    load: { arrivalRate: 120, avgInputTokens: 128, avgOutputTokens: 256 },
    ttftAverage: 100,
    itlAverage: 20,
  },
  availability: { available: true, reason: 'MetricsFound', message: 'found' },
};

function reconciler(o: { now?: () => Date; monotonic?: () => number } = {}) {
  const s = new LocalSource();
  s.load({
    variants: [vaObject('prod', 'a', 'llama')],
    deployments: [deploymentObject('prod', 'a', 8)],
  });
  const config = premiumStore('llama');
  const driver = cycleDriver({
    source: s,
    writer: s,
    collector: { read: async () => reading },
    optimizer: new VariantOptimizer({ config, stabilizationWindowMs: 300_000 }),
    ...o,
  });
  return async () => {
    const d = (await driver.runCycle()).results[0]?.decision;
    return d?.ok ? d.numReplicas : undefined;
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('stabilisation window on a monotonic clock', () => {
  it('the wall clock stepped forward an hour: the scale-down still waits (default clock)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-06-01T12:00:00Z'));
    const cycle = reconciler();
    // 8 run, 6 are recommended: 8 is held for the window.
    expect(await cycle()).toBe(8);
    vi.setSystemTime(new Date('2026-06-01T13:00:00Z'));
    expect(await cycle()).toBe(8);
  });

  it('an injected monotonic clock measures the window whatever the wall clock says', async () => {
    let wall = Date.parse('2026-06-01T12:00:00Z');
    let mono = 0;
    const cycle = reconciler({ now: () => new Date(wall), monotonic: () => mono });
    expect(await cycle()).toBe(8);
    wall += 3_600_000;
    mono += 30_000;
    expect(await cycle()).toBe(8);
    mono = 300_000;
    expect(await cycle()).toBe(6);
  });
});
