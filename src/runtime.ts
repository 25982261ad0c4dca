// The parts every pipeline shares, built from one Config: telemetry, the cache, the Prometheus
// client and the fleet collector over them. The pipeline (src/pipeline) builds these first and the
// rest on them. A live reload reaches the parts through `reloadHooks`: which part takes which key
// (`LIVE`) is decided here, where the parts are.
import { type CacheJanitor, ModelMetricsCache, startCacheJanitor } from './cache/index.js';
import { FleetCollector } from './collector/fleet-collector.js';
import { type Config, diffConfig, type ReloadHooks } from './config/index.js';
import { formatDuration } from './duration.js';
import { PrometheusClient } from './prometheus/client.js';
import { Telemetry } from './telemetry/metrics.js';
import type { CollectorObserver, Logger } from './types.js';

export interface RuntimeOptions {
  logger: Logger;
  /** Evaluate every query at this instant (replaying recorded data); default Prometheus' now. */
  evaluationTime?: Date;
  /** Read only these namespaces' series (cluster mode's watched namespaces). */
  namespaces?: readonly string[];
  telemetry?: Telemetry;
  /** What the collector reports to; default the telemetry (the demo also counts per model). */
  observer?: CollectorObserver;
  /** The periods (s) each fleet query also counts requests over: the actuator's retention periods,
   *  asked at every refresh (the actuator is built after the collector, on it). */
  requestsOverSeconds?: () => readonly number[];
}

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly cache: ModelMetricsCache;
  readonly prom: PrometheusClient;
  readonly collector: FleetCollector;
  /** Removes expired cache entries in the background until stopped. */
  startJanitor(): CacheJanitor;
  /** What a live reload applies to: these parts, and through `onChange` what the mode applies itself. */
  reloadHooks(
    onChange: NonNullable<ConfigTargets['onChange']>,
    more?: Pick<ConfigTargets, 'optimizer'>,
  ): ReloadHooks;
}

export function buildRuntime(config: Config, o: RuntimeOptions): Runtime {
  const { logger } = o;
  const telemetry = o.telemetry ?? new Telemetry();
  const cache = new ModelMetricsCache({
    ttlMs: config.cache.ttlMs,
    failureTtlMs: config.cache.failureTtlMs,
    maxEntries: config.cache.maxEntries,
  });
  telemetry.bindCache(cache);
  const prom = new PrometheusClient({ ...config.prometheus, logger });
  const evaluationTime = o.evaluationTime;
  const collector = new FleetCollector({
    prom,
    cache,
    window: config.collector.window,
    ...(o.namespaces && o.namespaces.length > 0 ? { namespaces: o.namespaces } : {}),
    staleAfterMs: config.collector.staleAfterMs,
    observer: o.observer ?? telemetry,
    logger,
    ...(evaluationTime ? { evaluationTime: () => evaluationTime } : {}),
    ...(o.requestsOverSeconds ? { requestsOverSeconds: o.requestsOverSeconds } : {}),
  });
  return {
    config,
    logger,
    telemetry,
    cache,
    prom,
    collector,
    startJanitor: () =>
      startCacheJanitor(cache, {
        logger,
        ...(config.cache.cleanupIntervalMs ? { intervalMs: config.cache.cleanupIntervalMs } : {}),
      }),
    reloadHooks: (onChange, more) =>
      reloadHooks({
        cache,
        collector,
        rootLogger: logger as unknown as { level: string },
        telemetry,
        logger,
        onChange,
        ...more,
      }),
  };
}

/** The running parts a reload reaches: the cache (TTLs), the collector (window, staleness), the root
 *  logger (level; its children follow), the optimizer (stabilisation, KV-cache threshold, backlog
 *  drain), telemetry (counts reloads), and `onChange` for the changed
 *  keys no part takes live (LIVE below), which returns those it applied (the rest are logged as needing a restart). */
export interface ConfigTargets {
  cache?: { setTtl(ttlMs: number, failureTtlMs?: number): void };
  collector?: { configure(o: { window?: string; staleAfterMs?: number }): void };
  rootLogger?: { level: string };
  optimizer?: { configure(o: Config['reconcile']): void };
  telemetry?: { configReloaded(outcome: 'success' | 'error'): void };
  logger?: Logger;
  onChange?: (next: Config, prev: Config, keys: string[]) => string[] | undefined;
}

/** Keys whose value changed, those now in effect, and those that need a restart. */
export type ApplyResult = { changed: string[]; applied: string[]; restartRequired: string[] };

/** The keys each running part takes on reload; the other changed keys go to onChange, or need a restart. */
const LIVE = {
  cache: ['WVA_CACHE_TTL', 'WVA_CACHE_FAILURE_TTL'],
  collector: ['WVA_QUERY_WINDOW', 'WVA_STALE_AFTER'],
  rootLogger: ['LOG_LEVEL'],
  optimizer: ['WVA_STABILIZATION_WINDOW', 'WVA_KV_CACHE_THRESHOLD', 'WVA_BACKLOG_DRAIN_TIME'],
};
const LIVE_KEYS = Object.values(LIVE).flat();

/** Applies `next` over `prev` to the running parts and counts the reload. Never throws. */
export function applyConfig(next: Config, prev: Config, parts: ConfigTargets): ApplyResult {
  const changed = diffConfig(next, prev);
  const others = changed.filter((k) => !LIVE_KEYS.includes(k));
  const applied: string[] = [];
  let failed = false;
  /** Runs `fn` for the changed ones among `keys`; it returns the keys it applied (not a list: all). */
  const take = (keys: string[], fn: () => unknown) => {
    const mine = keys.filter((k) => changed.includes(k));
    if (mine.length === 0) return;
    try {
      const done = fn();
      applied.push(...(Array.isArray(done) ? done : mine).filter((k) => mine.includes(k)));
    } catch (err) {
      failed = true;
      parts.logger?.error({ err, keys: mine }, 'could not apply configuration change');
    }
  };
  const { cache, collector, rootLogger, optimizer, onChange } = parts;
  if (cache) take(LIVE.cache, () => cache.setTtl(next.cache.ttlMs, next.cache.failureTtlMs));
  if (collector) take(LIVE.collector, () => collector.configure({ ...next.collector }));
  if (rootLogger) take(LIVE.rootLogger, () => Object.assign(rootLogger, { level: next.logLevel }));
  if (optimizer) take(LIVE.optimizer, () => optimizer.configure(next.reconcile));
  if (onChange) take(others, () => onChange(next, prev, others) ?? []);
  const restartRequired = others.filter((k) => !applied.includes(k));
  if (changed.length > 0) {
    const [ttl, failureTtl] = [formatDuration(next.cache.ttlMs), formatDuration(next.cache.failureTtlMs)];
    const now = { ttl, failureTtl, window: next.collector.window, logLevel: next.logLevel };
    parts.logger?.info({ changed, ...now }, 'configuration reloaded');
  }
  const later = 'configuration changed; these keys take effect after a restart';
  if (restartRequired.length > 0) parts.logger?.warn({ keys: restartRequired }, later);
  parts.telemetry?.configReloaded(failed ? 'error' : 'success');
  return { changed, applied, restartRequired };
}

/** The ConfigReloader hooks that apply each accepted configuration to `parts`. */
export function reloadHooks(parts: ConfigTargets): ReloadHooks {
  return {
    apply: (next, prev) => applyConfig(next, prev, parts),
    telemetry: parts.telemetry,
    logger: parts.logger,
  };
}
