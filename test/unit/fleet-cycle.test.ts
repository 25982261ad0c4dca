// FleetCollector.beginCycle: a reconcile cycle costs at most one Prometheus call, however long it
// runs against the cache TTL (injected clock; a fake PromAPI that counts calls).
import { describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import type { VariantAutoscaling } from '../../src/controller/types.js';
import { PrometheusNetworkError } from '../../src/prometheus/errors.js';
import type { PromAPI, PromQueryData } from '../../src/types.js';
import { statSeries, trafficStats } from '../support/fleet-reply.js';
import { variant } from '../support/variants.js';

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
  return { clock, prom, fc };
}

const down = () =>
  new PrometheusNetworkError(
    'http://prom/api/v1/query',
    Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
  );

describe('FleetCollector cycles', () => {
  it('without a cycle, reads after the TTL refresh again (the behaviour a long cycle used to hit)', async () => {
    const { clock, prom, fc } = setup();
    await fc.read('a', 'x');
    clock.advance(5000);
    await fc.read('b', 'x');
    expect(prom.calls).toBe(2);
  });

  it('a cycle 5x longer than the TTL costs one call; the next cycle refreshes', async () => {
    const { clock, prom, fc } = setup();
    const end = fc.beginCycle();
    expect((await fc.read('a', 'x')).metrics?.load.arrivalRate).toBe(60);
    prom.rate = 120;
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      const r = await fc.read(i % 2 ? 'a' : 'b', 'x');
      expect(r.availability.reason).toBe('MetricsFound');
    }
    // 5 s into a cycle with a 1 s TTL: still the cycle's snapshot, same numbers, no second call.
    expect((await fc.read('a', 'x')).metrics?.load.arrivalRate).toBe(60);
    expect((await fc.read('unknown', 'x')).availability.reason).toBe('MetricsMissing');
    expect(prom.calls).toBe(1);
    end();
    end(); // idempotent
    const next = fc.beginCycle();
    expect((await fc.read('a', 'x')).metrics?.load.arrivalRate).toBe(120);
    clock.advance(3000);
    await fc.read('b', 'x');
    next();
    expect(prom.calls).toBe(2);
  });

  it('a cycle that begins with a fresh snapshot (cache warming) keeps it: warming + cycle = one call', async () => {
    const { clock, prom, fc } = setup();
    await fc.refresh();
    clock.advance(900); // still within the 1 s TTL when the cycle begins
    const end = fc.beginCycle();
    clock.advance(4000);
    await fc.read('a', 'x');
    await fc.read('b', 'x');
    end();
    expect(prom.calls).toBe(1);
  });

  it('a cycle that begins with an expired snapshot refreshes once, then keeps that result', async () => {
    const { clock, prom, fc } = setup();
    await fc.refresh();
    clock.advance(1500);
    const end = fc.beginCycle();
    prom.rate = 30;
    expect((await fc.read('a', 'x')).metrics?.load.arrivalRate).toBe(30);
    clock.advance(4000);
    expect((await fc.read('a', 'x')).metrics?.load.arrivalRate).toBe(30);
    end();
    expect(prom.calls).toBe(2);
  });

  it('a failed refresh answers PrometheusError for the rest of the cycle without retrying; retries after it', async () => {
    const { clock, prom, fc } = setup();
    prom.fail = down();
    const end = fc.beginCycle();
    expect((await fc.read('a', 'x')).availability.reason).toBe('PrometheusError');
    clock.advance(3000); // 6x the failure TTL
    expect((await fc.read('b', 'x')).availability.reason).toBe('PrometheusError');
    expect(prom.calls).toBe(1);
    end();
    prom.fail = undefined;
    expect((await fc.read('a', 'x')).availability.reason).toBe('MetricsFound');
    expect(prom.calls).toBe(2);
  });

  it('concurrent misses in a cycle still coalesce into one call', async () => {
    const { prom, fc } = setup();
    const end = fc.beginCycle();
    await Promise.all(Array.from({ length: 100 }, (_, i) => fc.read(i % 2 ? 'a' : 'b', 'x')));
    end();
    expect(prom.calls).toBe(1);
  });

  it('Reconciler.runCycle opens and closes a cycle around its reads', async () => {
    const { clock, prom, fc } = setup();
    const vas = Array.from(
      { length: 20 },
      (_, i) => variant('x', `v${i}`, i % 2 ? 'a' : 'b') as unknown as VariantAutoscaling,
    );
    const r = new Reconciler({
      source: {
        listVariants: () => vas,
        getVariant: (ns, name) => vas.find((v) => v.metadata.namespace === ns && v.metadata.name === name),
        getDeployment: () => undefined,
      },
      // Each read moves the clock past the TTL: a slow cycle.
      collector: {
        read: async (m, ns, s) => {
          clock.advance(2000);
          return fc.read(m, ns, s);
        },
        beginCycle: () => fc.beginCycle(),
      },
      writer: { write: async (va, compute) => ({ outcome: 'written', status: compute(va) }) },
      concurrency: 1,
    });
    await r.runCycle();
    expect(prom.calls).toBe(1);
    await r.runCycle();
    expect(prom.calls).toBe(2);
  });
});
