// The controller in local mode over a real Prometheus, for an older-shape VariantAutoscaling
// (spec.modelProfile + sloClassRef): the given profile is the learner's prior, fed from the same
// per-pod series of the one fleet query as profile-less variants. A profile near what the emulator
// measures stays with the optimizer and is corrected; one far off is contradicted, and the model
// falls back to saturation with the condition saying why.
//
// The world is slo-learning-e2e's: one model on two emulated vLLM pods (H100) under a load swinging
// over ten-minute "days", in virtual time, scraped every 5 s into a real Prometheus (backfilled);
// the controller's cycle every 30 s of evaluation time on one injected clock.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import { VariantOptimizer } from '../../src/controller/decision.js';
import { type CycleRow, LocalController } from '../../src/controller/local.js';
import { localOptimizerConfig } from '../../src/controller/optimizer-setup.js';
import { type SloParts, sloParts } from '../../src/controller/slo-setup.js';
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
const CYCLES = 50;

interface Lines {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

function manifests(p: Lines): string {
  return `
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
  sloClassRef: { name: premium, key: ${MODEL} }
  modelProfile:
    accelerators:
      - acc: H100
        accCount: 1
        maxBatchSize: 64
        perfParms:
          decodeParms: { alpha: "${p.alpha}", beta: "${p.beta}" }
          prefillParms: { gamma: "${p.gamma}", delta: "${p.delta}" }
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
---
apiVersion: v1
kind: ConfigMap
metadata: { name: accelerator-unit-costs, namespace: workload-variant-autoscaler-system }
data:
  H100: '{ "device": "H100", "cost": "70.00" }'
`;
}

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
  dir = mkdtempSync(join(tmpdir(), 'wva-slo-given-e2e-'));
}, 240_000);

afterAll(async () => {
  await prom?.stop();
});

/** A controller process over manifests with the profile `p`, on the clock `t`; nothing persisted. */
function controller(name: string, p: Lines, t: { now: number }) {
  const at = join(dir, name);
  mkdirSync(at);
  writeFileSync(join(at, 'fleet.yaml'), manifests(p));
  const { store } = localOptimizerConfig(silentLogger);
  const optimizer = new VariantOptimizer({ config: store, stabilizationWindowMs: 0, kvCacheThreshold: 0.9 });
  const slo: SloParts = sloParts({
    namespace: 'workload-variant-autoscaler-system',
    scaleToZeroEnabled: () => false,
    serviceClasses: () => store.serviceClasses.value,
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
    manifests: at,
    collector,
    now: () => new Date(t.now),
    optimizer,
    optimizerConfig: store,
    saturation: slo,
  });
  return {
    slo,
    async run(n: number): Promise<CycleRow[]> {
      const rows: CycleRow[] = [];
      for (let i = 0; i < n; i++) {
        rows.push((await local.runCycle()).rows[0] as CycleRow);
        t.now += CYCLE_MS;
      }
      await local.stop();
      return rows;
    },
  };
}

const readyMessage = (row: CycleRow | undefined) =>
  row?.conditions.find((c) => c.type === OPTIMIZATION_READY)?.message ?? '';

describe('a given modelProfile corrected by what is measured, end to end', () => {
  it('a profile near the measurements is corrected; one far off falls back to saturation, saying why', async () => {
    // Near: 20 % slower than a first learned run measured this world (alpha 7.3, beta 0.10,
    // gamma 38, delta 0.0007); far: alpha 5 times that.
    const near = { alpha: 8.8, beta: 0.12, gamma: 45, delta: 0.00083 };
    const good = controller('near', near, { now: FIRST_CYCLE_MS });
    const rows = await good.run(CYCLES);
    // The optimizer sized it every cycle (never saturation), first with the profile as given.
    expect(rows.map((r) => r.engine ?? 'optimizer')).toEqual(rows.map(() => 'optimizer'));
    expect(rows.every((r) => r.decision?.ok)).toBe(true);
    expect(readyMessage(rows[0])).toMatch(/^SLO engine: given profile; \d+ replica\(s\) of H100/);
    const corrected = rows.findIndex((r) =>
      readyMessage(r).startsWith('SLO engine: given profile, corrected'),
    );
    expect(corrected, `never corrected; last: ${readyMessage(rows.at(-1))}`).toBeGreaterThanOrEqual(19);
    const [view] = good.slo.learner.views();
    expect(view?.status).toMatchObject({ priorSource: 'given', contradicted: false, usable: true });
    // Corrected towards what was measured: the decode intercept down from the slow given one.
    expect(view?.profile.alpha).toBeLessThan(near.alpha);

    const bad = controller('far', { ...near, alpha: near.alpha * 5 }, { now: FIRST_CYCLE_MS });
    const badRows = await bad.run(CYCLES);
    const fell = badRows.findIndex((r) => r.engine === ENGINE_NAMES.saturationV1);
    expect(fell, `never fell back; last: ${readyMessage(badRows.at(-1))}`).toBeGreaterThanOrEqual(9);
    expect(badRows.slice(0, fell).every((r) => r.engine === undefined)).toBe(true);
    expect(readyMessage(badRows[fell])).toMatch(
      /^saturation-v1: the given profile of variant llama-h100 \(H100\) contradicts the measurements: decodeParms \(alpha 44, beta 0.12\) predict ITL [\d.]+ % off over \d+ cycles; fix spec.modelProfile or remove it/,
    );
    // Never sized with the contradicted profile again: saturation, or the learned model that replaces it.
    for (const r of badRows.slice(fell))
      if (r.engine === undefined)
        expect(readyMessage(r)).toMatch(/^SLO engine: learned profile \(.*\) replaces the given one/);
  }, 240_000);
});
