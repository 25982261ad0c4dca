// The public API of wva-metrics: what a user may build on, and nothing else. Everything below is
// named on purpose; the parts' internals (parsers, PromQL builders, informer plumbing, the work
// queue, status arithmetic) stay inside their folders and may change without notice.

// Actuation: publishing decisions for HPA/KEDA, or scaling directly (its index names its public API).
export * from './actuator/index.js';
// The spec's cache, and the background removal of expired entries.
export {
  type CacheJanitor,
  type CacheJanitorOptions,
  type CacheStats,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_TTL_MS,
  ModelMetricsCache,
  type ModelMetricsCacheOptions,
  startCacheJanitor,
} from './cache/index.js';
// Collecting: one model, the whole fleet, availability, and the controller's snapshot reader.
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
  type FleetSnapshot,
  MetricsCollectionError,
  type StatisticName,
  unknownStatistics,
} from './collector/index.js';
// Configuration: the same keys, layers and messages as the CLI.
export {
  type Config,
  ConfigError,
  ConfigReloader,
  type ConfigSources,
  DEFAULT_CONFIG,
  loadConfig,
  type ReloadHooks,
} from './config/index.js';
// The controller: in a cluster, over manifests, and the loop both run on.
export { Controller, type ControllerOptions } from './controller/controller.js';
export {
  type CycleReport,
  type CycleRow,
  LocalController,
  type LocalControllerOptions,
  loadManifests,
} from './controller/local.js';
export { type Elector, type ManagedSource, Manager, type ManagerOptions } from './controller/manager.js';
export type {
  CycleResult,
  MetricsReader,
  MetricsView,
  ReconcileResult,
  StatusWriter,
  VariantSource,
} from './controller/reconciler.js';
export { type DemoCycle, type DemoOptions, type DemoResult, runDemo } from './demo/index.js';
export { DurationError, formatDuration, parseDuration } from './duration.js';
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
// The engines: the seam, shared stages, saturation V1/V2 and their pure functions, scale from zero.
export * from './engines/index.js';
// The SLO engine's learning core: performance models learned online, and their persistence.
export {
  ACCELERATOR_TIME_FACTOR,
  acceleratorTimeFactor,
  DEFAULT_LEARN_SETTINGS,
  DEFAULT_LEARNED_RETENTION_MS,
  type EstimatorOptions,
  type EstimatorState,
  type Identified,
  LEARNED_PROFILES_KIND,
  LEARNED_PROFILES_SCHEMA_VERSION,
  type LearnedProfileStatus,
  type LearnedProfilesDocument,
  type LearnSettings,
  learnedProfilesJson,
  type ModelSizeClass,
  maxBatchSizeFromArgs,
  modelParamsBillions,
  modelSizeClass,
  NEUTRAL_PRIOR_TABLE,
  neutralPrior,
  type ObservationOutcome,
  PerformanceEstimator,
  type PerformanceObservation,
  type PriorParameters,
  type RefusedEstimate,
  type RestoreOptions,
  type RestoreResult,
  restoreLearnedProfiles,
  serializeLearnedProfiles,
  type VariantKey,
  variantKeyString,
  vllmArgsFingerprint,
} from './engines/slo/index.js';
export type {
  Allocation,
  Condition,
  Deployment,
  VariantAutoscaling,
  VariantAutoscalingSpec,
  VariantAutoscalingStatus,
} from './kube/types.js';
// The optimizer: sizing replicas to SLOs at least cost (its index names its public API).
export * from './optimizer/index.js';
// The composition root: the whole pipeline, in a cluster or over manifests (local mode, the demo).
export {
  buildClusterPipeline,
  buildLocalPipeline,
  type ClusterPipeline,
  type ClusterPipelineOptions,
  type LocalActuation,
  type LocalPipeline,
  type LocalPipelineOptions,
} from './pipeline/index.js';
// Prometheus: the client and the errors it rejects with.
export {
  PrometheusApiError,
  PrometheusClient,
  type PrometheusClientOptions,
  PrometheusError,
  PrometheusHttpError,
  PrometheusNetworkError,
  PrometheusReplyError,
  PrometheusTimeoutError,
} from './prometheus/index.js';
export {
  buildRuntime,
  type ConfigTargets,
  type Runtime,
  type RuntimeOptions,
  reloadHooks,
} from './runtime.js';
export {
  createLogger,
  type LogLevel,
  type RootLogger,
  startTelemetryServer,
  Telemetry,
  type TelemetryOptions,
  type TelemetryServer,
  type TelemetryServerOptions,
} from './telemetry/index.js';
export type * from './types.js';
