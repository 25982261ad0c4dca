// Background removal of expired cache entries. Reads would drop them anyway; the janitor bounds the
// memory held by models that are no longer asked for. The timer never keeps the process alive.
import type { Logger } from '../types.js';

export interface CacheJanitorOptions {
  /** Fixed cadence, ms. Default: the cache's TTL (re-read each round, so a live TTL change moves it), at least 1 s. */
  intervalMs?: number;
  /** Told how many entries each round removed (debug) and about a failed round (warn). */
  logger?: Logger;
}

export interface CacheJanitor {
  /** Stops the timer; idempotent. */
  stop(): void;
}

export const MIN_JANITOR_INTERVAL_MS = 1000;
/** setTimeout's largest delay; Node runs a longer (or NaN) one after 1 ms, which would spin. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function startCacheJanitor(
  cache: { cleanup(): number; readonly ttlMs: number },
  options: CacheJanitorOptions = {},
): CacheJanitor {
  const logger = options.logger;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const interval = () => {
    const ms = options.intervalMs ?? cache.ttlMs;
    if (Number.isNaN(ms)) return MIN_JANITOR_INTERVAL_MS;
    return Math.min(MAX_TIMER_MS, Math.max(MIN_JANITOR_INTERVAL_MS, ms));
  };
  const schedule = () => {
    timer = setTimeout(tick, interval());
    timer.unref();
  };
  const tick = () => {
    if (stopped) return;
    try {
      const removed = cache.cleanup();
      if (removed > 0) logger?.debug({ removed }, 'expired cache entries removed');
    } catch (err) {
      logger?.warn({ err }, 'cache cleanup failed');
    }
    if (!stopped) schedule();
  };
  schedule();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
