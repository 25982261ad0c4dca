// The wall clock may be set back or forward at any time (NTP, an operator, a VM resumed): the
// cache's and the fleet collector's TTLs run on the monotonic clock, so a jump neither freezes the
// metrics (no query, old numbers, MetricsFound while Prometheus fails, old idle evidence) nor
// refreshes early. Default clocks, moved by fake timers: vi.setSystemTime moves only the wall clock,
// vi.advanceTimersByTime moves both.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { PrometheusNetworkError } from '../../src/prometheus/errors.js';
import { REQUESTS_OVER_PREFIX } from '../../src/prometheus/promql.js';
import type { PromAPI, PromQueryData } from '../../src/types.js';
import { statSeries, trafficStats } from '../support/fleet-reply.js';

const HOUR = 3_600_000;

class FakeProm implements PromAPI {
  calls = 0;
  rate = 60;
  requests = 0;
  fail: Error | undefined;
  async query(): Promise<PromQueryData> {
    this.calls++;
    if (this.fail) throw this.fail;
    const stats = { ...trafficStats(this.rate), [`${REQUESTS_OVER_PREFIX}600s`]: this.requests };
    return { resultType: 'vector', result: statSeries('m', 'ns', stats) };
  }
}

const down = () =>
  new PrometheusNetworkError(
    'http://prom/api/v1/query',
    Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
  );

function setup() {
  const cache = new ModelMetricsCache({ ttlMs: 30_000, failureTtlMs: 5_000 });
  const prom = new FakeProm();
  const fc = new FleetCollector({ prom, cache });
  fc.countRequestsOver(() => [600]);
  return { cache, prom, fc };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-03-29T02:30:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('wall clock set back an hour', () => {
  it('the next cycle after the TTL queries Prometheus and sees the doubled load', async () => {
    const { prom, fc } = setup();
    await fc.refresh();
    expect(prom.calls).toBe(1);
    vi.setSystemTime(Date.now() - HOUR);
    prom.rate = 120;
    vi.advanceTimersByTime(30_001);
    const read = (await fc.snapshot()).read('m', 'ns');
    expect(prom.calls).toBe(2);
    expect(read.metrics?.load.completionRate).toBe(120);
  });

  it('Prometheus failing is PrometheusError, not MetricsFound, and leaves no idle evidence', async () => {
    const { prom, fc, cache } = setup();
    prom.requests = 0;
    await fc.refresh();
    expect(fc.requestsOver('m', 'ns', 600)).toEqual({ kind: 'count', requests: 0 });
    vi.setSystemTime(Date.now() - HOUR);
    prom.fail = down();
    vi.advanceTimersByTime(30_001);
    const read = (await fc.snapshot()).read('m', 'ns');
    expect(read.availability.reason).toBe('PrometheusError');
    expect(fc.requestsOver('m', 'ns', 600).kind).toBe('unknown');
    expect(cache.get('m', 'ns')?.valid).toBe(false);
    // The failure TTL runs on the same clock: Prometheus is asked again 5 s later, not in an hour.
    prom.fail = undefined;
    vi.advanceTimersByTime(5_001);
    expect((await fc.snapshot()).read('m', 'ns').availability.reason).toBe('MetricsFound');
    expect(prom.calls).toBe(3);
  });
});

describe('wall clock set forward', () => {
  it('refreshes no earlier than the TTL', async () => {
    const { prom, fc, cache } = setup();
    await fc.refresh();
    vi.setSystemTime(Date.now() + 2 * HOUR);
    await fc.snapshot();
    expect(prom.calls).toBe(1);
    expect(cache.get('m', 'ns')?.valid).toBe(true);
  });
});

describe('idle evidence has an age', () => {
  it('a count older than staleAfterMs is unknown, even without a newer query', async () => {
    const cache = new ModelMetricsCache({ ttlMs: 30_000 });
    const prom = new FakeProm();
    const fc = new FleetCollector({ prom, cache, staleAfterMs: 300_000 });
    fc.countRequestsOver(() => [600]);
    await fc.refresh();
    vi.advanceTimersByTime(300_000);
    expect(fc.requestsOver('m', 'ns', 600)).toEqual({ kind: 'count', requests: 0 });
    vi.advanceTimersByTime(1);
    expect(fc.requestsOver('m', 'ns', 600)).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/answered 300s ago/),
    });
  });
});

describe('ModelMetricsCache failure TTL', () => {
  it('a failed entry expires after the failure TTL whichever way the wall clock went', () => {
    const cache = new ModelMetricsCache({ ttlMs: 30_000, failureTtlMs: 5_000 });
    cache.set('m', 'ns', trafficLoad(), false, new Error('down'));
    vi.setSystemTime(Date.now() - HOUR);
    vi.advanceTimersByTime(5_001);
    expect(cache.get('m', 'ns')).toBeUndefined();
    cache.set('m', 'ns', trafficLoad(), false, new Error('down'));
    vi.setSystemTime(Date.now() + HOUR);
    expect(cache.get('m', 'ns')?.valid).toBe(false);
  });

  it('a live TTL change keeps each entry’s age across a wall clock jump', () => {
    const cache = new ModelMetricsCache({ ttlMs: 30_000 });
    cache.set('m', 'ns', trafficLoad());
    vi.advanceTimersByTime(10_000);
    vi.setSystemTime(Date.now() - HOUR);
    cache.setTtl(15_000);
    vi.advanceTimersByTime(4_999);
    expect(cache.get('m', 'ns')).toBeDefined();
    vi.advanceTimersByTime(2);
    expect(cache.get('m', 'ns')).toBeUndefined();
  });
});

function trafficLoad() {
  return {
    load: { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 10 },
    ttftAverage: 50,
    itlAverage: 5,
  };
}
