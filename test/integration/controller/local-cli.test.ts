// Local mode and the `run` command as users start it: `run --manifests … --once --output json`
// against a real Prometheus with backfilled series, and cluster mode against the fake API server
// with SIGTERM for a graceful stop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LocalController, loadManifests } from '../../../src/controller/local.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { runCli, startCli } from '../../support/cli.js';
import { runManifestsOnce } from '../../support/controller-fixtures.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { type PinnedPrometheus, startPinnedPrometheus } from '../../support/pinned-prometheus.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { deployment, expectedAlloc, variant } from '../../support/variants.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../../support/vllm-openmetrics.js';

// JSON read loosely (CLI output, objects from the fake API server).
// biome-ignore lint/suspicious/noExplicitAny: test-only loose JSON access
type Loose = Record<string, any>;

const pods: VllmPodTraffic[] = [
  {
    labels: { model_name: 'meta/llama-8b', namespace: 'prod', pod: 'p1' },
    requestsPerSecond: 4,
    avgPromptTokens: 300,
    avgGenerationTokens: 40,
    avgTtftSeconds: 0.08,
    avgItlSeconds: 0.012,
  },
  {
    labels: { model_name: 'mistral/7b', namespace: 'dev', pod: 'p2' },
    requestsPerSecond: 1,
    avgPromptTokens: 100,
    avgGenerationTokens: 10,
    avgTtftSeconds: 0.03,
    avgItlSeconds: 0.02,
  },
  // Serves traffic but exports no latency histograms: TTFT and ITL are unknown.
  {
    labels: { model_name: 'no-latency/model', namespace: 'prod', pod: 'p3' },
    requestsPerSecond: 2,
    avgPromptTokens: 100,
    avgGenerationTokens: 10,
    omitHistograms: ['ttft', 'itl'],
  },
];

let prom: PrometheusServer;
/** The backfilled instant for `run` in cluster mode (which refuses --time). */
let pinned: PinnedPrometheus;
let dir: string;

beforeAll(async () => {
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
  pinned = await startPinnedPrometheus(prom.url, BACKFILL_TIME_S);
  dir = mkdtempSync(join(tmpdir(), 'wva-manifests-'));
  writeFileSync(
    join(dir, 'variants.yaml'),
    [
      variant('prod', 'llama', 'meta/llama-8b'),
      variant('dev', 'mistral', 'mistral/7b', { accelerator: 'L40S' }),
      variant('dev', 'nodep', 'mistral/7b'),
      variant('dev', 'broken', 'x', { spec: { modelID: 'x', modelProfile: { accelerators: [] } } }),
      variant('prod', 'nolat', 'no-latency/model'),
    ]
      .map((o) => stringify(o))
      .join('---\n'),
  );
  writeFileSync(
    join(dir, 'deployments.yml'),
    `${stringify({ apiVersion: 'v1', kind: 'List', items: [deployment('prod', 'llama', 3), deployment('dev', 'mistral', 1), deployment('prod', 'nolat', 2)] })}---\n${stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ignored' } })}`,
  );
}, 120_000);

afterAll(async () => {
  await pinned?.close();
  await prom?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('loadManifests / LocalController', () => {
  it('reads multi-document files, Lists and directories; ignores other kinds; defaults the namespace', () => {
    const m = loadManifests(dir);
    expect(m.variants.map((v) => `${v.metadata.namespace}/${v.metadata.name}`)).toEqual([
      'prod/llama',
      'dev/mistral',
      'dev/nodep',
      'dev/broken',
      'prod/nolat',
    ]);
    expect(m.deployments).toHaveLength(3);
    const f = join(dir, '..', `wva-single-${process.pid}.yaml`);
    writeFileSync(f, stringify({ ...variant('x', 'a', 'm'), metadata: { name: 'a' } }));
    try {
      expect(loadManifests(f).variants[0]?.metadata.namespace).toBe('default');
    } finally {
      rmSync(f);
    }
  });

  it('says which file is broken', () => {
    const f = join(dir, '..', `wva-bad-${process.pid}.yaml`);
    writeFileSync(f, 'apiVersion: llmd.ai/v1alpha1\nkind: VariantAutoscaling\nmetadata: {name: [oops\n');
    try {
      expect(() => loadManifests(f)).toThrow(f);
    } finally {
      rmSync(f);
    }
  });

  it('keeps statuses between cycles: lastTransitionTime moves only when the condition status changes', async () => {
    let available = true;
    let t = Date.parse('2025-01-01T00:00:00Z');
    const reader = {
      async read(model: string, ns: string): Promise<MetricsRead> {
        return available
          ? {
              metrics: {
                load: { arrivalRate: 1, avgInputTokens: 1, avgOutputTokens: 1 },
                ttftAverage: 1,
                itlAverage: 1,
              },
              availability: { available: true, reason: 'MetricsFound', message: `ok ${model} ${ns}` },
            }
          : { availability: { available: false, reason: 'PrometheusError', message: 'down' } };
      },
    };
    const lc = new LocalController({ manifests: dir, collector: reader, now: () => new Date(t) });
    const ltt = (r: Awaited<ReturnType<typeof lc.runCycle>>) =>
      r.rows.find((x) => x.name === 'llama')?.conditions.find((c) => c.type === 'MetricsAvailable')
        ?.lastTransitionTime;
    const r1 = await lc.runCycle();
    t += 60_000;
    const r2 = await lc.runCycle();
    expect(ltt(r2)).toBe(ltt(r1));
    expect(r2.rows.find((x) => x.name === 'llama')?.outcome).toBe('unchanged');
    available = false;
    t += 60_000;
    const r3 = await lc.runCycle();
    expect(ltt(r3)).toBe('2025-01-01T00:02:00Z');
    expect(r3.rows.find((x) => x.name === 'llama')?.status?.load.arrivalRate).toBe('1.00');
  });
});

describe('wva-metrics run (local mode)', () => {
  /** One local-mode cycle over the manifests, at the backfilled instant. */
  const runOnce = (...args: string[]) => runManifestsOnce(prom.url, dir, ...args);

  it('--once --output json prints what each status would be, from real Prometheus', async () => {
    const r = await runOnce('--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { items: Loose[] };
    const by = Object.fromEntries(doc.items.map((i) => [i.name, i]));
    expect(by.llama.status.currentAlloc).toEqual(expectedAlloc(expectedMetrics([pods[0]!]), 3));
    expect(by.mistral.status.currentAlloc.accelerator).toBe('L40S');
    expect(by.mistral.status.currentAlloc.load.arrivalRate).toBe('60.00');
    expect(by.nodep.status.conditions.find((c: Loose) => c.type === 'Reconciled').reason).toBe(
      'DeploymentNotFound',
    );
    expect(by.nodep.metrics.load.arrivalRate).toBe(60);
    expect(by.broken.status.conditions).toEqual([
      expect.objectContaining({ type: 'Reconciled', status: 'False', reason: 'InvalidSpec' }),
      expect.objectContaining({ type: 'OptimizationReady', status: 'False', reason: 'InvalidProfile' }),
    ]);
    // Traffic without latency histograms: unknown latency, never written as 0.
    const incomplete = by.nolat.status.conditions.find((c: Loose) => c.type === 'MetricsAvailable');
    expect(incomplete).toMatchObject({ status: 'False', reason: 'MetricsIncomplete' });
    expect(incomplete.message).toContain('ttftAverage (vllm:time_to_first_token_seconds)');
    expect(incomplete.message).toContain('itlAverage (vllm:inter_token_latency_seconds');
    expect(by.nolat.status.currentAlloc).toBeUndefined();
    expect(by.nolat.metrics.load).toEqual({
      arrivalRate: 120,
      completionRate: 120,
      avgInputTokens: 100,
      avgOutputTokens: 10,
    });
    expect(by.nolat.metrics.ttftAverage).toBeUndefined();
  });

  it("currentAlloc.variantCost from the manifests' accelerator-unit-costs: unit cost x accCount x replicas", async () => {
    const costed = mkdtempSync(join(tmpdir(), 'wva-costed-'));
    try {
      const costs = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'accelerator-unit-costs', namespace: 'wva-system' },
        data: { A100: JSON.stringify({ device: 'A100', cost: '40.00' }) },
      };
      writeFileSync(
        join(costed, 'all.yaml'),
        [variant('prod', 'llama', 'meta/llama-8b'), deployment('prod', 'llama', 3), costs]
          .map((o) => stringify(o))
          .join('---\n'),
      );
      const r = await runManifestsOnce(prom.url, costed, '--output', 'json');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as { items: Loose[] };
      expect(doc.items[0]?.status.currentAlloc.variantCost).toBe('120.00');
    } finally {
      rmSync(costed, { recursive: true, force: true });
    }
  });

  it('prints a table by default; one line of error and exit 2 for a missing path', async () => {
    const r = await runOnce();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NAMESPACE\s+NAME\s+MODEL\s+REPLICAS/);
    expect(r.stdout).toMatch(/prod\s+llama\s+meta\/llama-8b\s+3\s+240\.00/);
    const bad = await runCli(['run', '--manifests', join(dir, 'nope.yaml'), '--once']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('nope.yaml');
  });
});

describe('wva-metrics run (cluster mode, fake API server)', () => {
  const configMap = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'variantautoscaling-config', namespace: 'wva-system' },
    data: { PROMETHEUS_BASE_URL: pinned.url, GLOBAL_OPT_INTERVAL: '60s', ...data },
  });

  /** A fake API server holding one VariantAutoscaling, its Deployment and the ConfigMap, and `run` against it. */
  async function startCluster(args: string[] = []) {
    const api = await FakeApiServer.start();
    const kcFile = join(dir, '..', `wva-kubeconfig-${process.pid}.yaml`);
    writeFileSync(kcFile, api.kubeConfigYaml());
    api.put('variantautoscalings', variant('prod', 'llama', 'meta/llama-8b'));
    api.put('deployments', deployment('prod', 'llama', 2));
    api.put('configmaps', configMap({}));
    const run = startCli(
      [
        'run',
        '--kubeconfig',
        kcFile,
        '--lease-namespace',
        'wva-system',
        '--metrics-addr',
        '127.0.0.1:0',
        ...args,
      ],
      { env: { POD_NAME: 'wva-0', LOG_LEVEL: 'info' } },
    );
    const until = async (cond: () => boolean | Promise<boolean>, what: string) => {
      const end = Date.now() + 30_000;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`${what}: not within 30 s; stderr:\n${run.stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const close = async () => {
      run.child.kill('SIGKILL');
      rmSync(kcFile, { force: true });
      await api.close();
    };
    return { api, run, until, close };
  }

  it('writes status, serves /readyz, and on SIGTERM stops within seconds and releases the Lease', async () => {
    const { api, run, until, close } = await startCluster();
    try {
      await until(
        () => !!(api.get('variantautoscalings', 'prod', 'llama')?.status as Loose | undefined)?.currentAlloc,
        'status written',
      );
      const alloc = (api.get('variantautoscalings', 'prod', 'llama')?.status as Loose | undefined)
        ?.currentAlloc;
      expect(alloc.numReplicas).toBe(2);
      expect(alloc.load.arrivalRate).toBe(expectedMetrics([pods[0]!]).arrivalRate.toFixed(2));
      // The Prometheus URL came from the ConfigMap (no flag or env gave it).
      expect(api.count({ method: 'GET', plural: 'configmaps' })).toBeGreaterThanOrEqual(1);
      expect(
        (api.get('leases', 'wva-system', 'wva-metrics-controller')?.spec as Loose | undefined)
          ?.holderIdentity,
      ).toBe('wva-0');
      const port = Number(/"telemetryPort":(\d+)/.exec(run.stderr())?.[1]);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);

      const t0 = Date.now();
      run.child.kill('SIGTERM');
      const code = await run.exited;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(code).toBe(0);
      expect(api.openWatches).toBe(0);
      expect(
        (api.get('leases', 'wva-system', 'wva-metrics-controller')?.spec as Loose | undefined)
          ?.holderIdentity,
      ).toBeUndefined();
    } finally {
      await close();
    }
  }, 60_000);

  it('--actuator advisory with --controller-instance: only labelled objects, published under the advisory name', async () => {
    const { api, run, until, close } = await startCluster([
      '--actuator',
      'advisory',
      '--controller-instance',
      'shard-a',
    ]);
    try {
      const labelled = variant('prod', 'llama-b', 'meta/llama-8b', {
        labels: { 'wva.llmd.ai/controller-instance': 'shard-a' },
      });
      api.put('variantautoscalings', labelled);
      api.put('deployments', deployment('prod', 'llama-b', 3));
      await until(
        () =>
          !!(api.get('variantautoscalings', 'prod', 'llama-b')?.status as Loose | undefined)?.currentAlloc,
        'status of the labelled object written',
      );
      expect(api.get('variantautoscalings', 'prod', 'llama')?.status).toBeUndefined();
      const port = Number(/"telemetryPort":(\d+)/.exec(run.stderr())?.[1]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(
        'wva_advisory_desired_replicas{variant_name="llama-b",namespace="prod",accelerator_type="A100",controller_instance="shard-a"} 3',
      );
      expect(metrics).not.toMatch(/^wva_desired_replicas\{/m);
      expect(metrics).not.toContain('variant_name="llama"');
      expect(api.count({ method: 'PATCH', plural: 'deployments' })).toBe(0);
    } finally {
      await close();
    }
  }, 60_000);

  it('--namespaces: the fleet query reads only the watched namespaces, through the real Prometheus', async () => {
    const proxy = await startFaultProxy({ upstream: pinned.url, mode: { kind: 'pass' } });
    const { api, until, close } = await startCluster(['--namespaces', 'prod', '--prometheus-url', proxy.url]);
    try {
      await until(
        () => !!(api.get('variantautoscalings', 'prod', 'llama')?.status as Loose | undefined)?.currentAlloc,
        'status written',
      );
      const queries = proxy.bodies.map((b) => new URLSearchParams(b).get('query') ?? '');
      expect(queries.length).toBeGreaterThanOrEqual(1);
      for (const q of queries) {
        const selectors = q.match(/vllm:[a-z_:]+(\{[^}]*\})?/g) ?? [];
        expect(selectors.length).toBeGreaterThan(15);
        for (const sel of selectors) expect(sel).toMatch(/\{namespace=~"prod"\}$/);
      }
    } finally {
      await close();
      await proxy.close();
    }
  }, 60_000);

  it('--time is refused in cluster mode: one line saying why and what to do, exit 2', async () => {
    const r = await runCli(['run', '--time', String(BACKFILL_TIME_S)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      '--time needs --manifests (local mode): in a cluster the controller would publish and scale from a pinned past instant',
    );
  });

  it("a ConfigMap it may not read: one line with the API server's reason and what to do", async () => {
    const api = await FakeApiServer.start();
    const kcFile = join(dir, '..', `wva-kubeconfig-403-${process.pid}.yaml`);
    writeFileSync(kcFile, api.kubeConfigYaml());
    api.inject({ method: 'GET', plural: 'configmaps', status: 403, times: Number.POSITIVE_INFINITY });
    try {
      const r = await runCli(['run', '--kubeconfig', kcFile, '--lease-namespace', 'wva-system']);
      expect(r.code).toBe(1);
      // The log line saying what startup waits for, then the one error line.
      const [waiting, ...lines] = r.stderr.trim().split('\n');
      expect(JSON.parse(waiting ?? '').msg).toBe(
        'reading ConfigMap wva-system/wva-variantautoscaling-config from the API server',
      );
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('cannot read ConfigMap wva-system/wva-variantautoscaling-config');
      // The server's own message (who may not do what), not just a status code.
      expect(lines[0]).toContain('injected fault 403');
      expect(lines[0]).toContain('--no-configmap');
    } finally {
      rmSync(kcFile, { force: true });
      await api.close();
    }
  }, 30_000);

  it('--config file and ConfigMap reload together: a file change keeps a ConfigMap value that has precedence', async () => {
    const cfgDir = mkdtempSync(join(tmpdir(), 'wva-run-config-'));
    const file = join(cfgDir, 'config.yaml');
    writeFileSync(file, 'WVA_CACHE_TTL: 30s\n');
    const { api, run, until, close } = await startCluster(['--config', file]);
    try {
      await until(() => /"telemetryPort":\d+/.test(run.stderr()), 'controller started');
      const port = Number(/"telemetryPort":(\d+)/.exec(run.stderr())?.[1]);
      const ttl = async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return Number(/^wva_cache_ttl_seconds\{entry="valid"\} (\S+)$/m.exec(text)?.[1]);
      };
      const reloads = () =>
        run
          .stderr()
          .split('\n')
          .filter((l) => l.includes('"configuration reloaded"'))
          .map((l) => JSON.parse(l) as Loose);
      expect(await ttl()).toBe(30);

      // The ConfigMap (above the file) sets the TTL.
      api.put('configmaps', configMap({ WVA_CACHE_TTL: '20s' }));
      await until(async () => (await ttl()) === 20, 'ConfigMap TTL applied');

      // Then the file changes another key: the ConfigMap's TTL stays in force.
      writeFileSync(file, 'WVA_CACHE_TTL: 30s\nWVA_QUERY_WINDOW: 2m\n');
      await until(() => reloads().some((r) => r.window === '2m'), 'file change applied');
      const last = reloads().at(-1);
      expect(last?.changed).toEqual(['WVA_QUERY_WINDOW']);
      expect(last?.ttl).toBe('20s');
      expect(await ttl()).toBe(20);

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      await close();
      rmSync(cfgDir, { recursive: true, force: true });
    }
  }, 60_000);
});
