// What the optimizer publishes is steadier than what it computes. Scale-up at once; scale-down
// only once the lower count has been recommended for a whole window (HPA's scale-down
// stabilisation, with the window measured from the first lower recommendation), and never while
// the replicas are saturated.
import type { Saturation } from '../types.js';
import type { LoadProfile } from './types.js';

export type { Saturation };

interface Sample {
  n: number;
  /** When a lower count was first recommended after this one; undefined while it is the newest. */
  lowerSince?: number;
}

/**
 * Per key, the recommendations that can still be published, kept as a decreasing run (a sample
 * below a newer one can never be published again), so memory stays small. A sample leaves once a
 * lower count has been recommended for `windowMs`: a gap without decisions (load unknown) does not
 * count as time spent lower. Times are milliseconds of a monotonic clock (a wall clock stepped
 * forward would end a window early). The count is of replicas whatever their accelerator: a change
 * of accelerator reduces what runs only after a window, like any other scale-down.
 */
export class Stabiliser {
  private readonly history = new Map<string, Sample[]>();

  constructor(public windowMs: number) {}

  /**
   * Records `n` at monotonic time `t` (ms) and returns what to publish. A key seen for the first
   * time starts from `published` when given (what runs): that count is held as if it had just been
   * recommended, so a lower first recommendation waits out the window like any other, a higher one
   * is published at once. Without it (unknown) `n` is published at once.
   */
  recommend(key: string, t: number, n: number, published?: number): number {
    if (this.windowMs <= 0) return n;
    let s = this.history.get(key);
    if (!s) {
      s = published !== undefined ? [{ n: published }] : [];
      this.history.set(key, s);
    }
    while (s.length > 0 && (s[s.length - 1] as Sample).n <= n) s.pop();
    const last = s[s.length - 1];
    if (last && last.lowerSince === undefined) last.lowerSince = t;
    s.push({ n });
    while (s.length > 1 && t - ((s[0] as Sample).lowerSince as number) >= this.windowMs) s.shift();
    return (s[0] as Sample).n;
  }

  /** What `key` publishes now (the highest count still held), or undefined before its first decision. */
  current(key: string): number | undefined {
    return this.history.get(key)?.[0]?.n;
  }

  /** Forgets every key (leadership lost: what another leader publishes meanwhile is not known here). */
  clear(): void {
    this.history.clear();
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
