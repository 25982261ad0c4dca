// Saturation decisions for VariantAutoscalings without an SLO profile, through the controller
// (the real client against the fake API server) and a REAL Prometheus backfilled with per-pod
// series: the cheapest variant up when the model is saturated, the most expensive down when one
// replica fewer is safe, a model held while a variant changes size, a variant with pending pods
// passed over, and bad input (a pod without samples, a NaN, a target without ready pods) said in
// that model's conditions while every other model is decided.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actuator } from '../../../src/actuator/actuator.js';
import { ActuationMetrics } from '../../../src/actuator/metrics.js';
import { DeploymentScaler, HpaWatch } from '../../../src/actuator/scaler.js';
import { clusterOptimizer } from '../../../src/controller/optimizer-setup.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import { createSaturationV1Engine } from '../../../src/engines/saturation-engine.js';
import { backfilledCollector, cycleDriver, fakeApiServer, syncedKubeSource } from '../../support/cycles.js';
import type { Obj } from '../../support/fake-apiserver.js';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { deployment, saturationVariant } from '../../support/variants.js';
import { type VllmPodTraffic, vllmOpenMetrics } from '../../support/vllm-openmetrics.js';
import { until } from '../../support/wait.js';

// biome-ignore lint/suspicious/noExplicitAny: statuses read loosely
type Loose = Record<string, any>;

const NS = 'sat';
const CONTROLLER_NS = 'wva-system';

/** A pod of Deployment `dep` named as a Deployment names it (`<dep>-<hash>-<suffix>`). */
function pod(model: string, dep: string, i: number, kv: number | null, waiting = 0): VllmPodTraffic {
  return {
    labels: { model_name: model, namespace: NS, pod: `${dep}-7f9c4d-x${i}` },
    requestsPerSecond: 1,
    kvCacheUsage: kv,
    waiting,
  };
}

function va(name: string, model: string, cost: string, desired?: number): Obj {
  return {
    ...saturationVariant(NS, name, model, cost),
    ...(desired !== undefined
      ? {
          status: {
            desiredOptimizedAlloc: {
              accelerator: 'L4',
              numReplicas: desired,
              lastRunTime: '2026-01-01T00:00:00Z',
            },
          },
        }
      : {}),
  };
}

const dep = (name: string, replicas: number, ready = replicas): Obj =>
  deployment(NS, `${name}-decode`, replicas, { app: name, readyReplicas: ready });

const fleet: Array<{ va: Obj; dep: Obj; pods: VllmPodTraffic[] }> = [];
function add(
  name: string,
  model: string,
  cost: string,
  replicas: number,
  kvs: Array<number | null>,
  o: { ready?: number; desired?: number; waiting?: number } = {},
) {
  fleet.push({
    va: va(name, model, cost, o.desired),
    dep: dep(name, replicas, o.ready ?? replicas),
    pods: kvs.map((kv, i) => pod(model, `${name}-decode`, i, kv, o.waiting ?? 0)),
  });
}
// Saturated: every replica above the KV threshold (0.80).
add('up-cheap', 'm/up', '5.0', 2, [0.9, 0.95]);
add('up-dear', 'm/up', '20.0', 1, [0.92]);
// Idle: one replica fewer is safe; the most expensive with more than one loses one.
add('down-cheap', 'm/down', '5.0', 2, [0.1, 0.1]);
add('down-dear', 'm/down', '20.0', 2, [0.1, 0.1]);
// Changing size: desired 3 while 2 run; the saturated cheap variant is not scaled meanwhile.
add('held-moving', 'm/held', '20.0', 2, [0.9, 0.9], { desired: 3 });
add('held-cheap', 'm/held', '5.0', 1, [0.9]);
// The cheap variant has a pod not ready yet: the dearer one takes the replica.
add('pend-cheap', 'm/pending', '5.0', 2, [0.9, 0.9], { ready: 1 });
add('pend-dear', 'm/pending', '20.0', 1, [0.9]);
// Bad input: a pod with no KV or queue sample beside a good one; a target with no ready pod and no series.
add('bad-gauges', 'm/bad', '5.0', 1, [0.2]);
add('bad-nopods', 'm/bad', '9.0', 1, [], { ready: 0 });
add('nan-only', 'm/nan', '5.0', 1, []);
const extra: VllmPodTraffic[] = [
  { ...pod('m/bad', 'bad-gauges-decode', 9, null), omitGauges: true },
  { ...pod('m/nan', 'nan-only-decode', 0, Number.NaN), omitGauges: true },
  // An SLO-profiled variant at little load on two saturated replicas (the floor's case).
  ...[0, 1].map((i) => ({
    ...pod('org/slo', 'slo-va-decode', i, 0.95),
    requestsPerSecond: 0.05,
    avgPromptTokens: 128,
    avgGenerationTokens: 64,
    avgTtftSeconds: 0.1,
    avgItlSeconds: 0.01,
  })),
];

let prom: PrometheusServer;
beforeAll(async () => {
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics([...fleet.flatMap((f) => f.pods), ...extra]) });
}, 120_000);
afterAll(async () => {
  await prom?.stop();
});

const condition = (s: Loose | undefined, type: string) => s?.conditions?.find((c: Loose) => c.type === type);

describe('saturation engine in the controller (fake API server, real Prometheus)', () => {
  it('decides each profile-less model once per cycle and publishes status and gauges', async () => {
    const api = await fakeApiServer();
    const kc = api.kubeConfig();
    const holder = new SaturationConfigHolder(CONTROLLER_NS, 'wva-saturation-scaling-config');
    const v1 = createSaturationV1Engine();
    const modelsDecided: string[] = [];
    const decider = new SaturationDecider({
      config: holder,
      stabilizationWindowMs: 0,
      engines: {
        v1: {
          name: v1.name,
          decide: (m) => {
            modelsDecided.push(m.modelId);
            return v1.decide(m);
          },
        },
      },
    });
    for (const f of fleet) {
      api.put('variantautoscalings', f.va);
      api.put('deployments', f.dep);
    }
    const source = await syncedKubeSource(kc);
    const registry = new Registry();
    const driver = cycleDriver({
      source,
      collector: backfilledCollector(prom.url),
      writer: new KubeStatusWriter({ kubeConfig: kc }),
      saturation: decider,
      actuator: new Actuator({ mode: 'metrics', metrics: new ActuationMetrics(registry) }),
    });
    const cycle = await driver.runCycle();
    expect(cycle.results.map((r) => r.outcome)).toEqual(Array(fleet.length).fill('written'));
    const st = (name: string) => (api.get('variantautoscalings', NS, name) as Loose).status as Loose;
    const desired = (name: string) => st(name).desiredOptimizedAlloc?.numReplicas;
    /** No number for `name`, and its MetricsAvailable condition says why (`message`). */
    const expectUndecided = (name: string, message: string) => {
      expect(desired(name)).toBeUndefined();
      expect(condition(st(name), 'MetricsAvailable')).toMatchObject({
        status: 'False',
        reason: 'MetricsMissing',
      });
      expect(condition(st(name), 'MetricsAvailable').message).toContain(message);
    };

    // Saturated: the cheapest variant gets one more; the dearer keeps its count.
    expect(desired('up-cheap')).toBe(3);
    expect(desired('up-dear')).toBe(1);
    expect(condition(st('up-cheap'), 'OptimizationReady')).toMatchObject({
      status: 'True',
      reason: 'SaturationOnlyMode',
      message: 'saturation-only decision: saturation-only mode: scale-up (target: 3 replicas)',
    });
    expect(condition(st('up-cheap'), 'MetricsAvailable')).toMatchObject({
      status: 'True',
      reason: 'MetricsFound',
    });
    // Idle: the most expensive loses one; the cheap one keeps its two.
    expect(desired('down-dear')).toBe(1);
    expect(desired('down-cheap')).toBe(2);
    // Held: the moving variant keeps its desired 3; the saturated cheap one is not scaled.
    expect(desired('held-moving')).toBe(3);
    expect(desired('held-cheap')).toBe(1);
    // Pending pods: the cheap variant is passed over, the dearer one scales.
    expect(desired('pend-cheap')).toBe(2);
    expect(desired('pend-dear')).toBe(2);
    // Bad input: the pod without samples is left out and the model is still decided from the good
    // pod; the target without ready pods or series gets no number, and says why.
    expect(desired('bad-gauges')).toBe(1);
    expectUndecided('bad-nopods', 'variant bad-nopods has no pod reporting saturation metrics');
    // A NaN is unknown, never 0: no decision, said in the condition.
    expectUndecided('nan-only', 'no pod of the model has KV-cache or queue samples');
    // Gauges: the decided counts; an undecided variant is held at what runs, never a number of ours.
    const exposition = await registry.metrics();
    expect(exposition).toContain(
      'wva_desired_replicas{variant_name="up-cheap",namespace="sat",accelerator_type="L4"} 3',
    );
    expect(exposition).toContain(
      'wva_desired_replicas{variant_name="down-dear",namespace="sat",accelerator_type="L4"} 1',
    );
    expect(exposition).toContain(
      'wva_desired_replicas{variant_name="nan-only",namespace="sat",accelerator_type="L4"} 1',
    );
    // One engine decision per model, not per variant.
    const engines = cycle.results.map((r) => r.engine);
    expect(new Set(engines)).toEqual(new Set(['saturation-v1']));
    expect(modelsDecided.sort()).toEqual(['m/bad', 'm/down', 'm/held', 'm/nan', 'm/pending', 'm/up']);
  });

  it('--actuator=scale: the decided targets are patched, the undecided and unchanged left alone', async () => {
    const api = await fakeApiServer();
    const kc = api.kubeConfig();
    const hpas = new HpaWatch({ kubeConfig: kc });
    try {
      for (const f of fleet) {
        api.put('variantautoscalings', f.va);
        api.put('deployments', f.dep);
      }
      hpas.start();
      const source = await syncedKubeSource(kc);
      await until(() => hpas.synced, 'HPA informer');
      const holder = new SaturationConfigHolder(CONTROLLER_NS, 'wva-saturation-scaling-config');
      const driver = cycleDriver({
        source,
        collector: backfilledCollector(prom.url),
        writer: new KubeStatusWriter({ kubeConfig: kc }),
        saturation: new SaturationDecider({ config: holder, stabilizationWindowMs: 0 }),
        actuator: new Actuator({
          mode: 'scale',
          metrics: new ActuationMetrics(new Registry()),
          scaler: new DeploymentScaler({ kubeConfig: kc }),
          hpas,
          scaleToZeroEnabled: () => false,
        }),
      });
      await driver.runCycle();
      const patches = api.requests
        .filter((r) => r.subresource === 'scale' && r.method === 'PATCH')
        .map((r) => [r.name, (r.body as Loose).spec.replicas])
        .sort();
      expect(patches).toEqual([
        ['down-dear-decode', 1],
        ['held-moving-decode', 3],
        ['pend-dear-decode', 2],
        ['up-cheap-decode', 3],
      ]);
    } finally {
      await hpas.stop();
    }
  });

  it('saturation V1 is a floor under the SLO engine where per-pod series exist: SaturationSafetyOverride', async () => {
    const api = await fakeApiServer();
    const kc = api.kubeConfig();
    const opt = clusterOptimizer(
      kc,
      CONTROLLER_NS,
      { stabilizationWindowMs: 0, kvCacheThreshold: 0.9 },
      {
        debug() {},
        info() {},
        warn() {},
        error() {},
        child() {
          return this;
        },
      },
    );
    try {
      api.put('variantautoscalings', {
        ...va('slo-va', 'org/slo', '10.0'),
        spec: {
          scaleTargetRef: { kind: 'Deployment', name: 'slo-va-decode' },
          modelID: 'org/slo',
          sloClassRef: { name: 'premium', key: 'org/slo' },
          modelProfile: {
            accelerators: [
              {
                acc: 'L4',
                accCount: 1,
                maxBatchSize: 4,
                perfParms: {
                  decodeParms: { alpha: '20.58', beta: '0.41' },
                  prefillParms: { gamma: '5.2', delta: '0.1' },
                },
              },
            ],
          },
        },
      });
      api.put('deployments', dep('slo-va', 2));
      api.put('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'service-classes-config', namespace: CONTROLLER_NS },
        data: {
          'premium.yaml':
            'name: Premium\npriority: 1\ndata:\n  - model: org/slo\n    slo-tpot: 200\n    slo-ttft: 5000\n',
        },
      });
      api.put('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'accelerator-unit-costs', namespace: CONTROLLER_NS },
        data: { L4: '{ "device": "L4", "cost": "10.00" }' },
      });
      opt.start();
      const source = await syncedKubeSource(kc);
      await until(() => opt.store.unitCosts.value !== undefined, 'optimizer ConfigMaps watched', 10_000);
      const driver = cycleDriver({
        source,
        collector: backfilledCollector(prom.url),
        writer: new KubeStatusWriter({ kubeConfig: kc }),
        optimizer: opt.optimizer,
        saturation: new SaturationDecider({
          config: new SaturationConfigHolder(CONTROLLER_NS, 'wva-saturation-scaling-config'),
          stabilizationWindowMs: 0,
        }),
      });
      const cycle = await driver.runCycle();
      const r = cycle.results[0] as Loose;
      // The SLO engine alone would publish fewer than the two saturated replicas; V1 keeps three.
      expect(r.decision.ok).toBe(true);
      expect(r.decision.reason).toBe('SaturationSafetyOverride');
      expect(r.decision.recommended).toBeLessThan(3);
      const st = (api.get('variantautoscalings', NS, 'slo-va') as Loose).status;
      expect(st.desiredOptimizedAlloc.numReplicas).toBe(3);
      const ready = condition(st, 'OptimizationReady');
      expect(ready.reason).toBe('SaturationSafetyOverride');
      expect(ready.message).toMatch(
        /SaturationSafetyOverride: the SLO engine wanted [0-2] replicas, saturation V1 keeps 3: kept 3$/,
      );
    } finally {
      await opt.stop();
    }
  });
});
