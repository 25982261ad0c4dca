// The SLO engine and its parts: learning each variant's performance model online, choosing the
// model a variant is sized with, and the engine behind the seam.
export {
  createSloEngine,
  SLO_STEP,
  type SloEngineOptions,
  type SloModelInput,
  type SloVariantInput,
  STABILISATION_STEP,
  type TargetFractions,
} from './engine.js';
export * from './learn/index.js';
export {
  choosePerformance,
  type PerformanceChoice,
  type PerformanceInputs,
  type PerformanceSource,
} from './performance.js';
export { SLO_SIZING } from './sizing.js';
export { type RateEstimate, RateTrend } from './trend.js';
