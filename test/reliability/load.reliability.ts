// Load: 10 000 VariantAutoscalings over 1 000 models in 4 namespaces, plus one model with 400
// variants (a group the optimizer sizes together: its cost must stay linear in the variants), one `wva-metrics
// run` process (the real CLI, cluster mode) against the fake API server and a real Prometheus
// backfilled with all 1 000 models. Measures the first cycle (10 000 status patches) and the
// second (nothing changed), the Prometheus calls per cycle (Prometheus' own counter), and the
// controller process' peak RSS. Targets: one call per cycle, a cycle under 10 s, RSS under 300 MB.
// The controller runs as it ships: the built dist/ on plain Node with the Node flags of the image's
// ENTRYPOINT (read from the Dockerfile, so the two cannot drift apart), not through tsx.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { imageNodeFlags, shippedClusterRun } from '../support/image.js';
import { type PinnedPrometheus, startPinnedPrometheus } from '../support/pinned-prometheus.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';
import { deployment, variant } from '../support/variants.js';
import { type VllmPodTraffic, vllmOpenMetrics } from '../support/vllm-openmetrics.js';

const MODELS = Number(process.env.WVA_LOAD_MODELS ?? 1000);
const PER_MODEL = Number(process.env.WVA_LOAD_VARIANTS_PER_MODEL ?? 10);
const BIG = Number(process.env.WVA_LOAD_BIG_MODEL_VARIANTS ?? 400);
const VAS = MODELS * PER_MODEL + BIG;
const ns = (i: number) => `team-${i % 4}`;
const model = (i: number) => `org/model-${String(i).padStart(4, '0')}`;

const CONTROLLER_NS = 'workload-variant-autoscaler-system';

let prom: PrometheusServer;
/** What the controller queries: the backfilled instant (cluster mode refuses --time). */
let pinned: PinnedPrometheus;
let api: FakeApiServer;
let dir: string;

beforeAll(async () => {
  const pods: VllmPodTraffic[] = Array.from({ length: MODELS }, (_, i) => ({
    labels: { model_name: model(i), namespace: ns(i), pod: `pod-${i}` },
    requestsPerSecond: 1 + (i % 7),
    avgPromptTokens: 100 + (i % 50),
    avgGenerationTokens: 20 + (i % 13),
    avgTtftSeconds: 0.05,
    avgItlSeconds: 0.01,
    stepS: 30,
  }));
  if (BIG > 0) {
    pods.push({
      labels: { model_name: 'org/model-big', namespace: ns(0), pod: 'pod-big' },
      requestsPerSecond: 200,
      avgPromptTokens: 100,
      avgGenerationTokens: 20,
      avgTtftSeconds: 0.05,
      avgItlSeconds: 0.01,
      stepS: 30,
    });
  }
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
  pinned = await startPinnedPrometheus(prom.url, BACKFILL_TIME_S);
  api = await FakeApiServer.start();
  for (let i = 0; i < MODELS; i++) {
    for (let j = 0; j < PER_MODEL; j++) {
      api.put('variantautoscalings', variant(ns(i), `va-${i}-${j}`, model(i)));
      api.put('deployments', deployment(ns(i), `va-${i}-${j}`, 1 + (j % 3)));
    }
  }
  for (let j = 0; j < BIG; j++) {
    api.put('variantautoscalings', variant(ns(0), `big-${j}`, 'org/model-big'));
    api.put('deployments', deployment(ns(0), `big-${j}`, 1 + (j % 3)));
  }
  // The optimizer's ConfigMaps, so that every variant is sized (with its model's other variants).
  const entries = [...Array.from({ length: MODELS }, (_, i) => model(i)), 'org/model-big']
    .map((m) => `  - model: ${m}\n    slo-tpot: 40\n    slo-ttft: 1000\n`)
    .join('');
  api.put('configmaps', {
    metadata: { name: 'service-classes-config', namespace: CONTROLLER_NS },
    data: { 'premium.yaml': `name: Premium\npriority: 1\ndata:\n${entries}` },
  });
  api.put('configmaps', {
    metadata: { name: 'accelerator-unit-costs', namespace: CONTROLLER_NS },
    data: { A100: '{ "device": "NVIDIA-A100-SXM4-80GB", "cost": "40.00" }' },
  });
  dir = mkdtempSync(join(tmpdir(), 'wva-load-'));
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}, 5 * 60_000);

const root = fileURLToPath(new URL('../../', import.meta.url));

afterAll(async () => {
  await api?.close();
  await pinned?.close();
  await prom?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** VariantAutoscalings whose status says OptimizationReady=True. */
const optimized = () =>
  api
    .list('variantautoscalings')
    .filter((v) =>
      (
        (v.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []
      ).some((c) => c.type === 'OptimizationReady' && c.status === 'True'),
    ).length;

interface LogLine {
  msg?: string;
  objects?: number;
  written?: number;
  failed?: number;
  durationMs?: number;
  wvaReliability?: { maxRssKiB: number };
}

describe(`load: ${VAS} VariantAutoscalings over ${MODELS} models and one of ${BIG} variants`, () => {
  it('one Prometheus call per cycle; cycle time and peak RSS within target', async () => {
    const kc = join(dir, 'kubeconfig.yaml');
    writeFileSync(kc, api.kubeConfigYaml());
    const nodeArgs = [
      ...imageNodeFlags(),
      ...(process.env.WVA_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ];
    const callsBefore = await prom.queryCalls();
    const child = spawn(
      process.execPath,
      shippedClusterRun({
        kubeconfig: kc,
        prometheusUrl: pinned.url,
        nodeArgs: (process.env.WVA_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean),
        args: ['--interval', '20s', '--cache-max-entries', '5000'],
      }),
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'info', POD_NAMESPACE: CONTROLLER_NS },
      },
    );
    const lines: LogLine[] = [];
    let buf = '';
    child.stderr.on('data', (d: Buffer) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          lines.push(JSON.parse(line) as LogLine);
        } catch {
          lines.push({ msg: line });
        }
        nl = buf.indexOf('\n');
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const cycles = () => lines.filter((l) => l.msg === 'reconcile cycle finished');
    // RSS over time from /proc, to tell the list/watch phase from the cycles.
    const rssSamples: number[] = [];
    const sampler = setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) rssSamples.push(Math.round(Number(m[1]) / 1024));
      } catch {
        // exited
      }
    }, 500);
    try {
      const t0 = Date.now();
      while (cycles().length < 1) {
        if (Date.now() - t0 > 120_000)
          throw new Error(`no cycle after 120 s: ${JSON.stringify(lines.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const callsAfterFirst = (await prom.queryCalls()) - callsBefore;
      while (cycles().length < 2) {
        if (Date.now() - t0 > 180_000) throw new Error('no second cycle');
        await new Promise((r) => setTimeout(r, 100));
      }
      const callsAfterSecond = (await prom.queryCalls()) - callsBefore;
      child.kill('SIGTERM');
      const code = await exited;
      clearInterval(sampler);
      const rss = lines.find((l) => l.wvaReliability)?.wvaReliability?.maxRssKiB ?? Number.NaN;
      const [first, second] = cycles();
      const report = {
        vas: VAS,
        models: MODELS,
        bigModelVariants: BIG,
        firstCycle: {
          ms: Math.round(first?.durationMs ?? Number.NaN),
          written: first?.written,
          failed: first?.failed,
        },
        secondCycle: {
          ms: Math.round(second?.durationMs ?? Number.NaN),
          written: second?.written,
          failed: second?.failed,
        },
        promCalls: {
          firstCycleInclWarming: callsAfterFirst,
          secondCycle: callsAfterSecond - callsAfterFirst,
        },
        peakRssMiB: Math.round(rss / 1024),
        rssMiBEvery2s: rssSamples.filter((_, k) => k % 4 === 0),
        nodeArgs: nodeArgs.join(' '),
        patches: api.count({ method: 'PATCH', status: 200 }),
        optimized: optimized(),
        cpus: cpus().length,
      };
      console.log(`LOAD ${JSON.stringify(report)}`);
      expect(code).toBe(0);
      expect(first?.objects).toBe(VAS);
      expect(first?.failed).toBe(0);
      expect(first?.written).toBe(VAS);
      expect(second?.written).toBe(0);
      // Every variant was sized, not refused before the optimizer ran.
      expect(optimized()).toBe(VAS);
      expect(callsAfterFirst).toBe(1);
      expect(callsAfterSecond - callsAfterFirst).toBe(1);
      expect(first?.durationMs).toBeLessThan(10_000);
      expect(second?.durationMs).toBeLessThan(10_000);
      expect(rss / 1024).toBeLessThan(300);
    } finally {
      clearInterval(sampler);
      child.kill('SIGKILL');
    }
  });
});
