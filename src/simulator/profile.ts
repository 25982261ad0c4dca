// What profiling a simulated replica gives, in the shape of a VariantAutoscaling's modelProfile:
// ITL(n) = alpha + beta * n and prefill(n) = gamma + delta * inputTokens * n (ms), least-squares
// fits over closed-loop runs at batch sizes 1, 2, 4, ... up to --max-num-seqs. An operator
// profiles real pods this way; the demo's manifests carry these numbers for its emulated pods.
import { simulate } from './run.js';
import type { EngineSetup } from './vllm-args.js';

export interface FittedProfile {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

function leastSquares(xs: number[], ys: number[]): [number, number] {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return [my - slope * mx, slope];
}

export function fitProfile(
  setup: EngineSetup,
  inputTokens: number,
  outputTokens: number,
  seed = 1,
): FittedProfile {
  const sizes: number[] = [];
  for (let n = 1; n <= setup.args.maxNumSeqs; n *= 2) sizes.push(n);
  const itl: number[] = [];
  const prefill: number[] = [];
  for (const n of sizes) {
    const r = simulate({
      setup,
      replicas: 1,
      durationMs: Number.POSITIVE_INFINITY,
      concurrency: n,
      maxRequests: n * 30,
      input: { mean: inputTokens, cv: 0.25 },
      output: { mean: outputTokens, cv: 0.25 },
      seed,
    }).report;
    itl.push(r.itlMs.mean);
    // TTFT without the wait for a seat: the front end and the prefill in a batch of n.
    prefill.push(r.ttftMs.mean - r.queueMs.mean);
  }
  const [alpha, beta] = leastSquares(sizes, itl);
  const [gamma, delta] = leastSquares(
    sizes.map((n) => n * inputTokens),
    prefill,
  );
  return { alpha, beta, gamma, delta };
}
