// Saturation scaling as upstream WVA v0.5 decides it: pure functions, one folder.
export {
  applySaturationScalingDefaults,
  BUILTIN_SATURATION_THRESHOLDS,
  DEFAULT_SCALE_DOWN_BOUNDARY,
  DEFAULT_SCALE_UP_THRESHOLD,
  SATURATION_V2_ANALYZER,
  type SaturationConfigViolation,
  saturationConfigViolation,
  validateSaturationScalingConfig,
} from './config.js';
export {
  chooseConfigMapData,
  parseSaturationScalingConfigMap,
  SATURATION_CONFIGMAP_NAME,
  SATURATION_DEFAULT_KEY,
  type SaturationConfigMapOptions,
  type SaturationConfigProblem,
  type SaturationConfigSet,
  saturationConfigForModel,
  saturationEngineSettings,
} from './configmap.js';
export { costAwareOptimize } from './cost-optimizer.js';
export { parseGoDuration } from './go-duration.js';
export {
  allocateGreedyBySaturation,
  createTypeAllocator,
  type GpuInventory,
  gpuInventory,
  limitDecisions,
  normalizeAcceleratorName,
} from './limiter.js';
export {
  DEFAULT_SCALE_TO_ZERO_RETENTION_MS,
  ENFORCER_UNKNOWN_COST,
  enforceScaleToZeroPolicy,
  parseScaleToZeroConfigMap,
  SCALE_TO_ZERO_CONFIGMAP_NAME,
  SCALE_TO_ZERO_DEFAULT_KEY,
  type ScaleToZeroConfigProblem,
  scaleToZeroEnabled,
  scaleToZeroRetentionMs,
} from './scale-to-zero.js';
export type * from './types.js';
export { analyzeModelSaturation, calculateSaturationTargets } from './v1.js';
export {
  analyzeSaturationV2,
  BYTES_PER_TOKEN,
  classifyOutputLength,
  K2_HISTORY_WINDOW,
  V2_ANALYZER_NAME,
} from './v2/analyzer.js';
export {
  createSaturationV2State,
  findCompatibleCapacity,
  loadCapacityFromDeployment,
} from './v2/capacity-store.js';
export { estimateCapacityFromParams, isCapacityCompatible, parseVllmArgs } from './v2/vllm-args.js';
