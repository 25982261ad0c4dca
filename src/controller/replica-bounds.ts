// The bounds every published count stays within, and the guard on a jump of orders of magnitude.
// A count is acted on (an HPA scales to it, or the Deployment is patched), so a wrong input (one
// hostile or broken sample, an annotation typo) must not turn into thousands of replicas.
import type { VariantAutoscaling } from '../kube/types.js';

export const MIN_REPLICAS_ANNOTATION = 'wva.llmd.ai/min-replicas';
export const MAX_REPLICAS_ANNOTATION = 'wva.llmd.ai/max-replicas';

/** The largest replica count a Deployment can hold (spec.replicas is an int32). */
export const INT32_MAX = 2_147_483_647;

/** The most replicas of one variant without a max-replicas annotation. */
export const DEFAULT_MAX_REPLICAS = 1000;

/** A recommendation this many times what runs (or is published) needs a second sample to agree. */
export const JUMP_FACTOR = 10;

export interface ReplicaBounds {
  /** The min-replicas annotation, when set (else the default for the variant's role applies). */
  min?: number;
  max: number;
  /** Whether `max` came from the annotation (else DEFAULT_MAX_REPLICAS). */
  maxAnnotated: boolean;
}

/** The annotations' bounds, or a sentence naming the annotation that is wrong and what it must be. */
export function replicaBounds(va: VariantAutoscaling): ReplicaBounds | string {
  const a = va.metadata.annotations ?? {};
  const read = (name: string, floor: number): number | undefined | string => {
    const raw = a[name];
    if (raw === undefined) return undefined;
    const text = String(raw).trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < floor || n > INT32_MAX)
      return `annotation ${name}: "${String(raw).slice(0, 40)}" must be a whole number from ${floor} to ${INT32_MAX}`;
    return n;
  };
  const min = read(MIN_REPLICAS_ANNOTATION, 0);
  if (typeof min === 'string') return min;
  const max = read(MAX_REPLICAS_ANNOTATION, 1);
  if (typeof max === 'string') return max;
  if (max !== undefined && min !== undefined && max < min)
    return `annotation ${MAX_REPLICAS_ANNOTATION}: ${max} is below ${MIN_REPLICAS_ANNOTATION} ${min}`;
  const out: ReplicaBounds =
    max === undefined ? { max: DEFAULT_MAX_REPLICAS, maxAnnotated: false } : { max, maxAnnotated: true };
  if (min !== undefined) {
    out.min = min;
    // A minimum above the default maximum raises it: the annotation asked for that many.
    if (!out.maxAnnotated && min > out.max) out.max = min;
  }
  return out;
}

/** What limits a count, for messages. */
export function maxText(b: { max: number; maxAnnotated: boolean }): string {
  return b.maxAnnotated
    ? `${MAX_REPLICAS_ANNOTATION} caps at ${b.max}`
    : `the default maximum is ${b.max} (set ${MAX_REPLICAS_ANNOTATION} to allow more)`;
}

/**
 * Per key, the last recommendation, the sample it came from and the cap put on it. A
 * recommendation more than JUMP_FACTOR times the base (what runs or is published, at least 1) is
 * taken only as far as the previous one, from another sample, agrees; until then it is cut to that
 * threshold, and the same sample read again (a reconcile between cycles) raises nothing. One sample
 * of a billion waiting requests then moves a variant one order of magnitude, not six, and the next
 * sample (back to normal) takes it no further.
 */
export class JumpGuard {
  private readonly last = new Map<string, { n: number; sample: string; cap?: number; why?: string }>();

  /** `sample` identifies the metrics read (the same read twice is one sample, not two). */
  limit(key: string, n: number, base: number, sample: string): { n: number; held?: string } {
    const from = Math.max(base, 1);
    const held = (to: number) => ({
      n: to,
      held: `a jump to ${n} is more than ${JUMP_FACTOR}x ${from}: ${to} until a second sample agrees`,
    });
    const prev = this.last.get(key);
    if (prev && prev.sample === sample) {
      // The same words as before: a status message that does not change is not written again.
      if (prev.cap !== undefined && n > prev.cap)
        return { n: prev.cap, held: prev.why ?? held(prev.cap).held };
      this.last.set(key, { n, sample });
      return { n };
    }
    const threshold = JUMP_FACTOR * from;
    if (n <= threshold) {
      this.last.set(key, { n, sample });
      return { n };
    }
    if (prev && prev.n > threshold) {
      const agreed = Math.min(n, prev.n);
      if (agreed >= n) {
        this.last.set(key, { n, sample });
        return { n };
      }
      const h = held(agreed);
      this.last.set(key, { n, sample, cap: agreed, why: h.held });
      return h;
    }
    const h = held(threshold);
    this.last.set(key, { n, sample, cap: threshold, why: h.held });
    return h;
  }

  retain(keep: ReadonlySet<string>): void {
    for (const k of this.last.keys()) if (!keep.has(k)) this.last.delete(k);
  }

  clear(): void {
    this.last.clear();
  }
}
