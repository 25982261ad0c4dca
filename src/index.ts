// The public API of wva-metrics (see README "Library API").

export * from './actuator/index.js';
export type { CacheStats, ModelMetricsCacheOptions } from './cache/index.js';
export { ModelMetricsCache } from './cache/index.js';
export { type CacheJanitor, type CacheJanitorOptions, startCacheJanitor } from './cache/janitor.js';
export {
  type AvailabilityOptions,
  type CachedCollectOptions,
  type CollectOptions,
  checkMetricsAvailability,
  collectAggregateMetrics,
  collectAggregateMetricsWithCache,
  collectFleetMetrics,
  DEFAULT_STALE_AFTER_MS,
  type FleetCollectOptions,
  FleetCollector,
  type FleetCollectorOptions,
  type FleetMetrics,
  type FleetRead,
  MetricsCollectionError,
  type StatisticName,
  unknownStatistics,
} from './collector/index.js';
export {
  type ApplyResult,
  applyConfig,
  type Config,
  ConfigError,
  ConfigReloader,
  type ConfigSources,
  type ConfigTargets,
  ConfigWatcher,
  type ConfigWatcherOptions,
  configFromData,
  formatConfigError,
  formatDuration,
  loadConfig,
  parseDuration,
  resolveConfig,
  watchConfig,
} from './config/index.js';
export * from './controller/index.js';
export { type DemoCycle, type DemoOptions, type DemoResult, runDemo } from './demo/index.js';
export {
  type EmulatorConfig,
  EmulatorConfigError,
  type EmulatorConfigInput,
  type EmulatorServer,
  loadEmulatorConfig,
  parseEmulatorConfig,
  prometheusConfigYaml,
  startEmulatorServer,
  VllmEmulator,
} from './emulator/index.js';
export * from './optimizer/index.js';
export {
  availabilityQuery,
  DEFAULT_WINDOW,
  escapeLabelValue,
  fleetQuery,
  modelQuery,
  PrometheusApiError,
  PrometheusClient,
  type PrometheusClientOptions,
  PrometheusError,
  PrometheusHttpError,
  PrometheusNetworkError,
  PrometheusReplyError,
  PrometheusTimeoutError,
  STATS,
  VLLM_METRICS,
} from './prometheus/index.js';
export {
  createLogger,
  type LogLevel,
  ReadinessGate,
  type RootLogger,
  startTelemetryServer,
  Telemetry,
  type TelemetryOptions,
  type TelemetryServer,
  type TelemetryServerOptions,
} from './telemetry/index.js';
export type * from './types.js';
