// The shapes the saturation functions take and return, as upstream WVA v0.5 has them. Callers pass
// complete objects (Go zero values for anything unset); a missing optional field reads as its zero.

// ---- V1 (percentage based) ----------------------------------------------------------------

/** One entry of the saturation ConfigMap. `analyzerName` '' selects V1, 'saturation' V2. */
export interface SaturationScalingConfig {
  /** YAML `model_id`; only meaningful on override entries. */
  modelId?: string;
  /** YAML `namespace`; only meaningful on override entries. */
  namespace?: string;
  kvCacheThreshold: number;
  queueLengthThreshold: number;
  kvSpareTrigger: number;
  queueSpareTrigger: number;
  enableLimiter?: boolean;
  analyzerName?: string;
  /** V2 only. */
  scaleUpThreshold?: number;
  /** V2 only. */
  scaleDownBoundary?: number;
}

/** What one pod (a replica) reports. The token fields feed V2 only. */
export interface ReplicaMetrics {
  podName: string;
  variantName: string;
  namespace: string;
  modelId: string;
  acceleratorName: string;
  cost: number;
  kvCacheUsage: number;
  queueLength: number;
  numGpuBlocks?: number;
  blockSize?: number;
  totalKvCapacityTokens?: number;
  tokensInUse?: number;
  avgInputTokens?: number;
  avgOutputTokens?: number;
  prefixCacheHitRate?: number;
}

export interface VariantSaturationAnalysis {
  variantName: string;
  acceleratorName: string;
  cost: number;
  replicaCount: number;
  nonSaturatedCount: number;
  maxKvCacheUsage: number;
  maxQueueLength: number;
  avgSpareKvCapacity: number;
  avgSpareQueueLength: number;
  saturatedReplicas: string[];
}

export interface ModelSaturationAnalysis {
  modelId: string;
  namespace: string;
  /** Epoch milliseconds. */
  analyzedAt: number;
  totalReplicas: number;
  nonSaturatedCount: number;
  avgSpareKvCapacity: number;
  avgSpareQueueLength: number;
  shouldScaleUp: boolean;
  scaleUpReason: string;
  scaleDownSafe: boolean;
  variantAnalyses: VariantSaturationAnalysis[];
}

export interface VariantReplicaState {
  variantName: string;
  currentReplicas: number;
  desiredReplicas: number;
  pendingReplicas: number;
  gpusPerReplica?: number;
}

// ---- V2 (token based) ---------------------------------------------------------------------

/** The vLLM engine arguments that decide a replica's token capacity. */
export interface VllmEngineParams {
  gpuMemoryUtilization: number;
  blockSize: number;
  kvCacheDtype: string;
  tensorParallelSize: number;
  numGpuBlocksOverride: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  maxModelLen: number;
  enforceEager: boolean;
  isV1Engine: boolean;
  chunkedPrefillEnabled: boolean;
  effectiveMaxBatchedTokens: number;
}

export interface CapacityRecord {
  acceleratorName: string;
  gpuCount: number;
  numGpuBlocks: number;
  blockSize: number;
  totalKvCapacityTokens: number;
  effectiveCapacity: number;
  vllmParams: VllmEngineParams | null;
  learnedFrom: 'live' | 'deployment' | 'annotation' | '';
  /** Epoch milliseconds. */
  learnedAt?: number;
}

/** The V2 analyser's memory between cycles; a plain object the caller owns. */
export interface SaturationV2State {
  /** "modelId|accelerator|bucket" -> the last (at most 10) observed k2 values, oldest first. */
  k2History: Record<string, number[]>;
  /** "namespace|modelId|variantName" -> what is known of that variant's per-replica capacity. */
  capacityStore: Record<string, CapacityRecord>;
}

/** The gateway's flow-control queue for a model. */
export interface SchedulerQueueMetrics {
  queueSize: number;
  queueBytes: number;
}

export interface SaturationV2Input {
  modelId: string;
  namespace: string;
  replicaMetrics: ReplicaMetrics[];
  variantStates: VariantReplicaState[];
  config: SaturationScalingConfig;
  schedulerQueue?: SchedulerQueueMetrics | null;
}

export interface VariantCapacity {
  variantName: string;
  acceleratorName: string;
  cost: number;
  replicaCount: number;
  pendingReplicas: number;
  perReplicaCapacity: number;
  totalCapacity: number;
  totalDemand: number;
  utilization: number;
}

export interface AnalyzerResult {
  analyzerName: string;
  modelId: string;
  namespace: string;
  /** Epoch milliseconds. */
  analyzedAt: number;
  variantCapacities: VariantCapacity[];
  totalSupply: number;
  totalDemand: number;
  utilization: number;
  requiredCapacity: number;
  spareCapacity: number;
}

/** The part of a Deployment the vLLM-argument parser reads. */
export interface DeploymentLike {
  spec?: {
    template?: {
      spec?: {
        containers?: Array<{
          command?: string[];
          args?: string[];
          env?: Array<{ name: string; value?: string }>;
        }>;
      };
    };
  };
}

// ---- Pipeline -----------------------------------------------------------------------------

export type SaturationAction = 'scale-up' | 'scale-down' | 'no-change';

export interface DecisionStep {
  name: string;
  action: SaturationAction;
  targetReplicas: number;
  reason: string;
  wasConstrained: boolean;
}

export interface VariantDecision {
  variantName: string;
  namespace: string;
  modelId: string;
  acceleratorName: string;
  cost: number;
  action: SaturationAction;
  currentReplicas: number;
  targetReplicas: number;
  gpusPerReplica: number;
  spareCapacity: number;
  gpusAllocated: number;
  wasLimited: boolean;
  limitedBy: string;
  decisionSteps: DecisionStep[];
  reason: string;
}

export interface ModelScalingRequest {
  modelId: string;
  namespace: string;
  result: AnalyzerResult | null;
  variantStates: VariantReplicaState[];
}

export interface GpuAllocator {
  /** GPUs granted to `d`, at most `gpusRequested`. */
  tryAllocate(d: VariantDecision, gpusRequested: number): number;
  remaining(): number;
}

/** One entry of the scale-to-zero ConfigMap. An absent flag inherits. */
export interface ModelScaleToZeroConfig {
  modelId?: string;
  namespace?: string;
  enableScaleToZero?: boolean;
  retentionPeriod?: string;
}

/** Keyed by model id, or 'default' for the global entry. */
export type ScaleToZeroConfigData = Record<string, ModelScaleToZeroConfig>;
