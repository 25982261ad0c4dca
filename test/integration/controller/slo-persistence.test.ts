// The learned models' ConfigMap against the (fake) API server through the real client: created on
// the first save, patched after, read back by a new learner; the deploy/ RBAC grants exactly the
// requests made; and `wva-metrics profile` prints it from the cluster and from a saved file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { SloDecider } from '../../../src/controller/slo-decider.js';
import { SloLearner } from '../../../src/controller/slo-learner.js';
import {
  ConfigMapLearnedStore,
  LEARNED_CONFIGMAP,
  LEARNED_CONFIGMAP_KEY,
  SloPersistence,
} from '../../../src/controller/slo-persistence.js';
import { ENGINE_NAMES } from '../../../src/engines/types.js';
import { runCli } from '../../support/cli.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { kustomize, repoRoot } from '../../support/manifests.js';
import {
  accessesOf,
  deniedAccesses,
  describeGrant,
  grants,
  LEARNED_WRITE_GRANTS,
  unusedGrants,
} from '../../support/rbac.js';
import { deploymentObject, foundReading, vaObject } from '../../support/variants.js';

const NS = 'workload-variant-autoscaler-system';
const MODEL = 'ibm/granite-8b';
const T0 = Date.now() - 60 * 60_000;

let api: FakeApiServer;
beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await api.close();
});

/** A learner that saw `n` cycles of a variant on the lines ITL = 8 + 0.1 batch, prefill = 30 + 0.002 x. */
function learned(n: number): SloLearner {
  const l = new SloLearner();
  for (let i = 0; i < n; i++) {
    const batch = 4 + ((i * 7) % 40);
    const pod: PodMetrics = {
      pod: 'granite-h100-a1b2c-x1',
      modelId: MODEL,
      namespace: 'llm',
      avgRunning: batch,
      avgInputTokens: 800,
      itlMs: 8 + 0.1 * batch,
      prefillMs: 30 + 0.002 * 800 * batch,
      queueMs: 2,
    };
    l.observe(
      { model: MODEL, namespace: 'llm', variantName: 'granite-h100', accelerator: 'H100', pods: [pod] },
      T0 + i * 30_000,
    );
  }
  return l;
}

describe('learned models in a ConfigMap', () => {
  it('creates it on the first save, patches it after, and a new learner continues from it', async () => {
    const store = new ConfigMapLearnedStore(api.kubeConfig(), NS);
    expect(await store.read()).toBeUndefined();
    const first = learned(10);
    await store.write(first.serialize(T0 + 10 * 30_000));
    const later = learned(30);
    await store.write(later.serialize(T0 + 30 * 30_000));
    const cm = api.get('configmaps', NS, LEARNED_CONFIGMAP);
    expect(Object.keys(cm?.data ?? {})).toEqual([LEARNED_CONFIGMAP_KEY]);
    const methods = api.requests.filter((r) => r.plural === 'configmaps').map((r) => r.method);
    expect(methods).toEqual(['GET', 'PATCH', 'POST', 'PATCH']);

    const again = new SloLearner();
    const r = again.restore((await store.read()) as string, Date.now());
    expect(r).toMatchObject({ restored: 1, refused: [], error: null });
    const [view] = again.views();
    expect(view?.status.cycles).toBe(30);
    expect(view?.status.usable).toBe(later.views()[0]?.status.usable);
    expect(view?.profile.alpha).toBeCloseTo(later.views()[0]?.profile.alpha as number, 9);

    const rendered = grants(kustomize(join(repoRoot, 'deploy')));
    const used = accessesOf(api.requests);
    expect(deniedAccesses(used, rendered)).toEqual([]);
    // The learned-model writes are granted, and this is where they are used.
    const writes = rendered.filter((g) => LEARNED_WRITE_GRANTS.includes(describeGrant(g)));
    expect(writes.map(describeGrant).sort()).toEqual([...LEARNED_WRITE_GRANTS].sort());
    expect(unusedGrants(writes, used)).toEqual([]);
  });

  it('`wva-metrics profile` prints it from the cluster and from a file, as a table and as JSON', async () => {
    const text = learned(30).serialize(Date.now());
    await new ConfigMapLearnedStore(api.kubeConfig(), NS).write(text);
    const dir = mkdtempSync(join(tmpdir(), 'wva-profile-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, api.kubeConfigYaml());
    const file = join(dir, 'learned.json');
    writeFileSync(file, text);

    const json = await runCli(['profile', '--kubeconfig', kubeconfig, '--namespace', NS, '--output', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.source).toBe(`ConfigMap ${NS}/${LEARNED_CONFIGMAP}`);
    expect(doc.variants).toHaveLength(1);
    const v = doc.variants[0];
    expect(v).toMatchObject({ namespace: 'llm', model: MODEL, accelerator: 'H100', cycles: 30 });
    expect(v.alpha).toBeCloseTo(8, 0);
    expect(v.beta).toBeCloseTo(0.1, 1);

    const table = await runCli(['profile', '--file', file]);
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^NAMESPACE\s+MODEL\s+ACCELERATOR\s+ALPHA\(ms\)/);
    expect(row).toContain(MODEL);
    expect(row).toContain('H100');

    const missing = await runCli(['profile', '--kubeconfig', kubeconfig, '--namespace', 'elsewhere']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`ConfigMap elsewhere/${LEARNED_CONFIGMAP} does not exist`);
  }, 120_000);

  it('a new leader continues from what the old one saved when it lost the Lease', async () => {
    const va = vaObject('llm', 'granite-h100', MODEL, {
      accelerator: 'H100',
      spec: { modelID: MODEL, scaleTargetRef: { kind: 'Deployment', name: 'granite-h100' } },
    });
    const group: GroupMember[] = [{ va, deployment: deploymentObject('llm', 'granite-h100', 1) }];
    const classes = [
      {
        key: 'p.yaml',
        name: 'P',
        priority: 1,
        entries: [{ model: MODEL, slo: { ttftMs: 2000, itlMs: 50 } }],
      },
    ];
    let t = Date.now() - 60 * 60_000;
    const replica = () => {
      const learner = new SloLearner();
      const persistence = new SloPersistence({
        store: new ConfigMapLearnedStore(api.kubeConfig(), NS),
        learner,
        now: () => t,
      });
      const decider = new SloDecider({
        saturation: new SaturationDecider({
          config: new SaturationConfigHolder(NS, 'wva-saturation-scaling-config'),
          stabilizationWindowMs: 0,
        }),
        learner,
        serviceClasses: () => classes,
        persistence,
        stabilizationWindowMs: 0,
        now: () => t,
        monotonic: () => t,
      });
      return {
        decider,
        persistence,
        async cycle(i: number) {
          t += 30_000;
          const batch = 4 + ((i * 7) % 40);
          const pods: PodMetrics[] = [
            {
              pod: 'granite-h100-a1b2c-x1',
              modelId: MODEL,
              namespace: 'llm',
              avgRunning: batch,
              avgInputTokens: 800,
              avgOutputTokens: 100,
              kvCacheUsage: 0.2,
              queueLength: 0,
              itlMs: 8 + 0.1 * batch,
              prefillMs: 30 + 0.002 * 800 * batch,
              queueMs: 2,
            },
          ];
          decider.beginCycle(new Set(['llm/granite-h100']));
          return (await decider.decide(va, group, pods, { ...foundReading(MODEL, 'llm', 300), pods })).model
            .engine;
        },
      };
    };
    const old = replica();
    const engines: string[] = [];
    for (let i = 0; i < 30; i++) engines.push(await old.cycle(i));
    expect(engines.at(-1)).toBe(ENGINE_NAMES.slo);
    // Leadership lost: the Controller calls forget(), which saves.
    old.decider.forget();
    await old.persistence.flush();

    const next = replica();
    expect(await next.cycle(30)).toBe(ENGINE_NAMES.slo);
    const reads = api.requests.filter((r) => r.plural === 'configmaps' && r.method === 'GET');
    expect(reads).toHaveLength(2);
  });
});
