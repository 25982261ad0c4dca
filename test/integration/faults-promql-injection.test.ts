// PromQL injection (issue 7), as a property test against the REAL Prometheus: model names are
// arbitrary Unicode (quotes, backslashes, braces, regex metacharacters, control characters, emoji,
// line separators), namespaces are DNS labels (plus a few arbitrary strings, which Prometheus may
// carry even if Kubernetes cannot). Every generated pair gets its own traffic, backfilled; then each
// pair's collection -- per model, whole fleet, and fleet narrowed by regex matchers to random
// subsets -- must read exactly its own series: never another pair's, never a sum, never an error.
// Namespaces the cache refuses ('' or with ':') are rejected before any query.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import {
  collectAggregateMetrics,
  collectAggregateMetricsWithCache,
  collectFleetMetrics,
  FleetCollector,
} from '../../src/collector/index.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import type { AggregateMetrics, PromAPI } from '../../src/types.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';
import {
  type ExpectedMetrics,
  expectedMetrics,
  type VllmPodTraffic,
  vllmOpenMetrics,
} from '../support/vllm-openmetrics.js';

const PAIRS = Number(process.env.WVA_INJECTION_PAIRS ?? 60);
const SEED = Number(process.env.WVA_INJECTION_SEED ?? 20261124);
const AT = new Date(BACKFILL_TIME_S * 1000);

const nasty = fc.constantFrom(
  '"',
  '\\',
  '}',
  '{',
  ',',
  '=',
  '~',
  '!',
  '|',
  '.',
  '*',
  '+',
  '?',
  '(',
  ')',
  '[',
  ']',
  '^',
  '$',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\uFFFD',
  '\u007f',
  ' ',
  '\u2028',
  '\u00e9',
  '\u{1F600}',
  '/',
  ':',
  '-',
  'a',
  'Z',
  '0',
);
const modelName = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
  fc.string({ unit: nasty, minLength: 1, maxLength: 16 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
);
const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/).filter((s) => s.length <= 63);
const namespace = fc.oneof(
  { weight: 8, arbitrary: dnsLabel },
  // U+FFFD (what a decoder leaves of invalid UTF-8) broke every query before escapeLabelValue escaped it.
  { weight: 1, arbitrary: fc.constant('ns-\uFFFD') },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => !s.includes(':')),
  },
);

interface Pair {
  modelId: string;
  namespace: string;
  pods: VllmPodTraffic[];
  expected: ExpectedMetrics;
}

function makePairs(): Pair[] {
  const raw = fc.sample(
    fc.uniqueArray(fc.tuple(modelName, namespace), {
      minLength: PAIRS,
      maxLength: PAIRS,
      selector: ([m, n]) => `${m}\u0001${n}`,
    }),
    {
      numRuns: 1,
      seed: SEED,
    },
  )[0]!;
  // Look-alikes of the first pairs on purpose: a prefix, a suffix, another namespace.
  const extra: Array<[string, string]> = raw.slice(0, 5).flatMap(([m, n]) => [
    [`${m}x`, n],
    [[...m].slice(0, -1).join('') || `${m}${m}`, n],
    [m, `${n}-x`],
  ]);
  const seen = new Set<string>();
  const out: Pair[] = [];
  for (const [modelId, ns] of [...raw, ...extra]) {
    const key = `${modelId}\u0001${ns}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const i = out.length;
    const pods: VllmPodTraffic[] = [
      {
        labels: { model_name: modelId, namespace: ns, pod: `pod-${i}` },
        requestsPerSecond: 1 + i,
        avgPromptTokens: 10 + 3 * i,
        avgGenerationTokens: 5 + i,
        avgTtftSeconds: 0.001 * (i + 1),
        avgItlSeconds: 0.0001 * (i + 1),
      },
    ];
    out.push({ modelId, namespace: ns, pods, expected: expectedMetrics(pods) });
  }
  return out;
}

let pairs: Pair[];
let prom: PrometheusServer;
let client: PrometheusClient;

beforeAll(async () => {
  pairs = makePairs();
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pairs.flatMap((p) => p.pods)) });
  client = new PrometheusClient({ url: prom.url });
}, 120_000);

afterAll(async () => {
  client?.close();
  await prom?.stop();
});

function close(actual: AggregateMetrics | undefined, e: ExpectedMetrics, what: string): void {
  expect(actual, what).toBeDefined();
  const a = actual!;
  const got = [
    a.load.arrivalRate,
    a.load.avgInputTokens,
    a.load.avgOutputTokens,
    a.ttftAverage,
    a.itlAverage,
  ];
  const want = [e.arrivalRate, e.avgInputTokens, e.avgOutputTokens, e.ttftAverage, e.itlAverage];
  for (let k = 0; k < 5; k++)
    expect(Math.abs(got[k]! - want[k]!), what).toBeLessThan(1e-6 * Math.max(1, want[k]!));
}

const label = (p: { modelId: string; namespace: string }) => JSON.stringify([p.modelId, p.namespace]);

describe('PromQL injection against the real Prometheus', () => {
  it('the backfill holds every generated pair as its own series (the test data is what we think)', async () => {
    const res = await client.query('count by (model_name, namespace) (vllm:request_success_total)', AT);
    expect(res.resultType).toBe('vector');
    expect(res.resultType === 'vector' ? res.result.length : 0).toBe(pairs.length);
  });

  it('per-model collection reads exactly its own series, for every pair', async () => {
    for (const p of pairs) {
      close(
        await collectAggregateMetrics(p.modelId, p.namespace, client, { time: AT }),
        p.expected,
        label(p),
      );
    }
  });

  it('one fleet query returns exactly the generated pairs, each with its own numbers', async () => {
    const fleet = await collectFleetMetrics(client, { time: AT, freshnessRangeSeconds: 0 });
    expect(fleet.size).toBe(pairs.length);
    for (const p of pairs) {
      const got = fleet.get(`${p.modelId}:${p.namespace}`);
      expect(got?.modelId, label(p)).toBe(p.modelId);
      expect(got?.namespace, label(p)).toBe(p.namespace);
      close(got, p.expected, label(p));
    }
  });

  it('fleet narrowed to any subset (regex matchers) returns exactly that subset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(pairs, { minLength: 1, maxLength: 12 }), async (subset) => {
        const got = await collectFleetMetrics(client, {
          time: AT,
          only: subset.map((p) => ({ modelId: p.modelId, namespace: p.namespace })),
          freshnessRangeSeconds: 0,
        });
        expect([...got.keys()].sort()).toEqual(subset.map((p) => `${p.modelId}:${p.namespace}`).sort());
        for (const p of subset) close(got.get(`${p.modelId}:${p.namespace}`), p.expected, label(p));
      }),
      { numRuns: 25, seed: SEED },
    );
  });

  it('FleetCollector reads every pair exactly, with MetricsFound, in one call', async () => {
    const cache = new ModelMetricsCache({ maxEntries: 10_000 });
    let calls = 0;
    const counting: PromAPI = {
      query: (q, t, o) => {
        calls++;
        return client.query(q, t, o);
      },
    };
    const collector = new FleetCollector({ prom: counting, cache, evaluationTime: () => AT });
    for (const p of pairs) {
      const r = await collector.read(p.modelId, p.namespace);
      expect(r.availability.reason, label(p)).toBe('MetricsFound');
      close(r.metrics, p.expected, label(p));
    }
    expect(calls).toBe(1);
  });

  it('a generated name nobody serves reads as missing (zeros), not as someone else', async () => {
    const known = new Set(pairs.map((p) => `${p.modelId}\u0001${p.namespace}`));
    await fc.assert(
      fc.asyncProperty(modelName, dnsLabel, async (m, ns) => {
        fc.pre(!known.has(`${m}\u0001${ns}`));
        const got = await collectAggregateMetrics(m, ns, client, { time: AT });
        expect(got).toEqual({
          load: { arrivalRate: 0, completionRate: 0, avgInputTokens: 0, avgOutputTokens: 0 },
          ttftAverage: 0,
          itlAverage: 0,
          saturation: { running: 0, waiting: 0 },
        });
      }),
      { numRuns: 30, seed: SEED },
    );
  });

  it('namespaces the cache refuses (empty, or with ":") are rejected before any query', async () => {
    const cache = new ModelMetricsCache();
    let calls = 0;
    const counting: PromAPI = {
      query: (q, t, o) => {
        calls++;
        return client.query(q, t, o);
      },
    };
    const bad = fc.oneof(
      fc.constant(''),
      fc.string({ unit: 'binary', maxLength: 8 }).map((s) => `${s}:${s}`),
    );
    await fc.assert(
      fc.asyncProperty(modelName, bad, async (m, ns) => {
        const err = await collectAggregateMetricsWithCache(m, ns, counting, cache).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TypeError);
        expect((err as Error).message).toContain(`namespace ${JSON.stringify(ns)} is not valid`);
      }),
      { numRuns: 50, seed: SEED },
    );
    expect(calls).toBe(0);
  });
});
