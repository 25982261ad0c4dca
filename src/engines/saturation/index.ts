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
  DEFAULT_CONFIG_KEY,
  parseSaturationScalingConfigMap,
  SATURATION_CONFIGMAP_NAME,
  type SaturationConfigMapOptions,
  type SaturationConfigProblem,
  type SaturationConfigSet,
  saturationConfigForModel,
} from './configmap.js';
export type * from './types.js';
export { analyzeModelSaturation, calculateSaturationTargets } from './v1.js';
