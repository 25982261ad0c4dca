// Informer lists in pages and trimmed caches (memory at 10 000 objects, issue 7), and status
// patches over one kept-alive connection pool, against the fake API server.
import { describe, expect, it } from 'vitest';
import { KubeSource } from '../../../src/controller/kube.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import { LIST_PAGE_SIZE } from '../../../src/kube/informer.js';
import { useFakeApiServer } from '../../support/api-harness.js';
import { mapBounded } from '../../support/cycles.js';
import type { Obj } from '../../support/fake-apiserver.js';
import { deployment, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const fake = useFakeApiServer();

/** A KubeSource on this test's server, started, stopped after the test. */
function startedSource(): KubeSource {
  const source = fake.stopAfter(new KubeSource({ kubeConfig: fake.api.kubeConfig() }));
  source.start();
  return source;
}

function bigDeployment(ns: string, name: string, replicas: number): Obj {
  const d = deployment(ns, name, replicas) as Obj & { spec: Record<string, unknown>; metadata: Obj };
  d.metadata.managedFields = [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }];
  d.spec.template = {
    spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai', args: ['x'.repeat(2000)] }] },
  };
  return d;
}

describe('informer lists', () => {
  it('lists in pages of LIST_PAGE_SIZE and caches every object once', async () => {
    const n = 2 * LIST_PAGE_SIZE + 7;
    for (let i = 0; i < n; i++) {
      fake.api.put('variantautoscalings', variant(`ns-${i % 3}`, `va-${i}`, `m-${i % 5}`));
      fake.api.put('deployments', bigDeployment(`ns-${i % 3}`, `va-${i}`, 1 + (i % 3)));
    }
    const source = startedSource();
    await source.waitForSync(10_000);
    expect(source.listVariants()).toHaveLength(n);
    const lists = fake.api.requests.filter(
      (r) => r.method === 'GET' && !r.watch && r.plural === 'deployments',
    );
    expect(lists.map((r) => r.query.limit)).toEqual([
      String(LIST_PAGE_SIZE),
      String(LIST_PAGE_SIZE),
      String(LIST_PAGE_SIZE),
    ]);
    expect(lists.map((r) => r.query.continue)).toEqual([
      undefined,
      String(LIST_PAGE_SIZE),
      String(2 * LIST_PAGE_SIZE),
    ]);
    expect(source.getDeployment(`ns-${(n - 1) % 3}`, `va-${n - 1}`)?.spec?.replicas).toBe(1 + ((n - 1) % 3));
  });

  it('keeps only the fields the controller reads of a Deployment, listed or watched', async () => {
    fake.api.put('variantautoscalings', variant('a', 'v', 'm'));
    fake.api.put('deployments', bigDeployment('a', 'v', 2));
    const source = startedSource();
    await source.waitForSync(10_000);
    const listed = source.getDeployment('a', 'v');
    expect(listed).toMatchObject({ metadata: { name: 'v', namespace: 'a' }, spec: { replicas: 2 } });
    // Of the pod template only the container arguments stay (saturation V2 reads them).
    expect(listed?.spec?.template).toEqual({ spec: { containers: [{ args: ['x'.repeat(2000)] }] } });
    expect(JSON.stringify(listed)).not.toMatch(/managedFields|vllm/);

    fake.api.put('deployments', bigDeployment('a', 'v', 5));
    await until(() => source.getDeployment('a', 'v')?.spec?.replicas === 5, 'watched update');
    const watched = source.getDeployment('a', 'v');
    expect(watched?.status).toEqual({ replicas: 5, readyReplicas: 5 });
    expect(JSON.stringify(watched)).not.toMatch(/managedFields|vllm/);
  });

  it('drops managedFields and the last-applied annotation of a VariantAutoscaling, keeps the rest', async () => {
    const va = variant('a', 'v', 'm') as Obj & { metadata: Obj };
    va.metadata.managedFields = [{ manager: 'kubectl' }];
    va.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' };
    fake.api.put('variantautoscalings', va);
    const source = startedSource();
    await source.waitForSync(10_000);
    const cached = source.getVariant('a', 'v');
    expect(cached?.metadata.annotations).toEqual({ keep: 'me' });
    expect(cached?.spec.modelID).toBe('m');
    expect(JSON.stringify(cached)).not.toMatch(/managedFields/);
  });
});

describe('connections', () => {
  it('status patches reuse kept-alive connections instead of one per request', async () => {
    const n = 200;
    for (let i = 0; i < n; i++) fake.api.put('variantautoscalings', variant('a', `v-${i}`, 'm'));
    const kc = fake.api.kubeConfig();
    const writer = new KubeStatusWriter({ kubeConfig: kc });
    const sockets = new Set<unknown>();
    fake.api.onConnection = (s) => sockets.add(s);
    const vas = fake.api.list('variantautoscalings') as unknown as Parameters<KubeStatusWriter['write']>[0][];
    // 16 at a time, as the reconciler does.
    await mapBounded(vas, 16, (va) =>
      writer.write(va, () => ({ currentAlloc: { numReplicas: 1 } }) as never),
    );
    expect(fake.api.count({ method: 'PATCH', status: 200 })).toBe(n);
    // One per request before (client-node made an agent per call); now at most one per request in flight.
    expect(sockets.size).toBeLessThanOrEqual(16);
  });
});
