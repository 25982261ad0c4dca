// The arrival rate a model has now, not the one its window averaged. A rate measured over a window
// lags a step up by up to the whole window: a minute after the load tripled the average has only
// just caught up, and every replica asked for on the way arrives that much later (each after its own
// start-up). Consecutive window averages overlap, so their differences tell what arrived over the
// last cycle alone; that is used when it is clearly above the average (a rise). A falling rate keeps
// the plain average: scale-down has no start-up to win back, and noise must not shed replicas.

/** A rise smaller than this share of the average is within what counts scatter, and ignored. */
export const RISE_MARGIN = 0.25;
/** A projection less than this share above the average is within the slope's noise, and ignored. */
export const LEAD_MARGIN = 0.05;

interface Sample {
  tMs: number;
  /** The window average measured then, requests per minute. */
  rate: number;
}

export interface RateEstimate {
  /** Requests per minute to size for. */
  rate: number;
  /** The window average as measured. */
  average: number;
  /** Set when the last cycle's own rate replaced the average (a rise). */
  recent?: number;
  /** Set when the rate projected a lead ahead replaced it (a steady rise). */
  ahead?: number;
}

/**
 * Per key (namespace/model), the window averages of recent cycles, a few windows' worth (bounded).
 * Times are of the caller's monotonic clock.
 */
export class RateTrend {
  private readonly history = new Map<string, Sample[]>();

  /**
   * `windowMs`: the window each measured rate averages over (the collector's). `leadMs` (default 0):
   * a steadily rising load is sized for its rate this far ahead (the replicas asked for now serve
   * after their start-up), from the slope of the last window's averages.
   */
  constructor(
    readonly windowMs: number,
    readonly leadMs = 0,
  ) {
    if (!(Number.isFinite(windowMs) && windowMs > 0))
      throw new RangeError(
        `RateTrend: windowMs ${windowMs} is not a positive number of milliseconds; pass the window the arrival rate is averaged over`,
      );
    if (!(Number.isFinite(leadMs) && leadMs >= 0))
      throw new RangeError(
        `RateTrend: leadMs ${leadMs} is not a number of milliseconds >= 0; pass 0 for no lead, or the replicas' start-up`,
      );
  }

  /** Least-squares slope (per ms) of the averages over the last window, now included; null with fewer than 3. */
  private slope(s: readonly Sample[], nowMs: number, average: number): number | null {
    const xs = [
      ...s.filter((x) => x.tMs >= nowMs - this.windowMs && x.tMs < nowMs),
      { tMs: nowMs, rate: average },
    ];
    if (xs.length < 3) return null;
    const mt = xs.reduce((a, x) => a + x.tMs, 0) / xs.length;
    const mr = xs.reduce((a, x) => a + x.rate, 0) / xs.length;
    let num = 0;
    let den = 0;
    for (const x of xs) {
      num += (x.tMs - mt) * (x.rate - mr);
      den += (x.tMs - mt) ** 2;
    }
    return den > 0 ? num / den : null;
  }

  /** The sample nearest `tMs`, if one lies within `tolMs` of it. */
  private near(s: readonly Sample[], tMs: number, tolMs: number): Sample | undefined {
    let best: Sample | undefined;
    for (const x of s)
      if (Math.abs(x.tMs - tMs) <= tolMs && (!best || Math.abs(x.tMs - tMs) < Math.abs(best.tMs - tMs)))
        best = x;
    return best;
  }

  /**
   * Records this cycle's window average and returns the rate to size for. With A(t) the average
   * over [t - W, t] and d the time since the previous cycle, what arrived over the last d is
   * W x (A(t) - A(t - d)) plus what arrived over [t - W - d, t - W], about d x A(t - W); divided by
   * d that is the last cycle's own rate. Without the samples it needs (the first cycles, a gap) the
   * average stands.
   */
  observe(key: string, nowMs: number, average: number): RateEstimate {
    const s = this.history.get(key) ?? [];
    this.history.set(key, s);
    const prev = s.at(-1);
    let out: RateEstimate = { rate: average, average };
    if (prev !== undefined && prev.tMs < nowMs && Number.isFinite(average) && average >= 0) {
      const d = nowMs - prev.tMs;
      const back = this.near(s, nowMs - this.windowMs, d / 2);
      if (d <= this.windowMs && back !== undefined) {
        const recent = (this.windowMs / d) * (average - prev.rate) + back.rate;
        if (recent > average * (1 + RISE_MARGIN)) out = { rate: recent, average, recent };
      }
      const k = this.leadMs > 0 ? this.slope(s, nowMs, average) : null;
      // The average sits half a window behind now; the replicas asked for serve a lead later.
      const ahead = k !== null && k > 0 ? average + k * (this.windowMs / 2 + this.leadMs) : average;
      if (ahead > out.rate && ahead > average * (1 + LEAD_MARGIN)) out = { rate: ahead, average, ahead };
    }
    if (prev !== undefined && nowMs <= prev.tMs) s.length = 0; // a clock gone back: start again
    if (Number.isFinite(average) && average >= 0) s.push({ tMs: nowMs, rate: average });
    while (s.length > 0 && s[0]!.tMs < nowMs - 2 * this.windowMs) s.shift();
    return out;
  }

  /** Forgets a key (a model deleted). */
  forget(key: string): void {
    this.history.delete(key);
  }
}
