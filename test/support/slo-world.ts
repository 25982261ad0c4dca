// The world of the learned-engine end-to-end tests: one model on two emulated vLLM pods (H100)
// under a load swinging over ten-minute "days", run in virtual time and scraped every 5 s into a
// real Prometheus (backfilled, so 40 minutes of traffic take seconds); and a local controller
// (collector, learner, engines, statuses) whose clocks are all one injected clock.
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { VariantOptimizer } from '../../src/controller/decision.js';
import { type CycleRow, LocalController } from '../../src/controller/local.js';
import { localOptimizerConfig } from '../../src/controller/optimizer-setup.js';
import type { LearnedStore } from '../../src/controller/slo-persistence.js';
import { type SloParts, sloParts } from '../../src/controller/slo-setup.js';
import { parseEmulatorConfig, VllmEmulator } from '../../src/emulator/index.js';
import { OPTIMIZATION_READY } from '../../src/engines/types.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { scrapeEmulator } from './emulator-backfill.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from './prometheus.js';

export const NS = 'llm';
export const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
export const ARGS = [
  '--model',
  MODEL,
  '--port',
  '8000',
  '--max-num-seqs',
  '64',
  '--max-num-batched-tokens',
  '8192',
];
export const END_MS = BACKFILL_TIME_S * 1000;
export const START_MS = END_MS - 40 * 60_000;
export const CYCLE_MS = 30_000;
/** Rate windows (5 m for tokens per pod) need history before the first cycle reads them. */
export const FIRST_CYCLE_MS = START_MS + 6 * 60_000;

/** The Deployment the variant scales (two ready pods running ARGS). */
export const DEPLOYMENT_YAML = `
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
`;

/** A service class listing MODEL (ITL 40 ms, TTFT 1 s). */
export const SERVICE_CLASS_YAML = `
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

/** The emulated traffic of START_MS..END_MS, backfilled into a started Prometheus. */
export async function startSloWorld(): Promise<PrometheusServer> {
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
  return startPrometheus({ openmetrics: text });
}

export interface SloController {
  slo: SloParts;
  /** One cycle at the clock's time; the clock then moves CYCLE_MS on. */
  cycle(): Promise<CycleRow>;
  /** Stops the controller and writes what was learned (when a store is given). */
  stop(): Promise<void>;
}

/** A controller process over the manifests in `manifests`, on the clock `t`, persisting to `store`. */
export function sloController(
  prom: PrometheusServer,
  manifests: string,
  t: { now: number },
  store?: LearnedStore,
): SloController {
  const { store: config } = localOptimizerConfig(silentLogger);
  const slo = sloParts({
    namespace: 'workload-variant-autoscaler-system',
    scaleToZeroEnabled: () => false,
    serviceClasses: () => config.serviceClasses.value,
    ...(store ? { store } : {}),
    reconcile: { stabilizationWindowMs: 0 },
    now: () => t.now,
    monotonic: () => t.now,
  });
  const local = new LocalController({
    manifests,
    collector: new FleetCollector({
      prom: new PrometheusClient({ url: prom.url, timeoutMs: 10_000 }),
      cache: new ModelMetricsCache({ ttlMs: 1000 }),
      now: () => t.now,
      evaluationTime: () => new Date(t.now),
    }),
    now: () => new Date(t.now),
    optimizer: new VariantOptimizer({ config, stabilizationWindowMs: 0, kvCacheThreshold: 0.9 }),
    optimizerConfig: config,
    saturation: slo,
  });
  return {
    slo,
    async cycle() {
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

export const readyMessage = (row: CycleRow | undefined): string =>
  row?.conditions.find((c) => c.type === OPTIMIZATION_READY)?.message ?? '';
