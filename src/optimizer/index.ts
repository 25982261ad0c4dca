// The optimizer: pure functions from a profile, a load and an SLO to replicas. No I/O.
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
