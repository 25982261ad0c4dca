// Upstream WVA v0.5's objects as they are, end to end: the sample VariantAutoscalings copied
// verbatim (test/fixtures/upstream-v0.5) through the controller (the real client against the fake
// API server, a real Prometheus backfilled with their models' series) and through local mode. Their
// targets resolve through scaleTargetRef, they are never InvalidSpec; the controller here runs
// without the saturation engines, which their status says, and in local mode their pods' series
// match no Deployment, so nothing is decided for them (saturation-engine.test.ts and
// saturation-local.test.ts cover the saturation decisions); an upstream-shaped object with an SLO
// profile is sized and its decision published; the same fleet in the older shape gets exactly the
// same decisions.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { Actuator } from '../../../src/actuator/actuator.js';
import { ActuationMetrics } from '../../../src/actuator/metrics.js';
import { clusterOptimizer } from '../../../src/controller/optimizer-setup.js';
import { KubeStatusWriter } from '../../../src/controller/status-writer.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { sizeReplicas } from '../../../src/optimizer/index.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { runManifestsOnce, steadyPod } from '../../support/controller-fixtures.js';
import { backfilledCollector, cycleDriver, fakeApiServer, syncedKubeSource } from '../../support/cycles.js';
import type { Obj } from '../../support/fake-apiserver.js';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { applySchema, crdSchema } from '../../support/structural-schema.js';
import { deployment } from '../../support/variants.js';
import { expectedMetrics, vllmOpenMetrics } from '../../support/vllm-openmetrics.js';
import { until } from '../../support/wait.js';

// biome-ignore lint/suspicious/noExplicitAny: YAML and JSON read loosely
type Loose = Record<string, any>;

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const SAMPLES = root('test/fixtures/upstream-v0.5/variantautoscaling-with-cost.yaml');
const samples = parseAllDocuments(readFileSync(SAMPLES, 'utf8'))
  .map((d) => d.toJS() as Loose)
  .filter((d) => d?.kind === 'VariantAutoscaling');
const upstreamStatus = crdSchema(root('test/fixtures/upstream-v0.5/llmd.ai_variantautoscalings.yaml'))
  .properties.status;
const CONTROLLER_NS = 'wva-system';
const H100 = 'NVIDIA-H100-80GB-HBM3';

const pod = steadyPod;

const examplePods = [
  pod('meta-llama/Llama-3.1-8B-Instruct', 'llm-prod', 'e1', 8),
  pod('ibm-granite/granite-3.3-8b-instruct', 'llm-prod', 'e2', 3),
  pod('meta-llama/Llama-3.1-8B-Instruct', 'llm-staging', 'e3', 2),
  pod('mistralai/Mistral-7B-Instruct-v0.3', 'llm-staging', 'e4', 2),
];
const pods = [
  pod('meta/llama-3.1-70b', 'llm-inference', 'p70', 1),
  pod('meta/llama-3.1-8b', 'llm-inference', 'p8', 2),
  pod('meta/llama-3.1-8b', 'tenant-gold', 'pg', 1),
  pod('meta/llama-3.1-8b', 'tenant-silver', 'ps', 1),
  pod('org/llama', 'prod', 'pl1', 2),
  pod('org/llama', 'prod', 'pl2', 2),
  pod('org/skip', 'excluded', 'px', 1),
  ...examplePods,
];

/** The Deployment a sample's scaleTargetRef names; one of them places its pods on H100s. */
function target(va: Loose, replicas: number): Obj {
  const d = deployment(va.metadata.namespace, va.spec.scaleTargetRef.name, replicas);
  if (va.metadata.name === 'llama-70b-premium-h100') {
    (d.spec as Loose).template.spec = { nodeSelector: { 'nvidia.com/gpu.product': H100 }, containers: [] };
  }
  return d;
}

const A100 = { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 };
/** An upstream-shaped object with our optional SLO fields, scaling a Deployment of another name. */
const sized: Obj = {
  apiVersion: 'llmd.ai/v1alpha1',
  kind: 'VariantAutoscaling',
  metadata: {
    name: 'llama-va',
    namespace: 'prod',
    labels: { 'inference.optimization/acceleratorName': 'A100' },
  },
  spec: {
    scaleTargetRef: { kind: 'Deployment', name: 'llama-decode' },
    modelID: 'org/llama',
    variantCost: '20.0',
    sloClassRef: { name: 'premium', key: 'org/llama' },
    modelProfile: {
      accelerators: [
        {
          acc: 'A100',
          accCount: 1,
          maxBatchSize: A100.maxBatchSize,
          perfParms: {
            decodeParms: { alpha: String(A100.alpha), beta: String(A100.beta) },
            prefillParms: { gamma: String(A100.gamma), delta: String(A100.delta) },
          },
        },
      ],
    },
  },
};
const optimizerConfigMaps: Obj[] = [
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'service-classes-config', namespace: CONTROLLER_NS },
    data: {
      'premium.yaml':
        'name: Premium\npriority: 1\ndata:\n  - model: org/llama\n    slo-tpot: 24\n    slo-ttft: 500\n',
    },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'accelerator-unit-costs', namespace: CONTROLLER_NS },
    data: { A100: '{ "device": "A100-80G", "cost": "35.00" }' },
  },
];
const excludedNs: Obj = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'excluded', annotations: { 'wva.llmd.ai/exclude': 'true' } },
};
const excludedVa: Obj = {
  apiVersion: 'llmd.ai/v1alpha1',
  kind: 'VariantAutoscaling',
  metadata: { name: 'skip', namespace: 'excluded' },
  spec: { scaleTargetRef: { kind: 'Deployment', name: 'skip' }, modelID: 'org/skip' },
};

let prom: PrometheusServer;
beforeAll(async () => {
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
}, 120_000);
afterAll(async () => {
  await prom?.stop();
});

const silent = silentLogger;

const condition = (s: Loose | undefined, type: string) => s?.conditions?.find((c: Loose) => c.type === type);

describe("upstream v0.5's samples in the controller (fake API server, real Prometheus)", () => {
  it('accepted verbatim, targets resolved, nothing wrong published; an SLO-profiled one sized through its scaleTargetRef', async () => {
    const api = await fakeApiServer();
    const kc = api.kubeConfig();
    const changed: string[] = [];
    const opt = clusterOptimizer(
      kc,
      CONTROLLER_NS,
      { stabilizationWindowMs: 0, kvCacheThreshold: 0.9 },
      silent,
    );
    try {
      samples.forEach((s, i) => {
        api.put('variantautoscalings', s as Obj);
        // The last sample's Deployment does not exist.
        if (i < samples.length - 1) api.put('deployments', target(s, 2));
      });
      api.put('variantautoscalings', sized);
      api.put('deployments', deployment('prod', 'llama-decode', 2));
      for (const cm of optimizerConfigMaps) api.put('configmaps', cm);
      api.put('namespaces', excludedNs);
      api.put('variantautoscalings', excludedVa);
      api.put('deployments', deployment('excluded', 'skip', 1));
      opt.start();
      const source = await syncedKubeSource(kc, {
        backoff: { baseMs: 20, maxMs: 100 },
        namespaceExclusion: true,
        onChange: (k) => changed.push(k),
      });
      await until(() => opt.store.unitCosts.value !== undefined, 'optimizer ConfigMaps watched', 10_000);
      const registry = new Registry();
      const driver = cycleDriver({
        source,
        collector: backfilledCollector(prom.url),
        writer: new KubeStatusWriter({ kubeConfig: kc }),
        optimizer: opt.optimizer,
        actuator: new Actuator({ mode: 'metrics', metrics: new ActuationMetrics(registry) }),
      });
      const cycle = await driver.runCycle();
      expect(cycle.results.map((r) => r.outcome).sort()).toEqual(Array(7).fill('written'));
      const status = (ns: string, name: string) =>
        (api.get('variantautoscalings', ns, name) as unknown as VariantAutoscaling).status as Loose;

      for (const [i, s] of samples.entries()) {
        const st = status(s.metadata.namespace, s.metadata.name);
        const where = `${s.metadata.namespace}/${s.metadata.name}`;
        const what = `Deployment ${s.metadata.namespace}/${s.spec.scaleTargetRef.name}`;
        expect(condition(st, 'Reconciled')?.reason, where).not.toBe('InvalidSpec');
        expect(condition(st, 'MetricsAvailable'), where).toMatchObject({
          status: 'True',
          reason: 'MetricsFound',
        });
        expect(condition(st, 'OptimizationReady'), where).toMatchObject({
          status: 'False',
          reason: 'SaturationEngineUnavailable',
        });
        expect(st.desiredOptimizedAlloc, where).toBeUndefined();
        // What we write is valid where upstream's CRD is installed.
        expect(applySchema(upstreamStatus, st, '.status').problems, where).toEqual([]);
        if (i < samples.length - 1) {
          expect(condition(st, 'TargetResolved'), where).toMatchObject({
            status: 'True',
            reason: 'TargetFound',
            message: `${what} found`,
          });
          expect(st.currentAlloc.numReplicas, where).toBe(2);
        } else {
          expect(condition(st, 'TargetResolved'), where).toMatchObject({
            status: 'False',
            reason: 'TargetNotFound',
          });
          expect(condition(st, 'TargetResolved').message).toContain(`${what} not found`);
        }
      }
      // The accelerator: the target's GPU node selector, as no label names it.
      expect(status('llm-inference', 'llama-70b-premium-h100').currentAlloc.accelerator).toBe(H100);

      // The upstream-shaped object with a profile: sized from its target's replicas, and published.
      const llama = sizeReplicas({
        profile: A100,
        load: expectedMetrics([pods[4]!, pods[5]!]),
        slo: { ttftMs: 500, itlMs: 24 },
      });
      const st = status('prod', 'llama-va');
      expect(condition(st, 'TargetResolved')?.message).toBe('Deployment prod/llama-decode found');
      expect(st.currentAlloc.numReplicas).toBe(2);
      expect(st.desiredOptimizedAlloc).toMatchObject({ accelerator: 'A100', numReplicas: llama.numReplicas });
      expect(condition(st, 'OptimizationReady')).toMatchObject({
        status: 'True',
        reason: 'OptimizationSucceeded',
      });
      expect(st.actuation).toEqual({ applied: true });
      const exposition = await registry.metrics();
      expect(exposition).toContain(
        `wva_desired_replicas{variant_name="llama-va",namespace="prod",accelerator_type="A100"} ${llama.numReplicas}`,
      );
      // Profile-less ones: their target's replicas held, never a number of ours.
      expect(exposition).toContain(
        'wva_desired_replicas{variant_name="llama-8b-budget-t4",namespace="llm-inference",accelerator_type="unknown"} 2',
      );
      expect(exposition).not.toContain('variant_name="llama-8b-default-cost"');
      // The accelerator label of a held series: the target's GPU placement where no label names it.
      expect(exposition).toContain(
        `wva_desired_replicas{variant_name="llama-70b-premium-h100",namespace="llm-inference",accelerator_type="${H100}"} 2`,
      );

      // An excluded namespace is left alone.
      expect(api.get('variantautoscalings', 'excluded', 'skip')?.status).toBeUndefined();
      expect(exposition).not.toContain('variant_name="skip"');

      // A change of the target reaches its VariantAutoscaling through the index; an unrelated
      // Deployment named like the VariantAutoscaling reaches nothing.
      changed.length = 0;
      api.put('deployments', deployment('prod', 'llama-va', 1));
      api.put('deployments', deployment('prod', 'llama-decode', 3));
      await until(
        () => changed.includes('prod/llama-va'),
        'the target change mapped to its VariantAutoscaling',
      );
      expect(changed).toEqual(['prod/llama-va']);
    } finally {
      await opt.stop();
    }
  });

  it('CONTROLLER_INSTANCE: only the VariantAutoscalings labelled for this instance are listed', async () => {
    const api = await fakeApiServer();
    const labelled = structuredClone(samples[0]) as Obj;
    (labelled.metadata.labels as Loose)['wva.llmd.ai/controller-instance'] = 'shard-a';
    api.put('variantautoscalings', labelled);
    api.put('variantautoscalings', samples[1] as Obj);
    const a = await syncedKubeSource(api.kubeConfig(), { controllerInstance: 'shard-a' });
    const all = await syncedKubeSource(api.kubeConfig(), {});
    expect(a.listVariants().map((v) => v.metadata.name)).toEqual(['llama-70b-premium-h100']);
    expect(a.getVariant('llm-inference', 'llama-70b-standard-a100')).toBeUndefined();
    expect(all.listVariants()).toHaveLength(2);
  });
});

describe('local mode', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wva-upstream-'));
    cpSync(SAMPLES, join(dir, 'variantautoscaling-with-cost.yaml'));
    const deps = samples.slice(0, -1).map((s) => stringify(target(s, 2)));
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        ...deps,
        stringify(excludedNs),
        stringify(excludedVa),
        stringify(deployment('excluded', 'skip', 1)),
      ].join('---\n'),
    );
    const bad = (name: string, spec: Loose) =>
      stringify({
        apiVersion: 'llmd.ai/v1alpha1',
        kind: 'VariantAutoscaling',
        metadata: { name, namespace: 'llm-inference' },
        spec,
      });
    writeFileSync(
      join(dir, 'bad.yaml'),
      [
        bad('bad-cost', {
          scaleTargetRef: { kind: 'Deployment', name: 'x' },
          modelID: 'm',
          variantCost: 'cheap',
        }),
        bad('bad-kind', { scaleTargetRef: { kind: 'CronJob', name: 'x' }, modelID: 'm' }),
      ].join('---\n'),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const runOnce = (manifests: string) => runManifestsOnce(prom.url, manifests, '--output', 'json');

  it("upstream's samples verbatim: accepted, targets resolved, an excluded namespace left out", async () => {
    const r = await runOnce(dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const all = (JSON.parse(r.stdout) as { items: Loose[] }).items;
    // Bad input: refused alone, naming the field, what is wrong and what to write.
    const invalid = (name: string) =>
      all.find((i) => i.name === name)?.status.conditions.find((c: Loose) => c.type === 'Reconciled');
    expect(invalid('bad-cost')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(invalid('bad-cost').message).toContain(
      'spec.variantCost: "cheap" is not a non-negative decimal in a string (pattern ^\\d+(\\.\\d+)?$, e.g. "10.0")',
    );
    expect(invalid('bad-kind').message).toContain(
      'spec.scaleTargetRef.kind: "CronJob" is not a kind this controller can scale; use one of Deployment, StatefulSet, ReplicaSet, LeaderWorkerSet',
    );
    const items = all.filter((i) => !i.name.startsWith('bad-'));
    expect(items.map((i) => i.name).sort()).toEqual(samples.map((s) => s.metadata.name).sort());
    for (const i of items) {
      const conds = i.status.conditions as Loose[];
      const found = conds.find((c) => c.type === 'TargetResolved');
      expect(conds.find((c) => c.type === 'Reconciled')?.reason, i.name).not.toBe('InvalidSpec');
      expect(found?.reason, i.name).toBe(
        i.name === 'llama-8b-default-cost' ? 'TargetNotFound' : 'TargetFound',
      );
      expect(i.replicas, i.name).toBe(i.name === 'llama-8b-default-cost' ? null : 2);
      expect(i.status.desiredOptimizedAlloc, i.name).toBeUndefined();
    }
  });

  it("the example fleet in upstream's shape gets exactly the decisions of the same fleet in the older shape", async () => {
    const [upstream, older] = await Promise.all([
      runOnce(root('examples/manifests')),
      runOnce(root('examples/older-shape/manifests')),
    ]);
    expect(upstream.code, upstream.stderr).toBe(0);
    expect(older.code, older.stderr).toBe(0);
    const decisions = (out: string) =>
      (JSON.parse(out) as { items: Loose[] }).items
        .map((i) => ({
          key: `${i.namespace}/${i.name}`,
          replicas: i.replicas,
          desired: i.status.desiredOptimizedAlloc && {
            accelerator: i.status.desiredOptimizedAlloc.accelerator,
            numReplicas: i.status.desiredOptimizedAlloc.numReplicas,
          },
          ready: i.status.conditions.find((c: Loose) => c.type === 'OptimizationReady')?.reason,
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
    const mine = decisions(upstream.stdout);
    expect(mine).toHaveLength(8);
    // Sized by the SLO engine (an L4 may not reach the SLO at this load): the same either way.
    expect(
      mine.filter((d) => d.ready === 'OptimizationSucceeded' && d.desired !== undefined).length,
    ).toBeGreaterThan(5);
    expect(mine).toEqual(decisions(older.stdout));
  });
});
