// OpenMetrics text of vLLM's serving metrics with known, linear counters, for backfilling a real
// Prometheus (startPrometheus({ openmetrics })) and expecting exact numbers.
//
// Counters grow linearly, so rate() over any window inside the written span is exactly the slope
// (Prometheus' extrapolation of a straight line is the same line). Metric names are written out
// here on purpose, not imported from src/, so a wrong name in src/ fails the tests.
import { BACKFILL_TIME_S, openMetricsEscape } from './prometheus.js';

export interface VllmPodTraffic {
  /** Labels of every series of this pod: model_name, namespace, pod, engine, ... */
  labels: Record<string, string>;
  /** Successful requests per second (0: a pod with no traffic; its counters stay flat). */
  requestsPerSecond: number;
  avgPromptTokens?: number;
  avgGenerationTokens?: number;
  avgTtftSeconds?: number;
  avgItlSeconds?: number;
  /** Splits request_success_total over vLLM's finished_reason label, fractions summing to 1.
   *  Default `{ stop: 1 }`. */
  finishedReasons?: Record<string, number>;
  /** First and last sample, unix seconds; default BACKFILL_TIME_S-600 .. BACKFILL_TIME_S. */
  fromS?: number;
  toS?: number;
  /** Sample spacing in seconds, default 15. */
  stepS?: number;
  /**
   * Which names the pod exports for ITL and KV-cache usage: `current` (default; vLLM >= 0.12:
   * inter_token_latency_seconds, kv_cache_usage_perc), `both` (as 0.10/0.11: new and old names, same
   * values), `legacy` (before 0.10: time_per_output_token_seconds, gpu_cache_usage_perc).
   */
  names?: 'current' | 'both' | 'legacy';
  /** With `names: 'both'`: what the old ITL name reports, when it should differ from the new one
   *  (so a test can tell which name was read). Default avgItlSeconds. */
  legacyItlSeconds?: number;
  /** With `names: 'both'`: what gpu_cache_usage_perc reports. Default kvCacheUsage. */
  legacyKvCacheUsage?: number;
  /** Leave these histograms out (a server that does not export them). */
  omitHistograms?: Array<'prompt' | 'gen' | 'ttft' | 'itl'>;
  /** vllm:num_requests_running at the first sample (default 0) and its growth per second (default 0). */
  running?: number;
  runningGrowthPerSecond?: number;
  /** vllm:num_requests_waiting at the first sample (default 0) and its growth per second. */
  waiting?: number;
  waitingGrowthPerSecond?: number;
  /** KV-cache usage 0..1 (default 0). `null`: no KV-cache gauge at all. */
  kvCacheUsage?: number | null;
  /** No num_requests_running/waiting gauges at all. */
  omitGauges?: boolean;
}

/** What the collector should compute from a set of pods over any window inside their span. */
export interface ExpectedMetrics {
  arrivalRate: number; // req/min: completions + growth of running + waiting
  completionRate: number; // req/min
  avgInputTokens: number;
  avgOutputTokens: number;
  ttftAverage: number; // ms
  itlAverage: number; // ms
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${openMetricsEscape(v)}"`)
    .join(',');
}

function times(p: VllmPodTraffic): number[] {
  const to = p.toS ?? BACKFILL_TIME_S;
  const from = p.fromS ?? to - 600;
  const step = p.stepS ?? 15;
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
}

/** Rates per second of each counter of a pod. */
function slopes(p: VllmPodTraffic) {
  const r = p.requestsPerSecond;
  const gen = p.avgGenerationTokens ?? 0;
  // vLLM observes time_per_output_token once per generated token after the first.
  const itlCount = r * gen;
  return {
    success: r,
    promptSum: r * (p.avgPromptTokens ?? 0),
    promptCount: r,
    genSum: r * gen,
    genCount: r,
    ttftSum: r * (p.avgTtftSeconds ?? 0),
    ttftCount: r,
    itlSum: itlCount * (p.avgItlSeconds ?? 0),
    itlCount,
  };
}

/** OpenMetrics text (with `# EOF`) for the given pods. */
export function vllmOpenMetrics(pods: VllmPodTraffic[]): string {
  const out: string[] = [];
  // A base value so counters are far from zero (no extrapolation clamp at the series start).
  const base = 1000;

  out.push('# TYPE vllm:request_success counter');
  for (const p of pods) {
    const reasons = p.finishedReasons ?? { stop: 1 };
    const s = slopes(p);
    const from = times(p)[0] ?? 0;
    for (const [reason, share] of Object.entries(reasons)) {
      const labels = labelText({ ...p.labels, finished_reason: reason });
      for (const t of times(p)) {
        out.push(`vllm:request_success_total{${labels}} ${base + s.success * share * (t - from)} ${t}`);
      }
    }
  }

  const histograms: Array<[string, 'prompt' | 'gen' | 'ttft' | 'itl', Array<VllmPodTraffic['names']>]> = [
    ['vllm:request_prompt_tokens', 'prompt', ['current', 'both', 'legacy']],
    ['vllm:request_generation_tokens', 'gen', ['current', 'both', 'legacy']],
    ['vllm:time_to_first_token_seconds', 'ttft', ['current', 'both', 'legacy']],
    ['vllm:inter_token_latency_seconds', 'itl', ['current', 'both']],
    ['vllm:time_per_output_token_seconds', 'itl', ['both', 'legacy']],
  ];
  for (const [name, key, namings] of histograms) {
    const exporting = pods.filter(
      (p) => namings.includes(p.names ?? 'current') && !(p.omitHistograms ?? []).includes(key),
    );
    if (exporting.length === 0) continue;
    out.push(`# TYPE ${name} histogram`);
    for (const p of exporting) {
      const legacyName = name === 'vllm:time_per_output_token_seconds' && p.names === 'both';
      const s = slopes(legacyName ? { ...p, avgItlSeconds: p.legacyItlSeconds ?? p.avgItlSeconds } : p);
      const sumSlope = s[`${key}Sum`];
      const countSlope = s[`${key}Count`];
      const labels = labelText(p.labels);
      const sep = labels ? ',' : '';
      const from = times(p)[0] ?? 0;
      for (const t of times(p)) {
        const count = base + countSlope * (t - from);
        const sum = base + sumSlope * (t - from);
        out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${count} ${t}`);
        out.push(`${name}_count{${labels}} ${count} ${t}`);
        out.push(`${name}_sum{${labels}} ${sum} ${t}`);
      }
    }
  }
  const gauges: Array<[string, (p: VllmPodTraffic) => ((dt: number) => number) | undefined]> = [
    [
      'vllm:num_requests_running',
      (p) => (p.omitGauges ? undefined : (dt) => (p.running ?? 0) + (p.runningGrowthPerSecond ?? 0) * dt),
    ],
    [
      'vllm:num_requests_waiting',
      (p) => (p.omitGauges ? undefined : (dt) => (p.waiting ?? 0) + (p.waitingGrowthPerSecond ?? 0) * dt),
    ],
    ['vllm:kv_cache_usage_perc', (p) => (p.names === 'legacy' ? undefined : kvGauge(p))],
    [
      'vllm:gpu_cache_usage_perc',
      (p) => (p.names === 'both' || p.names === 'legacy' ? kvGauge(p) : undefined),
    ],
  ];
  for (const [name, seriesOf] of gauges) {
    const exporting = pods.flatMap((p) => {
      const f = seriesOf(p);
      return f ? [{ p, f }] : [];
    });
    if (exporting.length === 0) continue;
    out.push(`# TYPE ${name} gauge`);
    for (const { p, f } of exporting) {
      const labels = labelText(p.labels);
      const from = times(p)[0] ?? 0;
      for (const t of times(p)) out.push(`${name}{${labels}} ${f(t - from)} ${t}`);
    }
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

function kvGauge(p: VllmPodTraffic): ((dt: number) => number) | undefined {
  if (p.kvCacheUsage === null) return undefined;
  const v = p.kvCacheUsage ?? 0;
  return () => v;
}

/** The metrics a correct collector reports for the sum of these pods (one model, one namespace). */
export function expectedMetrics(pods: VllmPodTraffic[]): ExpectedMetrics {
  const tot = { success: 0, promptSum: 0, promptCount: 0, genSum: 0, genCount: 0 };
  const lat = { ttftSum: 0, ttftCount: 0, itlSum: 0, itlCount: 0 };
  for (const p of pods) {
    const s = slopes(p);
    tot.success += s.success;
    tot.promptSum += s.promptSum;
    tot.promptCount += s.promptCount;
    tot.genSum += s.genSum;
    tot.genCount += s.genCount;
    lat.ttftSum += s.ttftSum;
    lat.ttftCount += s.ttftCount;
    lat.itlSum += s.itlSum;
    lat.itlCount += s.itlCount;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const growth = pods.reduce(
    (g, p) => g + (p.runningGrowthPerSecond ?? 0) + (p.waitingGrowthPerSecond ?? 0),
    0,
  );
  return {
    arrivalRate: (tot.success + growth) * 60,
    completionRate: tot.success * 60,
    avgInputTokens: ratio(tot.promptSum, tot.promptCount),
    avgOutputTokens: ratio(tot.genSum, tot.genCount),
    ttftAverage: ratio(lat.ttftSum, lat.ttftCount) * 1000,
    itlAverage: ratio(lat.itlSum, lat.itlCount) * 1000,
  };
}

/**
 * One pod's vLLM series for scale-to-zero tests, a sample every 15 s from `from` until the backfill
 * instant: requests at 1/s until `busyUntil` and none after (the success counter and the running
 * gauge), nothing waiting, and the KV-cache gauge at `kvCacheUsage` when given. `labels` is the
 * series' label set as exposition text (`model_name="…",namespace="…",pod="…"`).
 */
export function idleAfterOpenMetrics(
  labels: string,
  from: number,
  busyUntil: number,
  kvCacheUsage?: number,
): string {
  const T = BACKFILL_TIME_S;
  const lines: string[] = [];
  const samples = (fn: (t: number) => number, metric: string, extra = '') => {
    for (let t = from; t <= T; t += 15) lines.push(`${metric}{${labels}${extra}} ${fn(t)} ${t}`);
  };
  lines.push('# TYPE vllm:request_success counter');
  samples(
    (t) => Math.max(0, Math.min(t, busyUntil) - from),
    'vllm:request_success_total',
    ',finished_reason="stop"',
  );
  lines.push('# TYPE vllm:num_requests_running gauge');
  samples((t) => (t < busyUntil ? 1 : 0), 'vllm:num_requests_running');
  lines.push('# TYPE vllm:num_requests_waiting gauge');
  samples(() => 0, 'vllm:num_requests_waiting');
  if (kvCacheUsage !== undefined) {
    lines.push('# TYPE vllm:kv_cache_usage_perc gauge');
    samples(() => kvCacheUsage, 'vllm:kv_cache_usage_perc');
  }
  return lines.join('\n');
}

/**
 * The scale-to-zero tests' fleet, one pod a model: org/quiet and org/always-on busy until 15 minutes
 * before the backfill instant (idle for longer than a 10-minute retention period; the tests turn scale
 * to zero off for org/always-on), and org/young started 5 minutes before it and never served (its
 * series younger than the retention period). `labels(model)` is the pod's label set; `kvCacheUsage`
 * as in idleAfterOpenMetrics().
 */
export function scaleToZeroFleetOpenMetrics(
  labels: (model: string) => string,
  kvCacheUsage?: number,
): string {
  const T = BACKFILL_TIME_S;
  return [
    idleAfterOpenMetrics(labels('org/quiet'), T - 1800, T - 900, kvCacheUsage),
    idleAfterOpenMetrics(labels('org/always-on'), T - 1800, T - 900, kvCacheUsage),
    idleAfterOpenMetrics(labels('org/young'), T - 300, T - 300, kvCacheUsage),
  ].join('\n');
}
