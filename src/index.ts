// The public API of wva-metrics (see README "Library API").

export type { CacheStats, ModelMetricsCacheOptions } from './cache/index.js';
export { ModelMetricsCache } from './cache/index.js';
export { type CacheJanitor, type CacheJanitorOptions, startCacheJanitor } from './cache/janitor.js';
export * from './collector/index.js';
export {
  type ApplyResult,
  addConfigOptions,
  applyConfig,
  type Config,
  ConfigError,
  ConfigReloader,
  type ConfigSources,
  type ConfigTargets,
  ConfigWatcher,
  type ConfigWatcherOptions,
  configFromData,
  configSourcesFromOptions,
  formatConfigError,
  formatDuration,
  loadConfig,
  parseDuration,
  resolveConfig,
  tryLoadConfig,
  watchConfig,
} from './config/index.js';
export * from './prometheus/index.js';
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
