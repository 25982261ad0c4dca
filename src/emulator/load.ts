// Load patterns: the arrival rate (requests per minute) of one model in one namespace at a time
// since the emulator started.
import type { LoadConfig } from './config.js';
import { streamFor } from './random.js';

export class LoadCurve {
  /** Spike start times (ms), drawn lazily from a seeded stream as time moves on. */
  private readonly spikeStarts: number[] = [];
  private readonly random: () => number;

  constructor(
    readonly config: LoadConfig,
    seed: number,
    name: string,
  ) {
    this.random = streamFor(seed, `load:${name}`);
  }

  /** Requests per minute at `tMs` milliseconds after start. */
  rateAt(tMs: number): number {
    const c = this.config;
    switch (c.pattern) {
      case 'steady':
        return c.rate;
      case 'diurnal':
        return Math.max(0, c.rate * (1 + c.amplitude * Math.sin((2 * Math.PI * (tMs + c.phase)) / c.period)));
      case 'spikes':
        return this.inSpike(tMs, c.every, c.duration) ? c.rate * c.factor : c.rate;
      case 'step': {
        let rate = c.rate;
        for (const s of c.steps) if (tMs >= s.at) rate = s.rate;
        return rate;
      }
      case 'idle':
        return 0;
    }
  }

  private inSpike(tMs: number, every: number, length: number): boolean {
    const starts = this.spikeStarts;
    // Extend the schedule past tMs; the first spike comes after one drawn gap, not at 0.
    while (starts.length === 0 || starts[starts.length - 1]! <= tMs) {
      const last = starts.length === 0 ? 0 : starts[starts.length - 1]!;
      starts.push(last + every * (0.5 + this.random()));
    }
    for (let i = starts.length - 1; i >= 0; i--) {
      const s = starts[i]!;
      if (s > tMs) continue;
      return tMs < s + length;
    }
    return false;
  }
}
