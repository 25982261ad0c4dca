// One cycle's measurements of one variant, averaged over its pods, and the checks that keep a
// broken one (a scrape gap, a young series, an idle server) away from the estimate.

/** What the fleet query reads for one variant in one cycle. */
export interface PerformanceObservation {
  /** Average inter-token latency over the cycle, ms. */
  itlMs: number;
  /** Average requests running per pod (`avg_over_time` of vllm:num_requests_running). */
  batch: number;
  /** Average prefill time per request, ms (vllm:request_prefill_time_seconds); with TTFT and queue
   *  time measured, the line is fitted to TTFT minus queue time when that is longer. */
  prefillMs?: number;
  /** Average input tokens per request. */
  inputTokens?: number;
  /** Average time waiting for a batch slot, ms (vllm:request_queue_time_seconds). */
  queueMs?: number;
  /** Average time to first token, ms; queue time + prefill when absent. */
  ttftMs?: number;
  /** Fraction of the cycle's window the series cover (young series, scrape gaps); 1 when absent. */
  coverage?: number;
}

/** The decode and prefill points one observation gives, or why each was refused. */
export interface CheckedObservation {
  decode: { x: number; y: number } | { refused: string };
  prefill: { x: number; y: number; queueMs: number; ttftMs: number } | { refused: string };
}

// Beyond these a value is a unit mistake or a broken counter, not a latency or a prompt; they also
// keep the estimator's sums far from floating-point overflow.
export const MAX_LATENCY_MS = 1e7;
export const MAX_INPUT_TOKENS = 1e8;
/** No token is computed in under a microsecond; below that the series is broken. */
export const MIN_LATENCY_MS = 1e-3;
/** A window whose average wait is more than this many prefill phases has a queue building or draining. */
export const QUEUED_WAIT = 4;
/**
 * ...and more than this in ms: a scheduler step's wait, or a per-request overhead outside the
 * prefill phase, is tens of ms; against a prefill of a few ms (short prompts) it is many phases
 * without any queue.
 */
export const QUEUED_MIN_MS = 100;

function positive(v: number | undefined, max = MAX_LATENCY_MS, min = MIN_LATENCY_MS): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}

function describe(v: unknown): string {
  return typeof v === 'number' ? String(v) : v === undefined ? 'absent' : typeof v;
}

/**
 * Splits an observation into its decode point (batch, ITL) and prefill point (input tokens ×
 * batch, prefill time), refusing each that cannot be a measurement of a serving replica.
 */
export function checkObservation(
  o: PerformanceObservation,
  maxBatchSize: number,
  minCoverage: number,
): CheckedObservation {
  const coverage = o.coverage ?? 1;
  if (!(Number.isFinite(coverage) && coverage >= minCoverage)) {
    const why =
      `the series cover ${describe(coverage)} of the window, below ${minCoverage} ` +
      '(a young series or a scrape gap)';
    return { decode: { refused: why }, prefill: { refused: why } };
  }
  const batch = o.batch;
  let batchProblem: string | null = null;
  if (typeof batch !== 'number' || !Number.isFinite(batch)) batchProblem = `batch is ${describe(batch)}`;
  else if (batch <= 0) batchProblem = `batch ${batch} <= 0 (nothing running)`;
  // A pod cannot run more than max_num_seqs; more means the series mix pods or configurations.
  else if (batch > maxBatchSize * 1.01)
    batchProblem = `batch ${batch} is above max batch size ${maxBatchSize}`;

  const decode: CheckedObservation['decode'] = batchProblem
    ? { refused: batchProblem }
    : positive(o.itlMs)
      ? { x: batch, y: o.itlMs }
      : { refused: `ITL is ${describe(o.itlMs)}, not between ${MIN_LATENCY_MS} and ${MAX_LATENCY_MS} ms` };

  let prefill: CheckedObservation['prefill'];
  if (batchProblem) prefill = { refused: batchProblem };
  else if (o.prefillMs === undefined && o.inputTokens === undefined)
    prefill = { refused: 'no prefill measurement' };
  else if (!positive(o.prefillMs)) prefill = { refused: `prefill time is ${describe(o.prefillMs)}` };
  else if (!positive(o.inputTokens, MAX_INPUT_TOKENS))
    prefill = { refused: `input tokens are ${describe(o.inputTokens)}` };
  else if (
    o.queueMs !== undefined &&
    !(Number.isFinite(o.queueMs) && o.queueMs >= 0 && o.queueMs <= MAX_LATENCY_MS)
  )
    prefill = { refused: `queue time is ${describe(o.queueMs)}` };
  else if (o.ttftMs !== undefined && !positive(o.ttftMs))
    prefill = { refused: `TTFT is ${describe(o.ttftMs)}` };
  // vLLM records TTFT at a request's first token but its queue time only when it finishes, seconds
  // later: while a queue builds or drains the two averages are over different requests, and TTFT
  // minus the wait is no prefill time at all (it read 2-4x the prefill phase, or below zero, on
  // the emulator). A wait of several prefill phases marks such a window; it teaches nothing. (Even
  // unloaded, a request waits about a scheduler step, as long as a short prefill: not a queue.)
  else if (
    o.queueMs !== undefined &&
    o.ttftMs !== undefined &&
    o.queueMs > Math.max(QUEUED_WAIT * o.prefillMs, QUEUED_MIN_MS)
  )
    prefill = {
      refused: `requests queued (wait ${o.queueMs.toFixed(0)} ms > ${QUEUED_WAIT} x prefill ${o.prefillMs.toFixed(0)} ms): TTFT and queue time then average different requests`,
    };
  // The same lag the other way round: as a queue starts to build, TTFT already holds the new waits
  // while queue time holds only the requests that finished, which did not wait yet; TTFT minus
  // queue time then reads several prefill phases (granite on the emulator: 4.4 to 7, steady 1.3).
  else if (
    o.queueMs !== undefined &&
    o.ttftMs !== undefined &&
    o.ttftMs - o.queueMs > Math.max(QUEUED_WAIT * o.prefillMs, o.prefillMs + QUEUED_MIN_MS)
  )
    prefill = {
      refused: `requests queuing (TTFT ${o.ttftMs.toFixed(0)} ms - wait ${o.queueMs.toFixed(0)} ms > ${QUEUED_WAIT} x prefill ${o.prefillMs.toFixed(0)} ms): TTFT and queue time then average different requests`,
    };
  // And while a queue drains: no request's TTFT is shorter than its own wait.
  else if (o.queueMs !== undefined && o.ttftMs !== undefined && o.ttftMs < o.queueMs)
    prefill = {
      refused: `queue draining (TTFT ${o.ttftMs.toFixed(0)} ms < wait ${o.queueMs.toFixed(0)} ms): TTFT and queue time then average different requests`,
    };
  else {
    const queueMs = o.queueMs ?? (o.ttftMs !== undefined ? Math.max(0, o.ttftMs - o.prefillMs) : 0);
    const ttftMs = o.ttftMs ?? queueMs + o.prefillMs;
    // The queueing model's TTFT is waiting plus "prefill": everything after the wait up to the
    // first token. vLLM's prefill phase leaves out a per-request overhead (API server,
    // tokenisation, first detokenisation) that TTFT includes, so the line is fitted to TTFT minus
    // the wait when both are measured, and that overhead lands in gamma.
    const y = Math.max(o.prefillMs, ttftMs - queueMs);
    prefill = { x: o.inputTokens * batch, y, queueMs, ttftMs };
  }
  return { decode, prefill };
}
