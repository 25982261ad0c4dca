// Prometheus faults (issue 7), short versions for `npm test`: the real Prometheus SIGKILLed mid-run
// (also in the middle of a query) and restarted; a slow or silent Prometheus behind a loopback
// proxy; garbage replies of every kind. The controller here is the local-mode one (the same
// Reconciler and status logic as in a cluster) over real PrometheusClient + FleetCollector + cache.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { collectAggregateMetricsWithCache, FleetCollector } from '../../src/collector/index.js';
import { type CycleReport, LocalController } from '../../src/controller/local.js';
import { PrometheusClient, type PrometheusTimers } from '../../src/prometheus/client.js';
import { PrometheusTimeoutError } from '../../src/prometheus/errors.js';
import type { PromAPI, PromQueryData, PromQueryOptions } from '../../src/types.js';
import { type FaultMode, startFaultProxy } from '../support/fault-proxy.js';
import { manualTimers, neverTimers } from '../support/manual-timers.js';
import { killPrometheus } from '../support/prom-kill.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';
import { deployment, variant } from '../support/variants.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../support/vllm-openmetrics.js';
import { until } from '../support/wait.js';

const MODELS = ['meta/llama-8b', 'mistral/7b', 'qwen/0.5b'];
const pods: VllmPodTraffic[] = MODELS.map((m, i) => ({
  labels: { model_name: m, namespace: 'prod', pod: `pod-${i}` },
  requestsPerSecond: 2 + i,
  avgPromptTokens: 100 * (i + 1),
  avgGenerationTokens: 20 + i,
  avgTtftSeconds: 0.05,
  avgItlSeconds: 0.01,
}));

let prom: PrometheusServer;
let dir: string;
let manifests: string;

beforeAll(async () => {
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
  dir = mkdtempSync(join(tmpdir(), 'wva-faults-'));
  manifests = join(dir, 'va.yaml');
  writeFileSync(
    manifests,
    MODELS.flatMap((m, i) => [variant('prod', `va-${i}`, m), deployment('prod', `va-${i}`, 1 + i)])
      .map((o) => stringify(o))
      .join('---\n'),
  );
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Any unhandled rejection anywhere in this file fails the test that caused it.
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** Counts what reaches Prometheus (attempts, successful or not). */
class Counting implements PromAPI {
  calls = 0;
  constructor(private readonly inner: PromAPI) {}
  query(q: string, t?: Date, o?: PromQueryOptions): Promise<PromQueryData> {
    this.calls++;
    return this.inner.query(q, t, o);
  }
}

/** Counts the queries waiting on Prometheus at once (at the client, before any network lag). */
class InFlight implements PromAPI {
  calls = 0;
  now = 0;
  max = 0;
  constructor(private readonly inner: PromAPI) {}
  async query(q: string, t?: Date, o?: PromQueryOptions): Promise<PromQueryData> {
    this.calls++;
    this.max = Math.max(this.max, ++this.now);
    try {
      return await this.inner.query(q, t, o);
    } finally {
      this.now--;
    }
  }
}

// Captured before any test fakes the timers: waiting on the proxy's sockets is real I/O.
const realSetTimeout = setTimeout;
/** Polls `cond` on real timers; the count of polls only guards against a hang, it proves nothing. */
async function untilIo(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => realSetTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function rig(
  url: string,
  o: { timeoutMs?: number; ttlMs?: number; failureTtlMs?: number; timers?: PrometheusTimers } = {},
) {
  const clock = { now: 1_000_000 };
  const client = new PrometheusClient({
    url,
    timeoutMs: o.timeoutMs ?? 3000,
    ...(o.timers ? { timers: o.timers } : {}),
  });
  const prometheus = new Counting(client);
  const cache = new ModelMetricsCache({
    ttlMs: o.ttlMs ?? 30_000,
    failureTtlMs: o.failureTtlMs ?? 10_000,
    now: () => clock.now,
  });
  const collector = new FleetCollector({
    prom: prometheus,
    cache,
    now: () => clock.now,
    evaluationTime: () => new Date(BACKFILL_TIME_S * 1000),
  });
  const local = new LocalController({ manifests, collector, intervalMs: 60_000 });
  return { clock, client, prometheus, cache, collector, local };
}

function reasons(r: CycleReport): string[] {
  return r.rows.map((row) => row.conditions.find((c) => c.type === 'MetricsAvailable')?.reason ?? '-');
}

describe('Prometheus killed mid-run and restarted', () => {
  it('PrometheusError within one cycle, one attempt per failure TTL, MetricsFound one cycle after it returns', async () => {
    const r = rig(prom.url);
    try {
      const first = await r.local.runCycle();
      expect(reasons(first)).toEqual(['MetricsFound', 'MetricsFound', 'MetricsFound']);
      const before = first.rows.map((row) => row.status);
      expect(before[0]?.load.arrivalRate).toBe(expectedMetrics([pods[0]!]).arrivalRate.toFixed(2));

      await killPrometheus(prom);
      r.clock.now += 31_000; // the snapshot is older than the TTL: the next cycle asks Prometheus
      const callsBefore = r.prometheus.calls;
      const down = await r.local.runCycle();
      expect(reasons(down)).toEqual(['PrometheusError', 'PrometheusError', 'PrometheusError']);
      expect(down.rows[0]?.condition?.message).toMatch(
        /cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+/,
      );
      // The last good numbers stay in currentAlloc (no zeros that would read as "idle").
      expect(down.rows.map((row) => row.status)).toEqual(before);
      expect(r.prometheus.calls - callsBefore).toBe(1);

      // Cycles inside the failure TTL: no new attempt, for the fleet or per key.
      for (let i = 0; i < 5; i++) {
        r.clock.now += 1_000;
        expect(reasons(await r.local.runCycle())).toEqual([
          'PrometheusError',
          'PrometheusError',
          'PrometheusError',
        ]);
      }
      const perKey = new Counting(r.client);
      // At the fleet collector's evaluation time and window: the same view of the cache.
      const at = { time: new Date(BACKFILL_TIME_S * 1000) };
      const calls = MODELS.flatMap((m) =>
        Array.from({ length: 50 }, () =>
          collectAggregateMetricsWithCache(m, 'staging', perKey, r.cache, at).catch((e: unknown) => e),
        ),
      );
      const results = await Promise.all(calls);
      expect(results.every((x) => x instanceof Error)).toBe(true);
      expect(perKey.calls).toBe(MODELS.length); // one attempt per key
      r.clock.now += 1_000;
      await Promise.all(
        MODELS.map((m) =>
          collectAggregateMetricsWithCache(m, 'staging', perKey, r.cache, at).catch(() => {}),
        ),
      );
      expect(perKey.calls).toBe(MODELS.length); // still inside the failure TTL
      expect(r.prometheus.calls - callsBefore).toBe(1);

      await prom.restart();
      r.clock.now += 10_001; // the failure TTL has ended
      const back = await r.local.runCycle();
      expect(reasons(back)).toEqual(['MetricsFound', 'MetricsFound', 'MetricsFound']);
      expect(back.rows.map((row) => row.status)).toEqual(before);
      expect(r.prometheus.calls - callsBefore).toBe(2);
    } finally {
      r.client.close();
    }
  }, 60_000);

  it('a kill in the middle of a query ends that cycle with PrometheusError, not a hang or crash', async () => {
    const proxy = await startFaultProxy({ upstream: prom.url, mode: { kind: 'delay', ms: 400 } });
    // The client's timeout never fires: if the cycle ends, the kill ended it.
    const r = rig(proxy.url, { timeoutMs: 5000, timers: neverTimers });
    try {
      const arrived = proxy.nextRequest();
      const cycle = r.local.runCycle();
      await arrived;
      await killPrometheus(prom);
      const report = await cycle;
      expect(reasons(report)).toEqual(['PrometheusError', 'PrometheusError', 'PrometheusError']);
      expect(report.rows[0]?.condition?.message).toMatch(
        /cannot reach Prometheus|closed mid-reply|socket hang up/,
      );
    } finally {
      r.client.close();
      await proxy.close();
      await prom.restart();
    }
  }, 60_000);
});

describe('Prometheus slow or silent (loopback proxy)', () => {
  it('each query ends at its timeout; a delay under the timeout is just slow', async () => {
    const proxy = await startFaultProxy({ upstream: prom.url, mode: { kind: 'silent' } });
    const timers = manualTimers();
    const client = new PrometheusClient({ url: proxy.url, timeoutMs: 300, timers });
    try {
      const time = new Date(BACKFILL_TIME_S * 1000);
      // The delayed request would end by itself only after a minute: nothing in this test waits
      // that long, so only the client's timeout can end it.
      for (const mode of [{ kind: 'silent' }, { kind: 'delay', ms: 60_000 }] as FaultMode[]) {
        proxy.mode = mode;
        const arrived = proxy.nextRequest();
        let settled = false;
        const query = client
          .query('vllm:request_success_total', time)
          .catch((e: unknown) => e)
          .finally(() => {
            settled = true;
          });
        await arrived;
        // The request is at the proxy, unanswered: the query waits on its 300 ms timeout alone.
        expect(settled).toBe(false);
        expect(timers.pending.map((t) => t.ms)).toEqual([300]);
        timers.fire();
        const err = await query;
        expect(err).toBeInstanceOf(PrometheusTimeoutError);
        expect((err as Error).message).toMatch(/did not answer within 300 ms/);
      }
      proxy.mode = { kind: 'delay', ms: 100 };
      const ok = await client.query('vllm:request_success_total', time);
      expect(ok.resultType).toBe('vector');
      // An answer clears its timeout: nothing is left to fire at the dead request later.
      expect(timers.pending).toEqual([]);
      // The abandoned requests were closed by the client, not left open on the proxy.
      await until(() => proxy.inFlight === 0, 'the abandoned requests to be closed');
      expect(proxy.inFlight).toBe(0);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('cycles never overlap while every query times out, and stop() ends promptly', async () => {
    const proxy = await startFaultProxy({ upstream: prom.url, mode: { kind: 'silent' } });
    // Fake time drives the cycle interval, the query timeout and the cycle's clock; the request
    // itself still goes over the loopback to the proxy.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const client = new PrometheusClient({ url: proxy.url, timeoutMs: 150 });
    const prometheus = new InFlight(client);
    const cache = new ModelMetricsCache({ ttlMs: 1000, failureTtlMs: 1 });
    const collector = new FleetCollector({ prom: prometheus, cache });
    // Interval far below the query timeout: a naive timer would start a cycle every 20 ms.
    const local = new LocalController({ manifests, collector, intervalMs: 20 });
    const reports: CycleReport[] = [];
    /** Runs fake time forward in 1 ms steps, so each due timer gets its chance. */
    const advance = async (ms: number) => {
      for (let i = 0; i < ms; i++) await vi.advanceTimersByTimeAsync(1);
    };
    try {
      const first = proxy.nextRequest();
      local.start((rep) => reports.push(rep));
      await vi.advanceTimersByTimeAsync(0);
      await first;
      for (let cycle = 1; cycle <= 6; cycle++) {
        // Seven intervals pass while the query waits: a cycle per interval would show here.
        await advance(149);
        expect(prometheus.calls).toBe(cycle);
        expect(reports).toHaveLength(cycle - 1);
        const next = proxy.nextRequest();
        await advance(1); // the query's timeout ends the cycle
        expect(reports).toHaveLength(cycle);
        await untilIo(() => proxy.inFlight === 0, 'the timed-out request to be closed');
        await advance(20); // the next cycle starts an interval after this one ended
        await next;
      }
      // stop() aborts the waiting query: it ends with no fake time passing at all.
      let stopped = false;
      const stopping = local.stop().then(() => {
        stopped = true;
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(true);
      await stopping;
      expect(reports.length).toBe(6);
      for (let i = 1; i < reports.length; i++) {
        const prev = reports[i - 1]!;
        expect(reports[i]!.startedAt.getTime()).toBeGreaterThanOrEqual(
          prev.startedAt.getTime() + prev.durationMs,
        );
        expect(prev.durationMs).toBeGreaterThanOrEqual(150); // each waited for its query's timeout
      }
      expect(prometheus.max).toBe(1);
      expect(proxy.maxInFlight).toBe(1);
      expect(reports.every((rep) => reasons(rep).every((x) => x === 'PrometheusError'))).toBe(true);
    } finally {
      vi.useRealTimers();
      await local.stop();
      client.close();
      await proxy.close();
    }
  });

  it('memory stays flat over 150 timed-out cycles; no timer or socket left after stop', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const proxy = await startFaultProxy({ upstream: prom.url, mode: { kind: 'silent' } });
    const resourcesBefore = process.getActiveResourcesInfo().sort();
    const client = new PrometheusClient({ url: proxy.url, timeoutMs: 10 });
    const cache = new ModelMetricsCache({ ttlMs: 1000, failureTtlMs: 1 });
    const collector = new FleetCollector({ prom: client, cache });
    const local = new LocalController({ manifests, collector });
    // Each timed-out request has been closed on the proxy before the next cycle starts.
    const settle = () => until(() => proxy.inFlight === 0, 'the timed-out request to be closed', 2000);
    try {
      for (let i = 0; i < 30; i++) {
        await local.runCycle();
        await settle();
      }
      gc();
      const heap0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < 150; i++) {
        await local.runCycle();
        await settle();
      }
      gc();
      const grown = process.memoryUsage().heapUsed - heap0;
      console.log(`150 timed-out cycles: heap ${(grown / 1024).toFixed(0)} KiB after GC`);
      expect(grown).toBeLessThan(3 * 1024 * 1024);
    } finally {
      client.close();
      await proxy.close();
    }
    // Nothing of ours is left: no type of handle has more instances than before the run. Closed
    // sockets leave the list a few ticks after close(): wait for that (bounded), then the expects
    // below name whatever is still left.
    const count = (xs: string[]) =>
      xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    const before = count(resourcesBefore);
    const left = () =>
      [...count(process.getActiveResourcesInfo())].filter(([type, n]) => n > (before.get(type) ?? 0));
    await until(() => left().length === 0, 'the handles of the run to close', 500).catch(() => undefined);
    for (const [type, n] of count(process.getActiveResourcesInfo())) {
      expect({ type, n }).toEqual({ type, n: Math.min(n, before.get(type) ?? 0) });
    }
  }, 60_000);
});

describe('garbage from Prometheus', () => {
  const vec = (series: Array<{ stat: string; value: string }>) =>
    JSON.stringify({
      status: 'success',
      data: {
        resultType: 'vector',
        result: series.map((s) => ({
          metric: { model_name: MODELS[0], namespace: 'prod', stat: s.stat },
          value: [BACKFILL_TIME_S, s.value],
        })),
      },
    });
  const stats = [
    'completion_rate_per_min',
    'queue_growth_per_min',
    'avg_input_tokens',
    'avg_output_tokens',
    'ttft_ms',
    'itl_ms',
    'requests_running',
    'requests_waiting',
    'kv_cache_usage',
  ];
  const allStats = (value: string) => vec(stats.map((stat) => ({ stat, value })));
  const freshness = { stat: 'newest_sample_time', value: String(BACKFILL_TIME_S) };

  type Case = { name: string; mode: FaultMode; error?: RegExp; incomplete?: boolean; huge?: boolean };
  const reply = (body: string, status = 200, contentType = 'application/json'): FaultMode => ({
    kind: 'reply',
    status,
    body,
    contentType,
  });
  const cases: Case[] = [
    {
      name: 'HTML 502 from a proxy',
      mode: reply('<html><body><h1>502 Bad Gateway</h1></body></html>', 502, 'text/html'),
      // The condition carries the failure's summary: no body, so no status churn from its content.
      error: /answered HTTP 502$/,
    },
    {
      name: 'HTML page with 200',
      mode: reply('<html>login</html>', 200, 'text/html'),
      error: /malformed reply .*body is not JSON/,
    },
    { name: 'truncated JSON', mode: reply(allStats('1').slice(0, 60)), error: /malformed reply .*not JSON/ },
    { name: 'invalid JSON', mode: reply('{"status":"success",data:}'), error: /malformed reply .*not JSON/ },
    { name: 'empty body', mode: reply(''), error: /malformed reply .*not JSON/ },
    {
      name: 'wrong resultType (matrix)',
      mode: reply('{"status":"success","data":{"resultType":"matrix","result":[]}}'),
      error: /expected a vector result, got matrix/,
    },
    {
      name: 'wrong resultType (scalar)',
      mode: reply('{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}'),
      error: /expected a vector result, got scalar/,
    },
    {
      name: 'unknown resultType',
      mode: reply('{"status":"success","data":{"resultType":"histogram","result":[]}}'),
      error: /unknown resultType "histogram"/,
    },
    {
      name: '200 with status error',
      mode: reply(
        '{"status":"error","errorType":"execution","error":"query processing would load too many samples"}',
      ),
      error: /rejected the query \(execution, HTTP 200\)$/,
    },
    { name: 'missing data', mode: reply('{"status":"success"}'), error: /"data" is not an object/ },
    {
      name: 'missing status',
      mode: reply('{"data":{"resultType":"vector","result":[]}}'),
      error: /"status" is missing/,
    },
    {
      name: 'series without labels',
      mode: reply('{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}'),
      error: /series 0 has no valid "metric" labels/,
    },
    {
      name: 'series without value',
      mode: reply('{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}'),
      error: /series 0 has no valid "value"/,
    },
    {
      name: 'value not a number',
      mode: reply(allStats('fast')),
      error: /sample value "fast" is not a number/,
    },
    {
      name: 'NaN everywhere',
      mode: reply(vec([...stats.map((stat) => ({ stat, value: 'NaN' })), freshness])),
      incomplete: true,
    },
    {
      name: '+Inf everywhere',
      mode: reply(vec([...stats.map((stat) => ({ stat, value: '+Inf' })), freshness])),
      incomplete: true,
    },
    {
      name: '-Inf and 1e400',
      mode: reply(
        vec([
          ...stats.map((stat) => ({ stat, value: '-Inf' })),
          { stat: 'ttft_ms', value: '1e400' },
          freshness,
        ]),
      ),
      incomplete: true,
    },
    {
      name: 'huge finite numbers',
      mode: reply(
        vec([
          ...stats.map((stat) => ({ stat, value: stat === 'queue_growth_per_min' ? '0' : '1.7e308' })),
          freshness,
        ]),
      ),
      huge: true,
    },
    {
      // Each finite, their sum (arrivals = completions + growth) not: unknown, never Infinity.
      name: 'huge finite numbers that overflow when added',
      mode: reply(vec([...stats.map((stat) => ({ stat, value: '1.7e308' })), freshness])),
      incomplete: true,
    },
    {
      name: 'connection reset mid-body',
      mode: { kind: 'reset-mid-body' },
      error: /cannot reach Prometheus|closed mid-reply/,
    },
    { name: 'connection refused', mode: { kind: 'refuse' }, error: /cannot reach Prometheus/ },
  ];

  let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
  beforeAll(async () => {
    proxy = await startFaultProxy();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it.each(cases)('$name: a typed error or an honest unknown, never a crash', async (c) => {
    proxy.mode = c.mode;
    const r = rig(proxy.url, { timeoutMs: 2000 });
    try {
      const report = await r.local.runCycle();
      const row = report.rows[0]!;
      const cond = row.conditions.find((x) => x.type === 'MetricsAvailable');
      // Every row is reconciled (written), none threw.
      expect(report.rows.map((x) => x.outcome)).toEqual(['written', 'written', 'written']);
      if (c.error) {
        expect(cond?.reason).toBe('PrometheusError');
        expect(cond?.message).toMatch(c.error);
        expect(cond?.message).not.toMatch(/\n/);
        expect(row.status).toBeUndefined(); // nothing invented
      } else if (c.incomplete) {
        // NaN and ±Inf are no numbers: unknown, MetricsIncomplete, and no currentAlloc of zeros.
        expect(cond?.reason).toBe('MetricsIncomplete');
        expect(cond?.message).toContain('arrivalRate');
        expect(row.status).toBeUndefined();
        expect(reasons(report).slice(1)).toEqual(['MetricsMissing', 'MetricsMissing']);
      } else {
        expect(cond?.reason).toBe('MetricsFound');
        const a = row.status!;
        const numbers = [
          a.load.arrivalRate,
          a.load.avgInputTokens,
          a.load.avgOutputTokens,
          a.ttftAverage,
          a.itlAverage,
        ];
        // The CRD's decimal strings, never NaN/Inf/exponent notation.
        for (const n of numbers) expect(n).toMatch(/^\d+\.\d\d$/);
        if (c.huge) expect(a.load.arrivalRate).toBe('100000000000000000000.00');
        // The other models were not in the reply: MetricsMissing, not an error.
        expect(reasons(report).slice(1)).toEqual(['MetricsMissing', 'MetricsMissing']);
      }
    } finally {
      r.client.close();
    }
  });
});
