// Real collections against a real Prometheus with Telemetry as the observer, then /metrics scraped
// over HTTP: every counter must have moved by exactly what was done.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/model-metrics-cache.js';
import { collectAggregateMetricsWithCache } from '../../src/collector/cached.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { startTelemetryServer, type TelemetryServer } from '../../src/telemetry/server.js';
import {
  BACKFILL_TIME_S,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from '../support/prometheus.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../support/vllm-openmetrics.js';

const pods: VllmPodTraffic[] = [
  { labels: { model_name: 'llama', namespace: 'prod', pod: 'a' }, requestsPerSecond: 2 },
  { labels: { model_name: 'llama', namespace: 'prod', pod: 'b' }, requestsPerSecond: 1 },
  { labels: { model_name: 'granite', namespace: 'staging', pod: 'c' }, requestsPerSecond: 0.5 },
];
const at = new Date(BACKFILL_TIME_S * 1000);

/** Every sample of the scrape, by series text (`name{labels}`). */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('telemetry against real collections', () => {
  let prom: PrometheusServer;
  let server: TelemetryServer;
  let telemetry: Telemetry;

  async function scrape(): Promise<Map<string, number>> {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(telemetry.registry.contentType);
    return parseExposition(await res.text());
  }
  const v = (m: Map<string, number>, series: string) => {
    const value = m.get(series);
    if (value === undefined) throw new Error(`series ${series} not in the scrape`);
    return value;
  };
  const lookups = (m: Map<string, number>) =>
    ['hit', 'miss', 'failure_hit', 'coalesced'].map((r) => v(m, `wva_cache_lookups_total{result="${r}"}`));

  beforeAll(async () => {
    expect(prometheusAvailable()).toBe(true);
    prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
    telemetry = new Telemetry(); // with process metrics, as in production
    server = await startTelemetryServer({ address: '127.0.0.1:0', registry: telemetry.registry });
  });
  afterAll(async () => {
    await server?.close();
    await prom?.stop();
  });

  it('per-model cached collection: hits, misses, coalesced and failure hits add up to the lookups made', async () => {
    let now = 1_000_000;
    const cache = new ModelMetricsCache({ ttlMs: 30_000, failureTtlMs: 10_000, now: () => now });
    telemetry.bindCache(cache);
    const client = new PrometheusClient({ url: prom.url });
    const down = new PrometheusClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    const opts = { observer: telemetry, time: at };
    const before = await scrape();
    const callsBefore = await prom.queryCalls();

    // 3 concurrent callers of one cold key: 1 miss + 2 coalesced, one query.
    const first = await Promise.all(
      [1, 2, 3].map(() => collectAggregateMetricsWithCache('llama', 'prod', client, cache, opts)),
    );
    const want = expectedMetrics(pods.slice(0, 2));
    for (const m of first) expect(m.load.arrivalRate).toBeCloseTo(want.arrivalRate, 6);
    // 4 more: cache hits.
    for (let i = 0; i < 4; i++) await collectAggregateMetricsWithCache('llama', 'prod', client, cache, opts);
    // Another model: 1 miss, then 1 hit.
    await collectAggregateMetricsWithCache('granite', 'staging', client, cache, opts);
    await collectAggregateMetricsWithCache('granite', 'staging', client, cache, opts);
    // Prometheus unreachable for a third key: 1 miss (failed query), then 2 failure hits (no query).
    for (let i = 0; i < 3; i++) {
      await expect(collectAggregateMetricsWithCache('mistral', 'dev', down, cache, opts)).rejects.toThrow();
    }
    const made = 3 + 4 + 2 + 3;

    let after = await scrape();
    const delta = lookups(after).map((x, i) => x - lookups(before)[i]!);
    expect(delta).toEqual([4 + 1, 1 + 1 + 1, 2, 2]); // hit, miss, failure_hit, coalesced
    expect(delta.reduce((a, b) => a + b)).toBe(made);

    const q = (kind: string, outcome: string) =>
      v(after, `wva_prometheus_queries_total{kind="${kind}",outcome="${outcome}"}`) -
      v(before, `wva_prometheus_queries_total{kind="${kind}",outcome="${outcome}"}`);
    expect(q('model', 'success')).toBe(2);
    expect(q('model', 'error')).toBe(1);
    expect(q('fleet', 'success')).toBe(0);
    // What Prometheus itself counted agrees with what we say we sent it.
    expect((await prom.queryCalls()) - callsBefore).toBe(2);
    expect(v(after, 'wva_prometheus_query_duration_seconds_count{kind="model"}')).toBe(3);
    expect(v(after, 'wva_prometheus_queries_in_flight{kind="model"}')).toBe(0);

    expect(v(after, 'wva_cache_entries')).toBe(3); // llama, granite, mistral (failed)
    expect(v(after, 'wva_cache_ttl_seconds{entry="valid"}')).toBe(30);
    expect(v(after, 'wva_cache_ttl_seconds{entry="failed"}')).toBe(10);

    // Expire everything and clean up: 3 expired evictions, 0 entries.
    now += 31_000;
    expect(cache.cleanup()).toBe(3);
    after = await scrape();
    expect(v(after, 'wva_cache_evictions_total{reason="expired"}')).toBe(3);
    expect(v(after, 'wva_cache_entries')).toBe(0);
    cache.invalidate('llama', 'prod'); // nothing there: no eviction
    expect(v(await scrape(), 'wva_cache_evictions_total{reason="invalidated"}')).toBe(0);
    client.close();
    down.close();
  });

  it('fleet collection: one query for every pair, coalesced across concurrent readers', async () => {
    let now = 5_000_000;
    const cache = new ModelMetricsCache({ ttlMs: 30_000, now: () => now });
    telemetry.bindCache(cache);
    const client = new PrometheusClient({ url: prom.url });
    const fleet = new FleetCollector({
      prom: client,
      cache,
      now: () => now,
      evaluationTime: () => at,
      observer: telemetry,
    });
    const before = await scrape();
    const callsBefore = await prom.queryCalls();

    const pairs: Array<[string, string]> = [
      ['llama', 'prod'],
      ['granite', 'staging'],
      ['absent', 'prod'],
    ];
    // Cold: the first reader misses, the other two join its query.
    const reads = await Promise.all(pairs.map(([m, ns]) => fleet.read(m, ns)));
    expect(reads.map((r) => r.availability.reason)).toEqual([
      'MetricsFound',
      'MetricsFound',
      'MetricsMissing',
    ]);
    // Warm: three hits.
    for (const [m, ns] of pairs) await fleet.read(m, ns);
    // TTL over: one more fleet query, then hits.
    now += 31_000;
    for (const [m, ns] of pairs) await fleet.read(m, ns);

    const after = await scrape();
    const delta = lookups(after).map((x, i) => x - lookups(before)[i]!);
    expect(delta).toEqual([3 + 2, 1 + 1, 0, 2]); // hit, miss, failure_hit, coalesced
    expect(delta.reduce((a, b) => a + b)).toBe(9);
    const fleetQueries =
      v(after, 'wva_prometheus_queries_total{kind="fleet",outcome="success"}') -
      v(before, 'wva_prometheus_queries_total{kind="fleet",outcome="success"}');
    expect(fleetQueries).toBe(2);
    expect((await prom.queryCalls()) - callsBefore).toBe(2);
    expect(v(after, 'wva_prometheus_queries_in_flight{kind="fleet"}')).toBe(0);
    expect(v(after, 'wva_cache_entries')).toBe(2); // the pairs Prometheus knows
    // Process metrics are served alongside.
    expect(after.has('process_cpu_seconds_total')).toBe(true);
    client.close();
  });

  it('cycles, status writes and reloads show up in the same scrape', async () => {
    telemetry.cycleFinished('success', 0.01);
    telemetry.statusWrite('written');
    telemetry.configReloaded('success');
    const m = await scrape();
    expect(v(m, 'wva_collection_cycles_total{outcome="success"}')).toBe(1);
    expect(v(m, 'wva_collection_cycle_duration_seconds_count')).toBe(1);
    expect(v(m, 'wva_status_writes_total{outcome="written"}')).toBe(1);
    expect(v(m, 'wva_config_reloads_total{outcome="success"}')).toBe(1);
    expect(v(m, 'wva_config_last_reload_successful')).toBe(1);
  });
});
