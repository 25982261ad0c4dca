// The emulator under a real Prometheus: scraped every second through the ServiceMonitor-style
// relabelling (namespace comes from target meta labels, never from the emulator), then read back
// with the collector's per-model and fleet queries.
//
// Tolerances, against what the emulator actually emitted over the same window (its own counters):
// 3% on rates and means. Against the configured load: arrival rate within 5% (evenly spaced
// arrivals; a 15 s window holds 150-300 requests; Prometheus extrapolates the window's edges) and
// token means within 5% (antithetic draws keep them close). Latency has no configured value: it is
// what the simulated engines produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAggregateMetrics, collectFleetMetrics } from '../../src/collector/collect.js';
import type { EmulatedMetrics, EmulatorServer } from '../../src/emulator/index.js';
import {
  gatewayScrapeJob,
  parseEmulatorConfig,
  scrapeJob,
  startEmulatorServer,
  VllmEmulator,
} from '../../src/emulator/index.js';
import { PrometheusClient } from '../../src/prometheus/index.js';
import type { AggregateMetrics } from '../../src/types.js';
import { type PrometheusServer, startPrometheus } from '../support/prometheus.js';
import { untilAsync } from '../support/wait.js';

const WINDOW = '15s';
const WINDOW_MS = 15_000;

const config = parseEmulatorConfig({
  seed: 11,
  models: [
    {
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      namespace: 'llm-prod',
      load: { pattern: 'steady', rate: 900 },
      arrivals: 'uniform',
      inputTokens: 512,
      outputTokens: 64,
      variants: [
        { name: 'llama-a100', replicas: 2 },
        { name: 'llama-h100', replicas: 1, accelerator: 'H100' },
      ],
    },
    {
      // Same model in another namespace, other load: must come back separately. An older vLLM
      // exporting the new and the deprecated names side by side.
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      namespace: 'llm-staging',
      vllmMetrics: 'transitional',
      load: { pattern: 'steady', rate: 600 },
      arrivals: 'uniform',
      inputTokens: 256,
      outputTokens: 32,
      variants: [
        {
          name: 'llama-l4',
          replicas: 1,
          accelerator: 'L4',
          args: ['--max-num-seqs', '32', '--max-model-len', '8192'],
        },
      ],
    },
    {
      // Pre-0.10 names only.
      model: 'ibm-granite/granite-3.3-8b-instruct',
      namespace: 'llm-staging',
      vllmMetrics: 'legacy',
      load: { pattern: 'steady', rate: 720 },
      arrivals: 'uniform',
      inputTokens: 1024,
      outputTokens: 48,
      variants: [{ name: 'granite-a100', replicas: 2 }],
    },
    {
      // Saturated: one A100 replica with 4 seats completes under 300 req/min; 900 arrive, the rest
      // wait in vLLM's queue.
      model: 'saturated/model',
      architecture: 'meta-llama/Llama-3.1-8B-Instruct',
      namespace: 'llm-sat',
      load: { pattern: 'steady', rate: 900 },
      arrivals: 'uniform',
      inputTokens: 512,
      outputTokens: 64,
      variants: [{ name: 'sat-small', replicas: 1, args: ['--max-num-seqs', '4'] }],
    },
    {
      // Scaled to zero: the gateway holds its requests in the flow-control queue.
      model: 'queued/model',
      architecture: 'mistralai/Mistral-7B-Instruct-v0.3',
      namespace: 'llm-zero',
      load: { pattern: 'steady', rate: 600 },
      variants: [{ name: 'zero', replicas: 0 }],
    },
  ],
});
const SATURATED = 'saturated/model:llm-sat';

let emulator: VllmEmulator;
let server: EmulatorServer;
let prometheus: PrometheusServer;
let prom: PrometheusClient;

function expectClose(actual: number | undefined, expected: number, tolerance: number, what: string) {
  if (actual === undefined) throw new Error(`${what}: the collector read it as unknown`);
  if (process.env.EMU_DEBUG) console.log(what, (actual / expected - 1).toFixed(4));
  expect(expected, what).toBeGreaterThan(0);
  expect(Math.abs(actual / expected - 1), `${what}: ${actual} vs ${expected}`).toBeLessThan(tolerance);
}

function expectMatches(
  actual: AggregateMetrics,
  truth: EmulatedMetrics,
  configured: { arrivalRate: number; avgInputTokens: number; avgOutputTokens: number },
  who: string,
) {
  expectClose(actual.load.arrivalRate, truth.load.arrivalRate, 0.03, `${who} arrival vs emitted`);
  expectClose(actual.load.avgInputTokens, truth.load.avgInputTokens, 0.03, `${who} input vs emitted`);
  expectClose(actual.load.avgOutputTokens, truth.load.avgOutputTokens, 0.03, `${who} output vs emitted`);
  expectClose(actual.ttftAverage, truth.ttftAverage, 0.03, `${who} ttft vs emitted`);
  expectClose(actual.itlAverage, truth.itlAverage, 0.03, `${who} itl vs emitted`);
  expectClose(actual.load.arrivalRate, configured.arrivalRate, 0.05, `${who} arrival vs configured`);
  expectClose(actual.load.avgInputTokens, configured.avgInputTokens, 0.05, `${who} input vs configured`);
  expectClose(actual.load.avgOutputTokens, configured.avgOutputTokens, 0.05, `${who} output vs configured`);
}

beforeAll(async () => {
  emulator = new VllmEmulator(config);
  server = await startEmulatorServer(emulator);
  prometheus = await startPrometheus({
    extraConfigYaml: `scrape_configs:\n  - ${JSON.stringify(scrapeJob({ address: server.address, targets: emulator.targets() }))}\n  - ${JSON.stringify(gatewayScrapeJob({ address: server.address }))}`,
  });
  prom = new PrometheusClient({ url: prometheus.url });
  // Prometheus scrapes on its own clock, so there is no event to await: poll it (bounded) until
  // every pod has been scraped, then until the youngest pod's first sample is older than the rate
  // window plus a margin (rate() over a window longer than the series' age reads low).
  const scalar = async (q: string) => {
    const r = await prom.query(q);
    return r.resultType === 'vector' ? Number(r.result[0]?.value[1] ?? 0) : 0;
  };
  await untilAsync(
    () => scalar('count(up{job="vllm-emulator"} == 1)'),
    (n) => n === emulator.pods.length,
    `all ${emulator.pods.length} pods scraped`,
    20_000,
    500,
  );
  await untilAsync(
    // Per pod: now minus its first sample's timestamp (the subquery steps every 1 s over the last minute).
    () => scalar('min(time() - min_over_time(timestamp(up{job="vllm-emulator"} == 1)[60s:1s]))'),
    (ageS) => ageS * 1000 >= WINDOW_MS + 2500,
    'every series to be older than the rate window',
    WINDOW_MS + 10_000,
    500,
  );
}, 60_000);

afterAll(async () => {
  prom?.close();
  await prometheus?.stop();
  await server?.close();
});

describe('emulator scraped by a real Prometheus', () => {
  it('Prometheus adds namespace and pod by relabelling; series carry model_name and engine', async () => {
    const r = await prom.query('count by (namespace, pod, model_name, engine) (vllm:num_requests_running)');
    expect(r.resultType).toBe('vector');
    if (r.resultType !== 'vector') return;
    const seen = r.result.map(
      (s) => `${s.metric.namespace}/${s.metric.pod} ${s.metric.model_name} ${s.metric.engine}`,
    );
    const want = emulator.targets().map((t) => `${t.namespace}/${t.pod} ${t.model} 0`);
    expect(seen.sort()).toEqual(want.sort());
    const buckets = await prom.query('count(vllm:time_to_first_token_seconds_bucket{pod=~".+"}) by (pod)');
    expect(buckets.resultType === 'vector' && buckets.result.length).toBe(emulator.pods.length);
    if (buckets.resultType !== 'vector') return;
    for (const s of buckets.result) expect(Number(s.value[1])).toBe(23); // 22 bounds + +Inf
  });

  it('collectFleetMetrics (one call) and collectAggregateMetrics read back the configured load', async () => {
    const time = new Date();
    emulator.sync();
    const fleet = await collectFleetMetrics(prom, { window: WINDOW, time });
    expect([...fleet.keys()].sort()).toEqual(
      [
        'ibm-granite/granite-3.3-8b-instruct:llm-staging',
        'meta-llama/Llama-3.1-8B-Instruct:llm-prod',
        'meta-llama/Llama-3.1-8B-Instruct:llm-staging',
        SATURATED,
      ].sort(),
    );
    for (const m of emulator.models.filter(
      (x) => `${x.model}:${x.namespace}` !== SATURATED && x.pods.length > 0,
    )) {
      const truth = emulator.observed(m.model, m.namespace, WINDOW_MS);
      const c = m.config;
      const rate = c.load.pattern === 'steady' ? c.load.rate : 0;
      const configured = {
        arrivalRate: rate,
        avgInputTokens: c.inputTokens,
        avgOutputTokens: c.outputTokens,
      };
      const fromFleet = fleet.get(`${m.model}:${m.namespace}`)!;
      expectMatches(fromFleet, truth, configured, `fleet ${m.model}:${m.namespace}`);
      const single = await collectAggregateMetrics(m.model, m.namespace, prom, { window: WINDOW, time });
      expectMatches(single, truth, configured, `model ${m.model}:${m.namespace}`);
    }
  });

  it('a saturated model: completions at capacity, arrivals = completions + queue growth = what is offered', async () => {
    const time = new Date();
    emulator.sync();
    const m = (await collectFleetMetrics(prom, { window: WINDOW, time })).get(SATURATED)!;
    const truth = emulator.observed('saturated/model', 'llm-sat', WINDOW_MS);
    expectClose(m.load.completionRate, truth.load.arrivalRate, 0.03, 'completions vs emitted');
    // What the emulator completes is well below what arrives: a collector reading completions
    // as arrivals would see no reason to scale up.
    expect(truth.load.arrivalRate).toBeLessThan(500);
    expectClose(m.load.arrivalRate, 900, 0.05, 'arrivals vs offered');
    // Four seats busy; right after a step that finished one, vLLM's gauge (and ours) reads 3 until
    // the next step admits the next.
    expect(m.saturation?.running).toBeGreaterThanOrEqual(3);
    expect(m.saturation?.running).toBeLessThanOrEqual(4);
    expect(m.saturation?.waiting).toBeGreaterThan(50);
    // The seat limit binds, not the KV cache: four short requests hold a sliver of an A100's blocks.
    expect(m.saturation?.kvCacheUsage).toBeGreaterThan(0);
    expect(m.saturation?.kvCacheUsage).toBeLessThan(0.05);
  });

  it("Prometheus parses the simulator's KV-cache info, preemptions, phase histograms and the gateway's queue", async () => {
    const info = await prom.query('vllm:cache_config_info{namespace="llm-sat"}');
    expect(info.resultType === 'vector' && info.result.length).toBe(1);
    if (info.resultType !== 'vector') return;
    const blocks = Number(info.result[0]!.metric.num_gpu_blocks);
    expect(blocks).toBe(emulator.model('saturated/model', 'llm-sat')!.variants[0]!.setup.numGpuBlocks);
    expect(info.result[0]!.metric.block_size).toBe('16');
    const preemptions = await prom.query('sum(vllm:num_preemptions_total)');
    expect(preemptions.resultType === 'vector' && preemptions.result.length).toBe(1);
    for (const h of ['queue', 'prefill', 'decode']) {
      const r = await prom.query(`sum(rate(vllm:request_${h}_time_seconds_count[${WINDOW}]))`);
      expect(r.resultType === 'vector' && Number(r.result[0]?.value[1]), h).toBeGreaterThan(1);
    }
    // The saturated pod's requests wait in vLLM's queue for seconds.
    const wait = await prom.query(
      `sum(rate(vllm:request_queue_time_seconds_sum{namespace="llm-sat"}[${WINDOW}])) / sum(rate(vllm:request_queue_time_seconds_count{namespace="llm-sat"}[${WINDOW}]))`,
    );
    expect(wait.resultType === 'vector' && Number(wait.result[0]?.value[1])).toBeGreaterThan(1);
    const queued = await prom.query(
      'inference_extension_flow_control_queue_size{job="inference-gateway",target_model_name="queued/model"}',
    );
    expect(queued.resultType === 'vector' && Number(queued.result[0]?.value[1])).toBeGreaterThan(50);
    const bytes = await prom.query(
      'inference_extension_flow_control_queue_bytes{target_model_name="queued/model",namespace="llm-zero"}',
    );
    expect(bytes.resultType === 'vector' && Number(bytes.result[0]?.value[1])).toBeGreaterThan(50 * 200);
  });
});
