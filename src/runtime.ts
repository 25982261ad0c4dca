// The composition root: every long-lived part of wva-metrics built from one Config, in one place,
// for `run` (cluster and local mode) and the demo. The loop around them (informers or manifests,
// the work queue, leader election) is the controller's Manager; what a live reload reaches is
// `reloadTargets`.
import { type CacheJanitor, ModelMetricsCache, startCacheJanitor } from './cache/index.js';
import { FleetCollector } from './collector/fleet-collector.js';
import type { Config, ConfigTargets } from './config/index.js';
import { LocalController, type LocalControllerOptions } from './controller/local.js';
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
}

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly cache: ModelMetricsCache;
  readonly prom: PrometheusClient;
  readonly collector: FleetCollector;
  /** A local-mode controller over manifests, on these parts (and the optimizer, when given). */
  local(
    o: Pick<
      LocalControllerOptions,
      'manifests' | 'optimizer' | 'optimizerConfig' | 'actuator' | 'deploymentView'
    >,
  ): LocalController;
  /** Removes expired cache entries in the background until stopped. */
  startJanitor(): CacheJanitor;
  /** What a live reload applies to: these parts, and through `onChange` what the mode applies itself. */
  reloadTargets(onChange: NonNullable<ConfigTargets['onChange']>): ConfigTargets;
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
  });
  return {
    config,
    logger,
    telemetry,
    cache,
    prom,
    collector,
    local: (local) =>
      new LocalController({
        ...local,
        collector,
        intervalMs: config.reconcile.intervalMs,
        concurrency: config.reconcile.concurrency,
        logger,
        telemetry,
      }),
    startJanitor: () => startCacheJanitor(cache, { logger }),
    reloadTargets: (onChange) => ({
      cache,
      collector,
      rootLogger: logger as unknown as { level: string },
      telemetry,
      logger,
      onChange,
    }),
  };
}
