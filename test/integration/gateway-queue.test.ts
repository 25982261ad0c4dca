// The gateway's flow-control queue per model through the REAL Prometheus (backfilled): the target
// model label first, the model_name of untargeted series for older gateways, each model once, one query;
// and scale from zero reading it there with SCALE_FROM_ZERO_QUEUE_SOURCE=prometheus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayQueueQuery, gatewayQueueSizes } from '../../src/collector/gateway-queue.js';
import { gatewayQueueSource, QUEUE_SOURCE_ENV } from '../../src/controller/scale-from-zero.js';
import { type InactiveVariant, ScaleFromZeroLoop } from '../../src/engines/scale-from-zero/loop.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import {
  BACKFILL_TIME_S,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from '../support/prometheus.js';

const T = BACKFILL_TIME_S;
const AT = new Date(T * 1000);

function series(labels: string, value: number): string[] {
  const out: string[] = [];
  for (let t = T - 120; t <= T; t += 15)
    out.push(`inference_extension_flow_control_queue_size{${labels}} ${value} ${t}`);
  return out;
}

const text = [
  '# TYPE inference_extension_flow_control_queue_size gauge',
  // llama: two priority bands queued for it.
  ...series('pod="epp-1",target_model_name="llama",priority="0"', 2),
  ...series('pod="epp-1",target_model_name="llama",priority="1"', 3),
  // mistral: an older gateway labels only model_name.
  ...series('pod="epp-2",model_name="mistral",target_model_name=""', 4),
  // granite: both forms; the target label wins.
  ...series('pod="epp-3",target_model_name="granite"', 1),
  ...series('pod="epp-4",model_name="granite",target_model_name=""', 50),
  // idle: nothing queued.
  ...series('pod="epp-1",target_model_name="idle"', 0),
  '# EOF',
].join('\n');

let prom: PrometheusServer;
let client: PrometheusClient;

beforeAll(async () => {
  expect(prometheusAvailable()).toBe(true);
  prom = await startPrometheus({ openmetrics: text });
  client = new PrometheusClient({ url: prom.url });
}, 120_000);

afterAll(async () => {
  client?.close();
  await prom?.stop();
});

describe('gateway queue sizes from Prometheus', () => {
  it('sums per model, falls back to model_name, counts each model once, in one query', async () => {
    const before = await prom.queryCalls();
    const sizes = await gatewayQueueSizes(client, ['llama', 'mistral', 'granite', 'idle', 'unknown'], AT);
    expect(Object.fromEntries(sizes)).toEqual({ llama: 5, mistral: 4, granite: 1, idle: 0 });
    expect(await prom.queryCalls()).toBe(before + 1);
  });

  it('escapes model names as regex literals', () => {
    expect(gatewayQueueQuery(['a.b', 'c"'])).toContain('target_model_name=~"a\\\\.b|c\\""');
  });
});

const inactive = (name: string, modelId: string): InactiveVariant => ({
  name,
  namespace: 'llm',
  modelId,
  target: { kind: 'Deployment', name: `${name}-decode`, namespace: 'llm' },
  podLabels: { app: name },
  accelerator: 'L4',
});

describe('scale from zero with the queue read from Prometheus', () => {
  it('wakes the model with requests queued and leaves the idle and unknown ones, one query per tick, no pool needed', async () => {
    const scaled: string[] = [];
    const reasons: string[] = [];
    const loop = new ScaleFromZeroLoop({
      ...gatewayQueueSource({ [QUEUE_SOURCE_ENV]: 'prometheus' }, client, () => AT),
      source: {
        inactiveVariants: async () => [
          inactive('a', 'llama'),
          inactive('b', 'idle'),
          inactive('c', 'unknown'),
        ],
        // No InferencePool known: with the queue in Prometheus none is needed.
        inferencePools: async () => null,
      },
      scaleTo: async (t, n) => {
        scaled.push(`${t.name}=${n}`);
      },
      onEvent: (e) => reasons.push(`${e.variant.name}:${e.reason}`),
    });
    const before = await prom.queryCalls();
    await loop.runOnce();
    expect(await prom.queryCalls()).toBe(before + 1);
    expect(scaled).toEqual(['a-decode=1']);
    expect(reasons).toEqual(['a:ScaledFromZero']);
  });

  it("a Prometheus that does not answer is each variant's condition, nothing scaled", async () => {
    const down = new PrometheusClient({ url: 'http://127.0.0.1:9', timeoutMs: 500 });
    const outcomes: string[] = [];
    const loop = new ScaleFromZeroLoop({
      ...gatewayQueueSource({ [QUEUE_SOURCE_ENV]: 'Prometheus' }, down, () => AT),
      source: { inactiveVariants: async () => [inactive('a', 'llama')], inferencePools: async () => null },
      scaleTo: async () => {
        throw new Error('must not scale');
      },
      onOutcome: (o) => outcomes.push(...o.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)),
    });
    try {
      await loop.runOnce();
    } finally {
      down.close();
    }
    expect(outcomes).toEqual(['MetricsAvailable=False/GatewayQueueUnavailable']);
  });
});

describe('SCALE_FROM_ZERO_QUEUE_SOURCE', () => {
  it('unset or epp: the EPPs are scraped (no Prometheus reader)', () => {
    expect(gatewayQueueSource({}, client)).toEqual({});
    expect(gatewayQueueSource({ [QUEUE_SOURCE_ENV]: ' EPP ' }, client)).toEqual({});
    expect(typeof gatewayQueueSource({ [QUEUE_SOURCE_ENV]: 'prometheus' }, client).queueSizes).toBe(
      'function',
    );
  });

  it('anything else is refused, naming the key and the choices', () => {
    expect(() => gatewayQueueSource({ [QUEUE_SOURCE_ENV]: 'gateway' }, client)).toThrow(
      'SCALE_FROM_ZERO_QUEUE_SOURCE="gateway" is not a queue source: use "epp" (scrape each InferencePool\'s endpoint picker; the default) or "prometheus" (read inference_extension_flow_control_queue_size from Prometheus, where the EPP metrics are scraped)',
    );
    expect(() => gatewayQueueSource({ [QUEUE_SOURCE_ENV]: 'prometheus' }, undefined)).toThrow(
      'SCALE_FROM_ZERO_QUEUE_SOURCE=prometheus needs a Prometheus client',
    );
  });
});
