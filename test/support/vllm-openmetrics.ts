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
}

/** What the collector should compute from a set of pods over any window inside their span. */
export interface ExpectedMetrics {
  arrivalRate: number; // req/min
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

  const histograms: Array<[string, 'prompt' | 'gen' | 'ttft' | 'itl']> = [
    ['vllm:request_prompt_tokens', 'prompt'],
    ['vllm:request_generation_tokens', 'gen'],
    ['vllm:time_to_first_token_seconds', 'ttft'],
    ['vllm:time_per_output_token_seconds', 'itl'],
  ];
  for (const [name, key] of histograms) {
    out.push(`# TYPE ${name} histogram`);
    for (const p of pods) {
      const s = slopes(p);
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
  out.push('# EOF');
  return `${out.join('\n')}\n`;
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
  return {
    arrivalRate: tot.success * 60,
    avgInputTokens: ratio(tot.promptSum, tot.promptCount),
    avgOutputTokens: ratio(tot.genSum, tot.genCount),
    ttftAverage: ratio(lat.ttftSum, lat.ttftCount) * 1000,
    itlAverage: ratio(lat.itlSum, lat.itlCount) * 1000,
  };
}
