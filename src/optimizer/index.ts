// The optimizer: pure functions from a profile, a load and an SLO to replicas. No I/O.

export { withBacklog } from './backlog.js';
export {
  ACCELERATOR_PENALTY_FACTOR,
  type GroupVariant,
  sizeGroup,
  type VariantAllocation,
  type VariantOutcome,
} from './group.js';
export {
  type AcceleratorOption,
  type Parsed,
  parseModelProfile,
  parseServiceClasses,
  parseSloPair,
  parseUnitCosts,
  resolveSlo,
  SERVICE_CLASSES_CONFIGMAP,
  type ServiceClass,
  type ServiceClassEntry,
  type SloRef,
  type SloResolution,
  UNIT_COSTS_CONFIGMAP,
} from './inputs.js';
export { SizingMemo } from './memo.js';
export { RATE_RANGE_EPSILON, ReplicaModel } from './queue-model.js';
export {
  analyseReplica,
  MAX_STEPS,
  maxRatePerReplica,
  planRate,
  type RatePlan,
  replicasFor,
  sizeReplicas,
  TARGET_TOLERANCE,
} from './sizing.js';
export { type Saturation, Stabiliser, saturationHold } from './stabilize.js';
export {
  type LoadProfile,
  type PredictedLatency,
  type QueueProfile,
  type ReplicaAnalysis,
  type Sizing,
  type SizingInput,
  SloInfeasibleError,
  type SloTargetName,
  type SloTargets,
} from './types.js';
export { MAX_BATCH_SIZE, MAX_QUEUE_SIZE } from './validate.js';
