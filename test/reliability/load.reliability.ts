// Load: one `wva-metrics run` process (the real CLI, cluster mode) against the fake API server and a
// real Prometheus backfilled with the fleet's series, in two fleets, one after the other:
// - `slo`: 10 000 VariantAutoscalings with SLO profiles over 1 000 models in 4 namespaces, plus one
//   model with 400 variants (a group the optimizer sizes together: its cost must stay linear in the
//   variants), decided by the queueing-model SLO engine;
// - `saturation`: 10 000 profile-less VariantAutoscalings in upstream v0.5's shape (scaleTargetRef,
//   variantCost) over 1 000 models, 3 pods per model named as a Deployment names them, decided by
//   the saturation engine from the per-pod series of the same fleet query.
// Each measures the first cycle (10 000 status patches) and the second (nothing changed), the
// Prometheus calls per cycle (Prometheus' own counter), and the controller process' peak RSS.
// Targets: one call per cycle, a cycle under 10 s, RSS under 300 MiB.
// The controller runs as it ships: the built dist/ on plain Node with the Node flags of the image's
// ENTRYPOINT (read from the Dockerfile, so the two cannot drift apart), not through tsx.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetQuery } from '../../src/prometheus/promql.js';
import { FakeApiServer, type Obj } from '../support/fake-apiserver.js';
import { imageNodeFlags, shippedClusterRun } from '../support/image.js';
import { type PinnedPrometheus, startPinnedPrometheus } from '../support/pinned-prometheus.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';
import { deployment, variant } from '../support/variants.js';
import { type VllmPodTraffic, vllmOpenMetrics } from '../support/vllm-openmetrics.js';

const MODELS = Number(process.env.WVA_LOAD_MODELS ?? 1000);
const PER_MODEL = Number(process.env.WVA_LOAD_VARIANTS_PER_MODEL ?? 10);
const BIG = Number(process.env.WVA_LOAD_BIG_MODEL_VARIANTS ?? 400);
/** Pods per model in the saturation fleet (issue 21: 1 000 models with 3 pods each). */
const PODS_PER_MODEL = Number(process.env.WVA_LOAD_PODS_PER_MODEL ?? 3);
/** `slo`, `saturation` or both (unset). */
const ONLY = process.env.WVA_LOAD_FLEET;
const ns = (i: number) => `team-${i % 4}`;
const CONTROLLER_NS = 'workload-variant-autoscaler-system';
const root = fileURLToPath(new URL('../../', import.meta.url));

beforeAll(() => {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}, 5 * 60_000);

// biome-ignore lint/suspicious/noExplicitAny: statuses are read loosely
type Loose = Record<string, any>;
const conditionOf = (va: Obj, type: string): Loose | undefined =>
  ((va.status as Loose | undefined)?.conditions ?? []).find((c: Loose) => c.type === type);

interface LogLine {
  msg?: string;
  err?: string;
  namespace?: string;
  modelId?: string;
  objects?: number;
  written?: number;
  failed?: number;
  durationMs?: number;
  wvaReliability?: { maxRssKiB: number };
}

interface Fleet {
  prom: PrometheusServer;
  /** What the controller queries: the backfilled instant (cluster mode refuses --time). */
  pinned: PinnedPrometheus;
  api: FakeApiServer;
  dir: string;
}

async function startFleet(pods: VllmPodTraffic[], objects: (api: FakeApiServer) => void): Promise<Fleet> {
  const prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
  const pinned = await startPinnedPrometheus(prom.url, BACKFILL_TIME_S);
  const api = await FakeApiServer.start();
  objects(api);
  return { prom, pinned, api, dir: mkdtempSync(join(tmpdir(), 'wva-load-')) };
}

async function stopFleet(f: Fleet | undefined): Promise<void> {
  await f?.api.close();
  await f?.pinned.close();
  await f?.prom.stop();
  if (f?.dir) rmSync(f.dir, { recursive: true, force: true });
}

interface LoadRun {
  first: LogLine | undefined;
  second: LogLine | undefined;
  callsFirst: number;
  callsSecond: number;
  exitCode: number | null;
  peakRssMiB: number;
  report: Record<string, unknown>;
  /** The controller's log lines (stderr, JSON). */
  logs: LogLine[];
}

/**
 * Runs the shipped controller over the fleet until its second cycle ends, then stops it (SIGTERM).
 * WVA_LOAD_NODE_ARGS adds Node flags (diagnosis: --heap-prof, --trace-gc with WVA_LOAD_STDOUT=<file>).
 */
async function runController(f: Fleet): Promise<LoadRun> {
  const kc = join(f.dir, 'kubeconfig.yaml');
  writeFileSync(kc, f.api.kubeConfigYaml());
  const extraNodeArgs = (process.env.WVA_LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const callsBefore = await f.prom.queryCalls();
  const stdout = process.env.WVA_LOAD_STDOUT ? openSync(process.env.WVA_LOAD_STDOUT, 'w') : 'ignore';
  const child = spawn(
    process.execPath,
    shippedClusterRun({
      kubeconfig: kc,
      prometheusUrl: f.pinned.url,
      nodeArgs: extraNodeArgs,
      args: ['--interval', '20s', '--cache-max-entries', '5000'],
    }),
    {
      stdio: ['ignore', stdout, 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info', POD_NAMESPACE: CONTROLLER_NS },
    },
  );
  const lines: LogLine[] = [];
  let buf = '';
  child.stderr?.on('data', (d: Buffer) => {
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
      if (Date.now() - t0 > 180_000)
        throw new Error(`no cycle after 180 s: ${JSON.stringify(lines.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const callsAfterFirst = (await f.prom.queryCalls()) - callsBefore;
    while (cycles().length < 2) {
      if (Date.now() - t0 > 240_000) throw new Error('no second cycle');
      await new Promise((r) => setTimeout(r, 100));
    }
    const callsAfterSecond = (await f.prom.queryCalls()) - callsBefore;
    child.kill('SIGTERM');
    const exitCode = await exited;
    clearInterval(sampler);
    const rss = lines.find((l) => l.wvaReliability)?.wvaReliability?.maxRssKiB ?? Number.NaN;
    const [first, second] = cycles();
    const peakRssMiB = Math.round(rss / 1024);
    return {
      first,
      second,
      callsFirst: callsAfterFirst,
      callsSecond: callsAfterSecond - callsAfterFirst,
      exitCode,
      peakRssMiB,
      logs: lines,
      report: {
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
        peakRssMiB,
        rssMiBEvery2s: rssSamples.filter((_, k) => k % 4 === 0),
        nodeArgs: [...imageNodeFlags(), ...extraNodeArgs].join(' '),
        patches: f.api.count({ method: 'PATCH', status: 200 }),
        cpus: cpus().length,
      },
    };
  } finally {
    clearInterval(sampler);
    child.kill('SIGKILL');
  }
}

/**
 * The targets every fleet meets. `secondWritten`: the statuses the second cycle may rewrite (0: the
 * first cycle decided everything from complete inputs).
 */
function expectTargets(r: LoadRun, vas: number, secondWritten = 0): void {
  expect(r.exitCode).toBe(0);
  expect(r.first?.objects).toBe(vas);
  expect(r.first?.failed).toBe(0);
  expect(r.first?.written).toBe(vas);
  expect(r.second?.written).toBe(secondWritten);
  expect(r.callsFirst).toBe(1);
  expect(r.callsSecond).toBe(1);
  expect(r.first?.durationMs).toBeLessThan(10_000);
  expect(r.second?.durationMs).toBeLessThan(10_000);
  expect(r.peakRssMiB).toBeLessThan(300);
}

const SLO_VAS = MODELS * PER_MODEL + BIG;
const sloModel = (i: number) => `org/model-${String(i).padStart(4, '0')}`;

describe.runIf(ONLY === undefined || ONLY === 'slo')(
  `load (SLO engine): ${SLO_VAS} VariantAutoscalings over ${MODELS} models and one of ${BIG} variants`,
  () => {
    let f: Fleet | undefined;
    beforeAll(async () => {
      const pods: VllmPodTraffic[] = Array.from({ length: MODELS }, (_, i) => ({
        labels: { model_name: sloModel(i), namespace: ns(i), pod: `pod-${i}` },
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
      f = await startFleet(pods, (api) => {
        for (let i = 0; i < MODELS; i++) {
          for (let j = 0; j < PER_MODEL; j++) {
            api.put('variantautoscalings', variant(ns(i), `va-${i}-${j}`, sloModel(i)));
            api.put('deployments', deployment(ns(i), `va-${i}-${j}`, 1 + (j % 3)));
          }
        }
        for (let j = 0; j < BIG; j++) {
          api.put('variantautoscalings', variant(ns(0), `big-${j}`, 'org/model-big'));
          api.put('deployments', deployment(ns(0), `big-${j}`, 1 + (j % 3)));
        }
        // The optimizer's ConfigMaps, so that every variant is sized (with its model's other variants).
        const entries = [...Array.from({ length: MODELS }, (_, i) => sloModel(i)), 'org/model-big']
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
      });
    }, 5 * 60_000);
    afterAll(() => stopFleet(f));

    it('one Prometheus call per cycle; cycle time and peak RSS within target', async () => {
      const api = (f as Fleet).api;
      const r = await runController(f as Fleet);
      // Every variant was sized, not refused before the optimizer ran.
      const optimized = api
        .list('variantautoscalings')
        .filter((v) => conditionOf(v, 'OptimizationReady')?.status === 'True').length;
      console.log(
        `LOAD ${JSON.stringify({ fleet: 'slo', vas: SLO_VAS, models: MODELS, bigModelVariants: BIG, ...r.report, optimized })}`,
      );
      expectTargets(r, SLO_VAS);
      expect(optimized).toBe(SLO_VAS);
    });
  },
);

const SAT_VAS = MODELS * PER_MODEL;
const satModel = (i: number) => `org/sat-${String(i).padStart(4, '0')}`;
const satVa = (i: number, j: number) => `sat-${i}-${j}`;
const satTarget = (i: number, j: number) => `${satVa(i, j)}-decode`;
/** Variant j of a model runs a pod when j < PODS_PER_MODEL (one each); the others are at 0. */
const runs = (j: number) => j < PODS_PER_MODEL;
/** Every other model is saturated (KV cache above the 0.80 trigger on all its pods). */
const saturated = (i: number) => i % 2 === 0;

/**
 * A serving pod of Deployment `target` as the API server has it, trimmed to what the controller's
 * Pod informer reads: the Deployment's selector labels (deployment() selects `app: <name>`) and the
 * pod-template-hash, its ReplicaSet `<target>-<hash>` as controlling owner (the matcher follows it to
 * the Deployment by name), Running and Ready. No spec: nothing in the saturation path reads it, and
 * 3 000 bare pods keep the fake API server small.
 */
function satPod(namespace: string, name: string, target: string, hash: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: target, 'pod-template-hash': hash },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${target}-${hash}`,
          uid: `${target}-${hash}`,
          controller: true,
        },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

describe.runIf(ONLY === undefined || ONLY === 'saturation')(
  `load (saturation engine): ${SAT_VAS} profile-less VariantAutoscalings over ${MODELS} models, ${PODS_PER_MODEL} pods each`,
  () => {
    let f: Fleet | undefined;
    beforeAll(async () => {
      const pods: VllmPodTraffic[] = [];
      // The Pod objects of the serving pods: the controller maps a pod's series to a variant only
      // through the Pod informer (owner chain, else the Deployment's selector), never by name.
      const podObjects: Obj[] = [];
      for (let i = 0; i < MODELS; i++) {
        for (let j = 0; j < PER_MODEL; j++) {
          if (!runs(j)) continue;
          // As a Deployment names its pods: <deployment>-<pod-template-hash>-<suffix>.
          const hash = (0x5c7d9f4b8 + i * 131 + j).toString(16).slice(-9);
          const pod = `${satTarget(i, j)}-${hash}-x${j}k2q`;
          podObjects.push(satPod(ns(i), pod, satTarget(i, j), hash));
          pods.push({
            labels: { model_name: satModel(i), namespace: ns(i), pod },
            requestsPerSecond: 1 + (i % 5),
            avgPromptTokens: 200,
            avgGenerationTokens: 40,
            avgTtftSeconds: 0.05,
            avgItlSeconds: 0.01,
            kvCacheUsage: saturated(i) ? 0.9 : 0.3,
            stepS: 30,
          });
        }
      }
      f = await startFleet(pods, (api) => {
        for (let i = 0; i < MODELS; i++) {
          for (let j = 0; j < PER_MODEL; j++) {
            const name = satVa(i, j);
            api.put('variantautoscalings', {
              apiVersion: 'llmd.ai/v1alpha1',
              kind: 'VariantAutoscaling',
              metadata: {
                name,
                namespace: ns(i),
                labels: { 'inference.optimization/acceleratorName': 'L4' },
              },
              spec: {
                scaleTargetRef: { kind: 'Deployment', name: satTarget(i, j) },
                modelID: satModel(i),
                // Variant 0 is the cheapest: a saturated model's scale-up goes there.
                variantCost: `${5 + j}.0`,
              },
            });
            api.put('deployments', deployment(ns(i), satTarget(i, j), runs(j) ? 1 : 0));
          }
        }
        for (const p of podObjects) api.put('pods', p);
      });
    }, 5 * 60_000);
    afterAll(() => stopFleet(f));

    it('decided by the saturation engine: one Prometheus call per cycle; cycle time and peak RSS within target', async () => {
      const api = (f as Fleet).api;
      const r = await runController(f as Fleet);
      const vas = api.list('variantautoscalings');
      const bySaturation = vas.filter(
        (v) => conditionOf(v, 'OptimizationReady')?.reason === 'SaturationOnlyMode',
      );
      const desired = (i: number, j: number) =>
        (api.get('variantautoscalings', ns(i), satVa(i, j)) as Loose | undefined)?.status
          ?.desiredOptimizedAlloc?.numReplicas;
      const scaledUp = Array.from({ length: MODELS }, (_, i) => i).filter(
        (i) => saturated(i) && desired(i, 0) === 2,
      ).length;
      // The fleet reply's size (one query after the run, so the per-cycle call counts are not touched):
      // the controller refuses a reply over its cap (WVA_PROMETHEUS_MAX_REPLY_BYTES, default 8 MiB)
      // and then has no per-pod series at all.
      const fleetReplyBytes = (
        await (
          await fetch(`${(f as Fleet).pinned.url}/api/v1/query?query=${encodeURIComponent(fleetQuery())}`)
        ).text()
      ).length;
      const replyRefused = r.logs.filter((l) =>
        /larger than the .* limit \(maxReplyBytes\)/.test(l.err ?? ''),
      );
      // The Pod watch starts at the first cycle's first use, and the saturation engines wait for its
      // list: no model is decided pod-less ("pods not listed yet"), so the second cycle writes nothing.
      const notListed = new Set(
        r.logs
          .filter((l) => l.msg?.startsWith('pods not listed yet'))
          .map((l) => `${l.namespace}/${l.modelId}`),
      ).size;
      console.log(
        `LOAD ${JSON.stringify({ fleet: 'saturation', vas: SAT_VAS, models: MODELS, podsPerModel: PODS_PER_MODEL, ...r.report, decidedBySaturation: bySaturation.length, saturatedModelsScaledUp: scaledUp, fleetReplyBytes, replyRefused: replyRefused.length, modelsDecidedBeforePodsListed: notListed })}`,
      );
      expect(
        replyRefused.map((l) => l.err),
        `the fleet reply (${fleetReplyBytes} bytes) was refused: no per-pod series reached the saturation engine`,
      ).toEqual([]);
      expect(notListed).toBe(0);
      expectTargets(r, SAT_VAS);
      // Every variant with a reporting pod got the saturation engine's decision...
      expect(bySaturation.length).toBe(MODELS * Math.min(PODS_PER_MODEL, PER_MODEL));
      // ...and every saturated model one more replica on its cheapest variant, the others none.
      expect(scaledUp).toBe(Math.ceil(MODELS / 2));
      if (MODELS > 1) expect(desired(1, 0)).toBe(1);
    });
  },
);
