// Per-model collection through the cache, as the original's CollectAggregateMetricsWithCache, with
// the two holes closed: a fresh *failed* entry is served (rejects with its stored error, no call)
// until its failure TTL ends, so a Prometheus outage costs one attempt per key per failure TTL, not
// one per caller; and concurrent misses of one key share one in-flight call (the cache's fetch).
// A call is only joined with, and only answered from the cache by, a call over the same window at
// the same evaluation time: a cache holds one window's numbers at one time (Prometheus' now, or the
// fixed `time` of its first filler), so a call with another window or time goes to Prometheus
// (sharing only with identical calls) and leaves the cache alone.

import { LRUCache } from 'lru-cache';
import type { ModelMetricsCache } from '../cache/index.js';
import { abortable } from '../cache/index.js';
import { DEFAULT_WINDOW } from '../prometheus/promql.js';
import { silentLogger } from '../telemetry/logger.js';
import type { AggregateMetrics, CollectorObserver, Logger, PromAPI } from '../types.js';
import { cacheHoldsView } from './cache-view.js';
import { collectAggregateMetrics, copyMetrics } from './collect.js';

export interface CachedCollectOptions {
  observer?: CollectorObserver;
  logger?: Logger;
  /** Rate window, a PromQL duration. Default `1m`. */
  window?: string;
  /** Evaluation time. Default: Prometheus' now. */
  time?: Date;
  /** Stops this caller waiting (rejects with the abort reason). A call shared with other callers
   *  keeps running for them. */
  signal?: AbortSignal;
}

/**
 * Calls that bypass the cache (another window or time), per PromAPI: lru-cache's fetch()
 * shares one call among identical callers while it runs (`forceRefresh`: a finished result is
 * never reused), the same coalescing the cache itself uses.
 */
const uncached = new WeakMap<PromAPI, LRUCache<string, AggregateMetrics, () => Promise<AggregateMetrics>>>();

function uncachedCalls(prom: PromAPI) {
  let calls = uncached.get(prom);
  if (!calls) {
    calls = new LRUCache({ max: 1000, fetchMethod: (_k, _s, { context }) => context() });
    uncached.set(prom, calls);
  }
  return calls;
}

/** What makes two calls the same: pair, window and evaluation time (NUL cannot occur in a name). */
function callKey(modelId: string, namespace: string, window: string, time: Date | undefined): string {
  return `${namespace}\u0000${modelId}\u0000${window}\u0000${time ? time.getTime() : 'now'}`;
}

/**
 * The model's metrics from the cache when fresh, else from ONE Prometheus call shared by every
 * concurrent caller of the key, stored in the cache (a failure as `valid: false` with its error).
 * A fresh failed entry rejects with the stored error without a call. No cache: plain collection.
 */
export async function collectAggregateMetricsWithCache(
  modelId: string,
  namespace: string,
  prom: PromAPI,
  cache?: ModelMetricsCache,
  options: CachedCollectOptions = {},
): Promise<AggregateMetrics> {
  const { observer } = options;
  const window = options.window ?? DEFAULT_WINDOW;
  const collect = () =>
    observed(observer, () =>
      collectAggregateMetrics(modelId, namespace, prom, { window, time: options.time }),
    );
  if (!cache || !cacheHoldsView(cache, window, options.time)) {
    // The shared call gets no caller's signal: one caller giving up must not fail the others.
    const key = callKey(modelId, namespace, window, options.time);
    const shared = uncachedCalls(prom).fetch(key, { context: collect, forceRefresh: true });
    return copyMetrics((await abortable(shared, options.signal)) as AggregateMetrics);
  }
  const logger = options.logger ?? silentLogger;
  const { entry, result } = await cache.fetch(
    modelId,
    namespace,
    async () => {
      logger.debug({ model: modelId, namespace }, 'Querying Prometheus for model metrics');
      try {
        return await collect();
      } catch (err) {
        logger.warn(
          { model: modelId, namespace, err: (err as Error).message },
          'Prometheus query for model metrics failed',
        );
        throw err;
      }
    },
    options.signal,
  );
  observer?.lookup?.(result, modelId, namespace);
  if (result === 'hit') logger.debug({ model: modelId, namespace }, 'Using cached metrics for model');
  if (result === 'failure_hit') {
    logger.debug({ model: modelId, namespace }, 'Using cached failure for model; not querying Prometheus');
  }
  if (!entry.valid) throw entry.error;
  return copyMetrics(entry);
}

async function observed<T>(observer: CollectorObserver | undefined, run: () => Promise<T>): Promise<T> {
  if (!observer) return run();
  observer.queryStarted?.('model');
  const started = performance.now();
  try {
    const v = await run();
    observer.queryFinished?.('model', 'success', (performance.now() - started) / 1000);
    return v;
  } catch (err) {
    observer.queryFinished?.('model', 'error', (performance.now() - started) / 1000);
    throw err;
  }
}
