// The engines: one seam (types.ts), the shared stages (steps.ts), status content (status.ts), the
// saturation engines and their pure functions, and the pod-to-variant matcher.
export {
  type LabelSelector,
  matchPodsToVariants,
  type OwnerReference,
  type PodMatchInput,
  type PodMatchResult,
  type PodObject,
  selectorMatches,
  selectorProblem,
  type UnmatchedPod,
  type VariantTarget,
} from './pods.js';
export * from './saturation/index.js';
export {
  createSaturationV1Engine,
  createSaturationV2Engine,
  DEFAULT_VARIANT_COST,
  decideModels,
  parseVariantCost,
  replicaMetricsOf,
} from './saturation-engine.js';
export * from './scale-from-zero/index.js';
export {
  choosePerformance,
  createSloEngine,
  type PerformanceChoice,
  type PerformanceInputs,
  type PerformanceSource,
  SLO_STEP,
  type SloEngineOptions,
  type SloModelInput,
  type SloVariantInput,
  STABILISATION_STEP,
  type TargetFractions,
} from './slo/index.js';
export { NO_CHANGE_MESSAGE, STATUS_REASONS, variantStatuses } from './status.js';
export {
  actionOf,
  applyBounds,
  limitFleet,
  MAX_REPLICAS,
  renderDecisionMessage,
  STEP_NAMES,
  saturationFloor,
  scaleToZeroStage,
  withStep,
} from './steps.js';
export {
  ENGINE_NAMES,
  type Engine,
  type EngineCondition,
  type ModelDecision,
  type SaturationModelInput,
  type SaturationVariantInput,
  type ScaleToZeroInput,
  type ScalingAction,
  type ScalingDecision,
  type VariantStatusContent,
} from './types.js';
