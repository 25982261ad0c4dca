// Collection logic against a fake PromAPI that counts calls: units, zero rules, failure naming,
// cached collection (hit, stored failure, coalescing) and the fleet collector (one call per cycle).
import { describe, expect, it } from 'vitest';
import { idleEvidence } from '../../src/actuator/scale-to-zero.js';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { availabilityFromSample, availabilityOf } from '../../src/collector/availability.js';
import { collectAggregateMetricsWithCache } from '../../src/collector/cached.js';
import {
  collectAggregateMetrics,
  collectFleetMetrics,
  MetricsCollectionError,
} from '../../src/collector/collect.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { PrometheusNetworkError } from '../../src/prometheus/errors.js';
import { STATS } from '../../src/prometheus/promql.js';
import type { CollectorObserver, Logger, PromAPI, PromQueryData, PromVectorSeries } from '../../src/types.js';
import { REPLY_TIME_S, type Stats, statSeries } from '../support/fleet-reply.js';

const T = REPLY_TIME_S;
const series = statSeries;

const full: Stats = {
  [STATS.completionRate]: 120,
  [STATS.queueGrowth]: 6,
  [STATS.avgInputTokens]: 512,
  [STATS.avgOutputTokens]: 128,
  [STATS.ttftAverage]: 85.5,
  [STATS.itlAverage]: 12.25,
  [STATS.running]: 30,
  [STATS.waiting]: 4,
  [STATS.kvCacheUsage]: 0.5,
};
const fullMetrics = {
  load: { arrivalRate: 126, completionRate: 120, avgInputTokens: 512, avgOutputTokens: 128 },
  ttftAverage: 85.5,
  itlAverage: 12.25,
  saturation: { running: 30, waiting: 4, kvCacheUsage: 0.5 },
};
const idleStats: Stats = {
  [STATS.completionRate]: 0,
  [STATS.queueGrowth]: 0,
  [STATS.running]: 0,
  [STATS.waiting]: 0,
};

class FakeProm implements PromAPI {
  calls = 0;
  queries: string[] = [];
  fail: Error | undefined;
  delayMs = 5;
  constructor(public result: PromVectorSeries[] = []) {}
  async query(promql: string, _time?: Date, o?: { signal?: AbortSignal }): Promise<PromQueryData> {
    this.calls++;
    this.queries.push(promql);
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (o?.signal?.aborted) throw o.signal.reason;
    if (this.fail) throw this.fail;
    return { resultType: 'vector', result: this.result };
  }
}

function counter(): CollectorObserver & { lookups: Record<string, number>; queries: string[] } {
  const lookups: Record<string, number> = {};
  const queries: string[] = [];
  return {
    lookups,
    queries,
    lookup: (r) => {
      lookups[r] = (lookups[r] ?? 0) + 1;
    },
    queryStarted: (k) => queries.push(`start:${k}`),
    queryFinished: (k, outcome, s) => {
      expect(s).toBeGreaterThanOrEqual(0);
      queries.push(`end:${k}:${outcome}`);
    },
  };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const down = () =>
  new PrometheusNetworkError(
    'http://prom/api/v1/query',
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  );

describe('collectAggregateMetrics', () => {
  it('reads every stat in its units from ONE call; arrivals = completions + queue growth', async () => {
    const prom = new FakeProm(series('llama', 'prod', full));
    expect(await collectAggregateMetrics('llama', 'prod', prom)).toEqual(fullMetrics);
    expect(prom.calls).toBe(1);
  });

  it('a model proven idle reads 0 for 0/0 and for histograms it lacks; other pairs are ignored', async () => {
    const prom = new FakeProm([
      ...series('llama', 'prod', { ...idleStats, [STATS.avgInputTokens]: 'NaN' }),
      ...series('llama', 'staging', full),
    ]);
    expect(await collectAggregateMetrics('llama', 'prod', prom)).toEqual({
      load: { arrivalRate: 0, completionRate: 0, avgInputTokens: 0, avgOutputTokens: 0 },
      ttftAverage: 0,
      itlAverage: 0,
      saturation: { running: 0, waiting: 0 },
    });
    // No series at all: the model is not served, a true 0.
    prom.result = [];
    expect((await collectAggregateMetrics('llama', 'prod', prom)).load.arrivalRate).toBe(0);
  });

  it('with traffic, a missing series, NaN or ±Inf is unknown (absent), never 0', async () => {
    const prom = new FakeProm(
      series('llama', 'prod', {
        [STATS.completionRate]: 60,
        [STATS.running]: 3,
        [STATS.waiting]: 0,
        [STATS.avgInputTokens]: 'NaN',
        [STATS.avgOutputTokens]: 20,
        [STATS.ttftAverage]: '+Inf',
        [STATS.itlAverage]: '-Inf',
      }),
    );
    const m = await collectAggregateMetrics('llama', 'prod', prom);
    expect(m).toEqual({
      load: { completionRate: 60, avgOutputTokens: 20 },
      saturation: { running: 3, waiting: 0 },
    });
    expect('arrivalRate' in m.load).toBe(false);
    // Requests waiting but none completed: not idle, so a lacking histogram is unknown too.
    prom.result = series('llama', 'prod', { ...idleStats, [STATS.waiting]: 2 });
    const queued = await collectAggregateMetrics('llama', 'prod', prom);
    expect(queued.load).toEqual({ arrivalRate: 0, completionRate: 0 });
    expect(queued.ttftAverage).toBeUndefined();
  });

  it('ITL is a true 0 when no request generated more than one token (no gaps to observe)', async () => {
    const prom = new FakeProm(
      series('m', 'n', { ...full, [STATS.avgOutputTokens]: 1, [STATS.itlAverage]: 'NaN' }),
    );
    expect((await collectAggregateMetrics('m', 'n', prom)).itlAverage).toBe(0);
    prom.result = series('m', 'n', { ...full, [STATS.itlAverage]: 'NaN' });
    expect((await collectAggregateMetrics('m', 'n', prom)).itlAverage).toBeUndefined();
  });

  it('never reads an arrival rate below 0 from a draining queue', async () => {
    const prom = new FakeProm(series('m', 'n', { ...full, [STATS.queueGrowth]: -500 }));
    expect((await collectAggregateMetrics('m', 'n', prom)).load).toMatchObject({
      arrivalRate: 0,
      completionRate: 120,
    });
  });

  it('rejects naming model, namespace and cause, never with partial zeros', async () => {
    const prom = new FakeProm();
    prom.fail = down();
    const err = await collectAggregateMetrics('meta/llama "3"', 'prod', prom).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsCollectionError);
    expect((err as Error).message).toBe(
      'collecting metrics for model "meta/llama \\"3\\"" in namespace prod failed: cannot reach Prometheus at http://prom/api/v1/query: connect ECONNREFUSED',
    );
    expect((err as MetricsCollectionError).cause).toBe(prom.fail);
    expect((err as MetricsCollectionError).modelId).toBe('meta/llama "3"');
  });

  it('rejects a malformed value or a non-vector reply', async () => {
    const prom = new FakeProm(series('m', 'n', { [STATS.completionRate]: 'bogus' }));
    await expect(collectAggregateMetrics('m', 'n', prom)).rejects.toThrow(/not a number/);
    const scalar: PromAPI = { query: async () => ({ resultType: 'scalar', result: [T, '1'] }) };
    await expect(collectAggregateMetrics('m', 'n', scalar)).rejects.toThrow(
      /expected a vector result, got scalar/,
    );
  });

  it('rejects with the abort reason, unwrapped', async () => {
    const prom = new FakeProm(series('m', 'n', full));
    const reason = new Error('cycle cancelled');
    const ac = new AbortController();
    const p = collectAggregateMetrics('m', 'n', prom, { signal: ac.signal });
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
  });
});

describe('collectFleetMetrics', () => {
  it('a negative count of requests over a retention period is kept as answered and proves no idleness', async () => {
    const over = (model: string, v: string): PromVectorSeries => ({
      metric: { model_name: model, namespace: 'x', stat: 'requests_over_600s' },
      value: [T, v],
    });
    const prom = new FakeProm([
      ...series('a', 'x', { ...full, [STATS.newestSample]: T - 30 }),
      over('a', '-3'),
      ...series('b', 'x', { ...full, [STATS.newestSample]: T - 30 }),
      over('b', '0'),
    ]);
    const fleet = await collectFleetMetrics(prom, { requestsOverSeconds: [600] });
    expect(fleet.get('a:x')?.requestsOver?.get(600)).toBe(-3);
    const evidence = (k: string) =>
      idleEvidence({ kind: 'count', requests: fleet.get(k)?.requestsOver?.get(600) as number });
    expect(evidence('a:x')).toEqual({
      state: 'unknown',
      reason: 'Prometheus answered -3 requests over the retention period, which proves nothing',
    });
    expect(evidence('b:x')).toEqual({ state: 'idle' });
  });

  it('returns every pair in one call, keyed modelId:namespace, with the newest sample', async () => {
    const prom = new FakeProm([
      ...series('a', 'x', { ...full, [STATS.newestSample]: T - 30 }),
      ...series('b', 'y', { [STATS.newestSample]: T - 900 }),
    ]);
    const fleet = await collectFleetMetrics(prom);
    expect(prom.calls).toBe(1);
    expect([...fleet.keys()]).toEqual(['a:x', 'b:y']);
    expect(fleet.get('a:x')).toEqual({
      modelId: 'a',
      namespace: 'x',
      ...fullMetrics,
      newestSample: new Date((T - 30) * 1000),
      evaluatedAt: new Date(T * 1000),
    });
    // Gone quiet (only its newest sample time is left): its statistics are unknown, not 0.
    expect(fleet.get('b:y')?.load).toEqual({});
    expect(fleet.get('b:y')?.ttftAverage).toBeUndefined();
  });

  it('narrows to `only` pairs exactly, and makes no call for an empty set', async () => {
    const prom = new FakeProm([
      ...series('a', 'x', full),
      ...series('a', 'y', full),
      ...series('b', 'x', full),
    ]);
    const fleet = await collectFleetMetrics(prom, {
      only: [
        { modelId: 'a', namespace: 'x' },
        { modelId: 'b', namespace: 'y' },
      ],
    });
    expect([...fleet.keys()]).toEqual(['a:x']);
    expect(prom.queries[0]).toContain('model_name=~"a|b"');
    expect((await collectFleetMetrics(prom, { only: [] })).size).toBe(0);
    expect(prom.calls).toBe(1);
  });

  it('rejects as a whole on failure', async () => {
    const prom = new FakeProm();
    prom.fail = down();
    await expect(collectFleetMetrics(prom)).rejects.toThrow(
      /^collecting fleet metrics failed: cannot reach Prometheus/,
    );
  });
});

describe('collectAggregateMetricsWithCache', () => {
  it('answers a fresh entry without a call, as a copy the caller may change', async () => {
    const c = clock();
    const cache = new ModelMetricsCache({ ttlMs: 30_000, now: c.now });
    const prom = new FakeProm(series('m', 'n', full));
    const obs = counter();
    const first = await collectAggregateMetricsWithCache('m', 'n', prom, cache, { observer: obs });
    first.load.arrivalRate = -1;
    const second = await collectAggregateMetricsWithCache('m', 'n', prom, cache, { observer: obs });
    expect(second).toEqual(fullMetrics);
    expect(prom.calls).toBe(1);
    expect(obs.lookups).toEqual({ miss: 1, hit: 1 });
    expect(obs.queries).toEqual(['start:model', 'end:model:success']);
    c.advance(30_001);
    await collectAggregateMetricsWithCache('m', 'n', prom, cache);
    expect(prom.calls).toBe(2);
  });

  it('100 concurrent cold callers of one key make 1 call', async () => {
    const cache = new ModelMetricsCache();
    const prom = new FakeProm(series('m', 'n', full));
    const obs = counter();
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        collectAggregateMetricsWithCache('m', 'n', prom, cache, { observer: obs }),
      ),
    );
    expect(prom.calls).toBe(1);
    expect(obs.lookups).toEqual({ miss: 1, coalesced: 99 });
    for (const r of results) expect(r).toEqual(fullMetrics);
    results[0]!.ttftAverage = -1;
    expect(results[1]!.ttftAverage).toBe(85.5);
  });

  it('Prometheus down: 1000 callers inside the failure TTL make 1 attempt, then it retries', async () => {
    const c = clock();
    const cache = new ModelMetricsCache({ ttlMs: 30_000, failureTtlMs: 5_000, now: c.now });
    const prom = new FakeProm(series('m', 'n', full));
    prom.fail = down();
    const obs = counter();
    const first = await Promise.allSettled(
      Array.from({ length: 500 }, () =>
        collectAggregateMetricsWithCache('m', 'n', prom, cache, { observer: obs }),
      ),
    );
    const later = await Promise.allSettled(
      Array.from({ length: 500 }, () =>
        collectAggregateMetricsWithCache('m', 'n', prom, cache, { observer: obs }),
      ),
    );
    expect(prom.calls).toBe(1);
    for (const r of [...first, ...later]) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(MetricsCollectionError);
    }
    expect(obs.lookups).toEqual({ miss: 1, coalesced: 499, failure_hit: 500 });
    const stored = cache.get('m', 'n');
    expect(stored?.valid).toBe(false);
    expect(stored?.error?.message).toMatch(/model m in namespace n failed: cannot reach Prometheus/);

    c.advance(5_001);
    prom.fail = undefined;
    expect(await collectAggregateMetricsWithCache('m', 'n', prom, cache)).toEqual(fullMetrics);
    expect(prom.calls).toBe(2);
  });

  it('without a cache collects every time', async () => {
    const prom = new FakeProm(series('m', 'n', full));
    await collectAggregateMetricsWithCache('m', 'n', prom);
    await collectAggregateMetricsWithCache('m', 'n', prom, undefined);
    expect(prom.calls).toBe(2);
  });

  it('lets one caller give up without failing the shared call', async () => {
    const cache = new ModelMetricsCache();
    const prom = new FakeProm(series('m', 'n', full));
    prom.delayMs = 30;
    const ac = new AbortController();
    const quitter = collectAggregateMetricsWithCache('m', 'n', prom, cache, { signal: ac.signal });
    const stayer = collectAggregateMetricsWithCache('m', 'n', prom, cache);
    ac.abort(new Error('gave up'));
    await expect(quitter).rejects.toThrow('gave up');
    expect(await stayer).toEqual(fullMetrics);
    expect(prom.calls).toBe(1);
  });

  it('logs hits and queries at debug with model and namespace fields', async () => {
    const lines: Array<[object, string | undefined]> = [];
    const logger: Logger = {
      debug: (o, m) => lines.push([o, m]),
      info: () => {},
      warn: () => {},
      error: () => {},
      child: () => logger,
    };
    const cache = new ModelMetricsCache();
    const prom = new FakeProm(series('ibm/granite', 'staging', full));
    await collectAggregateMetricsWithCache('ibm/granite', 'staging', prom, cache, { logger });
    await collectAggregateMetricsWithCache('ibm/granite', 'staging', prom, cache, { logger });
    expect(lines).toEqual([
      [{ model: 'ibm/granite', namespace: 'staging' }, 'Querying Prometheus for model metrics'],
      [{ model: 'ibm/granite', namespace: 'staging' }, 'Using cached metrics for model'],
    ]);
  });
});

describe('FleetCollector', () => {
  function setup(o: { failureTtlMs?: number; result?: PromVectorSeries[] } = {}) {
    const c = clock();
    const cache = new ModelMetricsCache({
      ttlMs: 30_000,
      failureTtlMs: o.failureTtlMs ?? 10_000,
      now: c.now,
    });
    const prom = new FakeProm(
      o.result ?? [
        ...series('a', 'x', { ...full, [STATS.newestSample]: T - 10 }),
        ...series('b', 'x', { ...idleStats, [STATS.newestSample]: T - 400 }),
      ],
    );
    const observer = counter();
    const fc = new FleetCollector({ prom, cache, now: c.now, observer });
    return { c, cache, prom, fc, observer };
  }

  it('answers 1000 concurrent reads of many keys with ONE call', async () => {
    const { prom, fc, observer, cache } = setup();
    const keys = Array.from({ length: 1000 }, (_, i) =>
      i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : `unknown-${i}`,
    );
    const reads = await Promise.all(keys.map((m) => fc.read(m, 'x')));
    expect(prom.calls).toBe(1);
    expect(observer.lookups).toEqual({ miss: 1, coalesced: 999 });
    expect(observer.queries).toEqual(['start:fleet', 'end:fleet:success']);
    expect(reads[0]).toEqual({
      metrics: fullMetrics,
      availability: expect.objectContaining({
        available: true,
        reason: 'MetricsFound',
        newestSample: new Date((T - 10) * 1000),
      }),
    });
    expect(reads[1]?.availability.reason).toBe('MetricsStale');
    expect(reads[1]?.availability.message).toBe(
      `vLLM metrics for model b in namespace x are stale: newest sample at ${new Date((T - 400) * 1000).toISOString().slice(0, 19)}Z, more than 5m old; check that the vLLM pods are running and scraped`,
    );
    expect(reads[2]).toEqual({
      metrics: {
        load: { arrivalRate: 0, completionRate: 0, avgInputTokens: 0, avgOutputTokens: 0 },
        ttftAverage: 0,
        itlAverage: 0,
        saturation: { running: 0, waiting: 0 },
      },
      availability: {
        available: false,
        reason: 'MetricsMissing',
        message:
          'no vLLM metrics for model unknown-2 in namespace x: check the ServiceMonitor/scrape config and model_name label',
      },
    });
    expect(cache.get('a', 'x')?.load.arrivalRate).toBe(126);
  });

  it('answers unknown keys without another query until the snapshot expires', async () => {
    const { prom, fc, c } = setup();
    await fc.read('a', 'x');
    for (let i = 0; i < 50; i++)
      expect((await fc.read(`nope-${i}`, 'x')).availability.reason).toBe('MetricsMissing');
    expect((await fc.read('a', 'x')).metrics).toEqual(fullMetrics);
    expect(prom.calls).toBe(1);
    c.advance(30_001);
    await fc.read('nope-1', 'x');
    expect(prom.calls).toBe(2);
  });

  it('Prometheus down: 1000 callers make 1 attempt, resolve PrometheusError, and retry after the failure TTL', async () => {
    const { prom, fc, c, observer } = setup({ failureTtlMs: 10_000 });
    prom.fail = down();
    const reads = await Promise.all(Array.from({ length: 1000 }, (_, i) => fc.read(`m${i % 10}`, 'x')));
    expect(prom.calls).toBe(1);
    for (const r of reads) {
      expect(r.metrics).toBeUndefined();
      expect(r.availability.reason).toBe('PrometheusError');
    }
    expect(reads[3]?.availability.message).toBe(
      // The failure's summary (code, not the text): the same while the cause is the same.
      'cannot read vLLM metrics for model m3 in namespace x from Prometheus: cannot reach Prometheus at http://prom/api/v1/query: ECONNREFUSED',
    );
    c.advance(9_000);
    await Promise.all(Array.from({ length: 1000 }, () => fc.read('a', 'x')));
    expect(prom.calls).toBe(1);
    expect(observer.lookups.failure_hit).toBe(1000);
    c.advance(1_001);
    prom.fail = undefined;
    expect((await fc.read('a', 'x')).availability.reason).toBe('MetricsFound');
    expect(prom.calls).toBe(2);
  });

  it('refresh() warms the cache in one call shared with readers', async () => {
    const { prom, fc } = setup();
    await Promise.all([fc.refresh(), fc.read('a', 'x'), fc.refresh()]);
    expect(prom.calls).toBe(1);
    await fc.read('b', 'x');
    expect(prom.calls).toBe(1);
  });

  it('configure(): a new window refreshes with it; staleAfterMs applies at once', async () => {
    const { prom, fc } = setup();
    expect((await fc.read('b', 'x')).availability.reason).toBe('MetricsStale');
    fc.configure({ staleAfterMs: 600_000 });
    expect((await fc.read('b', 'x')).availability.reason).toBe('MetricsFound');
    expect(prom.calls).toBe(1);
    fc.configure({ window: '5m' });
    await fc.read('a', 'x');
    expect(prom.calls).toBe(2);
    expect(prom.queries[1]).toContain('[5m]');
    expect(() => fc.configure({ window: 'soon' })).toThrow(/not a PromQL duration/);
    expect(() => fc.configure({ staleAfterMs: 0 })).toThrow(/positive/);
  });

  it('rejects an aborted read, and the shared refresh still serves the others', async () => {
    const { prom, fc } = setup();
    prom.delayMs = 30;
    const ac = new AbortController();
    const quitter = fc.read('a', 'x', ac.signal);
    const stayer = fc.read('a', 'x');
    ac.abort(new Error('shutdown'));
    await expect(quitter).rejects.toThrow('shutdown');
    expect((await stayer).metrics).toEqual(fullMetrics);
    await expect(fc.read('a', 'x', AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('falls back to the snapshot when the cache dropped an entry', async () => {
    const { fc, cache, prom } = setup();
    await fc.read('a', 'x');
    cache.clear();
    expect((await fc.read('a', 'x')).metrics).toEqual(fullMetrics);
    expect(prom.calls).toBe(1);
  });
});

describe('availabilityFromSample', () => {
  // The message is part of the MetricsAvailable condition: if it moved with the clock, every status
  // would be rewritten every cycle although nothing about the metrics changed.
  it('gives the same message at every evaluation while the newest sample stays the same', () => {
    const newest = new Date((T - 10) * 1000);
    const at = (s: number) => availabilityFromSample('m', 'ns', newest, new Date((T + s) * 1000));
    expect(at(0)).toEqual(at(20));
    expect(at(0)).toMatchObject({
      reason: 'MetricsFound',
      message: 'vLLM metrics for model m in namespace ns are available',
    });
    expect(at(400)).toEqual(at(460));
    expect(at(400).reason).toBe('MetricsStale');
  });
});

describe('availabilityOf', () => {
  const newest = new Date((T - 10) * 1000);
  const withTraffic = {
    load: { completionRate: 60, avgInputTokens: 10, avgOutputTokens: 5 },
    ttftAverage: 40,
  };

  it('MetricsIncomplete names each unknown statistic, its vLLM metric and the window; stable message', () => {
    const at = (s: number) =>
      availabilityOf('m', 'ns', withTraffic, newest, new Date((T + s) * 1000), undefined, '1m');
    expect(at(0)).toEqual(at(30));
    expect(at(0)).toEqual({
      available: false,
      reason: 'MetricsIncomplete',
      newestSample: newest,
      message:
        "vLLM metrics for model m in namespace ns are incomplete: the model's series are fresh but arrivalRate (vllm:request_success_total with vllm:num_requests_running and vllm:num_requests_waiting), itlAverage (vllm:inter_token_latency_seconds, or vllm:time_per_output_token_seconds before vLLM 0.11) have no samples in the 1m window; likely causes: this vLLM version does not export the metric under that name, the 1m window is shorter than two scrapes, or the model's pods stopped reporting; currentAlloc keeps its previous values",
    });
  });

  it('stale and missing win over incomplete; complete metrics are found; saturation is not required', () => {
    const old = new Date((T - 400) * 1000);
    expect(availabilityOf('m', 'ns', withTraffic, old, new Date(T * 1000)).reason).toBe('MetricsStale');
    expect(availabilityOf('m', 'ns', withTraffic, undefined, new Date(T * 1000)).reason).toBe(
      'MetricsMissing',
    );
    const complete = { ...withTraffic, load: { ...withTraffic.load, arrivalRate: 60 }, itlAverage: 5 };
    expect(availabilityOf('m', 'ns', complete, newest, new Date(T * 1000)).reason).toBe('MetricsFound');
  });
});
