// The GPU limiter with saturation V1 (enableLimiter in the global default): capacity per
// accelerator type from Nodes (the fake API server, through the Node informer; a Node whose GPUs
// carry no product label is left out and named), GPUs held from the targets' GPU requests; a
// scale-up that does not fit is cut and the condition says so; with room it goes through. The
// fleet's scale-ups are limited together, least spare capacity first, whichever model a reconcile
// reaches first.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { NodeGpuWatch } from '../../../src/controller/gpu-nodes.js';
import { KubeSource } from '../../../src/controller/kube.js';
import { LocalSource } from '../../../src/controller/local.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { saturationFleet } from '../../../src/controller/saturation-fleet.js';
import { saturationOutcome } from '../../../src/controller/saturation-outcome.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import type { Deployment, VariantAutoscaling } from '../../../src/kube/types.js';
import { gpuParts } from '../../../src/pipeline/cluster-parts.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { useFakeApiServer } from '../../support/api-harness.js';
import { kustomize, kustomizeComponent, repoRoot } from '../../support/manifests.js';
import {
  accessesOf,
  allows,
  deniedAccesses,
  describeGrant,
  grants,
  unusedGrants,
} from '../../support/rbac.js';
import { until } from '../../support/wait.js';

const fake = useFakeApiServer();

const node = (name: string, gpus: string, product?: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: product ? { 'nvidia.com/gpu.product': product, zone: 'a' } : { zone: 'a' } },
  status: { allocatable: { 'nvidia.com/gpu': gpus, cpu: '32' } },
});

function member(name: string, cost: string, replicas: number, model = 'm'): GroupMember {
  const va: VariantAutoscaling = {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: { name, namespace: 'ns', labels: { 'inference.optimization/acceleratorName': 'NVIDIA-L4' } },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: `${name}-decode` },
      modelID: model,
      variantCost: cost,
    },
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
const saturatedPods = (dep: string, n: number, kv = 0.95, model = 'm'): PodMetrics[] =>
  Array.from({ length: n }, (_, i) => ({
    pod: `${dep}-6c7d8e-q${i}`,
    modelId: model,
    namespace: 'ns',
    kvCacheUsage: kv,
    queueLength: 0,
  }));

describe('GPU limiter (enableLimiter) over saturation V1', () => {
  it('cuts a scale-up the Nodes cannot hold and says so; lets it through with room', async () => {
    fake.api.put('nodes', node('gpu-a', '2', 'NVIDIA-L4'));
    fake.api.put('nodes', node('gpu-b', '4'));
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
    const nodes = new NodeGpuWatch({ kubeConfig: fake.api.kubeConfig(), logger });
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
      fake.api.put('nodes', node('gpu-c', '1', 'NVIDIA-L4-24GB'));
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

describe('GPU limiter across the fleet', () => {
  it('one free GPU goes to the model with the least spare capacity, though another model is reconciled first', async () => {
    fake.api.put('nodes', node('gpu-a', '3', 'NVIDIA-L4'));
    // Model "tight": every replica saturated (spare 0). Model "loose": below the threshold but
    // short of spare (0.05 < 0.1): both ask for one more replica; one L4 is free.
    const tight = member('tight', '5.0', 1, 'm/tight');
    const loose = member('loose', '5.0', 1, 'm/loose');
    const podsOf: Record<string, PodMetrics[]> = {
      'm/tight': saturatedPods('tight-decode', 1, 0.95, 'm/tight'),
      'm/loose': saturatedPods('loose-decode', 1, 0.75, 'm/loose'),
    };
    for (const m of [tight, loose]) {
      fake.api.put('variantautoscalings', m.va as never);
      fake.api.put('deployments', { apiVersion: 'apps/v1', kind: 'Deployment', ...m.deployment } as never);
    }
    const source = new KubeSource({ kubeConfig: fake.api.kubeConfig(), backoff: { baseMs: 20, maxMs: 100 } });
    const nodes = new NodeGpuWatch({ kubeConfig: fake.api.kubeConfig(), logger: silentLogger });
    const read = (model: string): MetricsRead => ({
      availability: { available: true, reason: 'MetricsFound', message: `metrics of ${model}` },
      pods: podsOf[model] ?? [],
    });
    const snapshot = async () => ({ read });
    const holder = new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config');
    holder.setGlobal({
      default:
        'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\nenableLimiter: true\n',
    });
    nodes.start();
    source.start();
    try {
      await source.waitForSync(10_000);
      await until(() => nodes.capacity() !== null, 'Nodes listed');
      const decider = new SaturationDecider({
        config: holder,
        stabilizationWindowMs: 0,
        gpus: { capacity: () => nodes.capacity(), usage: () => ({ L4: 2 }) },
        fleet: saturationFleet(source, { snapshot }),
      });
      decider.beginCycle();
      // The loose model's reconcile comes first; the tight one still gets the GPU.
      const first = await saturationOutcome(decider, async () => [loose], loose.va, read('m/loose'));
      const second = await saturationOutcome(decider, async () => [tight], tight.va, read('m/tight'));
      expect(second.decision?.targetReplicas).toBe(2);
      expect(first.decision?.targetReplicas).toBe(1);
      expect(first.status.conditions.find((c) => c.type === 'OptimizationReady')?.message).toBe(
        'saturation-only decision: saturation-only mode: no-change (target: 1 replicas); GpuLimiter: scale-up to 2 cut to 1: not enough free L4 GPUs (no scale-up (target=1, current=1))',
      );

      // Model by model (no fleet): the first reconciled takes the GPU.
      const byModel = new SaturationDecider({
        config: holder,
        stabilizationWindowMs: 0,
        gpus: { capacity: () => nodes.capacity(), usage: () => ({ L4: 2 }) },
      });
      byModel.beginCycle();
      const a = await saturationOutcome(byModel, async () => [loose], loose.va, read('m/loose'));
      const b = await saturationOutcome(byModel, async () => [tight], tight.va, read('m/tight'));
      expect([a.decision?.targetReplicas, b.decision?.targetReplicas]).toEqual([2, 1]);
    } finally {
      await Promise.all([nodes.stop(), source.stop()]);
    }
  });
});

describe('GPU limiter RBAC', () => {
  it("the gpu-limiter component's RBAC allows every request the Node watch makes and grants nothing unused", async () => {
    fake.api.put('nodes', node('gpu-a', '2', 'NVIDIA-L4'));
    // As `run` wires it: the watch starts the first time the limiter asks for capacity.
    const parts = gpuParts({
      kubeConfig: fake.api.kubeConfig(),
      source: new LocalSource(),
      logger: silentLogger,
      namespaces: [],
      collector: {},
    });
    try {
      expect(accessesOf(fake.api.requests)).toEqual([]);
      await until(() => parts.gpus.capacity() !== null, 'Nodes listed');
      expect(parts.gpus.capacity()).toEqual({ L4: 2 });
      await until(() => fake.api.requests.some((r) => r.plural === 'nodes' && r.watch), 'Nodes watched');
    } finally {
      await parts.stop();
    }
    const rendered = grants(kustomizeComponent('deploy/components/gpu-limiter'));
    const used = accessesOf(fake.api.requests);
    expect(used.length).toBeGreaterThan(0);
    expect(deniedAccesses(used, rendered)).toEqual([]);
    // Without the component the base refuses the Node watch.
    const base = grants(kustomize(join(repoRoot, 'deploy')));
    expect(used.filter((a) => base.some((g) => allows(g, a)))).toEqual([]);
    const added = rendered.filter((g) => g.role === 'ClusterRole/wva-metrics-gpu-limiter');
    expect(added.map(describeGrant).sort()).toEqual([
      'ClusterRole/wva-metrics-gpu-limiter: core/nodes list',
      'ClusterRole/wva-metrics-gpu-limiter: core/nodes watch',
    ]);
    expect(unusedGrants(added, used)).toEqual([]);
  });
});
