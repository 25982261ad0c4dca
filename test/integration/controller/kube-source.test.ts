// The real @kubernetes/client-node against the in-process fake API server: informers, status
// patches, conflicts, dropped watches, 410 Gone. Metrics come from a stub reader here; the
// real-Prometheus path is in controller.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeSource } from '../../../src/controller/kube.js';
import type { MetricsReader } from '../../../src/controller/reconciler.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { computeStatus } from '../../../src/controller/status.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { cycleDriver } from '../../support/cycles.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { deployment, deploymentObject, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

class StubReader implements MetricsReader {
  calls = 0;
  answer: (model: string, ns: string) => MetricsRead = (model, ns) => ({
    metrics: {
      load: { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 50 },
      ttftAverage: 20,
      itlAverage: 5,
    },
    availability: { available: true, reason: 'MetricsFound', message: `metrics found for ${model} in ${ns}` },
  });
  async read(model: string, ns: string): Promise<MetricsRead> {
    this.calls++;
    return this.answer(model, ns);
  }
}

let api: FakeApiServer;
let source: KubeSource | undefined;
const changes: string[] = [];

beforeEach(async () => {
  api = await FakeApiServer.start();
  changes.length = 0;
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await api.close();
});

function startSource(namespaces?: string[]): KubeSource {
  source = new KubeSource({
    kubeConfig: api.kubeConfig(),
    namespaces,
    backoff: { baseMs: 20, maxMs: 100 },
    onChange: (k) => changes.push(k),
  });
  source.start();
  return source;
}

function setup(src: KubeSource, reader = new StubReader()) {
  const writer = new KubeStatusWriter({ kubeConfig: api.kubeConfig() });
  const driver = cycleDriver({
    source: src,
    collector: reader,
    writer,
    now: () => new Date('2025-01-01T00:00:00Z'),
  });
  return { writer, driver, reader };
}

function statusOf(ns: string, name: string) {
  return (api.get('variantautoscalings', ns, name) as unknown as VariantAutoscaling | undefined)?.status;
}

describe('KubeSource + KubeStatusWriter against the fake API server', () => {
  it('lists and watches across namespaces, then patches status of every object', async () => {
    api.put('variantautoscalings', variant('ns-a', 'v1', 'model-1'));
    api.put('variantautoscalings', variant('ns-b', 'v2', 'model-2', { accelerator: 'H100' }));
    api.put('deployments', deployment('ns-a', 'v1', 2));
    api.put('deployments', deployment('ns-b', 'v2', 3));
    const src = startSource();
    await src.waitForSync(5000);
    expect(
      src
        .listVariants()
        .map((v) => v.metadata.name)
        .sort(),
    ).toEqual(['v1', 'v2']);

    const { driver } = setup(src);
    const cycle = await driver.runCycle();
    expect(cycle.results.map((r) => r.outcome)).toEqual(['written', 'written']);
    expect(statusOf('ns-a', 'v1')?.currentAlloc).toMatchObject({ accelerator: 'A100', numReplicas: 2 });
    expect(statusOf('ns-b', 'v2')?.currentAlloc).toMatchObject({
      accelerator: 'H100',
      numReplicas: 3,
      load: { arrivalRate: '60.00', avgInputTokens: '100.00', avgOutputTokens: '50.00' },
      ttftAverage: '20.00',
      itlAverage: '5.00',
    });
    // Every status write went to the status subresource as a merge patch with an RV precondition.
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(2);
    for (const p of patches) {
      expect(p.subresource).toBe('status');
      expect(p.contentType).toContain('application/merge-patch+json');
      expect((p.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toMatch(/^\d+$/);
    }
    // Status writes bump the RV but not the generation.
    expect(api.get('variantautoscalings', 'ns-a', 'v1')?.metadata.generation).toBe(1);
  });

  it('writes nothing when nothing changed, and again when the Deployment scales', async () => {
    api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    api.put('deployments', deployment('ns', 'v1', 1));
    const src = startSource();
    await src.waitForSync(5000);
    const { driver } = setup(src);
    await driver.runCycle();
    await until(() => src.getVariant('ns', 'v1')?.status !== undefined, 'own status write seen by the watch');
    const before = api.count({ method: 'PATCH' });
    const second = await driver.runCycle();
    expect(second.results[0]?.outcome).toBe('unchanged');
    expect(api.count({ method: 'PATCH' })).toBe(before);

    api.put('deployments', deployment('ns', 'v1', 4));
    await until(() => src.getDeployment('ns', 'v1')?.spec?.replicas === 4, 'deployment update');
    expect(changes).toContain('ns/v1');
    const third = await driver.runCycle();
    expect(third.results[0]?.outcome).toBe('written');
    expect(statusOf('ns', 'v1')?.currentAlloc?.numReplicas).toBe(4);
  });

  it('retries a conflict by re-reading; keeps a condition another writer added meanwhile', async () => {
    api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    const stale = api.get('variantautoscalings', 'ns', 'v1') as unknown as VariantAutoscaling;
    // Someone else writes status after we read the object: our patch carries a stale RV.
    api.put('variantautoscalings', {
      ...(stale as unknown as Obj),
      status: {
        conditions: [
          {
            type: 'OptimizationReady',
            status: 'True',
            reason: 'Done',
            message: 'x',
            lastTransitionTime: '2025-01-01T00:00:00Z',
          },
        ],
      },
    });
    const writer = new KubeStatusWriter({ kubeConfig: api.kubeConfig() });
    const dep = deploymentObject('ns', 'v1', 2);
    const read = await new StubReader().read('m', 'ns');
    const seen: Array<string | undefined> = [];
    const r = await writer.write(stale, (fresh) => {
      seen.push(fresh.metadata.resourceVersion);
      return computeStatus({ va: fresh, specProblems: [], deployment: dep, read, now: new Date() });
    });
    expect(r.outcome).toBe('written');
    expect(writer.conflicts).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(api.count({ method: 'PATCH', status: 409 })).toBe(1);
    expect(api.count({ method: 'GET', plural: 'variantautoscalings', watch: false, name: 'v1' })).toBe(1);
    const types = statusOf('ns', 'v1')?.conditions?.map((c) => c.type);
    expect(types).toEqual(['OptimizationReady', 'MetricsAvailable', 'TargetResolved', 'Reconciled']);
    expect(statusOf('ns', 'v1')?.currentAlloc?.numReplicas).toBe(2);
  });

  it('gives up after maxConflictRetries and says so', async () => {
    api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    const va = api.get('variantautoscalings', 'ns', 'v1') as unknown as VariantAutoscaling;
    api.inject({ method: 'PATCH', status: 409, times: 3 });
    const writer = new KubeStatusWriter({ kubeConfig: api.kubeConfig(), maxConflictRetries: 2 });
    const read = await new StubReader().read('m', 'ns');
    const dep = deploymentObject('ns', 'v1', 1);
    await expect(
      writer.write(va, (fresh) =>
        computeStatus({ va: fresh, specProblems: [], deployment: dep, read, now: new Date() }),
      ),
    ).rejects.toThrow(/status patch of ns\/v1 failed: HTTP 409/);
    expect(api.count({ method: 'PATCH' })).toBe(3);
  });

  it('retries an injected 409 and reports a 500 as an error for that object only', async () => {
    api.put('variantautoscalings', variant('ns', 'ok', 'm'));
    api.put('variantautoscalings', variant('ns', 'bad', 'm'));
    api.put('deployments', deployment('ns', 'ok', 1));
    api.put('deployments', deployment('ns', 'bad', 1));
    const src = startSource();
    await src.waitForSync(5000);
    api.inject({ method: 'PATCH', name: 'ok', status: 409 });
    api.inject({ method: 'PATCH', name: 'bad', status: 500, times: Number.POSITIVE_INFINITY });
    const { driver } = setup(src);
    const cycle = await driver.runCycle();
    const by = Object.fromEntries(cycle.results.map((r) => [r.name, r]));
    expect(by.ok?.outcome).toBe('written');
    expect(by.bad?.outcome).toBe('error');
    expect(by.bad?.error?.message).toMatch(/HTTP 500/);
    expect(statusOf('ns', 'ok')?.currentAlloc).toBeDefined();
  });

  it('a missing Deployment and an invalid spec each get their own condition; others are fine', async () => {
    api.put('variantautoscalings', variant('ns', 'nodep', 'm'));
    api.put(
      'variantautoscalings',
      variant('ns', 'invalid', 'm', { spec: { modelID: 'm', sloClassRef: { name: 'premium', key: 'k' } } }),
    );
    api.put('variantautoscalings', variant('ns', 'good', 'm'));
    api.put('deployments', deployment('ns', 'good', 2));
    api.put('deployments', deployment('ns', 'invalid', 2));
    const src = startSource();
    await src.waitForSync(5000);
    const { driver } = setup(src);
    await driver.runCycle();
    const nodep = statusOf('ns', 'nodep')?.conditions?.find((c) => c.type === 'Reconciled');
    expect(nodep).toMatchObject({ status: 'False', reason: 'DeploymentNotFound' });
    expect(nodep?.message).toContain('Deployment ns/nodep not found');
    const invalid = statusOf('ns', 'invalid')?.conditions?.find((c) => c.type === 'Reconciled');
    expect(invalid).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(invalid?.message).toContain('spec.sloClassRef');
    expect(statusOf('ns', 'good')?.currentAlloc?.numReplicas).toBe(2);
  });

  it('resumes after a dropped watch without re-listing, seeing what changed meanwhile', async () => {
    api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    const src = startSource();
    await src.waitForSync(5000);
    await until(() => api.openWatches === 2, 'watches open');
    const listsBefore = api.count({ method: 'GET', plural: 'variantautoscalings', watch: false });
    expect(api.dropWatches('abrupt')).toBe(2);
    api.put('variantautoscalings', variant('ns', 'v2', 'm'));
    await until(() => src.getVariant('ns', 'v2') !== undefined, 'object created during the drop');
    expect(src.informers.some((i) => i.restarts > 0)).toBe(true);
    // Resumed from the last resourceVersion: no second list.
    expect(api.count({ method: 'GET', plural: 'variantautoscalings', watch: false })).toBe(listsBefore);
    const lastWatch = api.requests.filter((r) => r.watch && r.plural === 'variantautoscalings').at(-1);
    expect(Number(lastWatch?.query.resourceVersion)).toBeGreaterThan(0);
  });

  it('re-lists on 410 Gone and drops objects deleted while it was not watching', async () => {
    api.put('variantautoscalings', variant('ns', 'keep', 'm'));
    api.put('variantautoscalings', variant('ns', 'gone', 'm'));
    const src = startSource();
    await src.waitForSync(5000);
    await until(() => api.openWatches === 2, 'watches open');
    // Make the next watch attempts fail until history is compacted, then let them through.
    api.inject({ watch: true, status: 503, times: 2 });
    api.dropWatches('abrupt');
    api.delete('variantautoscalings', 'ns', 'gone');
    api.put('variantautoscalings', variant('ns', 'new', 'm'));
    api.compact();
    const lists = () => api.count({ method: 'GET', plural: 'variantautoscalings', watch: false });
    const before = lists();
    await until(
      () => src.getVariant('ns', 'new') !== undefined && src.getVariant('ns', 'gone') === undefined,
      'relist',
    );
    expect(lists()).toBeGreaterThan(before);
    expect(src.getVariant('ns', 'keep')).toBeDefined();
  });

  it('watches only the configured namespaces', async () => {
    api.put('variantautoscalings', variant('team-a', 'v', 'm'));
    api.put('variantautoscalings', variant('team-b', 'v', 'm'));
    api.put('variantautoscalings', variant('team-c', 'v', 'm'));
    const src = startSource(['team-a', 'team-c']);
    await src.waitForSync(5000);
    expect(
      src
        .listVariants()
        .map((v) => v.metadata.namespace)
        .sort(),
    ).toEqual(['team-a', 'team-c']);
    expect(api.requests.every((r) => r.path.includes('/namespaces/team-'))).toBe(true);
  });
});
