// Per-pod records from the fleet reply: what each per-pod series becomes, what is left unknown, and
// that they ride on the same single fleet query as the per-model numbers (fake PromAPI).
import { describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../../src/cache/index.js';
import { collectFleetMetrics } from '../../../src/collector/collect.js';
import { FleetCollector } from '../../../src/collector/fleet-collector.js';
import { isPodStat, podOf, readPodSeries } from '../../../src/collector/pods.js';
import { fleetQuery, POD_STATS, podExpr, STATS } from '../../../src/prometheus/promql.js';
import type { PromAPI, PromQueryData, PromVectorSeries } from '../../../src/types.js';
import { podSeries, statSeries, trafficStats } from '../../support/fleet-reply.js';

const S = POD_STATS;
const key = (m: string, ns: string) => `${m}:${ns}`;

class FakeProm implements PromAPI {
  calls: string[] = [];
  constructor(private readonly result: PromVectorSeries[]) {}
  async query(q: string): Promise<PromQueryData> {
    this.calls.push(q);
    return { resultType: 'vector', result: this.result };
  }
}

describe('per-pod series in the fleet query', () => {
  it('joins every per-pod statistic to the one fleet query, grouped by pod', () => {
    const q = fleetQuery();
    for (const stat of Object.values(POD_STATS)) expect(q).toContain(`"stat", "${stat}"`);
    expect(q).toContain(
      'max by (model_name, namespace, pod, pod_name) (max_over_time(vllm:kv_cache_usage_perc[1m]) or max_over_time(vllm:gpu_cache_usage_perc[1m]))',
    );
    expect(q).toContain('max_over_time(vllm:num_requests_waiting[1m])');
    expect(q).toContain(
      'max by (model_name, namespace, pod, pod_name, num_gpu_blocks, block_size) (vllm:cache_config_info)',
    );
    expect(q).toContain(
      'rate(vllm:request_prompt_tokens_sum[5m]) / rate(vllm:request_prompt_tokens_count[5m])',
    );
    expect(fleetQuery({ pods: false })).not.toContain('pod_kv_cache_usage_max');
  });

  it('scopes the per-pod series like the rest', () => {
    const q = podExpr('{namespace=~"a"}');
    const selectors = q.match(/vllm:[a-z_:]+(\{[^}]*\})?/g) ?? [];
    // 13 saturation selectors, then ITL (current and old name, sum and count), TTFT, prefill and
    // queue time (sum and count each) for the SLO engine's learner.
    expect(selectors.length).toBe(23);
    for (const s of selectors) expect(s).toMatch(/\{namespace=~"a"\}$/);
  });
});

describe('per-pod latencies for the learner', () => {
  it("averages each latency over the running average's window, in ms, old ITL name as fallback", () => {
    const q = podExpr('');
    expect(q).toContain(
      'max by (model_name, namespace, pod, pod_name) ((rate(vllm:inter_token_latency_seconds_sum[1m]) / rate(vllm:inter_token_latency_seconds_count[1m])) or (rate(vllm:time_per_output_token_seconds_sum[1m]) / rate(vllm:time_per_output_token_seconds_count[1m]))) * 1000',
    );
    expect(q).toContain(
      'rate(vllm:request_prefill_time_seconds_sum[1m]) / rate(vllm:request_prefill_time_seconds_count[1m])',
    );
    expect(q).toContain(
      'rate(vllm:request_queue_time_seconds_sum[1m]) / rate(vllm:request_queue_time_seconds_count[1m])',
    );
  });

  it('reads them per pod and leaves out a NaN (no request in the window)', () => {
    const pods = readPodSeries(
      'prom',
      [
        podSeries('m', 'ns', 'p1', S.itlAverage, 12.5),
        podSeries('m', 'ns', 'p1', S.ttftAverage, 80),
        podSeries('m', 'ns', 'p1', S.prefillAverage, 50),
        podSeries('m', 'ns', 'p1', S.queueAverage, 30),
        podSeries('m', 'ns', 'p2', S.itlAverage, 'NaN'),
      ],
      key,
    ).get(key('m', 'ns'));
    expect(pods?.[0]).toMatchObject({ itlMs: 12.5, ttftMs: 80, prefillMs: 50, queueMs: 30 });
    expect(pods?.[1]).toEqual({ pod: 'p2', modelId: 'm', namespace: 'ns' });
  });
});

describe('readPodSeries', () => {
  it('reads every statistic of a pod, the KV shape from the info labels', () => {
    const pods = readPodSeries(
      'prom',
      [
        podSeries('m', 'ns', 'p1', S.kvCachePeak, 0.42),
        podSeries('m', 'ns', 'p1', S.waitingPeak, 3.9),
        podSeries('m', 'ns', 'p1', S.runningAverage, 7.5),
        podSeries('m', 'ns', 'p1', S.cacheConfig, 1, { num_gpu_blocks: '1000', block_size: '16' }),
        podSeries('m', 'ns', 'p1', S.avgInputTokens, 512),
        podSeries('m', 'ns', 'p1', S.avgOutputTokens, 128),
        podSeries('m', 'ns', 'p1', S.prefixCacheHitRate, 0.25),
      ],
      key,
    );
    expect(pods.get('m:ns')).toEqual([
      {
        pod: 'p1',
        modelId: 'm',
        namespace: 'ns',
        kvCacheUsage: 0.42,
        queueLength: 3,
        avgRunning: 7.5,
        numGpuBlocks: 1000,
        blockSize: 16,
        avgInputTokens: 512,
        avgOutputTokens: 128,
        prefixCacheHitRate: 0.25,
      },
    ]);
  });

  it('leaves NaN, Inf, out-of-range rates and bad KV shapes unknown, never 0', () => {
    const pods = readPodSeries(
      'prom',
      [
        podSeries('m', 'ns', 'p1', S.kvCachePeak, 'NaN'),
        podSeries('m', 'ns', 'p1', S.waitingPeak, '+Inf'),
        podSeries('m', 'ns', 'p1', S.avgInputTokens, 'NaN'),
        podSeries('m', 'ns', 'p1', S.avgOutputTokens, '-Inf'),
        podSeries('m', 'ns', 'p1', S.prefixCacheHitRate, 1.5),
        podSeries('m', 'ns', 'p1', S.cacheConfig, 1, { num_gpu_blocks: '0', block_size: '16' }),
        podSeries('m', 'ns', 'p2', S.cacheConfig, 1, { num_gpu_blocks: '12.5', block_size: '16' }),
        podSeries('m', 'ns', 'p2', S.prefixCacheHitRate, -0.1),
      ],
      key,
    );
    expect(pods.get('m:ns')).toEqual([
      { pod: 'p1', modelId: 'm', namespace: 'ns' },
      { pod: 'p2', modelId: 'm', namespace: 'ns' },
    ]);
  });

  it('takes pod, else pod_name; a series with neither is ignored', () => {
    expect(podOf({ pod: 'a', pod_name: 'b' })).toBe('a');
    expect(podOf({ pod_name: 'b' })).toBe('b');
    const noPod: PromVectorSeries = {
      metric: { model_name: 'm', namespace: 'ns', stat: S.kvCachePeak },
      value: [1, '0.5'],
    };
    const byName: PromVectorSeries = {
      metric: { model_name: 'm', namespace: 'ns', pod_name: 'q', stat: S.kvCachePeak },
      value: [1, '0.5'],
    };
    const pods = readPodSeries('prom', [noPod, byName], key);
    expect(pods.get('m:ns')?.map((p) => p.pod)).toEqual(['q']);
  });

  it('keeps pods of different models and namespaces apart, and skips the per-model stats', () => {
    const pods = readPodSeries(
      'prom',
      [
        podSeries('a', 'x', 'p', S.kvCachePeak, 0.1),
        podSeries('a', 'y', 'p', S.kvCachePeak, 0.2),
        podSeries('b', 'x', 'p', S.waitingPeak, 4),
        ...statSeries('a', 'x', { [STATS.kvCacheUsage]: 0.9 }),
      ],
      key,
    );
    expect(pods.get('a:x')).toEqual([{ pod: 'p', modelId: 'a', namespace: 'x', kvCacheUsage: 0.1 }]);
    expect(pods.get('a:y')).toEqual([{ pod: 'p', modelId: 'a', namespace: 'y', kvCacheUsage: 0.2 }]);
    expect(pods.get('b:x')).toEqual([{ pod: 'p', modelId: 'b', namespace: 'x', queueLength: 4 }]);
    expect(isPodStat(STATS.kvCacheUsage)).toBe(false);
  });

  it('rejects a malformed value naming it', () => {
    expect(() => readPodSeries('prom', [podSeries('m', 'ns', 'p', S.kvCachePeak, 'lots')], key)).toThrow(
      /sample value "lots" is not a number/,
    );
  });
});

describe('pods through the fleet collection', () => {
  const reply = [
    ...statSeries('m', 'ns', trafficStats(60)),
    podSeries('m', 'ns', 'p1', S.kvCachePeak, 0.9),
    podSeries('m', 'ns', 'p2', S.waitingPeak, 6),
  ];

  it('carries the pods beside the per-model numbers, which the pod series do not disturb', async () => {
    const prom = new FakeProm(reply);
    const fleet = await collectFleetMetrics(prom);
    const m = fleet.get('m:ns');
    expect(m?.saturation?.kvCacheUsage).toBe(0.25);
    expect(m?.pods?.map((p) => p.pod)).toEqual(['p1', 'p2']);
    expect(prom.calls).toHaveLength(1);
  });

  it('a snapshot read hands out the pods in one call for the whole fleet, as copies', async () => {
    const prom = new FakeProm([...reply, ...statSeries('other', 'ns', trafficStats(1))]);
    const cache = new ModelMetricsCache({ ttlMs: 1000, failureTtlMs: 500, now: () => 10_000 });
    const fc = new FleetCollector({ prom, cache, now: () => 10_000 });
    const snap = await fc.snapshot();
    const first = snap.read('m', 'ns').pods;
    expect(first).toEqual([
      { pod: 'p1', modelId: 'm', namespace: 'ns', kvCacheUsage: 0.9 },
      { pod: 'p2', modelId: 'm', namespace: 'ns', queueLength: 6 },
    ]);
    (first?.[0] as { kvCacheUsage?: number }).kvCacheUsage = 0;
    expect(snap.read('m', 'ns').pods?.[0]?.kvCacheUsage).toBe(0.9);
    expect(snap.read('other', 'ns').pods).toBeUndefined();
    expect(prom.calls).toHaveLength(1);
  });
});
