// The per-pod latency averages the SLO engine's learner reads, through the REAL Prometheus: ITL
// (the old name only where the new one is missing), TTFT, prefill and queue time per pod over the
// last minute, in ms, from the same single fleet query. Backfilled with straight-line counters, so
// each rate is exactly its slope; queried at a fixed time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectFleetMetrics } from '../../src/collector/collect.js';
import type { PodMetrics } from '../../src/collector/pods.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';

const T = BACKFILL_TIME_S;
const STEP = 15;
const TIMES: number[] = [];
for (let t = T - 600; t <= T; t += STEP) TIMES.push(t);

/** A histogram whose count grows `perSecond` and whose sum grows `perSecond x mean`. */
function histogram(name: string, pods: Array<{ pod: string; mean: number }>): string[] {
  const out = [`# TYPE ${name} histogram`];
  for (const { pod, mean } of pods) {
    const l = `model_name="llama",namespace="lat",pod="${pod}"`;
    for (const t of TIMES) {
      const count = 1000 + 4 * (t - TIMES[0]!);
      out.push(`${name}_bucket{${l},le="+Inf"} ${count} ${t}`);
      out.push(`${name}_count{${l}} ${count} ${t}`);
      out.push(`${name}_sum{${l}} ${1000 + 4 * mean * (t - TIMES[0]!)} ${t}`);
    }
  }
  return out;
}

function gauge(name: string, pods: string[], value: number): string[] {
  const out = [`# TYPE ${name} gauge`];
  for (const pod of pods)
    for (const t of TIMES) out.push(`${name}{model_name="llama",namespace="lat",pod="${pod}"} ${value} ${t}`);
  return out;
}

let prom: PrometheusServer;
let client: PrometheusClient;

beforeAll(async () => {
  const text = [
    '# TYPE vllm:request_success counter',
    ...['a', 'b'].flatMap((pod) =>
      TIMES.map(
        (t) =>
          `vllm:request_success_total{model_name="llama",namespace="lat",pod="${pod}"} ${1000 + 4 * (t - TIMES[0]!)} ${t}`,
      ),
    ),
    ...histogram('vllm:inter_token_latency_seconds', [{ pod: 'a', mean: 0.01 }]),
    ...histogram('vllm:time_per_output_token_seconds', [
      // Pod a exports both names (0.10/0.11): the new one is read. Pod b only the old one.
      { pod: 'a', mean: 0.5 },
      { pod: 'b', mean: 0.012 },
    ]),
    ...histogram('vllm:time_to_first_token_seconds', [{ pod: 'a', mean: 0.05 }]),
    ...histogram('vllm:request_prefill_time_seconds', [{ pod: 'a', mean: 0.02 }]),
    ...histogram('vllm:request_queue_time_seconds', [{ pod: 'a', mean: 0.005 }]),
    ...gauge('vllm:num_requests_running', ['a', 'b'], 10),
    '# EOF',
  ].join('\n');
  prom = await startPrometheus({ openmetrics: `${text}\n` });
  client = new PrometheusClient({ url: prom.url });
}, 120_000);

afterAll(async () => {
  client?.close();
  await prom?.stop();
});

describe('per-pod latencies against the real Prometheus', () => {
  it('reads ITL, TTFT, prefill and queue time per pod in ms, the old ITL name only where the new one is missing', async () => {
    const fleet = await collectFleetMetrics(client, { time: new Date(T * 1000) });
    const pods = new Map<string, PodMetrics>((fleet.get('llama:lat')?.pods ?? []).map((p) => [p.pod, p]));
    const a = pods.get('a');
    expect(a?.itlMs).toBeCloseTo(10, 6);
    expect(a?.ttftMs).toBeCloseTo(50, 6);
    expect(a?.prefillMs).toBeCloseTo(20, 6);
    expect(a?.queueMs).toBeCloseTo(5, 6);
    expect(a?.avgRunning).toBe(10);
    const b = pods.get('b');
    expect(b?.itlMs).toBeCloseTo(12, 6);
    // Not exported by pod b: unknown, not 0.
    expect(b && 'ttftMs' in b).toBe(false);
    expect(b && 'prefillMs' in b).toBe(false);
    expect(b && 'queueMs' in b).toBe(false);
    expect(await prom.queryCalls()).toBe(1);
  });
});
