// Targets as upstream v0.5 reads them (replicas, TargetResolved), the index from a target back to
// the VariantAutoscalings that reference it, and the scope rules (excluded namespaces, instances).
import { describe, expect, it } from 'vitest';
import { parseVllmArgs } from '../../src/engines/saturation/v2/vllm-args.js';
import { resolveAccelerator } from '../../src/kube/accelerator.js';
import { CONTAINER_LIMITS, trimDeployment } from '../../src/kube/informer.js';
import { outOfScope } from '../../src/kube/scope.js';
import { TargetIndex, targetCondition, targetKey, targetReplicas } from '../../src/kube/target.js';
import { parseSpec } from '../../src/kube/va-spec.js';

const meta = { name: 'llama-decode', namespace: 'llm' };

describe('targetReplicas', () => {
  it('current from status, ready and pending from it; spec when status says 0; unset spec is 1', () => {
    expect(
      targetReplicas({ metadata: meta, spec: { replicas: 3 }, status: { replicas: 3, readyReplicas: 1 } }),
    ).toEqual({
      desired: 3,
      current: 3,
      ready: 1,
      pending: 2,
    });
    expect(targetReplicas({ metadata: meta, spec: { replicas: 2 }, status: { replicas: 0 } })).toMatchObject({
      current: 2,
      ready: undefined,
      pending: 0,
    });
    expect(targetReplicas({ metadata: meta, status: {} })).toMatchObject({ desired: 1, current: 1 });
    // Written by someone else: not counts, so ignored.
    expect(
      targetReplicas({
        metadata: meta,
        spec: { replicas: -2 },
        status: { replicas: 1.5, readyReplicas: -1 },
      }),
    ).toEqual({
      desired: 1,
      current: 1,
      ready: undefined,
      pending: 0,
    });
  });
});

describe('targetCondition', () => {
  const parsed = (spec: unknown) => {
    const p = parseSpec(spec, 'llama-va');
    if (!p.ok) throw new Error(p.problems.join('; '));
    return p.spec;
  };
  const upstream = parsed({ modelID: 'm', scaleTargetRef: { kind: 'Deployment', name: 'llama-decode' } });

  it('TargetFound / TargetNotFound naming kind, namespace and name', () => {
    expect(targetCondition(upstream, 'llm', { metadata: meta }, 4)).toEqual({
      type: 'TargetResolved',
      status: 'True',
      reason: 'TargetFound',
      message: 'Deployment llm/llama-decode found',
      observedGeneration: 4,
    });
    expect(targetCondition(upstream, 'llm', undefined)).toEqual({
      type: 'TargetResolved',
      status: 'False',
      reason: 'TargetNotFound',
      message:
        'Deployment llm/llama-decode not found: its replicas are unknown and it is not scaled until it exists',
    });
    expect(
      targetCondition(upstream, 'llm', { metadata: { ...meta, deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    ).toMatchObject({
      status: 'False',
      reason: 'TargetNotFound',
      message: 'Deployment llm/llama-decode is being deleted: it is not scaled',
    });
  });

  it('an older object without scaleTargetRef says which Deployment it looked for and why', () => {
    const older = parsed({ modelID: 'm' });
    expect(targetCondition(older, 'llm', undefined).message).toBe(
      'Deployment llm/llama-va not found (no spec.scaleTargetRef: the Deployment named like the VariantAutoscaling): its replicas are unknown and it is not scaled until it exists',
    );
  });
});

describe('TargetIndex', () => {
  it('maps a target back to every VA referencing it; a moved or deleted reference leaves nothing behind', () => {
    const idx = new TargetIndex();
    const dep = targetKey('llm', 'Deployment', 'llama-decode');
    idx.set('llm/a', dep);
    idx.set('llm/b', dep);
    idx.set('llm/c', targetKey('llm', 'Deployment', 'other'));
    expect(idx.variantsOf(dep).sort()).toEqual(['llm/a', 'llm/b']);
    idx.set('llm/a', targetKey('llm', 'StatefulSet', 'llama-decode'));
    expect(idx.variantsOf(dep)).toEqual(['llm/b']);
    idx.delete('llm/b');
    expect(idx.variantsOf(dep)).toEqual([]);
    expect(idx.targetOf('llm/a')).toBe('llm/StatefulSet/llama-decode');
    idx.delete('llm/a');
    idx.delete('llm/c');
    expect(idx.size).toBe(0);
    expect(idx.variantsOf('llm/StatefulSet/llama-decode')).toEqual([]);
  });
});

describe('outOfScope', () => {
  const va = (namespace: string, labels?: Record<string, string>) => ({
    metadata: { namespace, ...(labels ? { labels } : {}) },
  });
  const namespaces = new Map([
    ['skip', { metadata: { name: 'skip', annotations: { 'wva.llmd.ai/exclude': 'True' } } }],
    ['keep', { metadata: { name: 'keep', annotations: { 'wva.llmd.ai/exclude': 'false' } } }],
  ]);
  it('an excluded namespace, another instance: out, with the reason; otherwise in', () => {
    expect(outOfScope(va('skip'), namespaces, undefined)).toBe(
      'namespace skip is annotated wva.llmd.ai/exclude: "true"',
    );
    expect(outOfScope(va('keep'), namespaces, undefined)).toBeUndefined();
    expect(outOfScope(va('unknown-ns'), namespaces, undefined)).toBeUndefined();
    expect(outOfScope(va('keep'), namespaces, 'a')).toBe(
      'label wva.llmd.ai/controller-instance is not "a" (CONTROLLER_INSTANCE)',
    );
    expect(outOfScope(va('keep', { 'wva.llmd.ai/controller-instance': 'b' }), namespaces, 'a')).toMatch(
      /is not "a"/,
    );
    expect(
      outOfScope(va('keep', { 'wva.llmd.ai/controller-instance': 'a' }), namespaces, 'a'),
    ).toBeUndefined();
    // Without an instance, labelled ones are ours too, as upstream.
    expect(
      outOfScope(va('keep', { 'wva.llmd.ai/controller-instance': 'b' }), namespaces, undefined),
    ).toBeUndefined();
  });
});

describe('trimDeployment keeps the GPU placement and the vLLM arguments, nothing else of the pod template', () => {
  it('a node selector and a required affinity on GPU product labels survive; other keys go; the args stay', () => {
    const d = trimDeployment({
      metadata: { name: 'llama-decode', namespace: 'llm' },
      spec: {
        replicas: 2,
        template: {
          spec: {
            nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'kubernetes.io/os': 'linux' },
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        {
                          key: 'cloud.google.com/gke-accelerator',
                          operator: 'In',
                          values: ['nvidia-h100-80gb'],
                        },
                        { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] },
                      ],
                    },
                  ],
                },
              },
            },
            containers: [{ name: 'vllm', image: 'vllm/vllm-openai', args: ['--max-num-seqs=64'] }],
          },
        },
      },
    } as never);
    expect(d.spec).toEqual({
      replicas: 2,
      template: {
        spec: {
          containers: [{ args: ['--max-num-seqs=64'] }],
          nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      {
                        key: 'cloud.google.com/gke-accelerator',
                        operator: 'In',
                        values: ['nvidia-h100-80gb'],
                      },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    });
    expect(resolveAccelerator(undefined, d.spec?.template?.spec).accelerator).toBe('NVIDIA-H100-80GB-HBM3');
    const plain = trimDeployment({
      metadata: meta,
      spec: { replicas: 1, template: { spec: { containers: [] } } },
    } as never);
    expect(plain.spec).toEqual({ replicas: 1 });
  });
});

describe('trimDeployment keeps what the saturation engines read of the target', () => {
  const big = (over: Record<string, unknown>) =>
    trimDeployment({
      metadata: meta,
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'llama' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        template: {
          metadata: { labels: { app: 'llama' } },
          spec: {
            containers: [
              {
                name: 'vllm',
                image: 'vllm/vllm-openai',
                command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
                args: ['--max-num-seqs', '128', '--gpu-memory-utilization=0.85'],
                env: [
                  { name: 'VLLM_USE_V1', value: '0' },
                  { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
                  { name: 'OTHER', value: 'x'.repeat(5000) },
                ],
                resources: { requests: { 'nvidia.com/gpu': '2', cpu: '8' }, limits: { memory: '80Gi' } },
                ...over,
              },
              { name: 'sidecar', image: 'envoy', ports: [{ containerPort: 9000 }] },
            ],
          },
        },
      },
    } as never);

  it('the selector, the command, args and VLLM_* env of each container, with its GPU requests', () => {
    const d = big({});
    expect(d.spec?.selector).toEqual({
      matchLabels: { app: 'llama' },
      matchExpressions: [{ key: 'tier', operator: 'Exists' }],
    });
    expect(d.spec?.template?.spec?.containers).toEqual([
      {
        command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
        args: ['--max-num-seqs', '128', '--gpu-memory-utilization=0.85'],
        env: [{ name: 'VLLM_USE_V1', value: '0' }],
        resources: { requests: { 'nvidia.com/gpu': '2' } },
      },
      {},
    ]);
    // What V2 reads from the trimmed object is what it reads from the whole one.
    const p = parseVllmArgs(d);
    expect(p.maxNumSeqs).toBe(128);
    expect(p.gpuMemoryUtilization).toBe(0.85);
    expect(p.isV1Engine).toBe(false);
  });

  it('arguments past the bounds are dropped whole, never cut', () => {
    const many = Array.from({ length: CONTAINER_LIMITS.tokens + 50 }, (_, i) => `--flag-${i}=1`);
    const d = big({ command: [], args: many });
    const kept = d.spec?.template?.spec?.containers?.[0]?.args ?? [];
    expect(kept).toHaveLength(CONTAINER_LIMITS.tokens);
    expect(kept).toEqual(many.slice(0, CONTAINER_LIMITS.tokens));
    const long = big({
      command: ['sh', '-c', 'y'.repeat(CONTAINER_LIMITS.chars)],
      args: ['--max-num-seqs=8'],
    });
    // 'sh' and '-c' fit; the script does not, and nothing after it is read either.
    expect(long.spec?.template?.spec?.containers?.[0]?.command).toEqual(['sh', '-c']);
    expect(long.spec?.template?.spec?.containers?.[0]?.args).toBeUndefined();
  });
});
