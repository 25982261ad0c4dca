// The controller in local mode learns a variant's performance model from a real Prometheus and
// hands the model from saturation to the SLO engine; a restart keeps what was learned.
//
// The world: one model on two emulated vLLM pods (H100) under a load swinging over ten-minute
// "days", run in virtual time and scraped every 5 s into a real Prometheus (backfilled, so 40
// minutes of traffic take seconds). The controller runs its real cycle (manifests, the one fleet
// query, the learner, the engines, statuses) every 30 s of evaluation time: the collector's
// evaluation time, the controller's clocks and the learner's are all the same injected clock.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { VariantOptimizer } from '../../src/controller/decision.js';
import { type CycleRow, LocalController } from '../../src/controller/local.js';
import { localOptimizerConfig } from '../../src/controller/optimizer-setup.js';
import { FileLearnedStore, type SloParts, sloParts } from '../../src/controller/slo-setup.js';
import { parseEmulatorConfig, VllmEmulator } from '../../src/emulator/index.js';
import { ENGINE_NAMES, OPTIMIZATION_READY } from '../../src/engines/types.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { scrapeEmulator } from '../support/emulator-backfill.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';

const NS = 'llm';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const ARGS = ['--model', MODEL, '--port', '8000', '--max-num-seqs', '64', '--max-num-batched-tokens', '8192'];
const END_MS = BACKFILL_TIME_S * 1000;
const START_MS = END_MS - 40 * 60_000;
const CYCLE_MS = 30_000;
// Rate windows (5 m for tokens per pod) need history before the first cycle reads them.
const FIRST_CYCLE_MS = START_MS + 6 * 60_000;

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: llama-h100, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: llama-h100 } }
  template:
    metadata: { labels: { app: llama-h100 } }
    spec:
      containers:
        - name: vllm
          args: ${JSON.stringify(ARGS)}
status: { replicas: 2, readyReplicas: 2 }
---
apiVersion: llmd.ai/v1alpha1
kind: VariantAutoscaling
metadata:
  name: llama-h100
  namespace: ${NS}
  labels: { inference.optimization/acceleratorName: H100 }
spec:
  modelID: ${MODEL}
  scaleTargetRef: { kind: Deployment, name: llama-h100 }
  variantCost: "70.0"
---
apiVersion: v1
kind: ConfigMap
metadata: { name: service-classes-config, namespace: workload-variant-autoscaler-system }
data:
  premium.yaml: |
    name: Premium
    priority: 1
    data:
      - model: ${MODEL}
        slo-tpot: 40
        slo-ttft: 1000
`;

let prom: PrometheusServer;
let dir: string;

beforeAll(async () => {
  const clock = { now: START_MS };
  const emu = new VllmEmulator(
    parseEmulatorConfig({
      seed: 11,
      tick: '1s',
      jitter: 0.25,
      models: [
        {
          model: MODEL,
          namespace: NS,
          load: { pattern: 'diurnal', rate: 1500, amplitude: 0.8, period: '10m' },
          inputTokens: 512,
          outputTokens: 128,
          variants: [{ name: 'llama-h100', accelerator: 'H100', replicas: 2, args: ARGS }],
        },
      ],
    }),
    { now: () => clock.now },
  );
  const text = await scrapeEmulator(emu, clock, END_MS, 5000, [
    'vllm:request_success',
    'vllm:request_prompt_tokens',
    'vllm:request_generation_tokens',
    'vllm:time_to_first_token_seconds',
    'vllm:inter_token_latency_seconds',
    'vllm:request_queue_time_seconds',
    'vllm:request_prefill_time_seconds',
    'vllm:num_requests_running',
    'vllm:num_requests_waiting',
    'vllm:kv_cache_usage_perc',
    'vllm:cache_config_info',
  ]);
  prom = await startPrometheus({ openmetrics: text });
  dir = mkdtempSync(join(tmpdir(), 'wva-slo-e2e-'));
  writeFileSync(join(dir, 'fleet.yaml'), MANIFESTS);
}, 240_000);

afterAll(async () => {
  await prom?.stop();
});

/** A controller process: its own collector, learner and decider, all on the clock `t`. */
function controller(t: { now: number }, learnedFile: string) {
  const { store } = localOptimizerConfig(silentLogger);
  const opt = {
    store,
    optimizer: new VariantOptimizer({ config: store, stabilizationWindowMs: 0, kvCacheThreshold: 0.9 }),
  };
  const slo: SloParts = sloParts({
    namespace: 'workload-variant-autoscaler-system',
    scaleToZeroEnabled: () => false,
    serviceClasses: () => opt.store.serviceClasses.value,
    store: new FileLearnedStore(learnedFile),
    reconcile: { stabilizationWindowMs: 0 },
    now: () => t.now,
    monotonic: () => t.now,
  });
  const collector = new FleetCollector({
    prom: new PrometheusClient({ url: prom.url, timeoutMs: 10_000 }),
    cache: new ModelMetricsCache({ ttlMs: 1000 }),
    now: () => t.now,
    evaluationTime: () => new Date(t.now),
  });
  const local = new LocalController({
    manifests: dir,
    collector,
    now: () => new Date(t.now),
    optimizer: opt.optimizer,
    optimizerConfig: opt.store,
    saturation: slo,
  });
  return {
    slo,
    async cycle(): Promise<CycleRow> {
      const r = await local.runCycle();
      t.now += CYCLE_MS;
      return r.rows[0] as CycleRow;
    },
    async stop() {
      await local.stop();
      await slo.flush();
    },
  };
}

const readyMessage = (row: CycleRow) =>
  row.conditions.find((c) => c.type === OPTIMIZATION_READY)?.message ?? '';

describe('SLO engine with a learned model, end to end', () => {
  it('decides with saturation (saying why) until the learned model is confident, then with the SLO engine; a restart keeps it', async () => {
    const learnedFile = join(dir, 'learned.json');
    const t = { now: FIRST_CYCLE_MS };
    const first = controller(t, learnedFile);
    const rows: CycleRow[] = [];
    // Until 10 minutes before the data ends: the restarted controller runs in what is left.
    while (t.now < END_MS - 10 * 60_000) rows.push(await first.cycle());
    await first.stop();

    const engines = rows.map((r) => r.engine);
    expect(rows[0]?.engine).toBe(ENGINE_NAMES.saturationV1);
    expect(readyMessage(rows[0] as CycleRow)).toMatch(
      /^saturation-v1: learned model for variant llama-h100 not usable yet \(/,
    );
    const switched = engines.indexOf(ENGINE_NAMES.slo);
    expect(
      switched,
      `never switched; last message: ${readyMessage(rows.at(-1) as CycleRow)}`,
    ).toBeGreaterThan(0);
    // Not before the learner has scored its minimum of cycles.
    expect(switched).toBeGreaterThanOrEqual(19);
    expect(readyMessage(rows[switched] as CycleRow)).toMatch(
      /SLO engine: learned profile \(\d+ cycles, ITL error/,
    );
    // Once confident it stays so while the traffic keeps its shape.
    const after = engines.slice(switched);
    expect(after.filter((e) => e === ENGINE_NAMES.slo).length).toBeGreaterThanOrEqual(after.length - 2);
    const [view] = first.slo.learner.views();
    expect(view?.status.usable).toBe(true);

    // A new process on the same file: confident at its first cycle.
    const second = controller(t, learnedFile);
    const row = await second.cycle();
    expect(row.engine).toBe(ENGINE_NAMES.slo);
    expect(second.slo.learner.views()[0]?.status.cycles).toBeGreaterThan(view?.status.cycles as number);
    await second.stop();

    // Without the file the same cycle is saturation's.
    const fresh = controller({ now: t.now }, join(dir, 'none.json'));
    expect((await fresh.cycle()).engine).toBe(ENGINE_NAMES.saturationV1);
    await fresh.stop();
  }, 240_000);
});
