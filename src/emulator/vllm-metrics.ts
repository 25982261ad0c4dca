// vLLM V1's metric families for one pod: names, help, labels and bucket boundaries as vLLM
// declares them, in the pod's own prom-client registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

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

const REQUEST_LATENCY = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
  960.0, 1920.0, 7680.0,
];

/** Bucket boundaries as vLLM (V1 engine) declares them. */
export const VLLM_BUCKETS = {
  ttftSeconds: [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0, 160.0, 640.0, 2560.0,
  ],
  tpotSeconds: [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
  ],
  /** E2E, queue, prefill and decode times share vLLM's request latency buckets. */
  e2eSeconds: REQUEST_LATENCY,
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
  queueTime: 'vllm:request_queue_time_seconds',
  prefillTime: 'vllm:request_prefill_time_seconds',
  decodeTime: 'vllm:request_decode_time_seconds',
  promptTokensTotal: 'vllm:prompt_tokens_total',
  generationTokensTotal: 'vllm:generation_tokens_total',
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  /** KV-cache usage (0..1) from vLLM 0.10 on. */
  kvCacheUsage: 'vllm:kv_cache_usage_perc',
  /** Its name before 0.10 (deprecated in 0.10, hidden in 0.11, removed in 0.12). */
  gpuCacheUsage: 'vllm:gpu_cache_usage_perc',
  preemptions: 'vllm:num_preemptions_total',
  cacheConfig: 'vllm:cache_config_info',
} as const;

/**
 * Which of vLLM's names a pod exports: `current` (vLLM >= 0.12 by default: inter-token latency and
 * KV-cache usage under their new names only), `transitional` (the new names and the deprecated old
 * ones side by side, same values: 0.10 for KV-cache usage, 0.11 for ITL, or a later release with
 * --show-hidden-metrics-for-version), `legacy` (before 0.10: time_per_output_token and
 * gpu_cache_usage only).
 */
export type VllmMetricNames = 'current' | 'transitional' | 'legacy';

/** The KV cache as vLLM describes it in vllm:cache_config_info. */
export interface CacheInfo {
  blockSize: number;
  numGpuBlocks: number;
  gpuMemoryUtilization: number;
}

export function createPodMetrics(
  registry: Registry,
  labels: { model_name: string; engine: string },
  names: VllmMetricNames,
  cache: CacheInfo,
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
  const info = new Gauge({
    name: VLLM_METRICS.cacheConfig,
    help: 'Information of the LLMEngine CacheConfig',
    labelNames: [
      'block_size',
      'cache_dtype',
      'enable_prefix_caching',
      'engine',
      'gpu_memory_utilization',
      'num_cpu_blocks',
      'num_gpu_blocks',
    ],
    registers,
  });
  info
    .labels({
      block_size: String(cache.blockSize),
      cache_dtype: 'auto',
      enable_prefix_caching: 'False',
      engine: labels.engine,
      gpu_memory_utilization: String(cache.gpuMemoryUtilization),
      num_cpu_blocks: '0',
      num_gpu_blocks: String(cache.numGpuBlocks),
    })
    .set(1);
  const latency = (name: string, help: string) => histogram(name, help, VLLM_BUCKETS.e2eSeconds);
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
    e2e: latency(VLLM_METRICS.e2e, 'Histogram of e2e request latency in seconds.'),
    queue: latency(VLLM_METRICS.queueTime, 'Histogram of time spent in WAITING phase for request.'),
    prefill: latency(VLLM_METRICS.prefillTime, 'Histogram of time spent in PREFILL phase for request.'),
    decode: latency(VLLM_METRICS.decodeTime, 'Histogram of time spent in DECODE phase for request.'),
    promptTotal: counter(VLLM_METRICS.promptTokensTotal, 'Number of prefill tokens processed.'),
    generationTotal: counter(VLLM_METRICS.generationTokensTotal, 'Number of generation tokens processed.'),
    preemptions: counter(VLLM_METRICS.preemptions, 'Cumulative number of preemption from the engine.'),
    running: gauge(VLLM_METRICS.running, 'Number of requests in model execution batches.'),
    waiting: gauge(VLLM_METRICS.waiting, 'Number of requests waiting to be processed.'),
  };
}

export type PodMetrics = ReturnType<typeof createPodMetrics>;
