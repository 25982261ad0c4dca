export { Controller, type ControllerOptions } from './controller.js';
export {
  ConfigMapWatch,
  KubeSource,
  type KubeSourceOptions,
  ResilientInformer,
  type RestartBackoff,
} from './kube.js';
export { LeaderElector, type LeaderElectorOptions } from './leader.js';
export {
  type CycleReport,
  type CycleRow,
  LocalController,
  type LocalControllerOptions,
  LocalSource,
  loadManifests,
  type Manifests,
} from './local.js';
export {
  type ControllerTelemetry,
  type CycleResult,
  type MetricsReader,
  mapBounded,
  type ReconcileOutcome,
  type ReconcileResult,
  Reconciler,
  type ReconcilerOptions,
  type StatusWriter,
  type VariantSource,
  type WriteOutcome,
} from './reconciler.js';
export {
  computeStatus,
  formatDecimal,
  type MetricsRead,
  type StatusInput,
  statusUnchanged,
} from './status.js';
export { KubeStatusWriter, type KubeStatusWriterOptions, NotLeaderError } from './status-writer.js';
export * from './types.js';
