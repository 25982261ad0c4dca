// The collector against the REAL Prometheus on what the vLLM versions people run export: current
// names (V1, two engines per pod), pre-0.11 names, a transitional server exporting both, a fleet
// midway through an upgrade, a model without latency histograms, a saturated model whose queue
// grows, and watched-namespace scoping. Backfilled with promtool, queried at a fixed time: exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { collectAggregateMetricsWithCache } from '../../src/collector/cached.js';
import { collectAggregateMetrics, collectFleetMetrics } from '../../src/collector/collect.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { fleetQuery } from '../../src/prometheus/promql.js';
import type { AggregateMetrics } from '../../src/types.js';
import {
  BACKFILL_TIME_S,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from '../support/prometheus.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../support/vllm-openmetrics.js';

const T = BACKFILL_TIME_S;
const AT = new Date(T * 1000);

type Traffic = Omit<VllmPodTraffic, 'labels'>;
const at = (model: string, namespace: string, pod: string, engine: string, t: Traffic): VllmPodTraffic => ({
  labels: { model_name: model, namespace, pod, engine },
  ...t,
});

// One model on two pods, the first running two engines (data parallel): three series sets.
function fleet(namespace: string, names: VllmPodTraffic['names']): VllmPodTraffic[] {
  const m = 'llama';
  return [
    at(m, namespace, 'p1', '0', {
      names,
      requestsPerSecond: 2,
      avgPromptTokens: 400,
      avgGenerationTokens: 100,
      avgTtftSeconds: 0.1,
      avgItlSeconds: 0.02,
      running: 10,
      kvCacheUsage: 0.4,
    }),
    at(m, namespace, 'p1', '1', {
      names,
      requestsPerSecond: 1,
      avgPromptTokens: 100,
      avgGenerationTokens: 50,
      avgTtftSeconds: 0.2,
      avgItlSeconds: 0.04,
      running: 5,
      waiting: 2,
      kvCacheUsage: 0.6,
    }),
    at(m, namespace, 'p2', '0', {
      names,
      requestsPerSecond: 1,
      avgPromptTokens: 200,
      avgGenerationTokens: 100,
      avgTtftSeconds: 0.05,
      avgItlSeconds: 0.01,
      running: 4,
      kvCacheUsage: 0.2,
    }),
  ];
}

/** What each of the fleets above must read, worked out by hand. */
const FLEET_METRICS: AggregateMetrics = {
  // (2 + 1 + 1) req/s; the queue is steady, so arrivals = completions.
  load: { arrivalRate: 240, completionRate: 240, avgInputTokens: 275, avgOutputTokens: 87.5 },
  // (2*0.1 + 1*0.2 + 1*0.05) / 4 s
  ttftAverage: 112.5,
  // (2*100*0.02 + 1*50*0.04 + 1*100*0.01) / (200 + 50 + 100) s per token
  itlAverage: 20,
  saturation: { running: 19, waiting: 2, kvCacheUsage: 0.4 },
};

const current = fleet('v1', 'current');
const legacy = fleet('v0', 'legacy');
// Transitional servers export both names; here the old ones hold different numbers, so a
// collector reading (or adding) the old name reads something other than FLEET_METRICS.
const transitional = fleet('v011', 'both').map((p) => ({
  ...p,
  legacyItlSeconds: 1,
  legacyKvCacheUsage: 0.99,
}));
// Midway through an upgrade: one pod still on old names, one on new ones; each counts once.
const upgrading = [
  at('llama', 'upgrading', 'old', '0', {
    names: 'legacy',
    requestsPerSecond: 1,
    avgGenerationTokens: 10,
    avgItlSeconds: 0.05,
    kvCacheUsage: 0.8,
  }),
  at('llama', 'upgrading', 'new', '0', {
    names: 'current',
    requestsPerSecond: 3,
    avgGenerationTokens: 10,
    avgItlSeconds: 0.01,
    kvCacheUsage: 0.2,
  }),
];
// Serves traffic, exports no latency histograms.
const noLatency = [
  at('no-latency', 'v1', 'nl', '0', {
    requestsPerSecond: 2,
    avgPromptTokens: 50,
    avgGenerationTokens: 5,
    running: 3,
    omitHistograms: ['ttft', 'itl'],
  }),
];
// Saturated: completions flat at 5 req/s, the batch full, the waiting queue growing 0.5 req/s.
const saturated = [
  at('saturated', 'v1', 's1', '0', {
    requestsPerSecond: 5,
    avgPromptTokens: 100,
    avgGenerationTokens: 10,
    avgTtftSeconds: 2,
    avgItlSeconds: 0.05,
    running: 64,
    waiting: 10,
    waitingGrowthPerSecond: 0.5,
    kvCacheUsage: 1,
  }),
];
// Review debts: a series young at T (rates over 1m and 5m differ), and one that ended at T-600.
const young = [
  at('young', 'v1', 'y1', '0', { requestsPerSecond: 2, avgGenerationTokens: 10, fromS: T - 120 }),
];
const ended = [
  at('ended', 'v1', 'e1', '0', {
    requestsPerSecond: 3,
    avgGenerationTokens: 10,
    fromS: T - 1200,
    toS: T - 600,
  }),
];

const everyPod = [
  ...current,
  ...legacy,
  ...transitional,
  ...upgrading,
  ...noLatency,
  ...saturated,
  ...young,
  ...ended,
];

let prom: PrometheusServer;
let client: PrometheusClient;

beforeAll(async () => {
  expect(prometheusAvailable()).toBe(true);
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(everyPod) });
  client = new PrometheusClient({ url: prom.url });
}, 120_000);

afterAll(async () => {
  client?.close();
  await prom?.stop();
});

/** Exact to floating-point noise, every member, absent ones absent. */
function expectExactly(actual: AggregateMetrics | undefined, expected: AggregateMetrics) {
  expect(actual).toBeDefined();
  const flat = (m: AggregateMetrics) =>
    Object.fromEntries(
      [
        ...Object.entries(m.load).map(([k, v]) => [`load.${k}`, v]),
        ['ttftAverage', m.ttftAverage],
        ['itlAverage', m.itlAverage],
        ...Object.entries(m.saturation ?? {}).map(([k, v]) => [`saturation.${k}`, v]),
      ].filter(([, v]) => v !== undefined),
    ) as Record<string, number>;
  const a = flat(actual!);
  const e = flat(expected);
  expect(Object.keys(a).sort()).toEqual(Object.keys(e).sort());
  for (const [k, v] of Object.entries(e)) expect(a[k], k).toBeCloseTo(v, 9);
}

describe('vLLM versions, one fleet query', () => {
  it('reads a current (V1) fleet, an old-names fleet and a transitional one alike, in ONE call', async () => {
    const before = await prom.queryCalls();
    const pairs = await collectFleetMetrics(client, { time: AT });
    expect(await prom.queryCalls()).toBe(before + 1);
    // The support builder agrees with the hand-worked numbers.
    expect(expectedMetrics(current)).toMatchObject({ arrivalRate: 240, itlAverage: 20, ttftAverage: 112.5 });
    for (const ns of ['v1', 'v0', 'v011']) expectExactly(pairs.get(`llama:${ns}`), FLEET_METRICS);
  });

  it('sums a fleet midway through an upgrade once per pod, under whichever names it has', async () => {
    const m = await collectAggregateMetrics('llama', 'upgrading', client, { time: AT });
    // (1*10*0.05 + 3*10*0.01) / (10 + 30) s per token; KV usage averaged over both pods.
    expect(m.itlAverage).toBeCloseTo(20, 9);
    expect(m.saturation?.kvCacheUsage).toBeCloseTo(0.5, 9);
    expect(m.load.completionRate).toBeCloseTo(240, 9);
  });

  it('a model with traffic and no latency histograms: latency unknown, not 0; MetricsIncomplete', async () => {
    const m = await collectAggregateMetrics('no-latency', 'v1', client, { time: AT });
    expectExactly(m, {
      load: { arrivalRate: 120, completionRate: 120, avgInputTokens: 50, avgOutputTokens: 5 },
      saturation: { running: 3, waiting: 0, kvCacheUsage: 0 },
    });
    const fc = new FleetCollector({ prom: client, cache: new ModelMetricsCache(), evaluationTime: () => AT });
    const read = await fc.read('no-latency', 'v1');
    expect(read.availability).toMatchObject({ available: false, reason: 'MetricsIncomplete' });
    expect(read.availability.message).toContain('ttftAverage (vllm:time_to_first_token_seconds)');
    expect(read.availability.message).toContain('vllm:inter_token_latency_seconds');
    expect(read.availability.message).toContain('the 1m window');
    expect(read.metrics?.ttftAverage).toBeUndefined();
    // The others are complete.
    expect((await fc.read('llama', 'v1')).availability.reason).toBe('MetricsFound');
  });

  it('a saturated model: arrivals = completions + growth of the queue (within 3 %)', async () => {
    const m = await collectAggregateMetrics('saturated', 'v1', client, { time: AT });
    expect(m.load.completionRate).toBeCloseTo(300, 9);
    // 5 completed + 0.5 more waiting every second = 5.5 req/s arriving.
    expect(Math.abs(m.load.arrivalRate! / 330 - 1)).toBeLessThan(0.03);
    expect(m.saturation).toEqual({ running: 64, waiting: 310, kvCacheUsage: 1 });
    // Over a longer window the same (a linear queue).
    const m5 = await collectAggregateMetrics('saturated', 'v1', client, { time: AT, window: '5m' });
    expect(Math.abs(m5.load.arrivalRate! / 330 - 1)).toBeLessThan(0.03);
  });

  it('a window shorter than two scrapes: every rate unknown, MetricsIncomplete, not zeros', async () => {
    const m = await collectAggregateMetrics('llama', 'v1', client, { time: AT, window: '10s' });
    expect(m.load).toEqual({});
    expect(m.ttftAverage).toBeUndefined();
    expect(m.saturation).toEqual({ running: 19, waiting: 2, kvCacheUsage: expect.closeTo(0.4, 9) });
    const fc = new FleetCollector({
      prom: client,
      cache: new ModelMetricsCache(),
      window: '10s',
      evaluationTime: () => AT,
    });
    const read = await fc.read('llama', 'v1');
    expect(read.availability.reason).toBe('MetricsIncomplete');
    expect(read.availability.message).toContain('arrivalRate (vllm:request_success_total');
    expect(read.availability.message).toContain('the 10s window is shorter than two scrapes');
  });
});

describe('watched namespaces', () => {
  it('the fleet query names only the watched namespaces; no other namespace reaches the cache', async () => {
    const watched = ['v1', 'v011'];
    const q = fleetQuery({ namespaces: watched, freshnessRangeSeconds: 900 });
    const selectors = q.match(/vllm:[a-z_:]+(\{[^}]*\})?/g) ?? [];
    expect(selectors.length).toBeGreaterThan(15);
    for (const s of selectors) expect(s).toMatch(/\{namespace=~"v1\|v011"\}$/);

    const cache = new ModelMetricsCache();
    const fc = new FleetCollector({ prom: client, cache, namespaces: watched, evaluationTime: () => AT });
    const before = await prom.queryCalls();
    expect((await fc.read('llama', 'v1')).availability.reason).toBe('MetricsFound');
    expectExactly((await fc.read('llama', 'v011')).metrics, FLEET_METRICS);
    // Served in v0, but v0 is not watched: never read.
    expect((await fc.read('llama', 'v0')).availability.reason).toBe('MetricsMissing');
    expect(await prom.queryCalls()).toBe(before + 1);
    const namespaces = new Set([...cache.getAll().values()].map((e) => e.namespace));
    expect([...namespaces].sort()).toEqual(['v011', 'v1']);
  });

  it('touches fewer samples than the unscoped query (Prometheus query stats)', async () => {
    const samples = async (q: string) => {
      const url = `${prom.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${T}&stats=all`;
      const body = (await (await fetch(url)).json()) as {
        data: { stats: { samples: { totalQueryableSamples: number } } };
      };
      return body.data.stats.samples.totalQueryableSamples;
    };
    const all = await samples(fleetQuery({ freshnessRangeSeconds: 900 }));
    const scoped = await samples(fleetQuery({ namespaces: ['upgrading'], freshnessRangeSeconds: 900 }));
    expect(scoped).toBeGreaterThan(0);
    expect(scoped).toBeLessThan(all / 4);
  });
});

describe('single-model collection through the cache (review debt)', () => {
  it('does not join a call, or answer from the cache, across windows', async () => {
    const cache = new ModelMetricsCache();
    // Concurrent: a call over 1m and one over 5m of the same young series.
    const [m1, m5] = await Promise.all([
      collectAggregateMetricsWithCache('young', 'v1', client, cache, { window: '1m', time: AT }),
      collectAggregateMetricsWithCache('young', 'v1', client, cache, { window: '5m', time: AT }),
    ]);
    const alone1 = await collectAggregateMetrics('young', 'v1', client, { window: '1m', time: AT });
    const alone5 = await collectAggregateMetrics('young', 'v1', client, { window: '5m', time: AT });
    expect(alone1.load.completionRate).toBeCloseTo(120, 9);
    expect(alone5.load.completionRate).toBeLessThan(100);
    expect(m1).toEqual(alone1);
    expect(m5).toEqual(alone5);
  });

  it('does not join a call across evaluation times', async () => {
    const cache = new ModelMetricsCache();
    const earlier = new Date((T - 700) * 1000);
    const [then, now] = await Promise.all([
      collectAggregateMetricsWithCache('ended', 'v1', client, cache, { time: earlier }),
      collectAggregateMetricsWithCache('ended', 'v1', client, cache, { time: AT }),
    ]);
    expect(then.load.completionRate).toBeCloseTo(180, 9);
    // Ten minutes after its last sample the model is not served any more.
    expect(now.load.completionRate).toBe(0);
  });

  it('live calls over the cache window share one call and the cache', async () => {
    const cache = new ModelMetricsCache();
    const before = await prom.queryCalls();
    const rs = await Promise.all(
      Array.from({ length: 20 }, () => collectAggregateMetricsWithCache('llama', 'v1', client, cache)),
    );
    await collectAggregateMetricsWithCache('llama', 'v1', client, cache);
    expect(await prom.queryCalls()).toBe(before + 1);
    expect(new Set(rs.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(cache.get('llama', 'v1')?.valid).toBe(true);
  });
});
