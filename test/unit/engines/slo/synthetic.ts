// Synthetic measurements from known lines with seeded noise, for the learner's tests.
import { createRandom } from '../../../../src/emulator/random.js';
import type { PerformanceObservation, PriorParameters } from '../../../../src/engines/slo/learn/index.js';

/** A small seeded generator (mulberry32): the same seed, the same sequence. */
export const seeded: (seed: number) => () => number = createRandom;

/** A standard normal draw (Box-Muller) from a uniform generator. */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export const TRUE: PriorParameters = { alpha: 9, beta: 0.12, gamma: 25, delta: 0.004 };

export interface Cycle {
  batch: number;
  inputTokens: number;
  queueMs?: number;
}

/** One cycle measured on the true lines, each latency with relative noise of sd `noise`. */
export function measure(
  truth: PriorParameters,
  cycle: Cycle,
  rand: () => number,
  noise: number,
): PerformanceObservation {
  const itl = (truth.alpha + truth.beta * cycle.batch) * (1 + noise * normal(rand));
  const prefill = (truth.gamma + truth.delta * cycle.inputTokens * cycle.batch) * (1 + noise * normal(rand));
  const queueMs = cycle.queueMs ?? 0;
  return {
    itlMs: itl,
    batch: cycle.batch,
    prefillMs: prefill,
    inputTokens: cycle.inputTokens,
    queueMs,
    ttftMs: queueMs + prefill,
  };
}

/** Varied load: batch wandering between 4 and 60, input between 500 and 1500 tokens. */
export function variedLoad(rand: () => number): Cycle {
  return {
    batch: 4 + Math.floor(rand() * 57),
    inputTokens: 500 + Math.floor(rand() * 1001),
    queueMs: rand() * 50,
  };
}

/** Steady load: one batch size and one input length. */
export function steadyLoad(): Cycle {
  return { batch: 24, inputTokens: 1000, queueMs: 10 };
}
