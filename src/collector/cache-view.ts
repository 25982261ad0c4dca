// What a ModelMetricsCache's entries were computed over: the rate window and the evaluation time
// (Prometheus' now, or a fixed instant). The cache is keyed by model and namespace only, so numbers
// over another window or at another time must neither be answered from it nor stored in it: the
// collectors record the view they fill a cache with, and a call with another view leaves it alone.
import type { ModelMetricsCache } from '../cache/index.js';

const views = new WeakMap<ModelMetricsCache, string>();

function view(window: string, time: Date | undefined): string {
  return `${window}@${time ? time.getTime() : 'now'}`;
}

/** Records that `cache` now holds (or is about to hold) numbers over `window` at `time`. */
export function setCacheView(cache: ModelMetricsCache, window: string, time?: Date): void {
  views.set(cache, view(window, time));
}

/** Whether the cache's entries are over `window` at `time`; a cache nobody filled yet takes them. */
export function cacheHoldsView(cache: ModelMetricsCache, window: string, time?: Date): boolean {
  const held = views.get(cache);
  const wanted = view(window, time);
  if (held === undefined) {
    views.set(cache, wanted);
    return true;
  }
  return held === wanted;
}
