// Per-model collection through the cache, as the original's CollectAggregateMetricsWithCache, with
// the two holes closed: a fresh *failed* entry is served (rejects with its stored error, no call)
// until its failure TTL ends, so a Prometheus outage costs one attempt per key per failure TTL, not
// one per caller; and concurrent misses of one key share one in-flight call.
// A call is only joined with, and only answered from the cache by, a call over the same window at
// the same evaluation time: the cache holds one window's numbers at Prometheus' now, so a call with
// another window or an explicit `time` goes to Prometheus (sharing only with identical calls) and
// leaves the cache alone.
import type { ModelMetricsCache } from '../cache/index.js';
import { DEFAULT_WINDOW } from '../prometheus/promql.js';
import { silentLogger } from '../telemetry/logger.js';
import type { AggregateMetrics, CollectorObserver, Logger, PromAPI } from '../types.js';
import { abortable } from './abortable.js';
import { cacheHoldsWindow } from './cache-window.js';
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
/** In-flight collections that bypass the cache (another window, an explicit time), per PromAPI. */
const uncachedInFlight = new WeakMap<PromAPI, Map<string, Promise<AggregateMetrics>>>();

/** What makes two calls the same: pair, window and evaluation time (NUL cannot occur in a name). */
function callKey(modelId: string, namespace: string, window: string, time: Date | undefined): string {
  return `${namespace}\u0000${modelId}\u0000${window}\u0000${time ? time.getTime() : 'now'}`;
}

/** The table of `owner` in `tables`, made on first use. */
function tableOf<K extends object>(
  tables: WeakMap<K, Map<string, Promise<AggregateMetrics>>>,
  owner: K,
): Map<string, Promise<AggregateMetrics>> {
  let t = tables.get(owner);
  if (!t) {
    t = new Map();
    tables.set(owner, t);
  }
  return t;
}

/** One call per key at a time in `table`: joins a running one, or starts `run` and records it. */
function shareCall(
  table: Map<string, Promise<AggregateMetrics>>,
  key: string,
  run: () => Promise<AggregateMetrics>,
): { shared: Promise<AggregateMetrics>; joined: boolean } {
  const pending = table.get(key);
  if (pending) return { shared: pending, joined: true };
  const shared = run().finally(() => table.delete(key));
  // Handled here so a shared failure nobody awaits any more (all callers aborted) is not unhandled.
  shared.catch(() => {});
  table.set(key, shared);
  return { shared, joined: false };
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
  const collectOptions = { window, time: options.time };
  const key = callKey(modelId, namespace, window, options.time);
  if (!cache || options.time !== undefined || !cacheHoldsWindow(cache, window)) {
    // The shared call gets no caller's signal: one caller giving up must not fail the others.
    const { shared } = shareCall(tableOf(uncachedInFlight, prom), key, () =>
      observed(observer, () => collectAggregateMetrics(modelId, namespace, prom, collectOptions)),
    );
    return copyMetrics(await abortable(shared, options.signal));
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

  // The shared call gets no caller's signal: one caller giving up must not fail the others. The
  // client's own timeout bounds it.
  const { shared, joined } = shareCall(tableOf(inFlight, cache), key, async () => {
    observer?.lookup?.('miss', modelId, namespace);
    logger.debug({ model: modelId, namespace }, 'Querying Prometheus for model metrics');
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
    }
  });
  if (joined) observer?.lookup?.('coalesced', modelId, namespace);
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
