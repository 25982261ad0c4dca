// The controller end to end on this machine: the real @kubernetes/client-node against the fake
// API server, the real FleetCollector and PrometheusClient against a real Prometheus backfilled
// with known vLLM series, queried at a fixed instant. Clock of cache and collector injected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../../src/cache/index.js';
import { FleetCollector } from '../../../src/collector/index.js';
import { Controller } from '../../../src/controller/controller.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { PrometheusClient } from '../../../src/prometheus/index.js';
import type { PromAPI } from '../../../src/types.js';
import { cycleDriver, syncedKubeSource } from '../../support/cycles.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { deployment, expectedAlloc, variant } from '../../support/variants.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../../support/vllm-openmetrics.js';
import { until as waitUntil } from '../../support/wait.js';

const MODELS = 100;
const VARIANTS_PER_MODEL = 10;
const ns = (i: number) => `team-${i % 4}`;
const model = (i: number) => `org/model-${String(i).padStart(3, '0')}`;

function traffic(i: number): VllmPodTraffic {
  return {
    labels: { model_name: model(i), namespace: ns(i), pod: `pod-${i}` },
    requestsPerSecond: 1 + (i % 7),
    avgPromptTokens: 100 + i,
    avgGenerationTokens: 20 + (i % 13),
    avgTtftSeconds: 0.05 + (i % 5) / 100,
    avgItlSeconds: 0.01 + (i % 3) / 1000,
  };
}

let prom: PrometheusServer;

beforeAll(async () => {
  const pods = Array.from({ length: MODELS }, (_, i) => traffic(i));
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
}, 120_000);

afterAll(async () => {
  await prom?.stop();
});

/** A PromAPI that can be switched to an address where nothing listens (a real refused connection). */
class SwitchableProm implements PromAPI {
  down = false;
  constructor(
    private readonly up: PrometheusClient,
    private readonly dead: PrometheusClient,
  ) {}
  query(q: string, t?: Date, o?: { signal?: AbortSignal }) {
    return (this.down ? this.dead : this.up).query(q, t, o);
  }
}

async function rig(api: FakeApiServer) {
  let nowMs = 1_000_000;
  const cache = new ModelMetricsCache({ ttlMs: 30_000, failureTtlMs: 10_000, now: () => nowMs });
  const prometheus = new SwitchableProm(
    new PrometheusClient({ url: prom.url, timeoutMs: 5000 }),
    new PrometheusClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 }),
  );
  const collector = new FleetCollector({
    prom: prometheus,
    cache,
    now: () => nowMs,
    evaluationTime: () => new Date(BACKFILL_TIME_S * 1000),
  });
  const source = await syncedKubeSource(api.kubeConfig());
  const writer = new KubeStatusWriter({ kubeConfig: api.kubeConfig() });
  const driver = cycleDriver({ source, collector, writer, concurrency: 16 });
  return {
    source,
    writer,
    driver,
    collector,
    prometheus,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

function statusOf(api: FakeApiServer, namespace: string, name: string) {
  return (api.get('variantautoscalings', namespace, name) as unknown as VariantAutoscaling | undefined)
    ?.status;
}

const until = (cond: () => boolean, what: string, ms = 10_000) => waitUntil(cond, what, ms);

describe('controller with real Prometheus and the fake API server', () => {
  it('writes the right status for several models and namespaces, then nothing when unchanged', async () => {
    const api = await FakeApiServer.start();
    try {
      for (const i of [0, 1, 2, 3, 5]) {
        api.put('variantautoscalings', variant(ns(i), `va-${i}`, model(i)));
        api.put('deployments', deployment(ns(i), `va-${i}`, 1 + i));
      }
      const r = await rig(api);
      const first = await r.driver.runCycle();
      expect(first.results.every((x) => x.outcome === 'written')).toBe(true);
      for (const i of [0, 1, 2, 3, 5]) {
        const s = statusOf(api, ns(i), `va-${i}`);
        expect(s?.currentAlloc).toEqual(expectedAlloc(expectedMetrics([traffic(i)]), 1 + i));
        expect(s?.conditions?.find((c) => c.type === 'MetricsAvailable')).toMatchObject({
          status: 'True',
          reason: 'MetricsFound',
          observedGeneration: 1,
        });
      }
      await until(() => r.source.listVariants().every((v) => v.status?.currentAlloc), 'own writes seen');
      const patches = api.count({ method: 'PATCH' });
      r.advance(60_000); // past the TTL: the next cycle queries again, and finds the same numbers
      const second = await r.driver.runCycle();
      expect(second.results.map((x) => x.outcome)).toEqual(Array(5).fill('unchanged'));
      expect(api.count({ method: 'PATCH' })).toBe(patches);
    } finally {
      await api.close();
    }
  });

  it('Prometheus down: PrometheusError condition, last numbers kept, no crash; recovers next cycle', async () => {
    const api = await FakeApiServer.start();
    try {
      api.put('variantautoscalings', variant(ns(1), 'va-1', model(1)));
      api.put('deployments', deployment(ns(1), 'va-1', 2));
      api.put('variantautoscalings', variant(ns(2), 'va-unknown', 'org/not-served'));
      api.put('deployments', deployment(ns(2), 'va-unknown', 1));
      const r = await rig(api);
      await r.driver.runCycle();
      const good = statusOf(api, ns(1), 'va-1')?.currentAlloc;
      expect(good?.load.arrivalRate).toBe(expectedMetrics([traffic(1)]).arrivalRate.toFixed(2));
      // A model Prometheus has never seen: MetricsMissing, and no zeros written as if it were idle.
      const unknown = statusOf(api, ns(2), 'va-unknown');
      expect(unknown?.conditions?.find((c) => c.type === 'MetricsAvailable')).toMatchObject({
        status: 'False',
        reason: 'MetricsMissing',
      });
      expect(unknown?.currentAlloc).toBeUndefined();
      await until(() => r.source.getVariant(ns(1), 'va-1')?.status !== undefined, 'own write seen');

      r.prometheus.down = true;
      r.advance(60_000);
      const down = await r.driver.runCycle();
      expect(down.results.every((x) => x.outcome === 'written')).toBe(true);
      const s = statusOf(api, ns(1), 'va-1');
      const cond = s?.conditions?.find((c) => c.type === 'MetricsAvailable');
      expect(cond).toMatchObject({ status: 'False', reason: 'PrometheusError' });
      expect(cond?.message).toContain(model(1));
      expect(s?.currentAlloc).toEqual(good);
      await until(
        () =>
          r.source
            .getVariant(ns(1), 'va-1')
            ?.status?.conditions?.some((c) => c.reason === 'PrometheusError') ?? false,
        'own write seen',
      );

      r.prometheus.down = false;
      r.advance(60_000); // past the failure TTL
      await r.driver.runCycle();
      expect(
        statusOf(api, ns(1), 'va-1')?.conditions?.find((c) => c.type === 'MetricsAvailable'),
      ).toMatchObject({
        status: 'True',
        reason: 'MetricsFound',
      });
    } finally {
      await api.close();
    }
  });

  it(`a cycle over ${MODELS * VARIANTS_PER_MODEL} VariantAutoscalings of ${MODELS} models costs one Prometheus call`, async () => {
    const api = await FakeApiServer.start();
    try {
      for (let i = 0; i < MODELS; i++) {
        for (let j = 0; j < VARIANTS_PER_MODEL; j++) {
          api.put('variantautoscalings', variant(ns(i), `va-${i}-${j}`, model(i)));
          api.put('deployments', deployment(ns(i), `va-${i}-${j}`, 1 + j));
        }
      }
      let nowMs = 5_000_000;
      const cache = new ModelMetricsCache({ ttlMs: 30_000, now: () => nowMs });
      const collector = new FleetCollector({
        prom: new PrometheusClient({ url: prom.url }),
        cache,
        now: () => nowMs,
        evaluationTime: () => new Date(BACKFILL_TIME_S * 1000),
      });
      const cycles: number[] = [];
      const controller = new Controller({
        kubeConfig: api.kubeConfig(),
        collector,
        intervalMs: 3_600_000,
        concurrency: 32,
        leaderElection: false,
        onCycle: (c) => cycles.push(c.durationMs),
      });
      const before = await prom.queryCalls();
      await controller.start();
      // First cycle: cache warming (one fleet query) and 1000 status writes.
      await until(() => cycles.length === 1, 'first cycle', 60_000);
      expect((await prom.queryCalls()) - before).toBe(1);
      expect(api.count({ method: 'PATCH', status: 200 })).toBe(MODELS * VARIANTS_PER_MODEL);
      expect(statusOf(api, ns(42), 'va-42-7')?.currentAlloc).toMatchObject({
        numReplicas: 8,
        load: { arrivalRate: expectedMetrics([traffic(42)]).arrivalRate.toFixed(2) },
      });
      // Second cycle after the TTL: again exactly one call.
      nowMs += 31_000;
      const mid = await prom.queryCalls();
      const second = await controller.runCycle();
      expect(second?.results).toHaveLength(MODELS * VARIANTS_PER_MODEL);
      expect((await prom.queryCalls()) - mid).toBe(1);
      // Figures for the report.
      console.log(
        `1000-VA cycle: first (with ${MODELS * VARIANTS_PER_MODEL} patches) ${cycles[0]?.toFixed(0)} ms, ` +
          `second ${second?.durationMs.toFixed(0)} ms, 1 Prometheus call each`,
      );
      await controller.stop();
    } finally {
      await api.close();
    }
  }, 120_000);
});
