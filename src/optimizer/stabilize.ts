// What the optimizer publishes is steadier than what it computes. Scale-up at once; scale-down
// only to the highest count recommended over the last window (HPA's scale-down stabilisation),
// and never while the replicas are saturated.
import type { Saturation } from '../types.js';
import type { LoadProfile } from './types.js';

export type { Saturation };

interface Sample {
  at: number;
  n: number;
}

/**
 * Per key, the recommendations of the last `windowMs` on one accelerator, kept as a decreasing
 * run (a sample below a newer one can never be the maximum again), so memory stays small.
 */
export class Stabiliser {
  private readonly history = new Map<string, { accelerator: string; samples: Sample[] }>();

  constructor(public windowMs: number) {}

  /**
   * Records `n` at `now` and returns what to publish: the highest recommendation of the window.
   * A key seen for the first time is seeded with `seed` (the count published before a restart),
   * so a controller that just started, whose rates still read low, does not scale down at once.
   */
  recommend(key: string, now: Date, accelerator: string, n: number, seed?: number): number {
    if (this.windowMs <= 0) return n;
    const t = now.getTime();
    let h = this.history.get(key);
    if (!h || h.accelerator !== accelerator) {
      h = { accelerator, samples: seed !== undefined && !this.history.has(key) ? [{ at: t, n: seed }] : [] };
      this.history.set(key, h);
    }
    const s = h.samples;
    while (s.length > 0 && (s[0] as Sample).at < t - this.windowMs) s.shift();
    while (s.length > 0 && (s[s.length - 1] as Sample).n <= n) s.pop();
    s.push({ at: t, n });
    return (s[0] as Sample).n;
  }

  /** Drops keys not in `keep` (objects deleted). */
  retain(keep: Set<string>): void {
    for (const k of this.history.keys()) if (!keep.has(k)) this.history.delete(k);
  }

  get size(): number {
    return this.history.size;
  }
}

/** Below this growth of requests in the system (per minute) the queue counts as steady. */
const GROWTH_FLOOR_PER_MIN = 0.01;

/**
 * Why a scale-down must wait, or undefined (the sentence carries no measured values, so a status
 * message built from it stays the same while the state does): the measured queue grows (arrivals above completions),
 * or KV-cache usage is above `kvThreshold`. Unknown signals hold nothing.
 */
export function saturationHold(
  load: LoadProfile & { completionRate?: number },
  saturation: Saturation | undefined,
  kvThreshold: number,
): string | undefined {
  const reasons: string[] = [];
  const c = load.completionRate;
  if (c !== undefined && Number.isFinite(c)) {
    const growth = load.arrivalRate - c;
    if (growth > Math.max(GROWTH_FLOOR_PER_MIN, 0.01 * c)) {
      reasons.push('the queue grows (more requests arrive than complete)');
    }
  }
  const kv = saturation?.kvCacheUsage;
  if (kv !== undefined && Number.isFinite(kv) && kv > kvThreshold) {
    reasons.push(`KV-cache usage is above ${(kvThreshold * 100).toFixed(0)}%`);
  }
  return reasons.length > 0 ? reasons.join(' and ') : undefined;
}
