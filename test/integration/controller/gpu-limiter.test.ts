// The GPU limiter with saturation V1 (enableLimiter in the global default): capacity per
// accelerator type from Nodes (the fake API server, through the Node informer; a Node whose GPUs
// carry no product label is left out and named), GPUs held from the targets' GPU requests; a
// scale-up that does not fit is cut and the condition says so; with room it goes through.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { NodeGpuWatch } from '../../../src/controller/gpu-nodes.js';
import { LocalSource } from '../../../src/controller/local.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import type { Deployment, VariantAutoscaling } from '../../../src/kube/types.js';
import { gpuParts } from '../../../src/pipeline/cluster-parts.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { kustomize, kustomizeComponent, repoRoot } from '../../support/manifests.js';
import { accessOf, allows, describeAccess, describeGrant, grants } from '../../support/rbac.js';
import { until } from '../../support/wait.js';

let api: FakeApiServer;
beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await api.close();
});

const node = (name: string, gpus: string, product?: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: product ? { 'nvidia.com/gpu.product': product, zone: 'a' } : { zone: 'a' } },
  status: { allocatable: { 'nvidia.com/gpu': gpus, cpu: '32' } },
});

function member(name: string, cost: string, replicas: number): GroupMember {
  const va: VariantAutoscaling = {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: { name, namespace: 'ns', labels: { 'inference.optimization/acceleratorName': 'NVIDIA-L4' } },
    spec: { scaleTargetRef: { kind: 'Deployment', name: `${name}-decode` }, modelID: 'm', variantCost: cost },
  } as VariantAutoscaling;
  const deployment: Deployment = {
    metadata: { name: `${name}-decode`, namespace: 'ns' },
    spec: {
      replicas,
      template: { spec: { containers: [{ resources: { requests: { 'nvidia.com/gpu': '1' } } }] } },
    },
    status: { replicas, readyReplicas: replicas },
  };
  return { va, deployment };
}
const saturatedPods = (dep: string, n: number): PodMetrics[] =>
  Array.from({ length: n }, (_, i) => ({
    pod: `${dep}-6c7d8e-q${i}`,
    modelId: 'm',
    namespace: 'ns',
    kvCacheUsage: 0.95,
    queueLength: 0,
  }));

describe('GPU limiter (enableLimiter) over saturation V1', () => {
  it('cuts a scale-up the Nodes cannot hold and says so; lets it through with room', async () => {
    api.put('nodes', node('gpu-a', '2', 'NVIDIA-L4'));
    api.put('nodes', node('gpu-b', '4'));
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (_o: object, m: string) => warnings.push(m),
      error() {},
      child() {
        return logger;
      },
    };
    const nodes = new NodeGpuWatch({ kubeConfig: api.kubeConfig(), logger });
    nodes.start();
    try {
      await until(() => nodes.capacity() !== null, 'Nodes listed');
      expect(nodes.capacity()).toEqual({ L4: 2 });
      expect(warnings).toEqual([
        'Node gpu-b: 4 NVIDIA GPU(s) in status.allocatable but no label nvidia.com/gpu.product naming the product; its GPUs are not counted by the GPU limiter',
      ]);

      const holder = new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config');
      holder.setGlobal({
        default:
          'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\nenableLimiter: true\n',
      });
      const group = [member('l4', '5.0', 2)];
      const pods = saturatedPods('l4-decode', 2);
      let used = { L4: 2 };
      const decider = new SaturationDecider({
        config: holder,
        stabilizationWindowMs: 0,
        gpus: { capacity: () => nodes.capacity(), usage: () => used },
      });
      decider.beginCycle();
      const cut = decider.decide((group[0] as GroupMember).va, group, pods);
      expect(cut.decision?.targetReplicas).toBe(2);
      const ready = cut.status.conditions.find((c) => c.type === 'OptimizationReady');
      expect(ready?.message).toBe(
        'saturation-only decision: saturation-only mode: no-change (target: 2 replicas); GpuLimiter: scale-up to 3 cut to 2: not enough free L4 GPUs (no scale-up (target=2, current=2))',
      );

      // A Node with room: the next cycle's scale-up fits.
      api.put('nodes', node('gpu-c', '1', 'NVIDIA-L4-24GB'));
      await until(() => nodes.capacity()?.L4 === 3, 'the new Node seen');
      used = { L4: 2 };
      decider.beginCycle();
      const grown = decider.decide((group[0] as GroupMember).va, group, pods);
      expect(grown.decision?.targetReplicas).toBe(3);
      expect(grown.status.conditions.find((c) => c.type === 'OptimizationReady')?.message).toBe(
        'saturation-only decision: saturation-only mode: scale-up (target: 3 replicas)',
      );
    } finally {
      await nodes.stop();
    }
  });
});

describe('GPU limiter RBAC', () => {
  it("the gpu-limiter component's RBAC allows every request the Node watch makes and grants nothing unused", async () => {
    api.put('nodes', node('gpu-a', '2', 'NVIDIA-L4'));
    // As `run` wires it: the watch starts the first time the limiter asks for capacity.
    const parts = gpuParts({ kubeConfig: api.kubeConfig(), source: new LocalSource(), logger: silentLogger });
    try {
      expect(api.requests.map(accessOf).filter((a) => a !== undefined)).toEqual([]);
      await until(() => parts.gpus.capacity() !== null, 'Nodes listed');
      expect(parts.gpus.capacity()).toEqual({ L4: 2 });
      await until(() => api.requests.some((r) => r.plural === 'nodes' && r.watch), 'Nodes watched');
    } finally {
      await parts.stop();
    }
    const rendered = grants(kustomizeComponent('deploy/components/gpu-limiter'));
    const used = api.requests.map(accessOf).filter((a) => a !== undefined);
    expect(used.length).toBeGreaterThan(0);
    const denied = used.filter((a) => !rendered.some((g) => allows(g, a))).map(describeAccess);
    expect([...new Set(denied)]).toEqual([]);
    // Without the component the base refuses the Node watch.
    const base = grants(kustomize(join(repoRoot, 'deploy')));
    expect(used.filter((a) => base.some((g) => allows(g, a)))).toEqual([]);
    const added = rendered.filter((g) => g.role === 'ClusterRole/wva-metrics-gpu-limiter');
    expect(added.map(describeGrant).sort()).toEqual([
      'ClusterRole/wva-metrics-gpu-limiter: core/nodes list',
      'ClusterRole/wva-metrics-gpu-limiter: core/nodes watch',
    ]);
    expect(added.filter((g) => !used.some((a) => allows(g, a))).map(describeGrant)).toEqual([]);
  });
});
