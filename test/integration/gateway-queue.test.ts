// The gateway's flow-control queue per model through the REAL Prometheus (backfilled): the target
// model label first, the model_name of untargeted series for older gateways, each model once, one query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayQueueQuery, gatewayQueueSizes } from '../../src/collector/gateway-queue.js';
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
