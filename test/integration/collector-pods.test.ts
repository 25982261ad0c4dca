// Per-pod series through the REAL Prometheus: peaks over the last minute (max_over_time), the
// KV-cache shape, token averages and prefix hits per pod, old and new KV names read once, NaN and
// missing samples left unknown, and the whole fleet still ONE query. Backfilled, queried at a fixed time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { collectFleetMetrics } from '../../src/collector/collect.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import type { PodMetrics } from '../../src/collector/pods.js';
import { matchPodsToVariants } from '../../src/engines/pods.js';
import { parseSaturationScalingConfigMap } from '../../src/engines/saturation/configmap.js';
import { createSaturationV1Engine } from '../../src/engines/saturation-engine.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import {
  BACKFILL_TIME_S,
  openMetricsEscape,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from '../support/prometheus.js';

const T = BACKFILL_TIME_S;
const AT = new Date(T * 1000);
const STEP = 15;
const TIMES: number[] = [];
for (let t = T - 600; t <= T; t += STEP) TIMES.push(t);

type Labels = Record<string, string>;
/** A series: labels and the value at each time (undefined: no sample then). */
interface Series {
  labels: Labels;
  at: (t: number) => number | string | undefined;
}
const families = new Map<string, { type: string; sample: string; series: Series[] }>();
function add(family: string, type: string, sample: string, s: Series): void {
  let f = families.get(`${family} ${sample}`);
  if (!f) {
    f = { type, sample, series: [] };
    families.set(`${family} ${sample}`, f);
  }
  f.series.push(s);
}
const labelText = (l: Labels) =>
  Object.entries(l)
    .map(([k, v]) => `${k}="${openMetricsEscape(v)}"`)
    .join(',');
function openMetrics(): string {
  const out: string[] = [];
  const declared = new Set<string>();
  for (const [key, f] of families) {
    const family = key.split(' ')[0] as string;
    if (!declared.has(family)) out.push(`# TYPE ${family} ${f.type}`);
    declared.add(family);
    for (const s of f.series) {
      for (const t of TIMES) {
        const v = s.at(t);
        if (v !== undefined) out.push(`${f.sample}{${labelText(s.labels)}} ${v} ${t}`);
      }
    }
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

const gauge = (name: string, labels: Labels, at: Series['at']) => add(name, 'gauge', name, { labels, at });
/** A counter growing `perSecond` (base 1000, so no reset at the start). */
const counter = (name: string, labels: Labels, perSecond: number) =>
  add(name, 'counter', `${name}_total`, { labels, at: (t) => 1000 + perSecond * (t - TIMES[0]!) });
function histogram(name: string, labels: Labels, perSecond: number, avg: number): void {
  const count = (t: number) => 1000 + perSecond * (t - TIMES[0]!);
  const sum = (t: number) => 1000 + perSecond * avg * (t - TIMES[0]!);
  add(name, 'histogram', `${name}_bucket`, { labels: { ...labels, le: '+Inf' }, at: count });
  add(name, 'histogram', `${name}_count`, { labels, at: count });
  add(name, 'histogram', `${name}_sum`, { labels, at: sum });
}

const pod = (p: string, engine = '0', ns = 'sat', model = 'llama') => ({
  model_name: model,
  namespace: ns,
  pod: p,
  engine,
});

// p1, two engines: KV peaks at 0.7 30 s ago (the 0.95 four minutes ago is outside the minute); the
// waiting queue peaked at 5.6 45 s ago. Engine 1 stays lower, so the pod's peak is engine 0's.
gauge('vllm:kv_cache_usage_perc', pod('p1'), (t) => (t === T - 30 ? 0.7 : t === T - 240 ? 0.95 : 0.3));
gauge('vllm:kv_cache_usage_perc', pod('p1', '1'), () => 0.5);
// p3 exports both names (a transitional vLLM) with different values: only the new one counts.
gauge('vllm:kv_cache_usage_perc', pod('p3'), () => 0.2);
// p5 reports NaN: unknown, not 0.
gauge('vllm:kv_cache_usage_perc', pod('p5'), () => 'NaN');
// p2 is an old vLLM: the old name alone.
gauge('vllm:gpu_cache_usage_perc', pod('p2'), () => 0.6);
gauge('vllm:gpu_cache_usage_perc', pod('p3'), () => 0.99);
gauge('vllm:num_requests_waiting', pod('p1'), (t) => (t === T - 45 ? 5.6 : t === T - 300 ? 40 : 2));
gauge('vllm:num_requests_waiting', pod('p1', '1'), () => 1);
gauge('vllm:num_requests_waiting', pod('p2'), () => 0);
// Alternating 2 and 6 over the last minute, 4 at its start: averages 4 whether or not the range
// includes its left end (Prometheus 3 excludes it), while the last sample reads 6.
gauge('vllm:num_requests_running', pod('p1'), (t) =>
  t === T - 60 ? 4 : t > T - 60 ? (t % 30 === T % 30 ? 6 : 2) : 9,
);
gauge('vllm:num_requests_running', pod('p1', '1'), () => 1);
// p4 reports only its running batch: no KV, no queue sample.
gauge('vllm:num_requests_running', pod('p4'), () => 3);
gauge('vllm:cache_config_info', { ...pod('p1'), num_gpu_blocks: '2000', block_size: '16' }, () => 1);
gauge('vllm:cache_config_info', { ...pod('p2'), num_gpu_blocks: 'unknown', block_size: '16' }, () => 1);
histogram('vllm:request_prompt_tokens', pod('p1'), 2, 300);
histogram('vllm:request_generation_tokens', pod('p1'), 2, 100);
counter('vllm:prefix_cache_hits', pod('p1'), 150);
counter('vllm:prefix_cache_queries', pod('p1'), 600);
// Another model, another namespace: its own pods.
gauge('vllm:kv_cache_usage_perc', pod('q1', '0', 'other', 'mistral'), () => 0.1);
// granite in e2e: two variants of one model, every pod saturated over the last minute only.
for (const [p, kv] of [
  ['g-l4-0', 0.92],
  ['g-l4-1', 0.85],
  ['g-a100-0', 0.95],
  ['g-a100-1', 0.9],
] as const) {
  gauge('vllm:kv_cache_usage_perc', pod(p, '0', 'e2e', 'granite'), (t) => (t >= T - 40 ? kv : 0.2));
  gauge('vllm:num_requests_waiting', pod(p, '0', 'e2e', 'granite'), (t) => (t >= T - 40 ? 7 : 0));
}
// The per-model statistics need the success counter to call a pair served.
for (const p of ['p1', 'p2']) counter('vllm:request_success', pod(p), 1);
counter('vllm:request_success', pod('q1', '0', 'other', 'mistral'), 1);

let prom: PrometheusServer;
let client: PrometheusClient;

beforeAll(async () => {
  expect(prometheusAvailable()).toBe(true);
  prom = await startPrometheus({ openmetrics: openMetrics() });
  client = new PrometheusClient({ url: prom.url });
}, 120_000);

afterAll(async () => {
  client?.close();
  await prom?.stop();
});

const byPod = (pods: readonly PodMetrics[] | undefined) => new Map((pods ?? []).map((p) => [p.pod, p]));

describe('per-pod series against the real Prometheus', () => {
  it('reads each pod: peaks over the last minute, KV shape, token averages, prefix hits', async () => {
    const fleet = await collectFleetMetrics(client, { time: AT });
    const pods = byPod(fleet.get('llama:sat')?.pods);
    expect([...pods.keys()].sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    const p1 = pods.get('p1')!;
    expect(p1).toMatchObject({ modelId: 'llama', namespace: 'sat', kvCacheUsage: 0.7, queueLength: 5 });
    expect(p1.numGpuBlocks).toBe(2000);
    expect(p1.blockSize).toBe(16);
    expect(p1.avgInputTokens).toBeCloseTo(300, 9);
    expect(p1.avgOutputTokens).toBeCloseTo(100, 9);
    expect(p1.prefixCacheHitRate).toBeCloseTo(0.25, 9);
    // Running averaged over the minute (4 on engine 0) and summed over the pod's engines (+1).
    expect(p1.avgRunning).toBeCloseTo(4 + 1, 9);
  });

  it('old and new KV names: the old one only where the new one is missing, never both', async () => {
    const pods = byPod((await collectFleetMetrics(client, { time: AT })).get('llama:sat')?.pods);
    expect(pods.get('p2')).toEqual({
      pod: 'p2',
      modelId: 'llama',
      namespace: 'sat',
      kvCacheUsage: 0.6,
      queueLength: 0,
    });
    expect(pods.get('p3')?.kvCacheUsage).toBe(0.2);
  });

  it('NaN and missing samples stay unknown; an unparsable KV shape is left out', async () => {
    const pods = byPod((await collectFleetMetrics(client, { time: AT })).get('llama:sat')?.pods);
    expect(pods.get('p5')).toEqual({ pod: 'p5', modelId: 'llama', namespace: 'sat' });
    expect(pods.get('p4')).toEqual({ pod: 'p4', modelId: 'llama', namespace: 'sat', avgRunning: 3 });
    expect(pods.get('p2')?.numGpuBlocks).toBeUndefined();
  });

  it('the whole fleet, pods included, is one query; each pair gets its own pods', async () => {
    const fc = new FleetCollector({ prom: client, cache: new ModelMetricsCache(), evaluationTime: () => AT });
    const before = await prom.queryCalls();
    const snap = await fc.snapshot();
    const llama = snap.read('llama', 'sat');
    const mistral = snap.read('mistral', 'other');
    expect(llama.pods).toHaveLength(5);
    expect(mistral.pods).toEqual([{ pod: 'q1', modelId: 'mistral', namespace: 'other', kvCacheUsage: 0.1 }]);
    // The per-model numbers are untouched by the pod series beside them.
    expect(llama.metrics?.load.completionRate).toBeCloseTo(120, 9);
    expect(await prom.queryCalls()).toBe(before + 1);
  });
});

describe('per-pod series to a saturation decision', () => {
  it('real samples -> pods matched to variants by selector -> V1 scales the cheapest variant up', async () => {
    const fc = new FleetCollector({ prom: client, cache: new ModelMetricsCache(), evaluationTime: () => AT });
    const read = (await fc.snapshot()).read('granite', 'e2e');
    const variants = [
      {
        variantName: 'granite-a100',
        namespace: 'e2e',
        deploymentName: 'granite-a100',
        selector: { matchLabels: { v: 'a100' } },
      },
      {
        variantName: 'granite-l4',
        namespace: 'e2e',
        deploymentName: 'granite-l4',
        selector: { matchLabels: { v: 'l4' } },
      },
    ];
    const podObjects = new Map(
      (read.pods ?? []).map((p) => [
        `e2e/${p.pod}`,
        { name: p.pod, namespace: 'e2e', labels: { v: p.pod.startsWith('g-l4') ? 'l4' : 'a100' } },
      ]),
    );
    const matched = matchPodsToVariants({ pods: read.pods ?? [], podObjects, variants });
    expect(matched.unmatched).toEqual([]);
    const state = (name: string, cost: number) => ({
      variantName: name,
      cost,
      acceleratorName: name.endsWith('l4') ? 'L4' : 'A100',
      currentReplicas: 2,
      desiredReplicas: 0,
      pendingReplicas: 0,
      gpusPerReplica: 1,
    });
    const d = createSaturationV1Engine().decide({
      modelId: 'granite',
      namespace: 'e2e',
      variants: [state('granite-a100', 40), state('granite-l4', 8)],
      pods: matched.byVariant,
      config: parseSaturationScalingConfigMap(null, { product: true }),
      scaleToZero: { config: {}, requestCount: null, envDefault: false },
    });
    expect(Object.fromEntries(d.decisions.map((x) => [x.variantName, x.targetReplicas]))).toEqual({
      'granite-a100': 2,
      'granite-l4': 3,
    });
  });
});
