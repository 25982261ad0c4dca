// Learning a variant's performance model online (the SLO engine's input), and keeping it across
// restarts. Pure: no clock, no I/O; the caller passes the time and owns the ConfigMap.
export {
  type ConfidenceState,
  type EstimatorOptions,
  type EstimatorState,
  type Identified,
  type LearnedProfileStatus,
  type ObservationOutcome,
  PerformanceEstimator,
  type PriorSource,
} from './estimator.js';
export {
  maxBatchSizeFromArgs,
  type VariantKey,
  VLLM_DEFAULT_MAX_NUM_SEQS,
  variantKeyString,
  vllmArgsFingerprint,
  vllmFlags,
} from './fingerprint.js';
export type { Line, LinePrior, LineState, LineStats, LineVerdict } from './line.js';
export { checkObservation, type PerformanceObservation } from './observation.js';
export {
  DEFAULT_LEARNED_RETENTION_MS,
  LEARNED_PROFILES_KIND,
  LEARNED_PROFILES_SCHEMA_VERSION,
  type LearnedProfilesDocument,
  learnedProfilesJson,
  MAX_LEARNED_DOCUMENT_BYTES,
  type RefusedEstimate,
  type RestoreOptions,
  type RestoreResult,
  restoreLearnedProfiles,
  type SavedEstimate,
  serializeLearnedProfiles,
} from './persist.js';
export {
  ACCELERATOR_TIME_FACTOR,
  acceleratorTimeFactor,
  type ModelSizeClass,
  modelParamsBillions,
  modelSizeClass,
  NEUTRAL_PRIOR_TABLE,
  neutralPrior,
  type PriorParameters,
  UNKNOWN_ACCELERATOR_FACTOR,
} from './priors.js';
export { DEFAULT_LEARN_SETTINGS, type LearnSettings, resolveLearnSettings } from './settings.js';
export { StateFieldError } from './validate-state.js';
