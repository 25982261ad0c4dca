// Per-model collection through the cache, as the original's CollectAggregateMetricsWithCache, with
// the two holes closed: a fresh *failed* entry is served (rejects with its stored error, no call)
// until its failure TTL ends, so a Prometheus outage costs one attempt per key per failure TTL, not
// one per caller; and concurrent misses of one key share one in-flight call.
import type { ModelMetricsCache } from '../cache/index.js';
import { silentLogger } from '../telemetry/logger.js';
import type { AggregateMetrics, CollectorObserver, Logger, PromAPI } from '../types.js';
import { abortable } from './abortable.js';
import { collectAggregateMetrics, copyMetrics, zeroMetrics } from './collect.js';

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

/** In-flight collections per cache and key: one Prometheus call per key, however many wait. */
const inFlight = new WeakMap<ModelMetricsCache, Map<string, Promise<AggregateMetrics>>>();

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
  const collectOptions = { window: options.window, time: options.time };
  if (!cache) {
    return observed(observer, () =>
      collectAggregateMetrics(modelId, namespace, prom, { ...collectOptions, signal: options.signal }),
    );
  }
  const logger = options.logger ?? silentLogger;

  const entry = cache.get(modelId, namespace);
  if (entry) {
    if (entry.valid) {
      observer?.lookup?.('hit', modelId, namespace);
      logger.debug({ model: modelId, namespace }, 'Using cached metrics for model');
      return copyMetrics(entry);
    }
    observer?.lookup?.('failure_hit', modelId, namespace);
    logger.debug({ model: modelId, namespace }, 'Using cached failure for model; not querying Prometheus');
    throw (
      entry.error ?? new Error(`metrics collection failed for model ${modelId} in namespace ${namespace}`)
    );
  }

  let byKey = inFlight.get(cache);
  if (!byKey) {
    byKey = new Map();
    inFlight.set(cache, byKey);
  }
  const key = `${namespace}\u0000${modelId}`;
  const pending = byKey.get(key);
  if (pending) {
    observer?.lookup?.('coalesced', modelId, namespace);
    return copyMetrics(await abortable(pending, options.signal));
  }

  observer?.lookup?.('miss', modelId, namespace);
  logger.debug({ model: modelId, namespace }, 'Querying Prometheus for model metrics');
  const table = byKey;
  // The shared call gets no caller's signal: one caller giving up must not fail the others. The
  // client's own timeout bounds it.
  const shared = (async () => {
    try {
      const metrics = await observed(observer, () =>
        collectAggregateMetrics(modelId, namespace, prom, collectOptions),
      );
      cache.set(modelId, namespace, metrics, true);
      return metrics;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      cache.set(modelId, namespace, zeroMetrics(), false, error);
      logger.warn(
        { model: modelId, namespace, err: error.message },
        'Prometheus query for model metrics failed',
      );
      throw error;
    } finally {
      table.delete(key);
    }
  })();
  // Handled here so a shared failure nobody awaits any more (all callers aborted) is not unhandled.
  shared.catch(() => {});
  table.set(key, shared);
  return copyMetrics(await abortable(shared, options.signal));
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
