// `wva-metrics simulate`: replicas of one vLLM deployment under a load, in virtual time, as fast as
// the CPU allows; prints what a capacity planner reads (latency percentiles, throughput, KV use).
import type { Command } from 'commander';
import { parseDuration } from '../duration.js';
import { LoadCurve } from '../emulator/load.js';
import { type ArrivalKind, loadTrace, type SimulationReport, simulate } from '../simulator/index.js';
import { addEngineFlags, type EngineOptions, engineFromOptions } from './engine-flags.js';
import { action, UsageError } from './errors.js';
import { renderTable } from './table.js';

interface SimulateOptions extends EngineOptions {
  model: string;
  pattern: string;
  period?: string;
  duration: string;
  replicas: number;
  rate: number;
  arrivals: string;
  arrivalCv: number;
  concurrency?: number;
  requests?: number;
  maxInputTokens?: number;
  inputTokens: number;
  outputTokens: number;
  inputCv: number;
  outputCv: number;
  seed: number;
  trace?: string;
  output: string;
}

function num(name: string, min: number, integer = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
      throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${v}"`);
    return n;
  };
}

const ARRIVALS = ['poisson', 'uniform', 'gamma'];

export function runSimulation(o: SimulateOptions): SimulationReport {
  if (!ARRIVALS.includes(o.arrivals))
    throw new UsageError(`--arrivals must be poisson, uniform or gamma, got "${o.arrivals}"`);
  if (!['table', 'json'].includes(o.output))
    throw new UsageError(`--output must be table or json, got "${o.output}"`);
  let durationMs: number;
  try {
    durationMs = parseDuration(o.duration);
  } catch (err) {
    throw new UsageError(`--duration: ${(err as Error).message}`);
  }
  const setup = engineFromOptions(o.model, o, o.accelerator ?? 'H100');
  let trace: ReturnType<typeof loadTrace> | undefined;
  if (o.trace) {
    try {
      trace = loadTrace(o.trace);
    } catch (err) {
      throw new UsageError(`--trace: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!['steady', 'diurnal', 'spikes'].includes(o.pattern))
    throw new UsageError(`--pattern must be steady, diurnal or spikes, got "${o.pattern}"`);
  let period: number | undefined;
  if (o.period !== undefined) {
    try {
      period = parseDuration(o.period);
    } catch (err) {
      throw new UsageError(`--period: ${(err as Error).message}`);
    }
  }
  const curve =
    o.pattern === 'diurnal'
      ? new LoadCurve(
          { pattern: 'diurnal', rate: o.rate, amplitude: 0.5, period: period ?? 86_400_000, phase: 0 },
          o.seed,
          'simulate',
        )
      : o.pattern === 'spikes'
        ? new LoadCurve(
            { pattern: 'spikes', rate: o.rate, factor: 3, every: period ?? 120_000, duration: 15_000 },
            o.seed,
            'simulate',
          )
        : undefined;
  return simulate({
    setup,
    replicas: o.replicas,
    durationMs,
    rate: o.rate / 60,
    ...(curve ? { rateAt: (t: number) => curve.rateAt(t) / 60 } : {}),
    arrivals: o.arrivals as ArrivalKind,
    cv: o.arrivalCv,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.requests !== undefined ? { maxRequests: o.requests } : {}),
    ...(o.maxInputTokens !== undefined ? { maxInput: o.maxInputTokens } : {}),
    input: { mean: o.inputTokens, cv: o.inputCv },
    output: { mean: o.outputTokens, cv: o.outputCv },
    ...(trace ? { trace } : {}),
    seed: o.seed,
  }).report;
}

export function formatReport(r: SimulationReport): string {
  const rows = (['ttftMs', 'itlMs', 'e2eMs', 'queueMs'] as const).map((k) => ({ k, s: r[k] }));
  const ms = (x: number) => x.toFixed(1);
  const table = renderTable(
    [
      { header: 'LATENCY (ms)', value: (x: (typeof rows)[number]) => x.k.replace('Ms', '').toUpperCase() },
      { header: 'MEAN', value: (x) => ms(x.s.mean), align: 'right' },
      { header: 'P50', value: (x) => ms(x.s.p50), align: 'right' },
      { header: 'P90', value: (x) => ms(x.s.p90), align: 'right' },
      { header: 'P99', value: (x) => ms(x.s.p99), align: 'right' },
    ],
    rows,
  );
  return (
    `completed ${r.completed} requests: ${r.requestsPerSecond.toFixed(2)} req/s, ` +
    `${r.outputTokensPerSecond.toFixed(0)} output tokens/s, ${r.preemptions} preemptions, ` +
    `KV cache ${(100 * r.kvUsage.mean).toFixed(1)} % mean / ${(100 * r.kvUsage.max).toFixed(1)} % max\n${table}`
  );
}

export function registerSimulate(program: Command): void {
  const cmd = program
    .command('simulate')
    .description(
      'Simulate replicas of one vLLM deployment under a load in virtual time (deterministic from the seed) and print latency and throughput.',
    )
    .option(
      '--model <id>',
      'model id (see docs/simulator.md for the table)',
      'meta-llama/Llama-3.1-8B-Instruct',
    )
    .option('--duration <duration>', 'how long requests are sent, e.g. 10m', '5m')
    .option('--replicas <n>', 'replicas behind the router', num('replicas', 1, true), 1)
    .option('--rate <req/min>', 'arrival rate, requests per minute', num('rate', 0), 120)
    .option('--pattern <p>', 'load pattern around --rate: steady | diurnal | spikes', 'steady')
    .option('--period <duration>', 'diurnal period or mean gap between spikes, e.g. 10m')
    .option('--arrivals <kind>', 'arrival process: poisson | uniform | gamma', 'poisson')
    .option(
      '--arrival-cv <cv>',
      'gap coefficient of variation of gamma arrivals (> 1: bursty)',
      num('arrival-cv', 0),
      2,
    )
    .option(
      '--concurrency <n>',
      'closed loop: this many clients, one request each in flight (ignores --rate)',
      num('concurrency', 1, true),
    )
    .option('--requests <n>', 'stop sending after this many requests', num('requests', 1, true))
    .option('--input-tokens <n>', 'mean prompt tokens per request', num('input-tokens', 1), 512)
    .option('--output-tokens <n>', 'mean generated tokens per request', num('output-tokens', 1), 128)
    .option(
      '--input-cv <cv>',
      'spread of prompt lengths (log-normal CV; 0: all the mean)',
      num('input-cv', 0),
      0.5,
    )
    .option(
      '--max-input-tokens <n>',
      'longest prompt drawn (a dataset filter)',
      num('max-input-tokens', 1, true),
    )
    .option('--output-cv <cv>', 'spread of output lengths (log-normal CV)', num('output-cv', 0), 0.5)
    .option('--seed <n>', 'random seed (same seed, same run)', num('seed', 0, true), 1)
    .option('--trace <file>', 'replay requests from lines "arrival_s, input_tokens, output_tokens"')
    .option('--output <format>', 'table | json', 'table');
  addEngineFlags(cmd).action(
    action((o: SimulateOptions) => {
      const report = runSimulation(o);
      process.stdout.write(
        o.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
      );
    }),
  );
}
