// Scale from zero in the controller: the loop starts when the manager starts leading and stops with
// it; a variant whose Deployment is at 0 replicas is matched to the InferencePool selecting its pod
// template's labels (served by the fake API server), the pool's EPP (an HTTP endpoint served here)
// is scraped, and demand for the model scales the target to 1 through its scale subresource, with
// the status saying ScaleFromZeroMode. Ticks are driven by injected timers: nothing waits on a clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeEventSink } from '../../../src/actuator/events.js';
import { DeploymentScaler } from '../../../src/actuator/scaler.js';
import { Controller } from '../../../src/controller/controller.js';
import { KubeSource } from '../../../src/controller/kube.js';
import { clusterScaleFromZero, InferencePoolWatch } from '../../../src/controller/scale-from-zero.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import { useFakeApiServer } from '../../support/api-harness.js';
import { type EppPage, queuePage, startEppPage } from '../../support/epp.js';
import type { Obj } from '../../support/fake-apiserver.js';
import { kustomizeComponent } from '../../support/manifests.js';
import { manualTimers } from '../../support/manual-timers.js';
import { accessesOf, deniedAccesses, describeGrant, grants, unusedGrants } from '../../support/rbac.js';
import { foundReading } from '../../support/variants.js';
import { until } from '../../support/wait.js';

// biome-ignore lint/suspicious/noExplicitAny: status read loosely
type Loose = Record<string, any>;

const fake = useFakeApiServer();
let epp: EppPage;
beforeEach(async () => {
  epp = await startEppPage();
});
afterEach(async () => {
  await epp.close();
});

const va: Obj = {
  apiVersion: 'llmd.ai/v1alpha1',
  kind: 'VariantAutoscaling',
  metadata: {
    name: 'idle-va',
    namespace: 'prod',
    labels: { 'inference.optimization/acceleratorName': 'L4' },
  },
  spec: {
    scaleTargetRef: { kind: 'Deployment', name: 'idle-decode' },
    modelID: 'm/zero',
    variantCost: '5.0',
  },
};
const dep: Obj = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'idle-decode', namespace: 'prod' },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: 'idle' } },
    template: { metadata: { labels: { app: 'idle' } } },
  },
  status: { replicas: 0 },
};
const pool: Obj = {
  apiVersion: 'inference.networking.x-k8s.io/v1alpha2',
  kind: 'InferencePool',
  metadata: { name: 'pool', namespace: 'prod' },
  spec: { selector: { app: 'idle' }, targetPortNumber: 8000, extensionRef: { name: 'epp' } },
};

/**
 * The idle variant, its Deployment at 0 and the pool selecting it on the server; the loop wired as
 * in the cluster (informers, scale subresource, status writer, optional Events) on manual timers,
 * started by a Controller's leadership. Stopped after the test: the controller, pools and source.
 */
function scaleFromZeroRig(o: { events?: boolean } = {}) {
  const api = fake.api;
  api.put('variantautoscalings', va);
  api.put('deployments', dep);
  api.put('inferencepools', pool);
  const kc = api.kubeConfig();
  const source = new KubeSource({ kubeConfig: kc, backoff: { baseMs: 20, maxMs: 100 } });
  const pools = new InferencePoolWatch({ kubeConfig: kc, eppUrl: () => epp.url });
  const writer = new KubeStatusWriter({ kubeConfig: kc });
  const timers = manualTimers();
  const loop = clusterScaleFromZero({
    source,
    pools,
    scaler: new DeploymentScaler({ kubeConfig: kc }),
    writer,
    ...(o.events ? { events: new KubeEventSink({ kubeConfig: kc, identity: 'wva-test' }) } : {}),
    loop: { timers },
  });
  const controller = new Controller({
    kubeConfig: kc,
    source,
    writer,
    collector: { read: async (m, ns) => foundReading(m, ns) },
    leaderElection: false,
    perTerm: loop,
  });
  // Controller, pools, source, in that order; once, by the test or after it.
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await controller.stop();
      await pools.stop();
      await source.stop();
    })();
    return stopped;
  };
  fake.stopAfter({ stop });
  return { api, source, pools, timers, loop, controller, stop };
}

/** Starts leading and waits for both informers to have listed. */
async function lead(r: ReturnType<typeof scaleFromZeroRig>): Promise<void> {
  r.pools.start();
  await r.controller.start();
  await r.source.waitForSync(10_000);
  await until(() => r.pools.pools() !== null, 'InferencePools listed');
}

describe('scale from zero (fake API server, an EPP endpoint served here)', () => {
  it('starts with leadership, scales the target to 1 on demand, says so, and stops with the controller', async () => {
    const r = scaleFromZeroRig();
    const { api, timers, loop } = r;
    expect(loop.running).toBe(false);
    await lead(r);
    // Leading: the loop started once, its first tick waits on the timers.
    expect(loop.running).toBe(true);
    expect(timers.pending).toHaveLength(1);

    // No demand for the model: nothing scaled.
    epp.page = queuePage({ other: 4 });
    timers.fire();
    await loop.idle();
    expect(api.requests.filter((r) => r.subresource === 'scale')).toEqual([]);

    // Demand: the target goes to 1 replica, and the status says why.
    epp.page = queuePage({ 'm/zero': 3 });
    timers.fire();
    await loop.idle();
    const patches = api.requests.filter((r) => r.subresource === 'scale' && r.method === 'PATCH');
    expect(patches.map((r) => [r.name, r.body])).toEqual([['idle-decode', { spec: { replicas: 1 } }]]);
    expect((api.get('deployments', 'prod', 'idle-decode') as Loose).spec.replicas).toBe(1);
    await until(
      () =>
        (api.get('variantautoscalings', 'prod', 'idle-va') as Loose).status?.desiredOptimizedAlloc !==
        undefined,
      'the scale-from-zero status',
    );
    const st = (api.get('variantautoscalings', 'prod', 'idle-va') as Loose).status;
    expect(st.desiredOptimizedAlloc).toMatchObject({ numReplicas: 1, accelerator: 'L4' });
    expect(st.conditions.find((c: Loose) => c.type === 'OptimizationReady')).toMatchObject({
      status: 'True',
      reason: 'ScaleFromZeroMode',
    });

    // Stopping the controller ends the term: the loop stops and schedules nothing more.
    await r.controller.stop();
    await until(() => !loop.running, 'the loop stopped');
    expect(timers.pending).toEqual([]);
  });

  it("RBAC: base + direct-scale + scale-from-zero allow every request; the component's grants are all used", async () => {
    const r = scaleFromZeroRig({ events: true });
    const { api, timers, loop } = r;
    await lead(r);
    await until(() => api.requests.some((r) => r.plural === 'inferencepools' && r.watch), 'pools watched');
    epp.page = queuePage({ 'm/zero': 3 });
    timers.fire();
    await loop.idle();
    await until(() => api.requests.some((r) => r.plural === 'events' && r.method === 'POST'), 'the event');
    await until(
      () => api.requests.some((r) => r.plural === 'variantautoscalings' && r.subresource === 'status'),
      'the status patch',
    );
    await r.stop();
    const used = accessesOf(api.requests);
    expect(used.map((a) => `${a.resource} ${a.verb}`)).toEqual(
      expect.arrayContaining(['inferencepools list', 'inferencepools watch', 'deployments/scale patch']),
    );
    const rendered = grants(
      kustomizeComponent('deploy/components/direct-scale', 'deploy/components/scale-from-zero'),
    );
    expect(deniedAccesses(used, rendered)).toEqual([]);
    // Without the component the InferencePool watch is refused.
    const withoutIt = grants(kustomizeComponent('deploy/components/direct-scale'));
    expect(deniedAccesses(used, withoutIt).sort()).toEqual([
      'inference.networking.x-k8s.io/inferencepools list */*',
      'inference.networking.x-k8s.io/inferencepools watch */*',
    ]);
    const added = rendered.filter((g) => g.role === 'ClusterRole/wva-metrics-scale-from-zero');
    expect(added.map(describeGrant).sort()).toEqual([
      'ClusterRole/wva-metrics-scale-from-zero: inference.networking.x-k8s.io/inferencepools list',
      'ClusterRole/wva-metrics-scale-from-zero: inference.networking.x-k8s.io/inferencepools watch',
    ]);
    expect(unusedGrants(added, used)).toEqual([]);
  });
});
