// The saturation engines' inputs from the cluster, through the real client against the fake API
// server: pods map to variants through their owners, else the target's selector (the Pod informer,
// trimmed); a pod named like a variant's Deployment but owned by another workload is ignored; the
// trimmed Deployment keeps the vLLM arguments V2's capacity store reads; the base RBAC grants the
// Pod watch.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { KubeSource } from '../../../src/controller/kube.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { createSaturationV2State } from '../../../src/engines/saturation/v2/capacity-store.js';
import {
  createSaturationV1Engine,
  createSaturationV2Engine,
} from '../../../src/engines/saturation-engine.js';
import type { SaturationModelInput } from '../../../src/engines/types.js';
import { PodWatch } from '../../../src/kube/pods.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { kustomize, repoRoot } from '../../support/manifests.js';
import { accessesOf, deniedAccesses, grants } from '../../support/rbac.js';
import { deployment, saturationVariant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const NS = 'llm';

let api: FakeApiServer;
beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await api.close();
});

const vaObj = (name: string, cost: string): Obj => saturationVariant(NS, name, 'm', cost);

const depObj = (name: string, replicas: number, args: string[] = []): Obj =>
  deployment(NS, `${name}-decode`, replicas, {
    app: name,
    podSpec: {
      containers: [
        {
          name: 'vllm',
          image: 'vllm/vllm-openai',
          args,
          resources: { requests: { 'nvidia.com/gpu': '1', cpu: '4' } },
        },
      ],
    },
  });

function podObj(name: string, labels: Record<string, string>, owner?: { kind: string; name: string }): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels,
      ...(owner
        ? { ownerReferences: [{ apiVersion: 'apps/v1', ...owner, uid: `${name}-owner`, controller: true }] }
        : {}),
    },
    spec: { containers: [{ name: 'vllm', resources: { requests: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const metrics = (pod: string, kv: number): PodMetrics => ({
  pod,
  modelId: 'm',
  namespace: NS,
  kvCacheUsage: kv,
  queueLength: 0,
});

async function members(source: KubeSource, names: string[]): Promise<GroupMember[]> {
  return names.map((n) => {
    const va = source.getVariant(NS, n) as VariantAutoscaling;
    const deployment = source.getDeployment(NS, `${n}-decode`);
    return deployment ? { va, deployment } : { va };
  });
}

describe('pods map to variants through owners and the selector (Pod informer)', () => {
  it('owner chain first, selector for pods without a ReplicaSet; impostors and unknown pods are ignored', async () => {
    api.put('variantautoscalings', vaObj('a', '5.0'));
    api.put('variantautoscalings', vaObj('b', '9.0'));
    api.put('deployments', depObj('a', 1));
    api.put('deployments', depObj('b', 1));
    // A's pod through its ReplicaSet (named <deployment>-<pod-template-hash>).
    api.put(
      'pods',
      podObj(
        'a-decode-5d8f-x1',
        { app: 'a', 'pod-template-hash': '5d8f' },
        { kind: 'ReplicaSet', name: 'a-decode-5d8f' },
      ),
    );
    // B's pod has no ReplicaSet owner (a bare pod of the same template): the selector takes it.
    api.put('pods', podObj('b-manual-0', { app: 'b' }));
    // Named like A's pods, but another workload's: the name alone would have given it to A.
    api.put('pods', podObj('a-decode-5d8f-zz', { app: 'batch' }, { kind: 'Job', name: 'a-decode-5d8f' }));
    const source = new KubeSource({ kubeConfig: api.kubeConfig(), backoff: { baseMs: 20, maxMs: 100 } });
    const pods = new PodWatch({ kubeConfig: api.kubeConfig(), backoff: { baseMs: 20, maxMs: 100 } });
    const debug: string[] = [];
    const logger = {
      debug: (_o: object, m?: string) => debug.push(m ?? ''),
      info() {},
      warn() {},
      error() {},
      child() {
        return logger;
      },
    };
    const seen: SaturationModelInput[] = [];
    const v1 = createSaturationV1Engine();
    const holder = new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config');
    const decider = new SaturationDecider({
      config: holder,
      stabilizationWindowMs: 0,
      pods,
      logger,
      engines: {
        v1: {
          name: v1.name,
          decide: (m) => {
            seen.push(m);
            return v1.decide(m);
          },
        },
      },
    });
    try {
      source.start();
      await source.waitForSync(10_000);
      await until(() => pods.synced(), 'pods listed');
      const group = await members(source, ['a', 'b']);
      const read = [
        metrics('a-decode-5d8f-x1', 0.1),
        metrics('b-manual-0', 0.2),
        metrics('a-decode-5d8f-zz', 0.95),
        metrics('gone-7c9d-q1', 0.5),
      ];
      decider.beginCycle();
      const out = decider.decide((group[0] as GroupMember).va, group, read);
      expect(seen).toHaveLength(1);
      const byVariant = Object.fromEntries(
        [...(seen[0] as SaturationModelInput).pods].map(([v, ps]) => [v, ps.map((p) => p.pod)]),
      );
      expect(byVariant).toEqual({ a: ['a-decode-5d8f-x1'], b: ['b-manual-0'] });
      // Each variant has as many reporting pods as replicas, so the model is not held: decided.
      expect(out.decision?.targetReplicas).toBe(1);
      expect(debug.filter((m) => m.startsWith('pod ignored')).sort()).toEqual([
        `pod ignored: pod ${NS}/a-decode-5d8f-zz is owned by no variant's Deployment and matches no variant's selector`,
        `pod ignored: pod ${NS}/gone-7c9d-q1 reports metrics but is not among the known pods (deleted, or not yet seen)`,
      ]);
    } finally {
      await Promise.all([source.stop(), pods.stop()]);
    }
  });

  it('the base RBAC grants every request the Pod watch makes', async () => {
    api.put('pods', podObj('x-1-2', { app: 'x' }));
    const pods = new PodWatch({ kubeConfig: api.kubeConfig(), backoff: { baseMs: 20, maxMs: 100 } });
    // Nothing is asked of the API server until an engine looks a pod up.
    expect(api.requests.filter((r) => r.plural === 'pods')).toEqual([]);
    try {
      await until(() => pods.synced(), 'pods listed');
      expect(pods.pod('llm', 'x-1-2')?.metadata.labels).toEqual({ app: 'x' });
      expect(pods.pod('llm', 'x-1-2')?.gpus).toEqual({ 'nvidia.com/gpu': 1 });
      await until(() => api.requests.some((r) => r.plural === 'pods' && r.watch), 'pods watched');
    } finally {
      await pods.stop();
    }
    const used = accessesOf(api.requests).filter((a) => a.resource === 'pods');
    expect(used.length).toBeGreaterThan(0);
    expect(deniedAccesses(used, grants(kustomize(join(repoRoot, 'deploy'))))).toEqual([]);
  });
});

describe('V2 reads the vLLM arguments of the Deployment the informer holds', () => {
  it('--max-num-seqs, --max-num-batched-tokens and --gpu-memory-utilization reach the capacity store', async () => {
    api.put('variantautoscalings', vaObj('a', '5.0'));
    api.put(
      'deployments',
      depObj('a', 1, [
        '--model',
        'm',
        '--max-num-seqs',
        '64',
        '--max-num-batched-tokens=4096',
        '--gpu-memory-utilization',
        '0.85',
      ]),
    );
    const source = new KubeSource({ kubeConfig: api.kubeConfig(), backoff: { baseMs: 20, maxMs: 100 } });
    const holder = new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config');
    holder.setGlobal({
      default:
        'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\nanalyzerName: saturation\n',
    });
    const state = createSaturationV2State();
    const decider = new SaturationDecider({
      config: holder,
      stabilizationWindowMs: 0,
      engines: { v2: createSaturationV2Engine(state) },
    });
    try {
      source.start();
      await source.waitForSync(10_000);
      const group = await members(source, ['a']);
      decider.beginCycle();
      const out = decider.decide((group[0] as GroupMember).va, group, [metrics('a-decode-5d8f-x1', 0.3)]);
      expect(out.model.engine).toBe('saturation-v2');
      const rec = state.capacityStore[`${NS}|m|a`];
      expect(rec?.vllmParams).toMatchObject({
        maxNumSeqs: 64,
        maxNumBatchedTokens: 4096,
        effectiveMaxBatchedTokens: 4096,
        gpuMemoryUtilization: 0.85,
      });
    } finally {
      await source.stop();
    }
  });
});
