// Direct actuation end to end on this machine: the real @kubernetes/client-node (informers, status
// patches, the scale subresource, Events) against the fake API server. The decision comes from an
// optimizer standing in for the real one (it decides what the test says); the collector is not
// under test here.

import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Actuator } from '../../../src/actuator/actuator.js';
import { KubeEventSink } from '../../../src/actuator/events.js';
import { ActuationMetrics } from '../../../src/actuator/metrics.js';
import { DeploymentScaler, HpaWatch } from '../../../src/actuator/scaler.js';
import type { Decision, VariantOptimizer } from '../../../src/controller/decision.js';
import type { MetricsReader } from '../../../src/controller/reconciler.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import { cycleDriver, syncedKubeSource } from '../../support/cycles.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { kustomizeComponent } from '../../support/manifests.js';
import { accessesOf, deniedAccesses, describeGrant, grants, unusedGrants } from '../../support/rbac.js';
import { deployment, foundReading, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const reader: MetricsReader = { read: async (m, ns) => foundReading(m, ns) };

/** What the stand-in optimizer decides, by VariantAutoscaling name. */
const wanted = new Map<string, number>();

/** The variant, with the optimizer deciding `numReplicas` of A100 for it. */
function decided(va: Obj, numReplicas: number): Obj {
  wanted.set(va.metadata.name, numReplicas);
  return va;
}

const optimizer: Pick<VariantOptimizer, 'decide' | 'beginCycle' | 'prepare'> = {
  beginCycle: () => {},
  prepare: async () => {},
  decide: ({ va }): Decision => {
    const n = wanted.get(va.metadata.name);
    if (n === undefined) return { ok: false, reason: 'NoServiceClass', message: 'not decided by the test' };
    const predicted = { ttftMs: 100, itlMs: 10, utilization: 0.5 };
    return {
      ok: true,
      reason: 'OptimizationSucceeded',
      message: `${n} replica(s) of A100`,
      accelerator: 'A100',
      numReplicas: n,
      recommended: n,
      allocation: {
        accelerator: 'A100',
        accCount: 1,
        numReplicas: n,
        ratePerReplica: 1,
        assignedRate: n,
        predicted,
        replicasForSlo: n,
        sloMet: true,
        notChosen: [],
      },
      slo: {},
      sloSource: 'the test',
    };
  },
};

function hpa(namespace: string, name: string, target: string): Obj {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: 1,
      maxReplicas: 5,
    },
  };
}

/** A VariantAutoscaling whose scaleTargetRef names a StatefulSet, and that StatefulSet. */
function statefulTarget(namespace: string, name: string, replicas: number): [Obj, Obj] {
  const va = variant(namespace, `${name}-va`, 'mistral/7b');
  (va.spec as Record<string, unknown>).scaleTargetRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name };
  return [va, { ...deployment(namespace, name, replicas), apiVersion: 'apps/v1', kind: 'StatefulSet' }];
}

let api: FakeApiServer;
let stops: Array<() => Promise<void>>;

beforeEach(async () => {
  wanted.clear();
  api = await FakeApiServer.start();
  stops = [];
});

afterEach(async () => {
  for (const s of stops) await s();
  await api.close();
});

async function rig(o: { scaleToZero?: boolean } = {}) {
  const kc = api.kubeConfig();
  const hpas = new HpaWatch({ kubeConfig: kc });
  hpas.start();
  stops.push(() => hpas.stop());
  const source = await syncedKubeSource(kc, {});
  await until(() => hpas.synced, 'HPA informer');
  const registry = new Registry();
  const events = new KubeEventSink({ kubeConfig: kc, identity: 'pod-a' });
  const actuator = new Actuator({
    mode: 'scale',
    metrics: new ActuationMetrics(registry),
    events,
    scaler: new DeploymentScaler({ kubeConfig: kc }),
    hpas,
    scaleToZeroEnabled: () => o.scaleToZero ?? false,
  });
  const driver = cycleDriver({
    source,
    collector: reader,
    writer: new KubeStatusWriter({ kubeConfig: kc }),
    optimizer,
    actuator,
  });
  return { driver, registry, events, actuator, hpas, source };
}

const replicasOf = (name: string) =>
  (api.get('deployments', 'prod', name)?.spec as { replicas?: number } | undefined)?.replicas;
// biome-ignore lint/suspicious/noExplicitAny: status read loosely
type Loose = Record<string, any>;
const va = (name: string) => api.get('variantautoscalings', 'prod', name) as Obj & { status: Loose };
const actuated = (name: string) =>
  va(name).status.conditions.find((c: { type: string }) => c.type === 'Actuated');
const eventsOf = (name: string) =>
  api
    .list('events')
    .filter((e) => (e.involvedObject as { name: string }).name === name)
    .map((e) => ({ reason: e.reason, type: e.type, message: e.message }));

describe('direct actuation (--actuator=scale)', () => {
  it('patches the scale subresource to the decision, writes an event and status.actuation', async () => {
    api.put('variantautoscalings', decided(variant('prod', 'llama-a100', 'meta/llama'), 3));
    api.put('deployments', deployment('prod', 'llama-a100', 1));
    const { driver, source } = await rig();
    await driver.runCycle();

    const patches = api.requests.filter((r) => r.subresource === 'scale');
    expect(patches.map((r) => [r.method, r.name, r.contentType, r.body])).toEqual([
      ['PATCH', 'llama-a100', 'application/merge-patch+json', { spec: { replicas: 3 } }],
    ]);
    expect(replicasOf('llama-a100')).toBe(3);
    expect(va('llama-a100').status.actuation).toEqual({ applied: true });
    expect(actuated('llama-a100')).toMatchObject({ status: 'True', reason: 'Scaled' });
    expect(eventsOf('llama-a100')).toEqual([
      { reason: 'ScaledUp', type: 'Normal', message: 'Desired replicas 1 -> 3: the optimizer decision' },
    ]);
    const ev = api.list('events')[0] as Obj & { involvedObject: Record<string, unknown>; source: unknown };
    expect(ev.involvedObject).toMatchObject({
      apiVersion: 'llmd.ai/v1alpha1',
      kind: 'VariantAutoscaling',
      namespace: 'prod',
    });
    expect(ev.involvedObject.uid).toBe(va('llama-a100').metadata.uid);
    expect(ev.source).toEqual({ component: 'wva-metrics' });

    // The next cycle records the Deployment's new size in currentAlloc; after that, with the
    // informer caught up, a cycle finds everything in place: no patch, no event, no status write.
    await driver.runCycle();
    await until(
      () =>
        source.getVariant('prod', 'llama-a100')?.metadata.resourceVersion ===
        va('llama-a100').metadata.resourceVersion,
      'the informer to see the last status write',
    );
    const before = api.requests.length;
    await driver.runCycle();
    const since = api.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(since).toEqual([]);
  });

  it('refuses a Deployment an HPA targets: no patch, Actuated=False HPAConflict naming it, one warning event', async () => {
    api.put('variantautoscalings', decided(variant('prod', 'granite', 'ibm/granite'), 4));
    api.put('deployments', deployment('prod', 'granite', 1));
    api.put('horizontalpodautoscalers', hpa('prod', 'granite-hpa', 'granite'));
    const { driver } = await rig();
    await driver.runCycle();
    await driver.runCycle();

    expect(api.count({ subresource: 'scale' })).toBe(0);
    expect(replicasOf('granite')).toBe(1);
    expect(va('granite').status.actuation).toEqual({ applied: false });
    expect(actuated('granite')).toMatchObject({ status: 'False', reason: 'HPAConflict' });
    expect(actuated('granite').message).toContain(
      'HorizontalPodAutoscaler prod/granite-hpa targets Deployment prod/granite',
    );
    expect(eventsOf('granite')).toEqual([
      { reason: 'ActuationRefused', type: 'Warning', message: expect.stringContaining('prod/granite-hpa') },
    ]);
  });

  it('an HPA deleted later frees the Deployment: the next reconcile scales it', async () => {
    api.put('variantautoscalings', decided(variant('prod', 'granite', 'ibm/granite'), 4));
    api.put('deployments', deployment('prod', 'granite', 1));
    api.put('horizontalpodautoscalers', hpa('prod', 'granite-hpa', 'granite'));
    const { driver, hpas } = await rig();
    await driver.runCycle();
    expect(api.count({ subresource: 'scale' })).toBe(0);
    api.delete('horizontalpodautoscalers', 'prod', 'granite-hpa');
    await until(() => hpas.hpaFor('prod', 'granite') === undefined, 'the HPA watch to deliver the deletion');
    await driver.runCycle();
    expect(api.count({ subresource: 'scale' })).toBe(1);
    expect(actuated('granite')).toMatchObject({ status: 'True', reason: 'Scaled' });
    expect(replicasOf('granite')).toBe(4);
  });

  it('scale to zero off: a decision of 0 keeps one replica', async () => {
    api.put('variantautoscalings', decided(variant('prod', 'idle', 'org/idle'), 0));
    api.put('deployments', deployment('prod', 'idle', 2));
    const { driver, registry } = await rig();
    await driver.runCycle();
    expect(replicasOf('idle')).toBe(1);
    expect(eventsOf('idle').map((e) => e.reason)).toEqual(['ScaledDown']);
    expect(actuated('idle').message).toContain('scale to zero is off for this model');
    expect(await registry.getSingleMetricAsString('wva_desired_replicas')).toContain(
      'wva_desired_replicas{variant_name="idle",namespace="prod",accelerator_type="A100"} 1',
    );
  });

  it('a count left in status is not applied: with nothing decided now the Deployment stays as it is', async () => {
    api.put('variantautoscalings', {
      ...variant('prod', 'left', 'org/left'),
      status: {
        desiredOptimizedAlloc: { accelerator: 'A100', numReplicas: 5, lastRunTime: '2026-01-01T00:00:00Z' },
      },
    });
    api.put('deployments', deployment('prod', 'left', 2));
    const { driver } = await rig();
    await driver.runCycle();
    expect(api.count({ subresource: 'scale' })).toBe(0);
    expect(replicasOf('left')).toBe(2);
    expect(actuated('left')).toMatchObject({ status: 'False', reason: 'NoDecision' });
    expect(actuated('left').message).toMatch(
      /^No decision: Deployment prod\/left left at 2 replicas \(NoServiceClass: /,
    );
  });

  it('a failed scale patch is Actuated=False ScaleFailed with the server message, and no event', async () => {
    api.put('variantautoscalings', decided(variant('prod', 'llama', 'meta/llama'), 2));
    api.put('deployments', deployment('prod', 'llama', 1));
    api.inject({ method: 'PATCH', plural: 'deployments', subresource: 'scale', status: 500 });
    const { driver } = await rig();
    await driver.runCycle();
    expect(actuated('llama')).toMatchObject({ status: 'False', reason: 'ScaleFailed' });
    expect(actuated('llama').message).toMatch(
      /scale of Deployment prod\/llama to 2 failed: HTTP 500: injected fault 500/,
    );
    expect(eventsOf('llama')).toEqual([]);
    await driver.runCycle();
    expect(actuated('llama')).toMatchObject({ status: 'True', reason: 'Scaled' });
  });

  it("the direct-scale component's RBAC allows every request made and grants nothing unused", async () => {
    api.put('variantautoscalings', decided(variant('prod', 'llama', 'meta/llama'), 2));
    api.put('deployments', deployment('prod', 'llama', 1));
    api.put('variantautoscalings', decided(variant('prod', 'granite', 'ibm/granite'), 2));
    api.put('deployments', deployment('prod', 'granite', 1));
    api.put('horizontalpodautoscalers', hpa('prod', 'granite-hpa', 'granite'));
    const [stsVa, sts] = statefulTarget('prod', 'mistral', 1);
    api.put('variantautoscalings', decided(stsVa, 2));
    api.put('statefulsets', sts);
    const { driver } = await rig();
    await driver.runCycle();
    const rendered = grants(kustomizeComponent('deploy/components/direct-scale'));
    const used = accessesOf(api.requests);
    expect(deniedAccesses(used, rendered)).toEqual([]);
    // What the component adds is used; the base's grants are checked against a whole run elsewhere.
    const added = rendered.filter((g) => g.role === 'ClusterRole/wva-metrics-scale');
    expect(added.map(describeGrant).sort()).toEqual([
      'ClusterRole/wva-metrics-scale: apps/deployments/scale patch',
      'ClusterRole/wva-metrics-scale: apps/statefulsets/scale patch',
      'ClusterRole/wva-metrics-scale: autoscaling/horizontalpodautoscalers list',
      'ClusterRole/wva-metrics-scale: autoscaling/horizontalpodautoscalers watch',
    ]);
    expect(unusedGrants(added, used)).toEqual([]);
  });

  it('a scaleTargetRef naming a StatefulSet: replicas read and patched through its scale subresource, not a Deployment of the same name', async () => {
    const [va, sts] = statefulTarget('prod', 'mistral', 1);
    api.put('variantautoscalings', decided(va, 3));
    api.put('statefulsets', sts);
    // A Deployment named like the StatefulSet is not what the object scales.
    api.put('deployments', deployment('prod', 'mistral', 5));
    const { driver } = await rig();
    await driver.runCycle();
    const spec = (kind: 'statefulsets' | 'deployments') =>
      (api.get(kind, 'prod', 'mistral')?.spec as { replicas?: number } | undefined)?.replicas;
    expect(spec('statefulsets')).toBe(3);
    expect(spec('deployments')).toBe(5);
    const status = api.get('variantautoscalings', 'prod', 'mistral-va')?.status as Record<string, unknown[]>;
    expect(status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'TargetResolved',
        status: 'True',
        message: 'StatefulSet prod/mistral found',
      }),
    );
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: 'Actuated', status: 'True' }));
    expect(api.count({ method: 'GET', plural: 'statefulsets', subresource: 'scale' })).toBeGreaterThan(0);
  });
});
