// FleetCollector.snapshot: a reconcile cycle reads one snapshot and costs at most one Prometheus call,
// however long it runs against the cache TTL (injected clock; a fake PromAPI that counts calls).
import { describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { PrometheusNetworkError } from '../../src/prometheus/errors.js';
import type { PromAPI, PromQueryData } from '../../src/types.js';
import { cycleDriver } from '../support/cycles.js';
import { statSeries, trafficStats } from '../support/fleet-reply.js';
import { vaObject } from '../support/variants.js';

const series = (model: string, ns: string, rate: number) => statSeries(model, ns, trafficStats(rate));

class CountingProm implements PromAPI {
  calls = 0;
  fail: Error | undefined;
  rate = 60;
  async query(): Promise<PromQueryData> {
    this.calls++;
    if (this.fail) throw this.fail;
    return { resultType: 'vector', result: [...series('a', 'x', this.rate), ...series('b', 'x', 1)] };
  }
}

function setup() {
  let t = 5_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const cache = new ModelMetricsCache({ ttlMs: 1000, failureTtlMs: 500, now: clock.now });
  const prom = new CountingProm();
  const fc = new FleetCollector({ prom, cache, now: clock.now });
  return { clock, prom, fc, cache };
}

const down = () =>
  new PrometheusNetworkError(
    'http://prom/api/v1/query',
    Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
  );

describe('FleetCollector snapshots: one per cycle', () => {
  it('without a snapshot held, reads after the TTL refresh again', async () => {
    const { clock, prom, fc } = setup();
    await fc.read('a', 'x');
    clock.advance(5000);
    await fc.read('b', 'x');
    expect(prom.calls).toBe(2);
  });

  it('a cycle 5x longer than the TTL reading one snapshot costs one call; the next cycle refreshes', async () => {
    const { clock, prom, fc } = setup();
    const snap = await fc.snapshot();
    expect(snap.read('a', 'x').metrics?.load.arrivalRate).toBe(60);
    prom.rate = 120;
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      expect(snap.read(i % 2 ? 'a' : 'b', 'x').availability.reason).toBe('MetricsFound');
    }
    // 5 s into a cycle with a 1 s TTL: still the cycle's snapshot, same numbers, no second call.
    expect(snap.read('a', 'x').metrics?.load.arrivalRate).toBe(60);
    expect(snap.read('unknown', 'x').availability.reason).toBe('MetricsMissing');
    expect(prom.calls).toBe(1);
    const next = await fc.snapshot();
    expect(next.read('a', 'x').metrics?.load.arrivalRate).toBe(120);
    clock.advance(3000);
    next.read('b', 'x');
    expect(prom.calls).toBe(2);
    // The older snapshot still answers its own numbers, though the cache now holds newer ones.
    expect(snap.read('a', 'x').metrics?.load.arrivalRate).toBe(60);
  });

  it("a snapshot fresh from cache warming is the cycle's: warming + cycle = one call", async () => {
    const { clock, prom, fc } = setup();
    await fc.refresh();
    clock.advance(900); // still within the 1 s TTL when the cycle begins
    const snap = await fc.snapshot();
    clock.advance(4000);
    snap.read('a', 'x');
    snap.read('b', 'x');
    expect(prom.calls).toBe(1);
  });

  it('an expired snapshot is refreshed once for the cycle, which then keeps that result', async () => {
    const { clock, prom, fc } = setup();
    await fc.refresh();
    clock.advance(1500);
    prom.rate = 30;
    const snap = await fc.snapshot();
    expect(snap.read('a', 'x').metrics?.load.arrivalRate).toBe(30);
    clock.advance(4000);
    expect(snap.read('a', 'x').metrics?.load.arrivalRate).toBe(30);
    expect(prom.calls).toBe(2);
  });

  it('a failed refresh answers PrometheusError for the rest of the cycle without retrying; retries after it', async () => {
    const { clock, prom, fc, cache } = setup();
    await fc.refresh(); // a and b known
    clock.advance(1500);
    prom.fail = down();
    const snap = await fc.snapshot();
    expect(snap.read('a', 'x').availability.reason).toBe('PrometheusError');
    clock.advance(3000); // 6x the failure TTL
    expect(snap.read('b', 'x').availability.reason).toBe('PrometheusError');
    expect(prom.calls).toBe(2);
    // The failure is in the cache too, as the spec's invalid entries, for the failure TTL.
    clock.advance(-3000);
    expect(cache.get('a', 'x')?.valid).toBe(false);
    expect(cache.get('a', 'x')?.error?.message).toMatch(
      /collecting fleet metrics failed: cannot reach Prometheus/,
    );
    clock.advance(3000);
    prom.fail = undefined;
    expect((await fc.read('a', 'x')).availability.reason).toBe('MetricsFound');
    expect(prom.calls).toBe(3);
  });

  it('concurrent snapshots and reads coalesce into one call', async () => {
    const { prom, fc } = setup();
    await Promise.all([
      ...Array.from({ length: 50 }, () => fc.snapshot()),
      ...Array.from({ length: 50 }, (_, i) => fc.read(i % 2 ? 'a' : 'b', 'x')),
    ]);
    expect(prom.calls).toBe(1);
  });

  it('a cycle reads every key from one snapshot', async () => {
    const { clock, prom, fc } = setup();
    const vas = Array.from({ length: 20 }, (_, i) => vaObject('x', `v${i}`, i % 2 ? 'a' : 'b'));
    const driver = cycleDriver({
      source: {
        listVariants: () => vas,
        getVariant: (ns, name) => vas.find((v) => v.metadata.namespace === ns && v.metadata.name === name),
        // Each reconcile moves the clock past the TTL: a slow cycle.
        getDeployment: () => {
          clock.advance(2000);
          return undefined;
        },
      },
      collector: fc,
      writer: { write: async (va, compute) => ({ outcome: 'written', status: compute(va) }) },
      concurrency: 1,
    });
    await driver.runCycle();
    expect(prom.calls).toBe(1);
    await driver.runCycle();
    expect(prom.calls).toBe(2);
  });
});
