import { request } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Telemetry } from '../../src/telemetry/metrics.js';
import {
  parseListenAddress,
  ReadinessGate,
  startTelemetryServer,
  type TelemetryServer,
} from '../../src/telemetry/server.js';

/** The value of one series in exposition text; undefined if the series is absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

function fakeCache() {
  const stats = {
    size: 3,
    maxEntries: 100,
    ttlMs: 30_000,
    failureTtlMs: 10_000,
    evictions: { expired: 2, capacity: 1, invalidated: 0, cleared: 5 },
  };
  return { stats: () => stats, state: stats };
}

describe('Telemetry', () => {
  it('counts lookups by result, every result present from the start', async () => {
    const t = new Telemetry({ collectDefaultMetrics: false });
    let text = await t.metrics();
    for (const result of ['hit', 'miss', 'failure_hit', 'coalesced']) {
      expect(sample(text, `wva_cache_lookups_total{result="${result}"}`)).toBe(0);
    }
    t.lookup('hit', 'm', 'ns');
    t.lookup('hit', 'm', 'ns');
    t.lookup('miss', 'm', 'ns');
    t.lookup('coalesced', 'm', 'ns');
    t.lookup('failure_hit', 'm', 'ns');
    text = await t.registry.getSingleMetricAsString('wva_cache_lookups_total');
    expect(sample(text, 'wva_cache_lookups_total{result="hit"}')).toBe(2);
    expect(sample(text, 'wva_cache_lookups_total{result="miss"}')).toBe(1);
    expect(sample(text, 'wva_cache_lookups_total{result="coalesced"}')).toBe(1);
    expect(sample(text, 'wva_cache_lookups_total{result="failure_hit"}')).toBe(1);
    // Model names never become labels.
    expect(await t.metrics()).not.toContain('"m"');
  });

  it('reads cache entries, capacity, TTLs and evictions from the bound cache at scrape time', async () => {
    const t = new Telemetry({ collectDefaultMetrics: false });
    expect(sample(await t.metrics(), 'wva_cache_entries')).toBe(0); // nothing bound yet
    const cache = fakeCache();
    t.bindCache(cache);
    let text = await t.metrics();
    expect(sample(text, 'wva_cache_entries')).toBe(3);
    expect(sample(text, 'wva_cache_max_entries')).toBe(100);
    expect(sample(text, 'wva_cache_ttl_seconds{entry="valid"}')).toBe(30);
    expect(sample(text, 'wva_cache_ttl_seconds{entry="failed"}')).toBe(10);
    expect(sample(text, 'wva_cache_evictions_total{reason="expired"}')).toBe(2);
    expect(sample(text, 'wva_cache_evictions_total{reason="capacity"}')).toBe(1);
    expect(sample(text, 'wva_cache_evictions_total{reason="invalidated"}')).toBe(0);
    expect(sample(text, 'wva_cache_evictions_total{reason="cleared"}')).toBe(5);
    expect(text).toContain('# TYPE wva_cache_evictions_total counter');
    cache.state.size = 7;
    cache.state.evictions.expired = 9;
    cache.state.ttlMs = 5000;
    text = await t.metrics();
    expect(sample(text, 'wva_cache_entries')).toBe(7);
    expect(sample(text, 'wva_cache_evictions_total{reason="expired"}')).toBe(9);
    expect(sample(text, 'wva_cache_ttl_seconds{entry="valid"}')).toBe(5);
  });

  it('counts queries by kind and outcome, their duration and those in flight', async () => {
    const t = new Telemetry({ collectDefaultMetrics: false });
    t.queryStarted('fleet');
    t.queryStarted('fleet');
    t.queryStarted('model');
    let text = await t.metrics();
    expect(sample(text, 'wva_prometheus_queries_in_flight{kind="fleet"}')).toBe(2);
    expect(sample(text, 'wva_prometheus_queries_in_flight{kind="model"}')).toBe(1);
    t.queryFinished('fleet', 'success', 0.004);
    t.queryFinished('fleet', 'error', 2);
    t.queryFinished('model', 'success', 0.02);
    text = await t.metrics();
    expect(sample(text, 'wva_prometheus_queries_in_flight{kind="fleet"}')).toBe(0);
    expect(sample(text, 'wva_prometheus_queries_total{kind="fleet",outcome="success"}')).toBe(1);
    expect(sample(text, 'wva_prometheus_queries_total{kind="fleet",outcome="error"}')).toBe(1);
    expect(sample(text, 'wva_prometheus_queries_total{kind="model",outcome="success"}')).toBe(1);
    expect(sample(text, 'wva_prometheus_queries_total{kind="availability",outcome="error"}')).toBe(0);
    expect(sample(text, 'wva_prometheus_query_duration_seconds_count{kind="fleet"}')).toBe(2);
    expect(sample(text, 'wva_prometheus_query_duration_seconds_sum{kind="fleet"}')).toBeCloseTo(2.004);
    expect(sample(text, 'wva_prometheus_query_duration_seconds_bucket{le="0.005",kind="fleet"}')).toBe(1);
  });

  it('counts cycles, reloads and status writes', async () => {
    const t = new Telemetry({ collectDefaultMetrics: false });
    t.cycleFinished('success', 0.3);
    t.cycleFinished('error', 1.2);
    t.cycleFinished('success', 0.1);
    t.configReloaded('success');
    t.configReloaded('error');
    t.statusWrite('written');
    t.statusWrite('unchanged');
    t.statusWrite('unchanged');
    const text = await t.metrics();
    expect(sample(text, 'wva_collection_cycles_total{outcome="success"}')).toBe(2);
    expect(sample(text, 'wva_collection_cycles_total{outcome="error"}')).toBe(1);
    expect(sample(text, 'wva_collection_cycle_duration_seconds_count')).toBe(3);
    expect(sample(text, 'wva_collection_cycle_duration_seconds_sum')).toBeCloseTo(1.6);
    expect(sample(text, 'wva_config_reloads_total{outcome="success"}')).toBe(1);
    expect(sample(text, 'wva_config_reloads_total{outcome="error"}')).toBe(1);
    expect(sample(text, 'wva_config_last_reload_successful')).toBe(0);
    expect(sample(text, 'wva_status_writes_total{outcome="written"}')).toBe(1);
    expect(sample(text, 'wva_status_writes_total{outcome="unchanged"}')).toBe(2);
    expect(sample(text, 'wva_status_writes_total{outcome="error"}')).toBe(0);
  });

  it('uses the registry it is given and adds process metrics only when asked', async () => {
    const registry = new Registry();
    const t = new Telemetry({ registry, collectDefaultMetrics: true });
    expect(t.registry).toBe(registry);
    const text = await registry.metrics();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(await new Telemetry({ collectDefaultMetrics: false }).metrics()).not.toContain('process_');
  });

  it('every wva_ metric is documented in docs/metrics.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const t = new Telemetry({ collectDefaultMetrics: false });
    const names = (await t.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});

describe('parseListenAddress', () => {
  it('accepts :port, host:port, [ipv6]:port', () => {
    expect(parseListenAddress(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('localhost:9100')).toEqual({ host: 'localhost', port: 9100 });
    expect(parseListenAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
  });
  it('refuses anything else with a reason', () => {
    expect(() => parseListenAddress('8080')).toThrow(/use :8080, host:port/);
    expect(() => parseListenAddress('host:port')).toThrow(/not a listen address/);
    expect(() => parseListenAddress(':70000')).toThrow(/above 65535/);
    expect(() => parseListenAddress('::1:80')).toThrow(/not a listen address/);
  });
});

function get(port: number, path: string, method = 'GET', agent?: import('node:http').Agent) {
  return new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startTelemetryServer', () => {
  let server: TelemetryServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /metrics, /healthz, /readyz and 404s', async () => {
    const t = new Telemetry({ collectDefaultMetrics: false });
    const gate = new ReadinessGate().require('config', 'configuration not loaded');
    gate.require('first-collection', 'no collection attempted yet');
    server = await startTelemetryServer({ address: '127.0.0.1:0', registry: t.registry, ready: gate.check });
    expect(server.port).toBeGreaterThan(0);
    t.lookup('hit', 'm', 'ns');

    const metrics = await get(server.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe(t.registry.contentType);
    expect(sample(metrics.body, 'wva_cache_lookups_total{result="hit"}')).toBe(1);

    expect(await get(server.port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });

    let ready = await get(server.port, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toBe('not ready: configuration not loaded; no collection attempted yet\n');
    gate.done('config');
    ready = await get(server.port, '/readyz');
    expect(ready).toMatchObject({ status: 503, body: 'not ready: no collection attempted yet\n' });
    gate.done('first-collection');
    expect(await get(server.port, '/readyz')).toMatchObject({ status: 200, body: 'ok\n' });

    expect((await get(server.port, '/')).status).toBe(404);
    expect((await get(server.port, '/metricsx')).status).toBe(404);
    expect((await get(server.port, '/metrics', 'POST')).status).toBe(405);
    expect(await get(server.port, '/healthz?verbose=1')).toMatchObject({ status: 200 });
    expect(await get(server.port, '/healthz', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('answers 503 with the error when the readiness check throws', async () => {
    server = await startTelemetryServer({
      address: '127.0.0.1:0',
      registry: new Registry(),
      ready: () => {
        throw new Error('boom');
      },
    });
    expect(await get(server.port, '/readyz')).toMatchObject({
      status: 503,
      body: 'not ready: readiness check failed: boom\n',
    });
  });

  it('close() does not wait out the grace for an idle keep-alive connection', async () => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    const s = await startTelemetryServer({ address: '127.0.0.1:0', registry: new Registry() });
    expect((await get(s.port, '/healthz', 'GET', agent)).status).toBe(200);
    // Neither timer that could also end the wait may do it: the grace timer is fake and never
    // advanced, and the server's 5 s keep-alive timeout cannot pass in a bounded number of
    // event-loop turns. So close() finishes only by closing the idle socket at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let closed = false;
      const closing = s.close().then(() => {
        closed = true;
      });
      expect(vi.getTimerCount()).toBe(1);
      for (let turn = 0; turn < 1000 && !closed; turn++) await new Promise((r) => setImmediate(r));
      expect(closed).toBe(true);
      await closing;
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    await expect(get(s.port, '/healthz')).rejects.toThrow();
    agent.destroy();
  });

  it('rejects when the port is taken', async () => {
    server = await startTelemetryServer({ address: '127.0.0.1:0', registry: new Registry() });
    await expect(
      startTelemetryServer({ address: `127.0.0.1:${server.port}`, registry: new Registry() }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
