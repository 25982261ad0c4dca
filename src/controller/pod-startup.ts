// How long a variant's new pods take to serve, measured: creation to Ready of the variant's pods
// (the Pod informer's trim), the median of the last few, so one slow node or one odd pod does not
// move it. Each pod counts once, as first seen Ready: a later Ready (a probe that failed and
// recovered) is no start-up. Where nothing is measured (local mode has no Pod objects, or no pod has
// become Ready yet) the configured default stands in.
import type { SaturationModelInput } from '../engines/types.js';
import type { PodView } from '../kube/pods.js';

/** Pods per variant the median is taken over. */
export const STARTUP_SAMPLES = 5;
/** A longer "start-up" is a stuck pod or a late Ready, not one to size for. */
export const STARTUP_MAX_MS = 3_600_000;

export interface StartupEstimate {
  ms: number;
  /** Pods the figure is the median of; 0: the default. */
  measured: number;
}

type Sample = { pod: string; ms: number; readyAtMs: number };

/** The median of `xs` (non-empty): the middle one, or the mean of the two middle ones. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export class PodStartup {
  private readonly samples = new Map<string, Sample[]>();
  private readonly n: number;
  private readonly maxVariants: number;

  constructor(
    private readonly o: {
      /** The Pod objects; absent (local mode): always the default. */
      pods?: PodView;
      /** WVA_POD_STARTUP: where nothing is measured; 0 turns sizing ahead off altogether. */
      defaultMs: number;
      samples?: number;
      /** Variants remembered; beyond, the one updated longest ago is dropped. */
      maxVariants?: number;
    },
  ) {
    this.n = Math.max(1, o.samples ?? STARTUP_SAMPLES);
    this.maxVariants = Math.max(1, o.maxVariants ?? 10_000);
  }

  /** Takes in the variant's pods seen Ready for the first time; `variant` is its key (namespace/name). */
  observe(variant: string, namespace: string, podNames: readonly string[]): void {
    const view = this.o.pods;
    if (!view || this.o.defaultMs === 0) return;
    let kept = this.samples.get(variant);
    for (const name of podNames) {
      if (kept?.some((s) => s.pod === name)) continue;
      const st = view.pod(namespace, name)?.startup;
      if (!st || !(st.ms >= 0 && st.ms <= STARTUP_MAX_MS)) continue;
      kept ??= [];
      kept.push({ pod: name, ms: st.ms, readyAtMs: st.readyAtMs });
    }
    if (!kept) return;
    // The most recent Ready last; only the last n are kept.
    kept.sort((a, b) => a.readyAtMs - b.readyAtMs);
    if (kept.length > this.n) kept.splice(0, kept.length - this.n);
    this.samples.delete(variant);
    this.samples.set(variant, kept);
    if (this.samples.size > this.maxVariants) {
      const oldest = this.samples.keys().next().value as string;
      this.samples.delete(oldest);
    }
  }

  /** The variant's start-up: the median of its last measured pods, else the default. */
  of(variant: string): StartupEstimate {
    const kept = this.o.defaultMs === 0 ? undefined : this.samples.get(variant);
    if (!kept || kept.length === 0) return { ms: this.o.defaultMs, measured: 0 };
    return { ms: median(kept.map((s) => s.ms)), measured: kept.length };
  }

  /**
   * A model's start-up: the longest of its variants' measured ones (the queue builds until the
   * slowest pod asked for serves), else the default.
   */
  ofModel(variants: readonly string[]): StartupEstimate {
    let best: StartupEstimate | undefined;
    for (const v of variants) {
      const e = this.of(v);
      if (e.measured > 0 && (!best || e.ms > best.ms)) best = e;
    }
    return best ?? { ms: this.o.defaultMs, measured: 0 };
  }
}

/** The model's start-up this cycle, its variants' ready pods taken in first (key: namespace/variant). */
export function modelStartup(
  startup: PodStartup,
  namespace: string,
  input: Pick<SaturationModelInput, 'variants' | 'pods'>,
): StartupEstimate {
  const keys = input.variants.map((v) => {
    const key = `${namespace}/${v.variantName}`;
    startup.observe(
      key,
      namespace,
      (input.pods.get(v.variantName) ?? []).map((p) => p.pod),
    );
    return key;
  });
  return startup.ofModel(keys);
}
