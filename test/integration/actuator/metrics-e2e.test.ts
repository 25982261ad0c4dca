// HPA and KEDA scale on what this controller publishes, checked end to end on this machine: two
// `wva-metrics run` processes (cluster mode, leader election) against the fake API server, scraped
// by a real Prometheus the way a ServiceMonitor does (the target's namespace label wins, so the
// VariantAutoscaling's namespace arrives as exported_namespace). The PromQL of the KEDA trigger
// and of the prometheus-adapter rule, as rendered from deploy/, is evaluated by that Prometheus.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../../src/demo/prometheus.js';
import { PrometheusClient } from '../../../src/prometheus/client.js';
import { type RunningCli, startCli } from '../../support/cli.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { kustomize, kustomizeComponent, type Manifest, repoRoot } from '../../support/manifests.js';
import { type PinnedPrometheus, startPinnedPrometheus } from '../../support/pinned-prometheus.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import {
  accessesOf,
  deniedAccesses,
  grants,
  LEARNED_WRITE_GRANTS,
  unusedGrants,
} from '../../support/rbac.js';
import { deployment, variant } from '../../support/variants.js';
import { vllmOpenMetrics } from '../../support/vllm-openmetrics.js';
import { until } from '../../support/wait.js';

const CONTROLLER_NS = 'workload-variant-autoscaler-system';
const VARIANTS = [
  { ns: 'llm-d-sim', name: 'vllme-deployment', model: 'default/default', ready: 2 },
  { ns: 'prod', name: 'llama-a100', model: 'meta/llama-8b', ready: 5 },
  { ns: 'prod', name: 'granite-l40s', model: 'ibm/granite', ready: 0 },
];

let api: FakeApiServer;
let prom: PrometheusServer;
/** What the controllers query: the backfilled instant (cluster mode refuses --time). */
let pinned: PinnedPrometheus;
let client: PrometheusClient;
let dir: string;
const ports: number[] = [];
const controllers: RunningCli[] = [];

beforeAll(async () => {
  api = await FakeApiServer.start();
  dir = mkdtempSync(join(tmpdir(), 'wva-actuation-e2e-'));
  ports.push(await freePort(), await freePort());
  prom = await startPrometheus({
    openmetrics: vllmOpenMetrics(
      VARIANTS.map((v, i) => ({
        labels: { model_name: v.model, namespace: v.ns, pod: `${v.name}-0` },
        requestsPerSecond: 2 + 6 * i,
        avgPromptTokens: 200,
        avgGenerationTokens: 50,
        avgTtftSeconds: 0.05,
        avgItlSeconds: 0.02,
      })),
    ),
    scrapeTargets: ports.map((p) => ({ target: `127.0.0.1:${p}`, labels: { namespace: CONTROLLER_NS } })),
  });
  client = new PrometheusClient({ url: prom.url, timeoutMs: 5000 });
  pinned = await startPinnedPrometheus(prom.url, BACKFILL_TIME_S);
  api.put('configmaps', {
    metadata: { name: 'variantautoscaling-config', namespace: CONTROLLER_NS },
    data: { PROMETHEUS_BASE_URL: pinned.url, GLOBAL_OPT_INTERVAL: '2s', WVA_CACHE_TTL: '1s' },
  });
  // The optimizer's ConfigMaps: it sizes each variant for its measured load.
  const entries = VARIANTS.map(
    (v) => `      - model: ${v.model}\n        slo-tpot: 40\n        slo-ttft: 1000`,
  ).join('\n');
  api.put('configmaps', {
    metadata: { name: 'service-classes-config', namespace: CONTROLLER_NS },
    data: { 'premium.yaml': `name: Premium\npriority: 1\ndata:\n${entries}\n` },
  });
  api.put('configmaps', {
    metadata: { name: 'accelerator-unit-costs', namespace: CONTROLLER_NS },
    data: { A100: '{ "device": "NVIDIA-A100-SXM4-80GB", "cost": "40.00" }' },
  });
  for (const v of VARIANTS) {
    // A decision left in status by an earlier run (1 replica); the load needs more, so the
    // optimizer replaces it at once (scale-up is not held by the stabilisation window).
    api.put('variantautoscalings', {
      ...variant(v.ns, v.name, v.model),
      status: {
        desiredOptimizedAlloc: {
          accelerator: 'A100',
          numReplicas: 1,
          lastRunTime: '2026-01-01T00:00:00Z',
        },
      },
    });
    const d = deployment(v.ns, v.name, v.ready);
    api.put('deployments', { ...d, status: { replicas: v.ready, readyReplicas: v.ready } });
  }
  // Upstream's shape, targeting a StatefulSet not created yet: its replicas are asked of the scale
  // subresource (RBAC get), nothing is published for it (no target, no saturation engine).
  api.put('variantautoscalings', {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: { name: 'sts-model', namespace: 'batch' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'sts-model' },
      modelID: 'org/sts',
    },
  });
  // One status patch answers 409: the controller re-reads the object (RBAC get is then used).
  api.inject({ method: 'PATCH', plural: 'variantautoscalings', subresource: 'status', status: 409 });
  const kc = join(dir, 'kubeconfig.yaml');
  writeFileSync(kc, api.kubeConfigYaml());
  for (const [i, port] of ports.entries()) {
    controllers.push(
      startCli(['run', '--kubeconfig', kc, '--metrics-addr', `127.0.0.1:${port}`], {
        env: { POD_NAME: `wva-${i}`, POD_NAMESPACE: CONTROLLER_NS, LOG_LEVEL: 'warn' },
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const c of controllers) {
    c.child.kill('SIGTERM');
    await c.exited;
  }
  await pinned?.close();
  await prom?.stop();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const leaderIdentity = () =>
  (
    api.get('leases', CONTROLLER_NS, 'wva-metrics-controller')?.spec as
      | { holderIdentity?: string }
      | undefined
  )?.holderIdentity;

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The value of an instant query that must return one sample; undefined when it returns none. */
async function value(expr: string): Promise<number | undefined> {
  const data = await client.query(expr);
  if (data.resultType !== 'vector') throw new Error(`${expr}: ${data.resultType}`);
  if (data.result.length > 1) throw new Error(`${expr}: ${data.result.length} samples`);
  return data.result[0] ? Number(data.result[0].value[1]) : undefined;
}

async function eventually(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const decision = (ns: string, name: string) =>
  (
    api.get('variantautoscalings', ns, name)?.status as
      | { desiredOptimizedAlloc?: { numReplicas: number } }
      | undefined
  )?.desiredOptimizedAlloc?.numReplicas;

/** OptimizationReady=True: desiredOptimizedAlloc is the optimizer's decision of this run. */
const optimized = (ns: string, name: string) => {
  const st = api.get('variantautoscalings', ns, name)?.status as Manifest | undefined;
  return (
    st?.conditions?.some((c: Manifest) => c.type === 'OptimizationReady' && c.status === 'True') === true
  );
};

const keda = kustomizeComponent('deploy/components/keda').find((o) => o.kind === 'ScaledObject') as Manifest;
const hpaObjs = kustomizeComponent('deploy/components/hpa');
const hpa = hpaObjs.find((o) => o.kind === 'HorizontalPodAutoscaler') as Manifest;
const adapterRule = (
  parse(hpaObjs.find((o) => o.data?.['config.yaml'])?.data['config.yaml']) as { externalRules: Manifest[] }
).externalRules[0] as Manifest;

/** The sample trigger's query, for another variant (the sample names vllme-deployment in llm-d-sim). */
function kedaQuery(ns: string, name: string): string {
  return (keda.spec.triggers[0].metadata.query as string)
    .replaceAll(`variant_name="${keda.metadata.name}"`, `variant_name="${name}"`)
    .replaceAll(`exported_namespace="${keda.metadata.namespace}"`, `exported_namespace="${ns}"`);
}

/** The adapter's metricsQuery as prometheus-adapter fills it for the sample HPA's selector. */
function adapterQuery(ns: string, name: string): string {
  const selector = {
    ...hpa.spec.metrics[0].external.metric.selector.matchLabels,
    variant_name: name,
    exported_namespace: ns,
  };
  const matchers = Object.entries(selector)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return (adapterRule.metricsQuery as string).replace('<<.LabelMatchers>>', matchers);
}

describe('actuation metrics scraped by a real Prometheus', () => {
  it('the KEDA trigger and the adapter rule return each variant desired replicas = status.desiredOptimizedAlloc', async () => {
    // Every variant sized by the optimizer, and its decision published.
    await eventually(
      async () =>
        VARIANTS.every((v) => optimized(v.ns, v.name)) &&
        (await value('count(wva_desired_replicas)')) === VARIANTS.length &&
        (
          await Promise.all(
            VARIANTS.map(async (v) => (await value(kedaQuery(v.ns, v.name))) === decision(v.ns, v.name)),
          )
        ).every(Boolean),
      'optimizer decisions in Prometheus',
    );
    const sized = VARIANTS.map((v) => decision(v.ns, v.name));
    expect(new Set(sized).size, `decisions ${sized} follow the load`).toBeGreaterThan(1);
    for (const v of VARIANTS) {
      const want = decision(v.ns, v.name);
      expect(want, v.name).toBeTypeOf('number');
      expect(await value(kedaQuery(v.ns, v.name)), `KEDA ${v.name}`).toBe(want);
      expect(await value(adapterQuery(v.ns, v.name)), `adapter ${v.name}`).toBe(want);
      expect(await value(`wva_current_replicas{variant_name="${v.name}",exported_namespace="${v.ns}"}`)).toBe(
        v.ready,
      );
      expect(await value(`wva_desired_ratio{variant_name="${v.name}",exported_namespace="${v.ns}"}`)).toBe(
        v.ready === 0 ? want : (want as number) / v.ready,
      );
    }
    // The dashboard's latency gauges: measured is the backfilled 50 ms / 20 ms; predicted is known.
    const sel = 'variant_name="llama-a100",exported_namespace="prod"';
    expect(await value(`wva_measured_ttft_seconds{${sel}}`)).toBeCloseTo(0.05, 6);
    expect(await value(`wva_measured_itl_seconds{${sel}}`)).toBeCloseTo(0.02, 6);
    expect(await value(`wva_predicted_ttft_seconds{${sel}}`)).toBeGreaterThan(0);
    expect(await value(`wva_predicted_itl_seconds{${sel}}`)).toBeGreaterThan(0);
    const sample = await client.query(kedaQuery('llm-d-sim', 'vllme-deployment'));
    expect(sample.result).toHaveLength(1);
    expect(
      (api.get('variantautoscalings', 'prod', 'llama-a100')?.status as Manifest | undefined)?.actuation,
    ).toEqual({
      applied: true,
    });
  }, 90_000);

  it('the standby serves none of the per-variant series; the leader serves them with no model name', async () => {
    const leader = leaderIdentity();
    expect(leader).toMatch(/^wva-[01]$/);
    const leaderPort = ports[Number(leader?.slice(-1))] as number;
    const standbyPort = ports[1 - Number(leader?.slice(-1))] as number;
    // The standby may still be starting (its CLI loads more slowly on a busy machine).
    await eventually(
      () =>
        scrape(standbyPort).then(
          () => true,
          () => false,
        ),
      'the standby to serve /metrics',
    );
    const standby = await scrape(standbyPort);
    expect(standby).toContain('wva_cache_lookups_total');
    expect(standby).not.toMatch(/^wva_(desired_replicas|current_replicas|desired_ratio)\{/m);
    expect(await value(`count(wva_desired_replicas{instance="127.0.0.1:${standbyPort}"})`)).toBeUndefined();
    const served = await scrape(leaderPort);
    expect(served).toContain(
      `wva_desired_replicas{variant_name="llama-a100",namespace="prod",accelerator_type="A100"} ${decision('prod', 'llama-a100')}\n`,
    );
    for (const v of VARIANTS) expect(served).not.toContain(v.model);
  }, 30_000);

  it("a deleted VariantAutoscaling's series disappear from /metrics and from Prometheus", async () => {
    const leaderPort = ports[Number(leaderIdentity()?.slice(-1))] as number;
    api.delete('variantautoscalings', 'prod', 'granite-l40s');
    await eventually(
      async () => !(await scrape(leaderPort)).includes('variant_name="granite-l40s"'),
      'series removed',
      20_000,
    );
    await eventually(
      async () => (await value('count(wva_desired_replicas{variant_name="granite-l40s"})')) === undefined,
      'Prometheus to mark it stale',
      20_000,
    );
    expect(await value('count(wva_desired_replicas)')).toBe(VARIANTS.length - 1);
  }, 60_000);

  it('the base RBAC grants exactly what the controllers used: every request allowed, every grant used', async () => {
    // Both candidates for the Lease have run (create, get, update), a 409 was re-read, events written.
    await until(() => api.list('events').length > 0, 'an event', 10_000);
    await until(() => api.count({ method: 'PUT', plural: 'leases' }) > 0, 'a Lease renewal', 20_000);
    const used = accessesOf(api.requests);
    const base = grants(kustomize(join(repoRoot, 'deploy')));
    expect(deniedAccesses(used, base)).toEqual([]);
    const unused = unusedGrants(base, used);
    // This fleet has profiles, so nothing is learned and the learned-model ConfigMap is not written.
    expect(unused.filter((g) => !LEARNED_WRITE_GRANTS.includes(g))).toEqual([]);
  }, 30_000);

  it('after the leader stops, the other replica takes the Lease and publishes the decisions', async () => {
    const old = Number(leaderIdentity()?.slice(-1));
    const next = 1 - old;
    const c = controllers[old] as RunningCli;
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    await eventually(async () => leaderIdentity() === `wva-${next}`, 'the standby to lead', 30_000);
    await eventually(
      async () =>
        (await value(`count(wva_desired_replicas{instance="127.0.0.1:${ports[next]}"})`)) ===
        VARIANTS.length - 1,
      'the new leader to publish',
      30_000,
    );
    for (const v of VARIANTS.filter((x) => x.name !== 'granite-l40s')) {
      expect(await value(kedaQuery(v.ns, v.name))).toBe(decision(v.ns, v.name));
    }
  }, 90_000);
});
