// What the Pod informer keeps of a Pod: enough to tell which variant it serves, nothing more.
import { describe, expect, it } from 'vitest';
import { trimPod } from '../../src/kube/pods.js';

describe('trimPod', () => {
  it('keeps name, namespace, labels, controlling owners, readiness and GPU requests summed over containers', () => {
    const p = trimPod({
      metadata: {
        name: 'llama-decode-5d8f-x1',
        namespace: 'llm',
        labels: { app: 'llama', 'pod-template-hash': '5d8f' },
        ownerReferences: [
          { kind: 'ReplicaSet', name: 'llama-decode-5d8f', controller: true },
          { kind: 'ConfigMap', name: 'not-the-controller', controller: false },
          { kind: 'Job' } as never,
        ],
        resourceVersion: '42',
      },
      spec: {
        containers: [
          { resources: { requests: { 'nvidia.com/gpu': '2', cpu: '8' } } },
          { resources: { requests: { 'nvidia.com/gpu': 1, memory: '1Gi' } } },
          { resources: { requests: { 'amd.com/gpu': '1.5' } } },
        ],
      },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(p).toEqual({
      metadata: {
        name: 'llama-decode-5d8f-x1',
        namespace: 'llm',
        labels: { app: 'llama', 'pod-template-hash': '5d8f' },
        resourceVersion: '42',
      },
      owners: [{ kind: 'ReplicaSet', name: 'llama-decode-5d8f', controller: true }],
      status: { ready: true, phase: 'Running' },
      gpus: { 'nvidia.com/gpu': 3 },
    });
  });

  it('a pod not Ready, without owners or GPUs, keeps only that', () => {
    expect(
      trimPod({
        metadata: { name: 'x', namespace: 'n' },
        status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
      }),
    ).toEqual({ metadata: { name: 'x', namespace: 'n' }, status: { ready: false, phase: 'Pending' } });
  });
});
