// What a capacity planner reads from a run: latency summaries per request and throughput.
import type { SimRequest } from './engine.js';

export interface Summary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Mean and nearest-rank percentiles; all 0 for no values. */
export function summarize(values: number[], mean?: number): Summary {
  if (values.length === 0) return { mean: 0, p50: 0, p90: 0, p99: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const m = mean ?? sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { mean: m, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** The JSON document of `wva-metrics simulate --output json`. */
export interface SimulationReport {
  completed: number;
  ttftMs: Summary;
  itlMs: Summary;
  e2eMs: Summary;
  queueMs: Summary;
  requestsPerSecond: number;
  outputTokensPerSecond: number;
  preemptions: number;
  kvUsage: { mean: number; max: number };
}

/** Per-request truth: TTFT from the client's send (gateway wait included). */
export function ttftMs(r: SimRequest): number {
  return r.firstTokenMs! - r.arrivalMs;
}

export function e2eMs(r: SimRequest): number {
  return r.finishedMs! - r.arrivalMs;
}

/** Mean gap between the request's tokens after the first; undefined for a single token. */
export function itlMs(r: SimRequest): number | undefined {
  return r.outputTokens > 1 ? (r.finishedMs! - r.firstTokenMs!) / (r.generated - 1) : undefined;
}

/** Time in the engine's waiting queue (vLLM's request_queue_time). */
export function queueMs(r: SimRequest): number {
  return r.scheduledMs! - r.readyMs;
}

export function report(
  done: SimRequest[],
  spanMs: number,
  preemptions: number,
  kvUsage: { mean: number; max: number },
): SimulationReport {
  const itls: number[] = [];
  let decodeMs = 0;
  let gaps = 0;
  let outputTokens = 0;
  for (const r of done) {
    outputTokens += r.generated;
    const itl = itlMs(r);
    if (itl === undefined) continue;
    itls.push(itl);
    decodeMs += r.finishedMs! - r.firstTokenMs!;
    gaps += r.generated - 1;
  }
  const seconds = spanMs / 1000;
  return {
    completed: done.length,
    ttftMs: summarize(done.map(ttftMs)),
    // The mean over every token gap (as vLLM's benchmark reports ITL); percentiles per request.
    itlMs: summarize(itls, gaps > 0 ? decodeMs / gaps : 0),
    e2eMs: summarize(done.map(e2eMs)),
    queueMs: summarize(done.map(queueMs)),
    requestsPerSecond: seconds > 0 ? done.length / seconds : 0,
    outputTokensPerSecond: seconds > 0 ? outputTokens / seconds : 0,
    preemptions,
    kvUsage,
  };
}
