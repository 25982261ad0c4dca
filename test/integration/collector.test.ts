// The collector against the REAL Prometheus (2.42), with promtool-backfilled vLLM series queried at
// a fixed time, so every number is exact. Calls are counted with Prometheus' own counter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { checkMetricsAvailability } from '../../src/collector/availability.js';
import { collectAggregateMetricsWithCache } from '../../src/collector/cached.js';
import { collectAggregateMetrics, collectFleetMetrics } from '../../src/collector/collect.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { PrometheusApiError } from '../../src/prometheus/errors.js';
import type { AggregateMetrics } from '../../src/types.js';
import { runCli } from '../support/cli.js';
import {
  BACKFILL_TIME_S,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from '../support/prometheus.js';
import {
  type ExpectedMetrics,
  expectedMetrics,
  type VllmPodTraffic,
  vllmOpenMetrics,
} from '../support/vllm-openmetrics.js';

const T = BACKFILL_TIME_S;
const AT = new Date(T * 1000);
const MODEL = 'meta-llama/Llama-3.1-8B';
const NASTY = 'evil"model\\name}{x="1"}\n.*|(a)+[z]';

function pod(
  model: string,
  namespace: string,
  name: string,
  traffic: Omit<VllmPodTraffic, 'labels'>,
): VllmPodTraffic {
  return { labels: { model_name: model, namespace, pod: name, engine: '0', job: 'vllm' }, ...traffic };
}

const main = [
  pod(MODEL, 'prod', 'llama-a', {
    requestsPerSecond: 2,
    avgPromptTokens: 500,
    avgGenerationTokens: 100,
    avgTtftSeconds: 0.08,
    avgItlSeconds: 0.02,
    finishedReasons: { stop: 0.75, length: 0.25 },
  }),
  pod(MODEL, 'prod', 'llama-b', {
    requestsPerSecond: 1,
    avgPromptTokens: 200,
    avgGenerationTokens: 300,
    avgTtftSeconds: 0.2,
    avgItlSeconds: 0.03,
    finishedReasons: { stop: 0.5, abort: 0.5 },
  }),
  pod(MODEL, 'prod', 'llama-c', {
    requestsPerSecond: 0.5,
    avgPromptTokens: 1000,
    avgGenerationTokens: 50,
    avgTtftSeconds: 0.5,
    avgItlSeconds: 0.05,
  }),
];
const traffic = (rps: number) => ({
  requestsPerSecond: rps,
  avgPromptTokens: 100 * rps,
  avgGenerationTokens: 10 * rps,
  avgTtftSeconds: 0.01 * rps,
  avgItlSeconds: 0.001 * rps,
});
// Look-alikes that a sloppy matcher (prefix, regex dot, namespace prefix) would sum in.
const instruct = [pod(`${MODEL}-Instruct`, 'prod', 'instr-a', traffic(10))];
const otherNs = [pod(MODEL, 'prod-eu', 'eu-a', traffic(7))];
const regexTrap = [pod('meta-llama/Llama-3x1-8B', 'prod', 'trap-a', traffic(3))];
const nasty = [pod(NASTY, 'lab', 'evil-a', traffic(4)), pod(NASTY, 'lab', 'evil-b', traffic(2))];
const nastyPrefix = [pod('evil"model\\name}', 'lab', 'evil-c', traffic(9))];
const idle = [pod('idle/model', 'prod', 'idle-a', { requestsPerSecond: 0 })];
const stale = [pod('old/model', 'prod', 'old-a', { ...traffic(1), toS: T - 600, fromS: T - 1200 })];
// Newest samples at ages off the subquery's 5-minute grid: the freshness time must still be exact.
const odd = [
  pod('odd/model', 'prod', 'odd-a', { ...traffic(1), toS: T - 437, fromS: T - 1500, stepS: 13 }),
  pod('odd/model', 'prod', 'odd-b', { ...traffic(1), toS: T - 781, fromS: T - 1500, stepS: 17 }),
  pod('odd/model', 'staging', 'odd-c', { ...traffic(1), toS: T - 251, fromS: T - 1500, stepS: 11 }),
];

const groups: Array<[string, string, VllmPodTraffic[]]> = [
  [MODEL, 'prod', main],
  [`${MODEL}-Instruct`, 'prod', instruct],
  [MODEL, 'prod-eu', otherNs],
  ['meta-llama/Llama-3x1-8B', 'prod', regexTrap],
  [NASTY, 'lab', nasty],
  ['evil"model\\name}', 'lab', nastyPrefix],
  ['idle/model', 'prod', idle],
];

function expectMetrics(actual: AggregateMetrics, e: ExpectedMetrics) {
  expect(actual.load.arrivalRate).toBeCloseTo(e.arrivalRate, 9);
  expect(actual.load.completionRate).toBeCloseTo(e.completionRate, 9);
  expect(actual.load.avgInputTokens).toBeCloseTo(e.avgInputTokens, 9);
  expect(actual.load.avgOutputTokens).toBeCloseTo(e.avgOutputTokens, 9);
  expect(actual.ttftAverage).toBeCloseTo(e.ttftAverage, 9);
  expect(actual.itlAverage).toBeCloseTo(e.itlAverage, 9);
}

/** Not served at all: no series in the window. */
const ZERO = {
  load: { arrivalRate: 0, completionRate: 0, avgInputTokens: 0, avgOutputTokens: 0 },
  ttftAverage: 0,
  itlAverage: 0,
  saturation: { running: 0, waiting: 0 },
};
/** Served, proven idle: also a KV cache, empty. */
const IDLE = { ...ZERO, saturation: { running: 0, waiting: 0, kvCacheUsage: 0 } };

describe('collector against a real Prometheus', () => {
  let prom: PrometheusServer;
  let client: PrometheusClient;

  beforeAll(async () => {
    expect(prometheusAvailable()).toBe(true);
    prom = await startPrometheus({
      openmetrics: vllmOpenMetrics([
        ...main,
        ...instruct,
        ...otherNs,
        ...regexTrap,
        ...nasty,
        ...nastyPrefix,
        ...idle,
        ...stale,
        ...odd,
      ]),
    });
    client = new PrometheusClient({ url: prom.url });
  });
  afterAll(async () => {
    client?.close();
    await prom?.stop();
  });

  it('sums several pods, finished reasons and engines of one model exactly, in ONE call', async () => {
    const e = expectedMetrics(main);
    expect(e.arrivalRate).toBe(210);
    const before = await prom.queryCalls();
    expectMetrics(await collectAggregateMetrics(MODEL, 'prod', client, { time: AT }), e);
    expect(await prom.queryCalls()).toBe(before + 1);
  });

  it('keeps look-alike models and namespaces and PromQL-syntax names apart', async () => {
    for (const [model, ns, pods] of groups) {
      expectMetrics(await collectAggregateMetrics(model, ns, client, { time: AT }), expectedMetrics(pods));
    }
  });

  it('gives the same rates over another window (linear counters)', async () => {
    expectMetrics(
      await collectAggregateMetrics(MODEL, 'prod', client, { time: AT, window: '5m' }),
      expectedMetrics(main),
    );
  });

  it('reports no traffic, a stale model and an unknown model as zeros', async () => {
    expect(await collectAggregateMetrics('idle/model', 'prod', client, { time: AT })).toEqual(IDLE);
    expect(await collectAggregateMetrics('old/model', 'prod', client, { time: AT })).toEqual(ZERO);
    expect(await collectAggregateMetrics('ghost', 'prod', client, { time: AT })).toEqual(ZERO);
  });

  it('collects the whole fleet in ONE call, every pair exact', async () => {
    const before = await prom.queryCalls();
    const fleet = await collectFleetMetrics(client, { time: AT });
    expect(await prom.queryCalls()).toBe(before + 1);
    expect(fleet.size).toBe(groups.length + 3);
    for (const [model, ns, pods] of groups) {
      const got = fleet.get(`${model}:${ns}`);
      expect(got, `${model}:${ns}`).toBeDefined();
      expectMetrics(got!, expectedMetrics(pods));
      expect(got!.newestSample).toEqual(AT);
      expect(got!.evaluatedAt).toEqual(AT);
    }
    // Gone quiet 10 minutes ago: only its newest sample is known, every statistic unknown (not 0).
    const old = fleet.get('old/model:prod');
    expect(old).toEqual({
      modelId: 'old/model',
      namespace: 'prod',
      load: {},
      saturation: {},
      newestSample: new Date((T - 600) * 1000),
      evaluatedAt: AT,
    });
  });

  it('narrows the fleet to given pairs with regex-escaped matchers, exactly', async () => {
    const only = [
      { modelId: NASTY, namespace: 'lab' },
      { modelId: MODEL, namespace: 'prod' },
      { modelId: 'ghost', namespace: 'prod' },
    ];
    const fleet = await collectFleetMetrics(client, { time: AT, only });
    expect([...fleet.keys()].sort()).toEqual([`${MODEL}:prod`, `${NASTY}:lab`].sort());
    expectMetrics(fleet.get(`${NASTY}:lab`)!, expectedMetrics(nasty));
  });

  it('FleetCollector: a reconcile cycle over every variant costs ONE call, with availability', async () => {
    const cache = new ModelMetricsCache({ ttlMs: 30_000 });
    const fc = new FleetCollector({ prom: client, cache, evaluationTime: () => AT });
    const keys: Array<[string, string]> = [
      ...groups.map(([m, n]) => [m, n] as [string, string]),
      ['old/model', 'prod'],
      ['ghost', 'prod'],
    ];
    const before = await prom.queryCalls();
    // Ten variants per model, all reading at once, then again (as the next VAs of the same cycle).
    const reads = await Promise.all(
      keys.flatMap(([m, n]) => Array.from({ length: 10 }, () => fc.read(m, n))),
    );
    await Promise.all(keys.map(([m, n]) => fc.read(m, n)));
    expect(await prom.queryCalls()).toBe(before + 1);
    const byKey = new Map(keys.map(([m, n], i) => [`${m}:${n}`, reads[i * 10]!]));
    expect(byKey.get(`${MODEL}:prod`)?.availability).toMatchObject({
      available: true,
      reason: 'MetricsFound',
    });
    expectMetrics(byKey.get(`${MODEL}:prod`)!.metrics!, expectedMetrics(main));
    expect(byKey.get('idle/model:prod')).toMatchObject({
      metrics: IDLE,
      availability: { reason: 'MetricsFound' },
    });
    expect(byKey.get('old/model:prod')?.availability).toMatchObject({
      available: false,
      reason: 'MetricsStale',
    });
    expect(byKey.get('old/model:prod')?.availability.message).toContain(
      `newest sample at ${new Date((T - 600) * 1000).toISOString().slice(0, 19)}Z, more than 5m old`,
    );
    expect(byKey.get('ghost:prod')).toEqual({
      metrics: ZERO,
      availability: {
        available: false,
        reason: 'MetricsMissing',
        message:
          'no vLLM metrics for model ghost in namespace prod: check the ServiceMonitor/scrape config and model_name label',
      },
    });
    expectMetrics(cache.get(NASTY, 'lab')!, expectedMetrics(nasty));
  });

  it('cached collection: 100 concurrent cold callers make ONE call', async () => {
    const cache = new ModelMetricsCache();
    const before = await prom.queryCalls();
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        collectAggregateMetricsWithCache(MODEL, 'prod', client, cache, { time: AT }),
      ),
    );
    expect(await prom.queryCalls()).toBe(before + 1);
    for (const r of results) expectMetrics(r, expectedMetrics(main));
  });

  it('checks availability: found, missing, stale (one call each)', async () => {
    expect(await checkMetricsAvailability(MODEL, 'prod', client, { time: AT })).toMatchObject({
      available: true,
      reason: 'MetricsFound',
      newestSample: AT,
    });
    expect(await checkMetricsAvailability(NASTY, 'lab', client, { time: AT })).toMatchObject({
      reason: 'MetricsFound',
    });
    expect(await checkMetricsAvailability('ghost', 'prod', client, { time: AT })).toMatchObject({
      reason: 'MetricsMissing',
    });
    // A namespace look-alike of a found model is still missing.
    expect(await checkMetricsAvailability(MODEL, 'pro', client, { time: AT })).toMatchObject({
      reason: 'MetricsMissing',
    });
    expect(await checkMetricsAvailability('old/model', 'prod', client, { time: AT })).toMatchObject({
      reason: 'MetricsStale',
      newestSample: new Date((T - 600) * 1000),
    });
    // Exact newest sample however far it lies from the subquery's step grid.
    for (const [ns, p] of [
      ['prod', odd[0]!],
      ['staging', odd[2]!],
    ] as const) {
      const a = await checkMetricsAvailability('odd/model', ns, client, { time: AT });
      expect(a.newestSample).toEqual(new Date(p.toS! * 1000 - ((p.toS! - p.fromS!) % p.stepS!) * 1000));
    }
    // Within the limit it is found; a limit of 15 min makes the 10-min-old series fresh.
    expect(
      await checkMetricsAvailability('old/model', 'prod', client, { time: AT, staleAfterMs: 15 * 60_000 }),
    ).toMatchObject({ reason: 'MetricsFound' });
  });

  it('reports a bad query as a Prometheus error reply', async () => {
    const err = await client.query('sum(', AT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusApiError);
    expect((err as PrometheusApiError).errorType).toBe('bad_data');
  });

  describe('wva-metrics collect', () => {
    const env = { PROMETHEUS_BASE_URL: '', WVA_CONFIG_FILE: '', LOG_LEVEL: '' };

    it('prints the fleet as JSON', async () => {
      const r = await runCli(
        ['collect', '--prometheus-url', prom.url, '--time', String(T), '--output', 'json'],
        { env },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rows = JSON.parse(r.stdout) as Array<AggregateMetrics & { modelId: string; namespace: string }>;
      expect(rows).toHaveLength(groups.length + 3);
      const mine = rows.find((x) => x.modelId === MODEL && x.namespace === 'prod')!;
      expect(Object.keys(mine).sort()).toEqual([
        'itlAverage',
        'load',
        'modelId',
        'namespace',
        'saturation',
        'ttftAverage',
      ]);
      expect(Object.keys(mine.load).sort()).toEqual([
        'arrivalRate',
        'avgInputTokens',
        'avgOutputTokens',
        'completionRate',
      ]);
      expectMetrics(mine, expectedMetrics(main));
      expect(mine.saturation).toEqual({ running: 0, waiting: 0, kvCacheUsage: 0 });
      // Unknown numbers are null, never 0.
      const old = rows.find((x) => x.modelId === 'old/model' && x.namespace === 'prod')!;
      expect(old).toEqual({
        modelId: 'old/model',
        namespace: 'prod',
        load: { arrivalRate: null, completionRate: null, avgInputTokens: null, avgOutputTokens: null },
        ttftAverage: null,
        itlAverage: null,
        saturation: { running: null, waiting: null, kvCacheUsage: null },
      });
      expect(rows.some((x) => x.modelId === NASTY)).toBe(true);
    });

    it('prints one model as a table, with an RFC 3339 time', async () => {
      const r = await runCli(
        [
          'collect',
          '--prometheus-url',
          prom.url,
          '--model',
          MODEL,
          '--namespace',
          'prod',
          '--time',
          AT.toISOString(),
        ],
        { env },
      );
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^NAMESPACE\s+MODEL\s+REQ\/MIN\s+DONE\/MIN\s+AVG IN TOK\s+AVG OUT TOK\s+TTFT MS\s+ITL MS\s+RUNNING\s+WAITING\s+KV CACHE$/,
      );
      expect(lines[1]?.split(/\s+/)).toEqual([
        'prod',
        MODEL,
        '210',
        '210',
        '485.71',
        '150',
        '174.29',
        '27.14',
        '0',
        '0',
        '0.0%',
      ]);
      expect(lines).toHaveLength(2);
    });

    it('prints the fleet table with a METRICS column and quotes odd names', async () => {
      const r = await runCli(['collect', '--prometheus-url', prom.url, '--time', String(T)], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/prod\s+old\/model(\s+-){9}\s+stale/);
      expect(r.stdout).toContain(JSON.stringify(NASTY));
      expect(r.stdout.split('\n')).toHaveLength(groups.length + 5);
    });

    it('fails with one line and exit 1 when Prometheus is unreachable', async () => {
      const r = await runCli(['collect', '--prometheus-url', 'http://127.0.0.1:1', '--timeout', '2s'], {
        env,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'wva-metrics: collecting fleet metrics failed: cannot reach Prometheus at http://127.0.0.1:1/api/v1/query: connect ECONNREFUSED 127.0.0.1:1\n',
      );
    });

    it('refuses bad flags with one line and exit 2', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['--output', 'yaml'], /--output must be table or json, got "yaml"/],
        [['--model', 'x'], /--model needs --namespace/],
        [['--time', 'yesterday'], /--time must be unix seconds or RFC 3339/],
        [['--window', 'soon'], /window|WVA_QUERY_WINDOW/],
      ];
      // Run side by side: each is a fresh CLI process, and four starting at once on a busy
      // 2-core machine can take longer than one's default kill time.
      const results = await Promise.all(
        cases.map(([args]) =>
          runCli(['collect', '--prometheus-url', prom.url, ...args], { env, timeoutMs: 60_000 }),
        ),
      );
      results.forEach((r, i) => {
        const [args, message] = cases[i]!;
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      });
    }, 90_000);
  });
});
