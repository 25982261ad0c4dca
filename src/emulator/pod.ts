// One emulated vLLM pod: its own prom-client registry with vLLM's metric names, label set and
// bucket boundaries (vLLM V1's), and the state a step moves forward.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelConfig, VariantConfig } from './config.js';
import { PairedSampler, streamFor } from './random.js';
import { ReplicaQueue, type ReplicaStep, replicaModel } from './replica-queue.js';

/** vLLM's build_1_2_5_buckets(max): 1, 2, 5, 10, 20, 50, ... up to max. */
export function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let exp = 1; ; exp *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * exp > max) return out;
      out.push(m * exp);
    }
  }
}

/** Bucket boundaries as vLLM (V1 engine) declares them. */
export const VLLM_BUCKETS = {
  ttftSeconds: [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0, 160.0, 640.0, 2560.0,
  ],
  tpotSeconds: [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
  ],
  e2eSeconds: [
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
    960.0, 1920.0, 7680.0,
  ],
  /** Token histograms use build_1_2_5_buckets(max_model_len). */
  tokens: buckets125(32_768),
} as const;

/** Metric names (vLLM's, with the colon). */
export const VLLM_METRICS = {
  requestSuccess: 'vllm:request_success_total',
  promptTokens: 'vllm:request_prompt_tokens',
  generationTokens: 'vllm:request_generation_tokens',
  ttft: 'vllm:time_to_first_token_seconds',
  /** The ITL histogram from vLLM 0.11 on. */
  itl: 'vllm:inter_token_latency_seconds',
  /** Its name before 0.11 (deprecated in 0.11, hidden in 0.12, removed in 0.13). */
  tpot: 'vllm:time_per_output_token_seconds',
  e2e: 'vllm:e2e_request_latency_seconds',
  promptTokensTotal: 'vllm:prompt_tokens_total',
  generationTokensTotal: 'vllm:generation_tokens_total',
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  /** KV-cache usage (0..1) from vLLM 0.10 on. */
  kvCacheUsage: 'vllm:kv_cache_usage_perc',
  /** Its name before 0.10 (deprecated in 0.10, hidden in 0.11, removed in 0.12). */
  gpuCacheUsage: 'vllm:gpu_cache_usage_perc',
} as const;

/**
 * Which of vLLM's names a pod exports: `current` (vLLM >= 0.12 by default: inter-token latency and
 * KV-cache usage under their new names only), `transitional` (the new names and the deprecated old
 * ones side by side, same values: 0.10 for KV-cache usage, 0.11 for ITL, or a later release with
 * --show-hidden-metrics-for-version), `legacy` (before 0.10: time_per_output_token and
 * gpu_cache_usage only).
 */
export type VllmMetricNames = 'current' | 'transitional' | 'legacy';

/** Running totals of what a pod (or a model) has emitted: the truth rate() should read back. */
export interface Totals {
  requests: number;
  promptTokens: number;
  generationTokens: number;
  ttftSeconds: number;
  ttftCount: number;
  tpotSeconds: number;
  tpotCount: number;
}

export function emptyTotals(): Totals {
  return {
    requests: 0,
    promptTokens: 0,
    generationTokens: 0,
    ttftSeconds: 0,
    ttftCount: 0,
    tpotSeconds: 0,
    tpotCount: 0,
  };
}

export function addTotals(into: Totals, t: Totals): void {
  into.requests += t.requests;
  into.promptTokens += t.promptTokens;
  into.generationTokens += t.generationTokens;
  into.ttftSeconds += t.ttftSeconds;
  into.ttftCount += t.ttftCount;
  into.tpotSeconds += t.tpotSeconds;
  into.tpotCount += t.tpotCount;
}

function createPodMetrics(
  registry: Registry,
  labels: { model_name: string; engine: string },
  names: VllmMetricNames,
) {
  const labelNames = ['model_name', 'engine'] as const;
  const registers = [registry];
  const success = new Counter({
    name: VLLM_METRICS.requestSuccess,
    help: 'Count of successfully processed requests.',
    labelNames: [...labelNames, 'finished_reason'],
    registers,
  });
  const histogram = (name: string, help: string, buckets: readonly number[]) =>
    new Histogram({ name, help, labelNames, buckets: [...buckets], registers }).labels(labels);
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames, registers }).labels(labels);
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames, registers }).labels(labels);
  return {
    stop: success.labels({ ...labels, finished_reason: 'stop' }),
    length: success.labels({ ...labels, finished_reason: 'length' }),
    prompt: histogram(VLLM_METRICS.promptTokens, 'Number of prefill tokens processed.', VLLM_BUCKETS.tokens),
    generation: histogram(
      VLLM_METRICS.generationTokens,
      'Number of generation tokens processed.',
      VLLM_BUCKETS.tokens,
    ),
    ttft: histogram(
      VLLM_METRICS.ttft,
      'Histogram of time to first token in seconds.',
      VLLM_BUCKETS.ttftSeconds,
    ),
    // Each pair below: [current name, old name], present per `names`.
    itl: [
      names === 'legacy'
        ? undefined
        : histogram(
            VLLM_METRICS.itl,
            'Histogram of inter-token latency in seconds.',
            VLLM_BUCKETS.tpotSeconds,
          ),
      names === 'current'
        ? undefined
        : histogram(
            VLLM_METRICS.tpot,
            'Histogram of time per output token in seconds. DEPRECATED: use vllm:inter_token_latency_seconds.',
            VLLM_BUCKETS.tpotSeconds,
          ),
    ],
    kvCache: [
      names === 'legacy'
        ? undefined
        : gauge(VLLM_METRICS.kvCacheUsage, 'KV-cache usage. 1 means 100 percent usage.'),
      names === 'current'
        ? undefined
        : gauge(VLLM_METRICS.gpuCacheUsage, 'GPU KV-cache usage. 1 means 100 percent usage.'),
    ],
    e2e: histogram(VLLM_METRICS.e2e, 'Histogram of e2e request latency in seconds.', VLLM_BUCKETS.e2eSeconds),
    promptTotal: counter(VLLM_METRICS.promptTokensTotal, 'Number of prefill tokens processed.'),
    generationTotal: counter(VLLM_METRICS.generationTokensTotal, 'Number of generation tokens processed.'),
    running: gauge(VLLM_METRICS.running, 'Number of requests in model execution batches.'),
    waiting: gauge(VLLM_METRICS.waiting, 'Number of requests waiting to be processed.'),
  };
}

type PodMetrics = ReturnType<typeof createPodMetrics>;

export class EmulatedPod {
  readonly registry = new Registry();
  readonly totals: Totals = emptyTotals();
  /** State of the last step (batch, latencies, queue); before the first step, the idle state. */
  state: ReplicaStep;
  /** Requests per second offered at the last step. */
  offeredPerSecond = 0;
  /** The replica's queue: the latency model and the requests it holds beyond it. */
  readonly replica: ReplicaQueue;
  private carry = 0;
  private readonly random: () => number;
  private readonly promptSampler: PairedSampler;
  private readonly outputSampler: PairedSampler;
  private readonly ttftSampler: PairedSampler;
  private readonly tpotSampler: PairedSampler;
  private readonly m: PodMetrics;

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly model: ModelConfig,
    readonly variant: VariantConfig,
    engine: string,
    seed: number,
    jitter: number,
    names: VllmMetricNames = 'current',
    /** Clock time (ms) from which the pod serves; before, it starts up and is not scraped. */
    readonly readyAtMs = 0,
  ) {
    this.random = streamFor(seed, `pod:${namespace}/${name}`);
    this.promptSampler = new PairedSampler(this.random, jitter);
    this.outputSampler = new PairedSampler(this.random, jitter);
    this.ttftSampler = new PairedSampler(this.random, jitter);
    this.tpotSampler = new PairedSampler(this.random, jitter);
    this.m = createPodMetrics(this.registry, { model_name: model.model, engine }, names);
    // Zero-valued series exist from the first scrape, as in vLLM.
    this.m.stop.inc(0);
    this.m.length.inc(0);
    this.m.promptTotal.inc(0);
    this.m.generationTotal.inc(0);
    this.replica = new ReplicaQueue(
      replicaModel({
        profile: { ...variant.perf, maxBatchSize: variant.maxBatchSize },
        inputTokens: model.inputTokens,
        outputTokens: model.outputTokens,
      }),
    );
    this.state = this.replica.step(0, 0);
    this.m.running.set(0);
    this.m.waiting.set(0);
    this.setKvCacheUsage(0);
  }

  /** KV-cache usage as the share of batch slots in use: each running request holds its context. */
  private setKvCacheUsage(running: number): void {
    const usage = Math.min(1, running / this.variant.maxBatchSize);
    for (const g of this.m.kvCache) g?.set(usage);
  }

  /** Requests waiting for a batch slot now (the model's queue plus the backlog). */
  get queue(): number {
    return this.state.waiting;
  }

  /** Most requests per second the pod completes. */
  get capacityPerSecond(): number {
    return this.replica.capacityPerSecond;
  }

  /**
   * Moves the pod forward by `dtMs` with `arrivalPerSecond` offered to it: requests arrive,
   * those the replica can serve complete and are observed, the rest wait in the queue.
   * Returns what this step emitted.
   */
  step(dtMs: number, arrivalPerSecond: number): Totals {
    this.offeredPerSecond = arrivalPerSecond;
    const state = this.replica.step(dtMs / 1000, arrivalPerSecond);
    this.state = state;
    // Completions: fractional requests carry over, so counts over time match the rate exactly.
    this.carry += state.served;
    const n = Math.floor(this.carry);
    this.carry -= n;

    const out = emptyTotals();
    const m = this.m;
    for (let i = 0; i < n; i++) {
      const prompt = Math.max(1, Math.round(this.promptSampler.next(this.model.inputTokens)));
      const output = Math.max(1, Math.round(this.outputSampler.next(this.model.outputTokens)));
      const ttft = Math.max(0, this.ttftSampler.next(state.ttftMs)) / 1000;
      const tpot = Math.max(0, this.tpotSampler.next(state.itlMs)) / 1000;
      (this.random() < this.model.lengthFraction ? m.length : m.stop).inc();
      m.prompt.observe(prompt);
      m.generation.observe(output);
      m.promptTotal.inc(prompt);
      m.generationTotal.inc(output);
      m.ttft.observe(ttft);
      // vLLM observes inter-token latency once per token after the first.
      for (let k = 1; k < output; k++) for (const h of m.itl) h?.observe(tpot);
      m.e2e.observe(ttft + (output - 1) * tpot);
      out.requests += 1;
      out.promptTokens += prompt;
      out.generationTokens += output;
      out.ttftSeconds += ttft;
      out.ttftCount += 1;
      out.tpotSeconds += (output - 1) * tpot;
      out.tpotCount += output - 1;
    }
    m.running.set(Math.round(state.running));
    m.waiting.set(Math.round(state.waiting));
    this.setKvCacheUsage(Math.round(state.running));
    addTotals(this.totals, out);
    return out;
  }

  /** The pod's exposition, in Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
