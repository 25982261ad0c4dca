// The optimizer in the controller, end to end: the real @kubernetes/client-node against the fake
// API server (VariantAutoscalings, Deployments, the optimizer ConfigMaps watched, an sloClassRef
// ConfigMap read), the real FleetCollector against a real Prometheus backfilled with known vLLM
// series. desiredOptimizedAlloc must be what the queueing model gives for the measured load, and
// the conditions must say what is missing or bad.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterOptimizer } from '../../../src/controller/optimizer-setup.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { maxRatePerReplica, sizeReplicas } from '../../../src/optimizer/index.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { steadyPod } from '../../support/controller-fixtures.js';
import { backfilledCollector, cycleDriver, fakeApiServer, syncedKubeSource } from '../../support/cycles.js';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { deployment, variant } from '../../support/variants.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../../support/vllm-openmetrics.js';
import { until } from '../../support/wait.js';

const CONTROLLER_NS = 'wva-system';
const A100 = { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 };
const H100 = { alpha: 8, beta: 0.2, gamma: 3, delta: 0.05, maxBatchSize: 8 };

const pod = steadyPod;

const pods = {
  llama: [pod('org/llama', 'prod', 'llama-0', 2), pod('org/llama', 'prod', 'llama-1', 2)],
  granite: [pod('org/granite', 'prod', 'granite-0', 1.5)],
  mistral: [pod('org/mistral', 'staging', 'mistral-0', 6)],
};

function spec(modelID: string, ref: { name: string; key: string }, accs: Array<[string, typeof A100]>) {
  return {
    modelID,
    sloClassRef: ref,
    modelProfile: {
      accelerators: accs.map(([acc, p]) => ({
        acc,
        accCount: 1,
        maxBatchSize: p.maxBatchSize,
        perfParms: {
          decodeParms: { alpha: String(p.alpha), beta: String(p.beta) },
          prefillParms: { gamma: String(p.gamma), delta: String(p.delta) },
        },
      })),
    },
  };
}

const serviceClasses = {
  'premium.yaml':
    'name: Premium\npriority: 1\ndata:\n  - model: org/llama\n    slo-tpot: 24\n    slo-ttft: 500\n',
  'batch.yaml':
    'name: Batch\npriority: 20\ndata:\n  - model: org/mistral\n    slo-tpot: 60\n    slo-ttft: 3000\n',
};
const unitCosts = {
  A100: '{ "device": "A100-80G", "cost": "35.00" }',
  H100: '{ "device": "H100", "cost": "70.00" }',
};

function configMap(namespace: string, name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

let prom: PrometheusServer;
beforeAll(async () => {
  prom = await startPrometheus({
    openmetrics: vllmOpenMetrics([...pods.llama, ...pods.granite, ...pods.mistral]),
  });
}, 120_000);
afterAll(async () => {
  await prom?.stop();
});

function load(p: VllmPodTraffic[]) {
  const m = expectedMetrics(p);
  return { arrivalRate: m.arrivalRate, avgInputTokens: m.avgInputTokens, avgOutputTokens: m.avgOutputTokens };
}

describe('optimizer in the controller (fake API server, real Prometheus)', () => {
  it('writes desiredOptimizedAlloc for several VAs, models and classes; conditions for missing and bad ConfigMaps', async () => {
    const api = await fakeApiServer();
    const kc = api.kubeConfig();
    const opt = clusterOptimizer(
      kc,
      CONTROLLER_NS,
      { stabilizationWindowMs: 300_000, kvCacheThreshold: 0.9 },
      silent,
    );
    try {
      api.put(
        'variantautoscalings',
        variant('prod', 'llama', 'org/llama', {
          spec: spec('org/llama', { name: 'premium', key: 'org/llama' }, [['A100', A100]]),
        }),
      );
      api.put('deployments', deployment('prod', 'llama', 2));
      api.put(
        'variantautoscalings',
        variant('prod', 'granite', 'org/granite', {
          spec: spec('org/granite', { name: 'gold-slo', key: 'granite' }, [['A100', A100]]),
        }),
      );
      api.put('deployments', deployment('prod', 'granite', 1));
      api.put('configmaps', configMap('prod', 'gold-slo', { granite: 'slo-tpot: 30\nslo-ttft: 900\n' }));
      for (const [name, acc] of [
        ['mistral-a', A100],
        ['mistral-h', H100],
      ] as const) {
        api.put(
          'variantautoscalings',
          variant('staging', name, 'org/mistral', {
            accelerator: name === 'mistral-a' ? 'A100' : 'H100',
            spec: spec('org/mistral', { name: 'none', key: 'x' }, [
              [name === 'mistral-a' ? 'A100' : 'H100', acc],
            ]),
          }),
        );
        api.put('deployments', deployment('staging', name, 1));
      }
      const collector = backfilledCollector(prom.url);
      const source = await syncedKubeSource(kc);
      opt.start();
      const driver = cycleDriver({
        source,
        collector,
        writer: new KubeStatusWriter({ kubeConfig: kc }),
        optimizer: opt.optimizer,
      });
      const status = (ns: string, name: string) =>
        (api.get('variantautoscalings', ns, name) as unknown as VariantAutoscaling).status;
      const ready = (ns: string, name: string) =>
        status(ns, name)?.conditions?.find((c) => c.type === 'OptimizationReady');

      // 1. Neither shared ConfigMap exists.
      await driver.runCycle();
      expect(ready('prod', 'llama')).toMatchObject({ status: 'False', reason: 'NoServiceClass' });
      expect(ready('prod', 'llama')?.message).toMatch(
        /service-classes-config is missing.*ConfigMap wva-system\/service-classes-config not found/,
      );
      // granite's SLO comes from its own namespace's ConfigMap; the unit costs are what is missing.
      expect(ready('prod', 'granite')).toMatchObject({ status: 'False', reason: 'NoUnitCosts' });
      expect(ready('prod', 'granite')?.message).toMatch(
        /^accelerator-unit-costs: ConfigMap wva-system\/accelerator-unit-costs not found/,
      );
      expect(status('prod', 'llama')?.desiredOptimizedAlloc).toBeUndefined();
      expect(status('prod', 'llama')?.currentAlloc?.numReplicas).toBe(2);

      // 2. Both appear (watched): every VA gets a decision, in the same patch as currentAlloc.
      api.put('configmaps', configMap(CONTROLLER_NS, 'service-classes-config', serviceClasses));
      api.put('configmaps', configMap(CONTROLLER_NS, 'accelerator-unit-costs', unitCosts));
      await until(
        () => opt.store.serviceClasses.value !== undefined && opt.store.unitCosts.value !== undefined,
        'ConfigMaps watched',
        10_000,
      );
      const patchesBefore = api.count({ method: 'PATCH' });
      await driver.runCycle();
      expect(api.count({ method: 'PATCH' }) - patchesBefore).toBe(4);

      const llama = sizeReplicas({ profile: A100, load: load(pods.llama), slo: { ttftMs: 500, itlMs: 24 } });
      expect(status('prod', 'llama')?.desiredOptimizedAlloc).toMatchObject({
        accelerator: 'A100',
        numReplicas: llama.numReplicas,
      });
      expect(llama.numReplicas).toBeGreaterThan(2);
      expect(ready('prod', 'llama')).toMatchObject({ status: 'True', reason: 'OptimizationSucceeded' });
      expect(ready('prod', 'llama')?.message).toMatch(/\(service class Premium, entry org\/llama\)$/);

      const granite = sizeReplicas({
        profile: A100,
        load: load(pods.granite),
        slo: { ttftMs: 900, itlMs: 30 },
      });
      expect(status('prod', 'granite')?.desiredOptimizedAlloc?.numReplicas).toBe(granite.numReplicas);
      expect(ready('prod', 'granite')?.message).toMatch(/\(ConfigMap prod\/gold-slo key granite\)$/);

      // mistral: two variants share 6 req/s under Batch (first class listing the model). H100 is
      // cheaper per request/s here, so it carries what the A100 variant's one replica does not.
      const slo = { ttftMs: 3000, itlMs: 60 };
      const shape = load(pods.mistral);
      const rateA = maxRatePerReplica(A100, shape, slo);
      const rateH = maxRatePerReplica(H100, shape, slo);
      expect(35 / rateA).toBeGreaterThan(70 / rateH);
      expect(status('staging', 'mistral-a')?.desiredOptimizedAlloc?.numReplicas).toBe(1);
      expect(status('staging', 'mistral-h')?.desiredOptimizedAlloc).toMatchObject({
        accelerator: 'H100',
        numReplicas: Math.ceil((shape.arrivalRate / 60 - rateA) / rateH),
      });
      expect(ready('staging', 'mistral-h')?.message).toMatch(
        /service class Batch \(first by priority listing org\/mistral; sloClassRef none\/x: no class named none\)\); load shared with 1 other variant/,
      );

      // 3. Nothing changed: no patch.
      const steady = api.count({ method: 'PATCH' });
      const again = await driver.runCycle();
      expect(again.results.map((r) => r.outcome)).toEqual([
        'unchanged',
        'unchanged',
        'unchanged',
        'unchanged',
      ]);
      expect(api.count({ method: 'PATCH' })).toBe(steady);

      // 4. A bad edit of service-classes-config: the last good one stays in use, and the message says so.
      api.put(
        'configmaps',
        configMap(CONTROLLER_NS, 'service-classes-config', { 'premium.yaml': 'name: Premium\ndata: [oops' }),
      );
      await until(() => opt.store.serviceClasses.problem !== undefined, 'bad edit seen', 10_000);
      await driver.runCycle();
      expect(status('prod', 'llama')?.desiredOptimizedAlloc?.numReplicas).toBe(llama.numReplicas);
      expect(ready('prod', 'llama')).toMatchObject({ status: 'True', reason: 'OptimizationSucceeded' });
      expect(ready('prod', 'llama')?.message).toMatch(
        /service-classes-config: an edit at .* was refused \(premium.yaml: not YAML.*the last good version is in use/,
      );

      // 5. accelerator-unit-costs deleted: NoUnitCosts, and desiredOptimizedAlloc keeps its value.
      const before = status('prod', 'llama')?.desiredOptimizedAlloc;
      api.delete('configmaps', CONTROLLER_NS, 'accelerator-unit-costs');
      await until(() => opt.store.unitCosts.value === undefined, 'deletion seen', 10_000);
      await driver.runCycle();
      expect(ready('prod', 'llama')).toMatchObject({ status: 'False', reason: 'NoUnitCosts' });
      expect(status('prod', 'llama')?.desiredOptimizedAlloc).toEqual(before);
    } finally {
      await opt.stop();
    }
  }, 60_000);
});

const silent = silentLogger;
