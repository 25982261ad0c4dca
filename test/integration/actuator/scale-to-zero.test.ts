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
import { VariantOptimizer } from '../../../src/controller/decision.js';
import { LocalSource } from '../../../src/controller/local.js';
import type { Deployment, VariantAutoscaling } from '../../../src/kube/types.js';
import { PrometheusClient } from '../../../src/prometheus/index.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { cycleDriver } from '../../support/cycles.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { type PrometheusServer, startPrometheus, BACKFILL_TIME_S as T } from '../../support/prometheus.js';
import { variant } from '../../support/variants.js';
import { scaleToZeroFleetOpenMetrics } from '../../support/vllm-openmetrics.js';

const RETENTION_S = 600;

let prom: PrometheusServer;
let api: FakeApiServer;

beforeAll(async () => {
  prom = await startPrometheus({
    openmetrics: scaleToZeroFleetOpenMetrics(
      (model) => `model_name="${model}",namespace="prod",pod="${model.replace('/', '-')}-0"`,
    ),
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
  // A dearer variant of the same model: with zero not allowed, only the cheapest keeps a replica.
  variant('prod', 'always-on-h100', 'org/always-on', { accelerator: 'H100' }),
  variant('prod', 'young', 'org/young'),
  variant('prod', 'gone', 'org/gone'),
] as unknown as VariantAutoscaling[];
const deploymentOf = (name: string, replicas: number): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'prod' },
  spec: { replicas },
  status: { replicas, readyReplicas: replicas },
});

/** The real path of a cycle: fleet query, optimizer (its minimum from the actuator), status, actuation. */
function rig(url: string) {
  let at = new Date(T * 1000);
  let clock = 0;
  const cache = new ModelMetricsCache({ ttlMs: 30_000, now: () => clock });
  const source = new LocalSource();
  const unitCosts = { A100: 40, H100: 80 };
  // As the pipeline wires them: the fleet query asks the actuation for its retention periods.
  const collector = new FleetCollector({
    prom: new PrometheusClient({ url, timeoutMs: 3000 }),
    cache,
    now: () => clock,
    evaluationTime: () => at,
    requestsOverSeconds: () => actuation.requestsOverSeconds(),
  });
  const actuation = new ClusterActuation(
    api.kubeConfig(),
    loadConfig({ env: { WVA_SCALE_TO_ZERO: 'false' } }),
    { identity: 'wva-0', namespace: 'wva-system', watchConfigMap: false },
    { telemetry: { registry: new Registry() }, collector, source, unitCosts: () => unitCosts },
    silentLogger,
  );
  actuation.actuator.setScaleToZeroConfig({
    __defaults__: 'enableScaleToZero: false',
    quiet: 'modelID: org/quiet\nnamespace: prod\nenableScaleToZero: true\nretentionPeriod: 10m',
    young: 'modelID: org/young\nenableScaleToZero: true\nretentionPeriod: 10m',
    gone: 'modelID: org/gone\nenableScaleToZero: true',
  });
  /** Deployments at these replicas; `decided`: a decision left in status by an earlier cycle. */
  const load = (replicas: Record<string, number>, decided: Record<string, number> = {}) =>
    source.load({
      variants: variants.map((v) => {
        const n = decided[v.metadata.name];
        return n === undefined
          ? v
          : { ...v, status: { desiredOptimizedAlloc: { accelerator: 'A100', numReplicas: n } } };
      }),
      deployments: variants.map((v) => deploymentOf(v.metadata.name, replicas[v.metadata.name] ?? 1)),
    });
  load({});
  const optimizer = new VariantOptimizer({
    config: {
      serviceClasses: {
        value: [
          {
            key: 'premium.yaml',
            name: 'premium',
            priority: 1,
            entries: variants.map((v) => ({ model: v.spec.modelID, slo: { ttftMs: 500, itlMs: 50 } })),
          },
        ],
      },
      unitCosts: { value: unitCosts },
    },
    minReplicasDefault: (va) => actuation.minReplicas(va),
  });
  const driver = cycleDriver({
    source,
    collector,
    writer: source,
    optimizer,
    actuator: actuation.actuator,
    now: () => new Date(T * 1000 + clock),
  });
  /** One cycle evaluated at `t` (one query), with the Deployments at these replicas. */
  const cycle = async (
    t: number,
    replicas: Record<string, number> = {},
    decided: Record<string, number> = {},
  ) => {
    at = new Date(t * 1000);
    clock += 60_000;
    load(replicas, decided);
    const r = await driver.runCycle();
    const out: Record<string, { count: number | undefined; message: string; decided?: number }> = {};
    for (const res of r.results) {
      const c = res.status?.conditions?.find((x) => x.type === 'Actuated');
      out[res.name] = {
        count: Number(/(?:wva_desired_replicas|left at) (\d+)/.exec(c?.message ?? '')?.[1] ?? Number.NaN),
        message: c?.message ?? '',
        decided: res.status?.desiredOptimizedAlloc?.numReplicas,
      };
    }
    return out;
  };
  return { cycle, actuation, source };
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
      decided: 1,
      message:
        'wva_desired_replicas 1 published (the optimizer decision (not zero: requests within the retention period (600s)))',
    });
  });

  it('zero once the whole period is proven idle, in the decision too; ScaledToZero event; off for another idle model', async () => {
    const { cycle } = rig(prom.url);
    const quietEvents = () =>
      api.list('events').filter((e) => (e.involvedObject as { name: string }).name === 'quiet');
    const before = quietEvents().length;
    // First sight: the Deployment's replica is held like a published count, so zero, a scale-down,
    // waits out the stabilisation window (5 min, cycles a minute apart) like any other.
    const first = await cycle(T);
    expect(first.quiet).toMatchObject({ count: 1, decided: 1 });
    for (let i = 0; i < 4; i++) expect((await cycle(T)).quiet).toMatchObject({ count: 1, decided: 1 });
    const r = await cycle(T);
    expect(r.quiet).toEqual({
      count: 0,
      decided: 0,
      message: 'wva_desired_replicas 0 published (no requests for the whole retention period (600s))',
    });
    expect(r['always-on']).toEqual({
      count: 1,
      decided: 1,
      message: 'wva_desired_replicas 1 published (the optimizer decision)',
    });
    // Scale to zero off: the model keeps serving on its cheapest variant; the dearer one may go to 0.
    expect(r['always-on-h100']).toEqual({
      count: 0,
      decided: 0,
      message:
        'wva_desired_replicas 0 published (the optimizer decision; variant always-on keeps serving the model)',
    });
    expect(
      quietEvents()
        .slice(before)
        .map((e) => [e.reason, e.message]),
    ).toEqual([
      ['ScaledToZero', 'Scaled from 1 to 0 replicas: no requests for the whole retention period (600s)'],
    ]);
  });

  it('not for series younger than the period', async () => {
    const { cycle } = rig(prom.url);
    const r = await cycle(T);
    expect(r.young).toMatchObject({ count: 1, decided: 1 });
    expect(r.young?.message).toContain(
      "not zero: idleness not proven: the model's series are younger than the retention period",
    );
  });

  it('not on an empty answer: nothing is decided, so nothing moves: one replica stays, 0 stays 0', async () => {
    const { cycle } = rig(prom.url);
    // The optimizer cannot decide without metrics (MetricsMissing): the 0 left in status is not applied.
    let r = await cycle(T, { gone: 1 }, { gone: 0 });
    expect(r.gone).toMatchObject({ count: 1, decided: 0 });
    expect(r.gone?.message).toMatch(
      /^No decision: Deployment prod\/gone left at 1 replicas \(MetricsUnavailable: /,
    );
    r = await cycle(T, { gone: 0 }, { gone: 0 });
    expect(r.gone?.count).toBe(0);
  });

  it('not on a failed query: Prometheus unreachable moves nothing, and does not wake a model at 0', async () => {
    const { cycle } = rig('http://127.0.0.1:1');
    const r = await cycle(T, { quiet: 1, young: 0 }, { quiet: 0, young: 0 });
    expect(r.quiet?.count).toBe(1);
    expect(r.quiet?.message).toMatch(
      /^No decision: Deployment prod\/quiet left at 1 replicas \(MetricsUnavailable: /,
    );
    expect(r.young?.count).toBe(0);
  });
});
