// Every PromQL the collector sends, built in one place: vLLM metric names, label names, the rate
// window, and escaping of the label values pasted in (model names are user input).
//
// Each statistic is aggregated `sum by (model_name, namespace)` (or `avg by` for the KV cache),
// tagged with a `stat` label through label_replace, and joined with `or`, so one instant query
// answers all of them for one model, or for every model at once.
//
// Renamed metrics: where vLLM renamed a metric, the current name is read and the old one only for
// series (pods, engines) that do not export the current one: `rate(new) or rate(old)` inside the
// sum. `or` keeps a right-hand series only when no left-hand series has the same labels, so a
// server exporting both names is counted once, and a fleet midway through an upgrade sums each pod
// once, under whichever name it has.

/** vLLM metric names (`namespace` is added by Prometheus at scrape time). */
export const VLLM_METRICS = {
  requestSuccess: 'vllm:request_success_total',
  promptTokensSum: 'vllm:request_prompt_tokens_sum',
  promptTokensCount: 'vllm:request_prompt_tokens_count',
  generationTokensSum: 'vllm:request_generation_tokens_sum',
  generationTokensCount: 'vllm:request_generation_tokens_count',
  ttftSum: 'vllm:time_to_first_token_seconds_sum',
  ttftCount: 'vllm:time_to_first_token_seconds_count',
  /** vLLM >= 0.11. */
  itlSum: 'vllm:inter_token_latency_seconds_sum',
  itlCount: 'vllm:inter_token_latency_seconds_count',
  /** The ITL histogram's name before vLLM 0.11 (deprecated in 0.11, hidden in 0.12, removed in 0.13). */
  legacyItlSum: 'vllm:time_per_output_token_seconds_sum',
  legacyItlCount: 'vllm:time_per_output_token_seconds_count',
  requestsRunning: 'vllm:num_requests_running',
  requestsWaiting: 'vllm:num_requests_waiting',
  /** vLLM >= 0.10. */
  kvCacheUsage: 'vllm:kv_cache_usage_perc',
  /** The KV-cache gauge's name before vLLM 0.10 (deprecated in 0.10, hidden in 0.11, removed in 0.12). */
  legacyKvCacheUsage: 'vllm:gpu_cache_usage_perc',
} as const;

/** vLLM metrics read only per pod (saturation scaling). */
export const VLLM_POD_METRICS = {
  /** Info gauge (value 1) whose labels carry the engine's KV-cache shape. */
  cacheConfigInfo: 'vllm:cache_config_info',
  /** Counters of prefix-cache lookups in tokens; exposed with `_total`, read bare as well. */
  prefixCacheHits: 'vllm:prefix_cache_hits',
  prefixCacheQueries: 'vllm:prefix_cache_queries',
  /** Histograms splitting TTFT into waiting for a batch slot and prefill (the SLO engine's learner). */
  prefillTimeSum: 'vllm:request_prefill_time_seconds_sum',
  prefillTimeCount: 'vllm:request_prefill_time_seconds_count',
  queueTimeSum: 'vllm:request_queue_time_seconds_sum',
  queueTimeCount: 'vllm:request_queue_time_seconds_count',
} as const;

/** The series whose newest sample tells whether a model's metrics are fresh. */
export const FRESHNESS_METRIC = VLLM_METRICS.requestSuccess;

export const MODEL_LABEL = 'model_name';
export const NAMESPACE_LABEL = 'namespace';
/** The label the joined query tags each of its expressions with. */
export const STAT_LABEL = 'stat';

export const DEFAULT_WINDOW = '1m';

/** Values of the `stat` label, one per statistic (already in the final units). */
export const STATS = {
  /** Completed requests per minute. */
  completionRate: 'completion_rate_per_min',
  /** Growth per minute of the requests running plus waiting (least-squares slope over the window). */
  queueGrowth: 'queue_growth_per_min',
  avgInputTokens: 'avg_input_tokens',
  avgOutputTokens: 'avg_output_tokens',
  ttftAverage: 'ttft_ms',
  itlAverage: 'itl_ms',
  /** Requests running now (summed over pods and engines). */
  running: 'requests_running',
  /** Requests waiting now. */
  waiting: 'requests_waiting',
  /** KV-cache usage now, 0..1, averaged over pods and engines. */
  kvCacheUsage: 'kv_cache_usage',
  /** Unix seconds of the newest sample of FRESHNESS_METRIC (fleet and availability queries). */
  newestSample: 'newest_sample_time',
} as const;
export type StatName = (typeof STATS)[keyof typeof STATS];

/** Labels naming the pod of a per-pod series: `pod`, else `pod_name` (some scrape configs). */
export const POD_LABEL = 'pod';
export const POD_NAME_LABEL = 'pod_name';
/** Labels of `vllm:cache_config_info` carrying the KV-cache shape. */
export const NUM_GPU_BLOCKS_LABEL = 'num_gpu_blocks';
export const BLOCK_SIZE_LABEL = 'block_size';

/** Windows of the per-pod series, as saturation scaling reads them (fixed, not the rate window). */
export const POD_PEAK_WINDOW = '1m';
export const POD_RATE_WINDOW = '5m';

/** Values of the `stat` label of the per-pod series (grouped by model, namespace and pod). */
export const POD_STATS = {
  /** Highest KV-cache usage (0..1) over POD_PEAK_WINDOW, the highest of the pod's engines. */
  kvCachePeak: 'pod_kv_cache_usage_max',
  /** Most requests waiting over POD_PEAK_WINDOW, the highest of the pod's engines. */
  waitingPeak: 'pod_requests_waiting_max',
  /** Requests running, averaged over POD_PEAK_WINDOW and summed over the pod's engines. */
  runningAverage: 'pod_requests_running_avg',
  /** Series labelled with num_gpu_blocks and block_size (value 1). */
  cacheConfig: 'pod_cache_config',
  avgInputTokens: 'pod_avg_input_tokens',
  avgOutputTokens: 'pod_avg_output_tokens',
  /** Prefix-cache hits / queries (tokens) over POD_RATE_WINDOW. */
  prefixCacheHitRate: 'pod_prefix_cache_hit_rate',
  /** Latency averages over POD_PEAK_WINDOW, ms, the window of runningAverage (the learner pairs them). */
  itlAverage: 'pod_itl_ms',
  ttftAverage: 'pod_ttft_ms',
  prefillAverage: 'pod_prefill_ms',
  queueAverage: 'pod_queue_ms',
} as const;
export type PodStatName = (typeof POD_STATS)[keyof typeof POD_STATS];

// Prometheus' own duration syntax: units from largest to smallest, each at most once (`30s1m` and
// `1m1m` are parse errors there).
const durationPattern = /^(?=\d)(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;

/** The window if it is a PromQL duration (`1m`, `30s`, `1h30m`), else a RangeError saying so. */
export function checkWindow(window: string): string {
  if (!durationPattern.test(window) || !/[1-9]/.test(window)) {
    throw new RangeError(
      `window ${JSON.stringify(window)} is not a PromQL duration such as 30s, 1m or 1h30m`,
    );
  }
  return window;
}

/**
 * A string as a PromQL double-quoted string body: PromQL unquotes like Go, so backslash and double
 * quote are escaped, and control characters (a raw newline ends the string with an error) become
 * escapes. Everything else, `}` and `,` included, is literal inside the quotes.
 */
export function escapeLabelValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    // Prometheus' lexer rejects a raw U+FFFD as an "invalid UTF-8 rune"; the escape is accepted.
    else if (code === 0xfffd) out += '\\uFFFD';
    else out += ch;
  }
  return out;
}

/** `"value"` with the value escaped. */
export function quote(value: string): string {
  return `"${escapeLabelValue(value)}"`;
}

/** A regular expression (RE2, as Prometheus anchors it) matching exactly `value`. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

export interface ModelNamespace {
  modelId: string;
  namespace: string;
}

/** Label matchers `{model_name="...",namespace="..."}` for one model. */
export function modelMatchers(modelId: string, namespace: string): string {
  return `{${MODEL_LABEL}=${quote(modelId)},${NAMESPACE_LABEL}=${quote(namespace)}}`;
}

/**
 * Regex matchers narrowing to the given pairs' models and namespaces. The cross product can match
 * more pairs than asked (model a in namespace y), so callers filter the result by pair as well.
 */
export function setMatchers(pairs: readonly ModelNamespace[]): string {
  return `{${MODEL_LABEL}=~${alternatives(pairs.map((p) => p.modelId))},${NAMESPACE_LABEL}=~${alternatives(pairs.map((p) => p.namespace))}}`;
}

/** `{namespace=~"a|b"}`: only these namespaces' series. */
export function namespaceMatchers(namespaces: readonly string[]): string {
  return `{${NAMESPACE_LABEL}=~${alternatives(namespaces)}}`;
}

/** A quoted RE2 alternation matching exactly one of `values`. */
function alternatives(values: readonly string[]): string {
  return quote([...new Set(values)].map(escapeRegex).join('|'));
}

const by = `sum by (${MODEL_LABEL}, ${NAMESPACE_LABEL})`;

function rate(metric: string, matchers: string, window: string): string {
  return `${by} (rate(${metric}${matchers}[${window}]))`;
}

/** The rate of `metric`, or of `legacy` for the series that lack `metric`, summed once per pair. */
function rateWithFallback(metric: string, legacy: string, matchers: string, window: string): string {
  return `${by} (rate(${metric}${matchers}[${window}]) or rate(${legacy}${matchers}[${window}]))`;
}

function tag(expr: string, stat: StatName | PodStatName): string {
  return `label_replace(${expr}, "${STAT_LABEL}", "${stat}", "", "")`;
}

/** Every statistic, each tagged, joined with `or`. `matchers` is `{...}` or ''. */
function metricsExpr(matchers: string, window: string): string {
  const m = VLLM_METRICS;
  const ratio = (sum: string, count: string) =>
    `${rate(sum, matchers, window)} / ${rate(count, matchers, window)}`;
  const itl =
    `${rateWithFallback(m.itlSum, m.legacyItlSum, matchers, window)}` +
    ` / ${rateWithFallback(m.itlCount, m.legacyItlCount, matchers, window)}`;
  // deriv() is linear in the samples, so summing each series' slope gives the slope of the sum.
  const growth = [m.requestsRunning, m.requestsWaiting]
    .map((g) => `${by} (deriv(${g}${matchers}[${window}]))`)
    .join(' + ');
  // `+ 0` drops the metric name, so `or` compares the two gauges' series by their labels alone.
  const kv = `avg by (${MODEL_LABEL}, ${NAMESPACE_LABEL}) ((${m.kvCacheUsage}${matchers} + 0) or (${m.legacyKvCacheUsage}${matchers} + 0))`;
  return [
    tag(`${rate(m.requestSuccess, matchers, window)} * 60`, STATS.completionRate),
    tag(`(${growth}) * 60`, STATS.queueGrowth),
    tag(ratio(m.promptTokensSum, m.promptTokensCount), STATS.avgInputTokens),
    tag(ratio(m.generationTokensSum, m.generationTokensCount), STATS.avgOutputTokens),
    tag(`(${ratio(m.ttftSum, m.ttftCount)}) * 1000`, STATS.ttftAverage),
    tag(`(${itl}) * 1000`, STATS.itlAverage),
    tag(`${by} (${m.requestsRunning}${matchers})`, STATS.running),
    tag(`${by} (${m.requestsWaiting}${matchers})`, STATS.waiting),
    tag(kv, STATS.kvCacheUsage),
  ].join('\nor ');
}

const podGroup = `${MODEL_LABEL}, ${NAMESPACE_LABEL}, ${POD_LABEL}, ${POD_NAME_LABEL}`;

/**
 * The per-pod series saturation scaling reads, each tagged, joined with `or`. Grouped by pod and
 * pod_name both (`by` keeps whichever the series has; the reader takes pod, else pod_name). The
 * KV gauge falls back to its old name per series, as in metricsExpr. A pod's engines (data
 * parallel) give one number per pod: the highest for peaks and ratios, the sum for running.
 */
export function podExpr(matchers: string): string {
  const m = { ...VLLM_METRICS, ...VLLM_POD_METRICS };
  const peak = `[${POD_PEAK_WINDOW}]`;
  const r = `[${POD_RATE_WINDOW}]`;
  const max = (expr: string) => `max by (${podGroup}) (${expr})`;
  const ratio = (sum: string, count: string) =>
    max(`rate(${sum}${matchers}${r}) / rate(${count}${matchers}${r})`);
  // Counters are exposed as `<name>_total`; reading the bare name too covers exporters without it.
  const counter = (name: string) => `(rate(${name}_total${matchers}${r}) or rate(${name}${matchers}${r}))`;
  return [
    tag(
      max(
        `max_over_time(${m.kvCacheUsage}${matchers}${peak}) or max_over_time(${m.legacyKvCacheUsage}${matchers}${peak})`,
      ),
      POD_STATS.kvCachePeak,
    ),
    tag(max(`max_over_time(${m.requestsWaiting}${matchers}${peak})`), POD_STATS.waitingPeak),
    tag(
      `sum by (${podGroup}) (avg_over_time(${m.requestsRunning}${matchers}${peak}))`,
      POD_STATS.runningAverage,
    ),
    tag(
      `max by (${podGroup}, ${NUM_GPU_BLOCKS_LABEL}, ${BLOCK_SIZE_LABEL}) (${m.cacheConfigInfo}${matchers})`,
      POD_STATS.cacheConfig,
    ),
    tag(ratio(m.promptTokensSum, m.promptTokensCount), POD_STATS.avgInputTokens),
    tag(ratio(m.generationTokensSum, m.generationTokensCount), POD_STATS.avgOutputTokens),
    tag(
      max(`${counter(m.prefixCacheHits)} / ${counter(m.prefixCacheQueries)}`),
      POD_STATS.prefixCacheHitRate,
    ),
    ...podLatencyExprs(matchers),
  ].join('\nor ');
}

/** Per-pod latency averages over the running average's window (ms), old ITL name as fallback. */
function podLatencyExprs(matchers: string): string[] {
  const m = { ...VLLM_METRICS, ...VLLM_POD_METRICS };
  const w = `[${POD_PEAK_WINDOW}]`;
  const r = (name: string) => `rate(${name}${matchers}${w})`;
  const avg = (sum: string, count: string) => `max by (${podGroup}) (${r(sum)} / ${r(count)}) * 1000`;
  const itl = `max by (${podGroup}) ((${r(m.itlSum)} / ${r(m.itlCount)}) or (${r(m.legacyItlSum)} / ${r(m.legacyItlCount)})) * 1000`;
  return [
    tag(itl, POD_STATS.itlAverage),
    tag(avg(m.ttftSum, m.ttftCount), POD_STATS.ttftAverage),
    tag(avg(m.prefillTimeSum, m.prefillTimeCount), POD_STATS.prefillAverage),
    tag(avg(m.queueTimeSum, m.queueTimeCount), POD_STATS.queueAverage),
  ];
}

/** Keeps the instant and subquery halves of freshnessExpr apart until `max by` merges them. */
const FRESHNESS_SOURCE_LABEL = 'wva_freshness_source';

/**
 * Newest sample time (unix seconds) per pair, looking back `rangeSeconds`. A plain instant selector
 * only looks back 5 minutes (the lookback delta), exactly the staleness limit, so a stale series
 * would look missing. Hence a subquery, its steps 5 minutes apart: every sample older than 5 min lies
 * within one step's lookback (steps are aligned to multiples of the step, so one falls in any 5-min
 * span), which gives the newest sample exactly at a quarter of the cost of 1-minute steps; the
 * instant `timestamp()` (tagged apart so `or` keeps both) covers the minutes after the last step.
 * Exact as long as Prometheus' --query.lookback-delta is at least the step (default 5m). After a
 * staleness marker (every pod of the model gone) the newest sample may read up to one step older.
 */
export function freshnessExpr(matchers: string, rangeSeconds: number): string {
  const minutes = Math.max(5, Math.ceil(rangeSeconds / 60));
  const selector = `${FRESHNESS_METRIC}${matchers}`;
  const instant = `label_replace(timestamp(${selector}), "${FRESHNESS_SOURCE_LABEL}", "instant", "", "")`;
  const history = `max_over_time(timestamp(${selector})[${minutes}m:${FRESHNESS_STEP}])`;
  return `max by (${MODEL_LABEL}, ${NAMESPACE_LABEL}) (${instant} or ${history})`;
}

/** Step of the freshness subquery: Prometheus' default lookback delta. */
const FRESHNESS_STEP = '5m';

/** Default range of the freshness subquery: three times the default staleness limit (5 min). */
export const DEFAULT_FRESHNESS_RANGE_S = 15 * 60;

/** One query, every statistic, one model in one namespace. */
export function modelQuery(modelId: string, namespace: string, window: string = DEFAULT_WINDOW): string {
  return metricsExpr(modelMatchers(modelId, namespace), checkWindow(window));
}

/** `stat` of the requests-over-a-period term: the prefix, then the period in seconds and `s`. */
export const REQUESTS_OVER_PREFIX = 'requests_over_';

/**
 * Requests per pair over the last `seconds` (scale to zero's proof of idleness): completions
 * (increase of the success counter) plus the most requests running and waiting at any scrape. Only
 * pairs with a series already `seconds` ago answer (`and` with the `offset` selector), so a pair
 * whose series are younger than the period has no value: not proven idle.
 */
export function requestsOverExpr(matchers: string, seconds: number): string {
  const m = VLLM_METRICS;
  const r = `[${seconds}s]`;
  const inFlight = `max_over_time(${m.requestsRunning}${matchers}${r}) + max_over_time(${m.requestsWaiting}${matchers}${r})`;
  const expr =
    `(${by} (increase(${m.requestSuccess}${matchers}${r})) + ${by} (${inFlight}))` +
    ` and on (${MODEL_LABEL}, ${NAMESPACE_LABEL}) ${by} (${m.requestSuccess}${matchers} offset ${seconds}s)`;
  return `label_replace(${expr}, "${STAT_LABEL}", "${REQUESTS_OVER_PREFIX}${seconds}s", "", "")`;
}

export interface FleetQueryOptions {
  window?: string;
  /** Narrow to these pairs (regex matchers; filter the result by pair too). */
  only?: readonly ModelNamespace[];
  /** Read only these namespaces' series (ignored with `only`, which names its namespaces). */
  namespaces?: readonly string[];
  /** Also return each pair's newest sample time (stat newest_sample_time) over this range; 0: no. */
  freshnessRangeSeconds?: number;
  /** Also return each pair's requests over each of these periods (whole seconds; scale to zero). */
  requestsOverSeconds?: readonly number[];
  /** Also return the per-pod series (podExpr). Default true. */
  pods?: boolean;
}

/** One query, every statistic, the per-pod series (and optionally freshness), every model/namespace pair. */
export function fleetQuery(options: FleetQueryOptions = {}): string {
  const window = checkWindow(options.window ?? DEFAULT_WINDOW);
  const matchers = options.only
    ? setMatchers(options.only)
    : options.namespaces && options.namespaces.length > 0
      ? namespaceMatchers(options.namespaces)
      : '';
  let q = metricsExpr(matchers, window);
  if (options.pods !== false) q += `\nor ${podExpr(matchers)}`;
  const range = options.freshnessRangeSeconds ?? 0;
  if (range > 0) q += `\nor ${tag(freshnessExpr(matchers, range), STATS.newestSample)}`;
  for (const seconds of options.requestsOverSeconds ?? []) {
    if (!Number.isInteger(seconds) || seconds <= 0)
      throw new RangeError(`period ${seconds}s must be whole seconds > 0`);
    q += `\nor ${requestsOverExpr(matchers, seconds)}`;
  }
  return q;
}

/** Newest sample time of one model (the metrics-availability check). */
export function availabilityQuery(
  modelId: string,
  namespace: string,
  rangeSeconds: number = DEFAULT_FRESHNESS_RANGE_S,
): string {
  return freshnessExpr(modelMatchers(modelId, namespace), rangeSeconds);
}
