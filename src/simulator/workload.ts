// Requests as clients send them: arrival gaps from a seeded process (Poisson, evenly spaced, or
// gamma with a coefficient of variation above 1 for bursts), token lengths from log-normal
// distributions with a mean and a spread, or a replayed trace file.
import { readFileSync } from 'node:fs';

export type ArrivalKind = 'poisson' | 'uniform' | 'gamma';

function normal(random: () => number): number {
  // Box-Muller; 1 - u keeps log away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, scale 1) by Marsaglia and Tsang (boosted for shape < 1). */
export function gammaSample(shape: number, random: () => number): number {
  if (shape < 1) return gammaSample(shape + 1, random) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * Gaps between arrivals of a process with rate 1 (mean gap 1): the caller scales them by the rate,
 * or walks them through the integral of a rate that changes over time.
 */
export class ArrivalProcess {
  constructor(
    readonly kind: ArrivalKind,
    private readonly random: () => number,
    /** Coefficient of variation of the gaps for `gamma` (> 1: burstier than Poisson). */
    readonly cv = 2,
  ) {
    if (kind === 'gamma' && !(cv > 0)) throw new RangeError(`the gamma arrivals' CV must be > 0, got ${cv}`);
  }

  nextGap(): number {
    switch (this.kind) {
      case 'uniform':
        return 1;
      case 'poisson':
        return -Math.log(1 - this.random());
      case 'gamma': {
        const shape = 1 / (this.cv * this.cv);
        return gammaSample(shape, this.random) / shape;
      }
    }
  }
}

/** A length distribution: a mean and a spread (coefficient of variation; 0 = always the mean). */
export interface LengthDistribution {
  mean: number;
  cv: number;
}

/** A token count from a log-normal with the given mean and CV, at least 1 and at most `cap`. */
export function sampleLength(
  d: LengthDistribution,
  random: () => number,
  cap = Number.POSITIVE_INFINITY,
): number {
  let x = d.mean;
  if (d.cv > 0) {
    const s2 = Math.log(1 + d.cv * d.cv);
    x = Math.exp(Math.log(d.mean) - s2 / 2 + Math.sqrt(s2) * normal(random));
  }
  return Math.max(1, Math.min(cap, Math.round(x)));
}

/** One request of a trace. */
export interface TraceEntry {
  arrivalMs: number;
  inputTokens: number;
  outputTokens: number;
}

/** Parses `arrival_s, input_tokens, output_tokens` lines (a header line and # comments allowed). */
export function parseTrace(text: string, source = 'trace'): TraceEntry[] {
  const out: TraceEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const cells = t.split(/[,\s]+/).filter((c) => c !== '');
    const nums = cells.map(Number);
    if (out.length === 0 && nums.some((n) => Number.isNaN(n))) return;
    const [a, input, output] = nums;
    if (cells.length < 3 || !(a! >= 0) || !(input! >= 1) || !(output! >= 1))
      throw new Error(`${source}:${i + 1}: expected "arrival_s, input_tokens, output_tokens", got "${t}"`);
    out.push({ arrivalMs: a! * 1000, inputTokens: Math.round(input!), outputTokens: Math.round(output!) });
  });
  out.sort((x, y) => x.arrivalMs - y.arrivalMs);
  return out;
}

export function loadTrace(file: string): TraceEntry[] {
  return parseTrace(readFileSync(file, 'utf8'), file);
}
