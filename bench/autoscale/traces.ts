// The benchmark's models and load traces. Rates are requests per minute per model; each trace
// gives both models the same shape (the second a little shifted), so accelerator choice and
// per-model sizing both matter.
import { streamFor } from '../../src/emulator/random.js';
import { engineSetup, type LengthDistribution } from '../../src/simulator/index.js';
import type { ModelSpec } from './fleet.js';

const MIN = 60_000;

export interface Trace {
  name: string;
  durationMs: number;
  /** Requests per minute of model i at time t. */
  rate(model: number, tMs: number): number;
  /** Gaps' coefficient of variation (1: Poisson). */
  arrivalCv: number;
  /** Times the rate jumps up (for the recovery figure). */
  stepsUp: number[];
  /** Overrides of the models' request lengths. */
  lengths?: { input: LengthDistribution; output: LengthDistribution };
}

/** Vllm arguments of every pod: the batch limit an operator sets for latency. */
const ARGS = { maxNumSeqs: 64 };

export function benchModels(): ModelSpec[] {
  const lengths = { input: { mean: 1000, cv: 1 }, output: { mean: 200, cv: 1 } };
  return [
    {
      id: 'meta-llama/Llama-3.1-8B-Instruct',
      slo: { ttftMs: 1000, itlMs: 50 },
      ...lengths,
      variants: [
        {
          name: 'llama-a100',
          accelerator: 'A100',
          cost: 10,
          setup: engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'A100', ARGS),
        },
        {
          name: 'llama-l40s',
          accelerator: 'L40S',
          cost: 5,
          setup: engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'L40S', ARGS),
        },
      ],
    },
    {
      id: 'Qwen/Qwen3-8B',
      slo: { ttftMs: 500, itlMs: 30 },
      ...lengths,
      variants: [
        {
          name: 'qwen-h100',
          accelerator: 'H100',
          cost: 20,
          setup: engineSetup('Qwen/Qwen3-8B', 'H100', ARGS),
        },
        {
          name: 'qwen-a100',
          accelerator: 'A100',
          cost: 10,
          setup: engineSetup('Qwen/Qwen3-8B', 'A100', ARGS),
        },
      ],
    },
  ];
}

/** Base rate per model, requests per minute. */
const BASE = [700, 500];

/** Log-normal lengths whose median is `median` with the given CV (its mean is above the median). */
function fromMedian(median: number, cv: number): LengthDistribution {
  return { mean: median * Math.sqrt(1 + cv * cv), cv };
}

/** A smooth seeded wander in [-1, 1] with minute-scale changes: the production trace's drift. */
function wander(seed: number, name: string, durationMs: number): (tMs: number) => number {
  const r = streamFor(seed, `wander:${name}`);
  const knots: number[] = [];
  let x = 0;
  for (let i = 0; i <= durationMs / MIN + 1; i++) {
    x = Math.max(-1, Math.min(1, 0.7 * x + 0.6 * (2 * r() - 1)));
    knots.push(x);
  }
  return (t) => {
    const i = Math.floor(t / MIN);
    const f = t / MIN - i;
    return (knots[i] ?? 0) * (1 - f) + (knots[i + 1] ?? 0) * f;
  };
}

export function benchTraces(durationMs: number, seed: number): Trace[] {
  const d = durationMs;
  const stepAt = [0.25 * d, 0.75 * d];
  const spikeEvery = d / 3;
  const spikeLen = 4 * MIN;
  const w = [wander(seed, 'azure-0', d), wander(seed, 'azure-1', d)];
  return [
    {
      name: 'step',
      durationMs: d,
      arrivalCv: 1,
      stepsUp: [stepAt[0]!],
      rate: (m, t) => BASE[m]! * (t >= stepAt[0]! && t < stepAt[1]! ? 3 : 1),
    },
    {
      name: 'diurnal',
      durationMs: d,
      arrivalCv: 1,
      stepsUp: [],
      // A day compressed into the trace, from the trough to the peak and back.
      rate: (m, t) => BASE[m]! * (1.8 - 1.2 * Math.cos((2 * Math.PI * (t + m * 0.05 * d)) / d)),
    },
    {
      name: 'spike',
      durationMs: d,
      arrivalCv: 1,
      stepsUp: [1, 2].map((k) => k * spikeEvery),
      rate: (m, t) => {
        const inSpike = t >= spikeEvery && t % spikeEvery < spikeLen;
        return BASE[m]! * (inSpike ? 3 : 1);
      },
    },
    {
      name: 'bursty',
      durationMs: d,
      arrivalCv: 3,
      stepsUp: [],
      rate: (m) => 1.5 * BASE[m]!,
    },
    {
      name: 'azure-conv',
      durationMs: d,
      arrivalCv: 1.5,
      stepsUp: [],
      lengths: { input: fromMedian(1020, 1.2), output: fromMedian(129, 1) },
      rate: (m, t) => 1.5 * BASE[m]! * (1 + 0.5 * w[m]!(t)),
    },
  ];
}

/** The highest rate of model i over the trace (sampled every 10 s). */
export function peakRate(trace: Trace, model: number): number {
  let peak = 0;
  for (let t = 0; t < trace.durationMs; t += 10_000) peak = Math.max(peak, trace.rate(model, t));
  return peak;
}
