// Scale from zero in the controller: the loop starts when the manager starts leading and stops with
// it; a variant whose Deployment is at 0 replicas is matched to the InferencePool selecting its pod
// template's labels (served by the fake API server), the pool's EPP (an HTTP endpoint served here)
// is scraped, and demand for the model scales the target to 1 through its scale subresource, with
// the status saying ScaleFromZeroMode. Ticks are driven by injected timers: nothing waits on a clock.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeEventSink } from '../../../src/actuator/events.js';
import { DeploymentScaler } from '../../../src/actuator/scaler.js';
import { Controller } from '../../../src/controller/controller.js';
import { KubeSource } from '../../../src/controller/kube.js';
import { clusterScaleFromZero, InferencePoolWatch } from '../../../src/controller/scale-from-zero.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import type { Timers } from '../../../src/engines/scale-from-zero/loop.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { kustomizeComponent } from '../../support/manifests.js';
import { accessOf, allows, describeAccess, describeGrant, grants } from '../../support/rbac.js';
import { foundReading } from '../../support/variants.js';
import { until } from '../../support/wait.js';

// biome-ignore lint/suspicious/noExplicitAny: status read loosely
type Loose = Record<string, any>;

/** Timers that only fire when the test says so. */
function manualTimers(): Timers & { pending: Array<() => void>; fire(): void } {
  const pending: Array<() => void> = [];
  return {
    pending,
    setTimeout: (fn) => {
      pending.push(fn);
      return fn;
    },
    clearTimeout: (h) => {
      const i = pending.indexOf(h as () => void);
      if (i >= 0) pending.splice(i, 1);
    },
    now: () => 0,
    fire() {
      const fns = pending.splice(0);
      for (const f of fns) f();
    },
  };
}

let api: FakeApiServer;
let epp: Server;
let page = '';
let eppUrl = '';
beforeEach(async () => {
  api = await FakeApiServer.start();
  epp = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(page);
  });
  await new Promise<void>((r) => epp.listen(0, '127.0.0.1', r));
  eppUrl = `http://127.0.0.1:${(epp.address() as AddressInfo).port}/metrics`;
});
afterEach(async () => {
  await api.close();
  await new Promise((r) => epp.close(r));
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
 * The fleet of one idle variant with its target and InferencePool on the fake API server, and the
 * controller with the scale-from-zero loop (on manual timers) as its per-term loop; the pool
 * watch started. `events`: Events are written too.
 */
function rig(o: { events?: boolean } = {}) {
  api.put('variantautoscalings', va);
  api.put('deployments', dep);
  api.put('inferencepools', pool);
  const kc = api.kubeConfig();
  const source = new KubeSource({ kubeConfig: kc, backoff: { baseMs: 20, maxMs: 100 } });
  const pools = new InferencePoolWatch({ kubeConfig: kc, eppUrl: () => eppUrl });
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
  pools.start();
  return { source, pools, timers, loop, controller };
}

describe('scale from zero (fake API server, an EPP endpoint served here)', () => {
  it('starts with leadership, scales the target to 1 on demand, says so, and stops with the controller', async () => {
    const { source, pools, timers, loop, controller } = rig();
    try {
      expect(loop.running).toBe(false);
      await controller.start();
      await source.waitForSync(10_000);
      await until(() => pools.pools() !== null, 'InferencePools listed');
      // Leading: the loop started once, its first tick waits on the timers.
      expect(loop.running).toBe(true);
      expect(timers.pending).toHaveLength(1);

      // No demand for the model: nothing scaled.
      page = 'inference_extension_flow_control_queue_size{target_model_name="other"} 4\n';
      timers.fire();
      await loop.idle();
      expect(api.requests.filter((r) => r.subresource === 'scale')).toEqual([]);

      // Demand: the target goes to 1 replica, and the status says why.
      page = [
        '# TYPE inference_extension_flow_control_queue_size gauge',
        'inference_extension_flow_control_queue_size{target_model_name="m/zero"} 3',
        '',
      ].join('\n');
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
      await controller.stop();
      await until(() => !loop.running, 'the loop stopped');
      expect(timers.pending).toEqual([]);
    } finally {
      await pools.stop();
      await source.stop();
    }
  });

  it("RBAC: base + direct-scale + scale-from-zero allow every request; the component's grants are all used", async () => {
    const { source, pools, timers, loop, controller } = rig({ events: true });
    try {
      await controller.start();
      await source.waitForSync(10_000);
      await until(() => pools.pools() !== null, 'InferencePools listed');
      await until(() => api.requests.some((r) => r.plural === 'inferencepools' && r.watch), 'pools watched');
      page = 'inference_extension_flow_control_queue_size{target_model_name="m/zero"} 3\n';
      timers.fire();
      await loop.idle();
      await until(() => api.requests.some((r) => r.plural === 'events' && r.method === 'POST'), 'the event');
      await until(
        () => api.requests.some((r) => r.plural === 'variantautoscalings' && r.subresource === 'status'),
        'the status patch',
      );
      await controller.stop();
    } finally {
      await pools.stop();
      await source.stop();
    }
    const used = api.requests.map(accessOf).filter((a) => a !== undefined);
    expect(used.map((a) => `${a.resource} ${a.verb}`)).toEqual(
      expect.arrayContaining(['inferencepools list', 'inferencepools watch', 'deployments/scale patch']),
    );
    const rendered = grants(
      kustomizeComponent('deploy/components/direct-scale', 'deploy/components/scale-from-zero'),
    );
    const denied = used.filter((a) => !rendered.some((g) => allows(g, a))).map(describeAccess);
    expect([...new Set(denied)]).toEqual([]);
    // Without the component the InferencePool watch is refused.
    const withoutIt = grants(kustomizeComponent('deploy/components/direct-scale'));
    expect(
      [...new Set(used.filter((a) => !withoutIt.some((g) => allows(g, a))).map(describeAccess))].sort(),
    ).toEqual([
      'inference.networking.x-k8s.io/inferencepools list */*',
      'inference.networking.x-k8s.io/inferencepools watch */*',
    ]);
    const added = rendered.filter((g) => g.role === 'ClusterRole/wva-metrics-scale-from-zero');
    expect(added.map(describeGrant).sort()).toEqual([
      'ClusterRole/wva-metrics-scale-from-zero: inference.networking.x-k8s.io/inferencepools list',
      'ClusterRole/wva-metrics-scale-from-zero: inference.networking.x-k8s.io/inferencepools watch',
    ]);
    expect(added.filter((g) => !used.some((a) => allows(g, a))).map(describeGrant)).toEqual([]);
  });
});
