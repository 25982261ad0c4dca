// The composition root: one pipeline, source -> collector via cache -> engines -> status /
// actuator / telemetry, built for a cluster (informers) or for manifests (`run --manifests`, the
// demo's emulator-backed actuation). The controller's Manager drives every cycle in each.
export { buildClusterPipeline, type ClusterPipeline, type ClusterPipelineOptions } from './cluster.js';
export { buildEngines, type EngineInputs, type Engines } from './engines.js';
export {
  buildLocalPipeline,
  type LocalActuation,
  type LocalPipeline,
  type LocalPipelineOptions,
} from './local.js';
