// Pod start-up through the real client against the fake API server: the Pod informer's trim keeps
// creation to Ready, a pod's becoming Ready arrives by watch, and the SLO engine's estimate is the
// median of the variant's pods so measured; a restarted pod and one never Ready do not count.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PodStartup } from '../../../src/controller/pod-startup.js';
import { PodWatch } from '../../../src/kube/pods.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { until } from '../../support/wait.js';

const NS = 'llm';
let api: FakeApiServer;
beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await api.close();
});

/** A pod created at `created` (the API server sets it); `readyAfterS` given: Ready that many seconds later. */
function pod(name: string, created: string, readyAfterS?: number, restarts = 0): Obj {
  const ready =
    readyAfterS === undefined
      ? { type: 'Ready', status: 'False' }
      : {
          type: 'Ready',
          status: 'True',
          lastTransitionTime: new Date(Date.parse(created) + readyAfterS * 1000).toISOString(),
        };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'a' } },
    spec: { containers: [{ name: 'vllm' }] },
    status: {
      phase: 'Running',
      conditions: [ready],
      containerStatuses: [{ name: 'vllm', restartCount: restarts }],
    },
  };
}

describe('pod start-up from the Pod informer', () => {
  it('the default until a pod of the variant becomes Ready, then the median of those measured', async () => {
    // The API server stamps creation: Ready is written relative to what it stamped.
    const created = (name: string) => api.put('pods', pod(name, '')).metadata.creationTimestamp as string;
    const [c1, c2] = ['a-5d8f-x1', 'a-5d8f-x2', 'a-5d8f-x3'].map(created) as [string, string, string];
    api.put('pods', pod('a-5d8f-x2', c2, 600, 3));
    api.delete('pods', NS, 'a-5d8f-x3');
    const pods = new PodWatch({ kubeConfig: api.kubeConfig(), backoff: { baseMs: 20, maxMs: 100 } });
    const startup = new PodStartup({ pods, defaultMs: 120_000 });
    const names = ['a-5d8f-x1', 'a-5d8f-x2', 'a-5d8f-x3'];
    try {
      await until(() => pods.synced(), 'pods listed');
      startup.observe(`${NS}/a`, NS, names);
      // One not Ready yet, one Ready after restarts: nothing measured.
      expect(startup.of(`${NS}/a`)).toEqual({ ms: 120_000, measured: 0 });

      api.put('pods', pod('a-5d8f-x1', c1, 95));
      api.put('pods', pod('a-5d8f-x3', created('a-5d8f-x3'), 75));
      await until(() => pods.pod(NS, 'a-5d8f-x3')?.startup !== undefined, 'Ready seen by watch');
      await until(() => pods.pod(NS, 'a-5d8f-x1')?.startup !== undefined, 'Ready seen by watch');
      startup.observe(`${NS}/a`, NS, names);
      expect(startup.of(`${NS}/a`)).toEqual({ ms: 85_000, measured: 2 });
      expect(pods.pod(NS, 'a-5d8f-x1')?.startup).toEqual({
        ms: 95_000,
        readyAtMs: Date.parse(c1) + 95_000,
      });
    } finally {
      await pods.stop();
    }
  });
});
