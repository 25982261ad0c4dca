// Latency of one vLLM replica under load, from the VariantAutoscaling CRD's performance model:
//   ITL(n)  = alpha + beta * n                    (ms per output token, n = running batch)
//   TTFT(n) = gamma + delta * inputTokens * n     (ms)
// The batch follows from Little's law, n = lambda * T(n), with T(n) the time a request spends
// running: TTFT(n) + (outputTokens - 1) * ITL(n). Solved in closed form: n = A / (1 - B).
// Past capacity (n would exceed maxBatchSize) the batch is full and requests queue; the queue
// adds its wait to TTFT.
import type { PerfParams } from './config.js';

export interface ReplicaLoad {
  /** Requests per second offered to this replica. */
  arrivalPerSecond: number;
  inputTokens: number;
  outputTokens: number;
  perf: PerfParams;
  maxBatchSize: number;
}

export interface ReplicaState {
  /** Requests in the running batch. */
  running: number;
  ttftMs: number;
  itlMs: number;
  /** Requests per second the replica completes with a full batch. */
  capacityPerSecond: number;
  /** Offered load is at or past capacity. */
  saturated: boolean;
}

export function ttftMs(perf: PerfParams, inputTokens: number, batch: number): number {
  return perf.gamma + perf.delta * inputTokens * batch;
}

export function itlMs(perf: PerfParams, batch: number): number {
  return perf.alpha + perf.beta * batch;
}

/** Seconds a request spends in the batch at batch size n. */
function serviceSeconds(l: ReplicaLoad, n: number): number {
  return (ttftMs(l.perf, l.inputTokens, n) + Math.max(0, l.outputTokens - 1) * itlMs(l.perf, n)) / 1000;
}

export function replicaState(l: ReplicaLoad): ReplicaState {
  const full = l.maxBatchSize;
  const capacityPerSecond = full / serviceSeconds(l, full);
  const lambda = l.arrivalPerSecond;
  const decode = Math.max(0, l.outputTokens - 1);
  const a = (lambda * (l.perf.gamma + decode * l.perf.alpha)) / 1000;
  const b = (lambda * (l.perf.delta * l.inputTokens + decode * l.perf.beta)) / 1000;
  const unsaturated = lambda < capacityPerSecond && b < 1;
  const running = unsaturated ? a / (1 - b) : full;
  const n = Math.min(running, full);
  return {
    running: n,
    ttftMs: ttftMs(l.perf, l.inputTokens, n),
    itlMs: itlMs(l.perf, n),
    capacityPerSecond,
    saturated: !unsaturated,
  };
}
