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

  it('keeps the start-up (creation to Ready) of a pod Ready with no container restarted, and nothing else of its times', () => {
    const raw = (ready: string, restarts = 0, created = '2026-01-01T00:00:00Z') => ({
      metadata: { name: 'p', namespace: 'n', creationTimestamp: created },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:01Z' },
          { type: 'Ready', status: ready, lastTransitionTime: '2026-01-01T00:01:35Z' },
        ],
        containerStatuses: [{ restartCount: 0 }, { restartCount: restarts }],
      },
    });
    expect(trimPod(raw('True'))).toEqual({
      metadata: { name: 'p', namespace: 'n' },
      status: { ready: true, phase: 'Running' },
      startup: { ms: 95_000, readyAtMs: Date.parse('2026-01-01T00:01:35Z') },
    });
    // Not Ready, Ready after a restart, or times out of order / unreadable: no start-up.
    expect(trimPod(raw('False')).startup).toBeUndefined();
    expect(trimPod(raw('True', 2)).startup).toBeUndefined();
    expect(trimPod(raw('True', 0, '2026-01-01T00:05:00Z')).startup).toBeUndefined();
    expect(trimPod(raw('True', 0, 'yesterday')).startup).toBeUndefined();
  });
});
