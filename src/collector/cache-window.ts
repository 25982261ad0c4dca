// Which rate window a ModelMetricsCache's entries were computed over. The cache is keyed by model
// and namespace only, so numbers over another window (or at another evaluation time) must neither
// be answered from it nor stored in it: the collectors record the window they fill a cache with.
import type { ModelMetricsCache } from '../cache/index.js';

const windows = new WeakMap<ModelMetricsCache, string>();

/** Records that `cache` now holds (or is about to hold) numbers over `window`. */
export function setCacheWindow(cache: ModelMetricsCache, window: string): void {
  windows.set(cache, window);
}

/** The window of the cache's entries; a cache nobody filled yet takes `window` and says yes. */
export function cacheHoldsWindow(cache: ModelMetricsCache, window: string): boolean {
  const held = windows.get(cache);
  if (held === undefined) {
    windows.set(cache, window);
    return true;
  }
  return held === window;
}
