// Scale to zero against a real Prometheus: backfilled vLLM counters with a known timeline, the
// fleet query (one call, with the retention term) evaluated at chosen instants, the actuation gate
// on top, Events into the fake API server. Zero only once a whole retention period without a
// request is proven; not before, not for series younger than the period, not on an empty or
// failed answer.

import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../../src/cache/index.js';
import { ClusterActuation } from '../../../src/cli/actuation.js';
import { FleetCollector } from '../../../src/collector/index.js';
import { loadConfig } from '../../../src/config/index.js';
import type { VariantSource } from '../../../src/controller/reconciler.js';
import type { Deployment, VariantAutoscaling } from '../../../src/controller/types.js';
import { PrometheusClient } from '../../../src/prometheus/index.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { type PrometheusServer, startPrometheus, BACKFILL_TIME_S as T } from '../../support/prometheus.js';
import { variant } from '../../support/variants.js';

const RETENTION_S = 600;

/** One pod's request counter and gauges: `perSecond` requests from `from` until `busyUntil`, flat after. */
function pod(model: string, ns: string, from: number, busyUntil: number): string {
  const labels = `model_name="${model}",namespace="${ns}",pod="${model.replace('/', '-')}-0"`;
  const lines: string[] = [];
  const samples = (fn: (t: number) => number, name: string, extra = '') => {
    for (let t = from; t <= T; t += 15) lines.push(`${name}{${labels}${extra}} ${fn(t)} ${t}`);
  };
  lines.push('# TYPE vllm:request_success counter');
  samples(
    (t) => Math.max(0, Math.min(t, busyUntil) - from),
    'vllm:request_success_total',
    ',finished_reason="stop"',
  );
  lines.push('# TYPE vllm:num_requests_running gauge');
  samples((t) => (t < busyUntil ? 1 : 0), 'vllm:num_requests_running');
  lines.push('# TYPE vllm:num_requests_waiting gauge');
  samples(() => 0, 'vllm:num_requests_waiting');
  return lines.join('\n');
}

let prom: PrometheusServer;
let api: FakeApiServer;

beforeAll(async () => {
  prom = await startPrometheus({
    openmetrics: [
      // Busy until T-900, idle for the last 15 minutes.
      pod('org/quiet', 'prod', T - 1800, T - 900),
      // Idle too, but scale to zero is off for it.
      pod('org/always-on', 'prod', T - 1800, T - 900),
      // Started 5 minutes ago and never served: its series are younger than the retention period.
      pod('org/young', 'prod', T - 300, T - 300),
    ].join('\n'),
  });
  api = await FakeApiServer.start();
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  await api?.close();
});

const variants = [
  variant('prod', 'quiet', 'org/quiet'),
  variant('prod', 'always-on', 'org/always-on'),
  variant('prod', 'young', 'org/young'),
  variant('prod', 'gone', 'org/gone'),
] as unknown as VariantAutoscaling[];
const source: VariantSource = {
  listVariants: () => variants,
  getVariant: (ns, name) => variants.find((v) => v.metadata.namespace === ns && v.metadata.name === name),
  getDeployment: () => undefined,
};

function rig(url: string) {
  let at = new Date(T * 1000);
  let actuation: ClusterActuation | undefined;
  const collector = new FleetCollector({
    prom: new PrometheusClient({ url, timeoutMs: 3000 }),
    cache: new ModelMetricsCache({ ttlMs: 30_000 }),
    evaluationTime: () => at,
    requestsOverSeconds: () => actuation?.requestsOverSeconds() ?? [],
  });
  actuation = new ClusterActuation({
    kubeConfig: api.kubeConfig(),
    config: loadConfig({ env: { WVA_SCALE_TO_ZERO: 'false' } }),
    identity: 'wva-0',
    namespace: 'wva-system',
    watchConfigMap: false,
    registry: new Registry(),
    collector,
    logger: silentLogger,
  });
  actuation.bindSource(source);
  actuation.actuator.setScaleToZeroConfig({
    __defaults__: 'enableScaleToZero: false',
    quiet: 'modelID: org/quiet\nnamespace: prod\nenableScaleToZero: true\nretentionPeriod: 10m',
    young: 'modelID: org/young\nenableScaleToZero: true\nretentionPeriod: 10m',
    gone: 'modelID: org/gone\nenableScaleToZero: true',
  });
  /** One cycle at `t`: refresh (one query), then the published count of each variant. */
  const cycle = async (t: number, replicas: Record<string, number> = {}) => {
    at = new Date(t * 1000);
    await collector.refresh();
    const out: Record<string, { count: number | undefined; message: string }> = {};
    for (const va of variants) {
      const name = va.metadata.name;
      const d: Deployment = {
        metadata: { name, namespace: 'prod' },
        spec: { replicas: replicas[name] ?? 1 },
        status: { readyReplicas: replicas[name] ?? 1 },
      };
      // No traffic: the optimizer keeps its minimum of one replica.
      const status = { desiredOptimizedAlloc: { accelerator: 'A100', numReplicas: 1 } };
      const r = await actuation.actuator.actuate({ key: `prod/${name}`, va, status, deployment: d });
      out[name] = { count: r.published, message: r.message };
    }
    return out;
  };
  return { cycle, actuation };
}

describe('scale to zero', () => {
  it('asks Prometheus once per cycle, the retention term folded into the fleet query', async () => {
    const { cycle, actuation } = rig(prom.url);
    expect(actuation.requestsOverSeconds()).toEqual([RETENTION_S]);
    const before = await prom.queryCalls();
    await cycle(T);
    expect((await prom.queryCalls()) - before).toBe(1);
  });

  it('not before a whole retention period without requests: busy 7.5 minutes ago keeps one replica', async () => {
    const { cycle } = rig(prom.url);
    const r = await cycle(T - 450);
    expect(r.quiet).toEqual({
      count: 1,
      message: expect.stringContaining('requests within the retention period (600s)'),
    });
  });

  it('zero once the whole period is proven idle; ScaledToZero event; off for another idle model', async () => {
    const { cycle } = rig(prom.url);
    const quietEvents = () =>
      api.list('events').filter((e) => (e.involvedObject as { name: string }).name === 'quiet');
    const before = quietEvents().length;
    const r = await cycle(T);
    expect(r.quiet).toEqual({
      count: 0,
      message: expect.stringContaining('no requests for the whole retention period (600s)'),
    });
    expect(r['always-on']).toEqual({
      count: 1,
      message: 'wva_desired_replicas 1 published (the optimizer decision)',
    });
    expect(
      quietEvents()
        .slice(before)
        .map((e) => [e.reason, e.message]),
    ).toEqual([
      ['ScaledToZero', 'Scaled from 1 to 0 replicas: no requests for the whole retention period (600s)'],
    ]);
  });

  it('not for series younger than the period, nor for a model Prometheus has no series of (while it runs)', async () => {
    const { cycle } = rig(prom.url);
    const r = await cycle(T);
    expect(r.young?.count).toBe(1);
    expect(r.young?.message).toContain(
      "idleness not proven: the model's series are younger than the retention period",
    );
    expect(r.gone?.count).toBe(1);
    expect(r.gone?.message).toContain('idleness not proven: Prometheus has no series of the model');
  });

  it('a model already at zero with no series stays at zero (nothing runs that could report)', async () => {
    const { cycle } = rig(prom.url);
    const r = await cycle(T, { gone: 0 });
    expect(r.gone?.count).toBe(0);
    expect(r.gone?.message).toContain('already at 0 replicas');
  });

  it('not on a failed query: Prometheus unreachable keeps one replica', async () => {
    const { cycle } = rig('http://127.0.0.1:1');
    const r = await cycle(T);
    expect(r.quiet?.count).toBe(1);
    expect(r.quiet?.message).toMatch(/idleness not proven: the last fleet query failed/);
  });
});
