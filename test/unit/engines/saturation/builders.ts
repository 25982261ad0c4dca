// Complete objects for the saturation functions' tests: Go zero values unless a test says otherwise.
import type {
  ReplicaMetrics,
  SaturationScalingConfig,
  VariantDecision,
  VariantReplicaState,
} from '../../../../src/engines/saturation/index.js';

export const SHIPPED: SaturationScalingConfig = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
  enableLimiter: false,
  analyzerName: '',
};

export function replica(
  podName: string,
  variantName: string,
  over: Partial<ReplicaMetrics> = {},
): ReplicaMetrics {
  return {
    podName,
    variantName,
    namespace: 'ns',
    modelId: 'm',
    acceleratorName: '',
    cost: 10,
    kvCacheUsage: 0,
    queueLength: 0,
    ...over,
  };
}

export function state(
  variantName: string,
  currentReplicas: number,
  over: Partial<VariantReplicaState> = {},
): VariantReplicaState {
  return { variantName, currentReplicas, desiredReplicas: 0, pendingReplicas: 0, ...over };
}

export function decision(variantName: string, over: Partial<VariantDecision> = {}): VariantDecision {
  return {
    variantName,
    namespace: 'ns',
    modelId: 'm',
    acceleratorName: 'A100',
    cost: 10,
    action: 'no-change',
    currentReplicas: 0,
    targetReplicas: 0,
    gpusPerReplica: 1,
    spareCapacity: 0,
    gpusAllocated: 0,
    wasLimited: false,
    limitedBy: '',
    decisionSteps: [],
    reason: '',
    ...over,
  };
}
