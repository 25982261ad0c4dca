// What the controller reads of the simulated fleet each cycle, as its collector would from
// Prometheus: per pod the gauges over the last minute (max KV-cache usage and queue, average
// running), per variant the request histograms' averages over the window, per model the arrival
// rate (completions plus the growth of requests in the system) and the waiting requests now.
import type { PodMetrics } from '../../src/collector/pods.js';
import type { PerformanceObservation } from '../../src/engines/slo/index.js';
import type { ModelState, SimFleet, Variant } from './fleet.js';

export interface VariantView {
  name: string;
  accelerator: string;
  cost: number;
  /** The Deployment's replicas (starting ones included) and those ready. */
  replicas: number;
  ready: number;
  pods: PodMetrics[];
  /** vllm:num_requests_waiting summed over the variant's ready pods at the last scrape. */
  waiting: number;
  /** The window's performance point; null when nothing finished or no pod was ready all window. */
  observation: PerformanceObservation | null;
}

export interface ModelView {
  id: string;
  /** Requests per minute. */
  arrivalRate: number;
  avgInputTokens: number;
  avgOutputTokens: number;
  /** vllm:num_requests_waiting summed over the pods, plus the gateway's queue. */
  waiting: number;
  variants: VariantView[];
}

function podMetrics(model: string, v: Variant, fromMs: number, nowMs: number): PodMetrics[] {
  const s = v.spec.setup;
  const out: PodMetrics[] = [];
  // Tokens per request over the last 5 minutes, as the collector's rate ratio reads them.
  const n = v.recent.length;
  const tokens =
    n > 0
      ? {
          avgInputTokens: v.recent.reduce((a, f) => a + f.input, 0) / n,
          avgOutputTokens: v.recent.reduce((a, f) => a + f.output, 0) / n,
        }
      : {};
  for (const p of v.ready(nowMs)) {
    const xs = p.scrapes.filter((x) => x.tMs > fromMs);
    if (xs.length === 0) continue;
    out.push({
      pod: p.name,
      modelId: model,
      namespace: 'bench',
      kvCacheUsage: Math.max(...xs.map((x) => x.kv)),
      queueLength: Math.max(...xs.map((x) => x.waiting)),
      avgRunning: xs.reduce((a, x) => a + x.running, 0) / xs.length,
      numGpuBlocks: s.numGpuBlocks,
      blockSize: s.args.blockSize,
      ...tokens,
    });
  }
  return out;
}

function observation(v: Variant, pods: PodMetrics[], fromMs: number, nowMs: number, windowMs: number) {
  const done = v.recent.filter((f) => f.finishedMs > fromMs);
  if (done.length === 0 || pods.length === 0) return null;
  let gaps = 0;
  let decode = 0;
  let prefill = 0;
  let queue = 0;
  let ttft = 0;
  let input = 0;
  for (const f of done) {
    gaps += f.gaps;
    decode += f.decodeMs;
    prefill += f.prefillMs;
    queue += f.queueMs;
    ttft += f.ttftMs;
    input += f.input;
  }
  if (gaps === 0) return null;
  const n = done.length;
  // A pod younger than the window covers only part of it, as a young series does.
  const oldest = Math.min(...v.ready(nowMs).map((p) => p.readyAt));
  const coverage = Math.min(1, (nowMs - Math.max(oldest, fromMs)) / windowMs);
  return {
    itlMs: decode / gaps,
    batch: pods.reduce((a, p) => a + (p.avgRunning ?? 0), 0) / pods.length,
    prefillMs: prefill / n,
    inputTokens: input / n,
    queueMs: queue / n,
    ttftMs: ttft / n,
    coverage,
  };
}

function modelView(m: ModelState, nowMs: number, windowMs: number): ModelView {
  const fromMs = nowMs - windowMs;
  let completed = 0;
  let input = 0;
  let output = 0;
  const variants = m.variants.map((v): VariantView => {
    const pods = podMetrics(m.spec.id, v, fromMs, nowMs);
    for (const f of v.recent) {
      if (f.finishedMs <= fromMs) continue;
      completed++;
      input += f.input;
      output += f.output;
    }
    return {
      name: v.spec.name,
      accelerator: v.spec.accelerator,
      cost: v.spec.cost,
      replicas: v.pods.length,
      ready: v.ready(nowMs).length,
      pods,
      waiting: v.ready(nowMs).reduce((a, p) => a + (p.scrapes.at(-1)?.waiting ?? 0), 0),
      observation: observation(v, pods, fromMs, nowMs, windowMs),
    };
  });
  const last = m.inSystem.at(-1);
  const first = m.inSystem.find((x) => x.tMs >= fromMs) ?? last;
  // Over the part of the window the run has lasted: in the first minute a rate over the whole
  // window would read half the load (Prometheus' rate() covers only the samples there are).
  const minutes = Math.min(windowMs, nowMs) / 60_000;
  const growth = last && first ? last.n - first.n : 0;
  let waiting = m.pending.length;
  for (const v of m.variants) for (const p of v.ready(nowMs)) waiting += p.scrapes.at(-1)?.waiting ?? 0;
  return {
    id: m.spec.id,
    arrivalRate: minutes > 0 ? Math.max(0, (completed + growth) / minutes) : 0,
    avgInputTokens: completed > 0 ? input / completed : 0,
    avgOutputTokens: completed > 0 ? output / completed : 0,
    waiting,
    variants,
  };
}

/** The collector's view of every model at `nowMs` over the last `windowMs`. */
export function readFleet(f: SimFleet, nowMs: number, windowMs: number): ModelView[] {
  return f.models.map((m) => modelView(m, nowMs, windowMs));
}
