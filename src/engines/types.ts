// The engine seam: what every engine takes per model and gives back, whatever its rules. An
// engine decides once per model and namespace per cycle; the shared stages (saturation floor,
// bounds, scale to zero, GPU limiter) then append their steps; status and actuator only publish.
import type { PodMetrics } from '../collector/pods.js';
import type { SaturationConfigSet } from './saturation/configmap.js';
import type {
  DecisionStep,
  DeploymentLike,
  SaturationAction,
  ScaleToZeroConfigData,
} from './saturation/types.js';

export type { DecisionStep, SaturationAction as ScalingAction };

/** Engines by name, as they appear in decisions and the demo. */
export const ENGINE_NAMES = {
  slo: 'slo-queueing',
  saturationV1: 'saturation-v1',
  saturationV2: 'saturation-v2',
  scaleFromZero: 'scale-from-zero',
} as const;

/** One variant's decision, engine-neutral. */
export interface ScalingDecision {
  variantName: string;
  namespace: string;
  modelId: string;
  /** Which engine made the decision. */
  engine: string;
  acceleratorName: string;
  currentReplicas: number;
  targetReplicas: number;
  action: SaturationAction;
  /**
   * The SLO engine's predicted latencies at the count it sized for the variant's share of the load
   * (before the floor and later stages); absent where no engine sized a share.
   */
  predicted?: { ttftMs: number; itlMs: number };
  /** The engine's own one-line reason (the first step's, unless a stage rewrote it). */
  reason: string;
  /** Every stage that looked at the decision, in order; the condition message is rendered from it. */
  steps: DecisionStep[];
  /** What the GPU limiter needs: cost, GPUs per replica and spare capacity (lower goes first). */
  cost: number;
  gpusPerReplica: number;
  spareCapacity: number;
}

/** The conditions the engines set. */
export const OPTIMIZATION_READY = 'OptimizationReady';
export const METRICS_AVAILABLE = 'MetricsAvailable';

export interface EngineCondition {
  type: typeof OPTIMIZATION_READY | typeof METRICS_AVAILABLE;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** What the status of one variant should say after the cycle's decision. */
export interface VariantStatusContent {
  variantName: string;
  /** The new desired allocation; null: keep the previous one as it is. */
  desired: { numReplicas: number; accelerator: string } | null;
  conditions: EngineCondition[];
}

/** One model's decision for one cycle. Never thrown away for another model's trouble. */
export interface ModelDecision {
  modelId: string;
  namespace: string;
  engine: string;
  /** One per variant decided; a variant absent here keeps its previous desired allocation. */
  decisions: ScalingDecision[];
  /** Why the model, or some variant, got no decision (one sentence each). Empty when all decided. */
  skipped: string[];
  /** Things worth logging once (built-in thresholds in use, pods dropped, ...). */
  notes: string[];
  /**
   * Refused configuration entries that concern this model (key, field, rule), with what stood in
   * for them; set, the variants' OptimizationReady is False/InvalidConfiguration.
   */
  invalidConfiguration?: string[];
}

/** A variant of one model as the controller resolved it for this cycle. */
export interface SaturationVariantInput {
  variantName: string;
  /** `spec.variantCost` as a number (see parseVariantCost). */
  cost: number;
  /** The VA's accelerator label ('' when absent). */
  acceleratorName: string;
  /** Deployment status.replicas, or spec.replicas when that is 0. */
  currentReplicas: number;
  /** VA status.desiredOptimizedAlloc.numReplicas (0 when none). */
  desiredReplicas: number;
  /** max(0, current - ready). */
  pendingReplicas: number;
  /** GPUs requested per replica (0 counts 1). */
  gpusPerReplica: number;
  /** The Deployment (V2 reads its vLLM arguments); null when not found. */
  deployment?: DeploymentLike | null;
  /** Replica bounds from the VA, when it has any. */
  minReplicas?: number;
  maxReplicas?: number;
}

/** Scale-to-zero inputs of one model. */
export interface ScaleToZeroInput {
  config: ScaleToZeroConfigData;
  /** Requests over the retention period; null: unknown (the query failed or had no sample). */
  requestCount: number | null;
  /** WVA_SCALE_TO_ZERO. */
  envDefault: boolean;
}

/** Everything a saturation engine needs to decide one model. */
export interface SaturationModelInput {
  modelId: string;
  namespace: string;
  variants: readonly SaturationVariantInput[];
  /** Pods per variant name (matchPodsToVariants). */
  pods: ReadonlyMap<string, readonly PodMetrics[]>;
  /** The saturation ConfigMap that applies in the namespace, parsed. */
  config: SaturationConfigSet;
  scaleToZero: ScaleToZeroInput;
}

/** An engine: one decision per model and namespace per cycle. Must not throw for bad input. */
export interface Engine<I = SaturationModelInput> {
  readonly name: string;
  decide(model: I): ModelDecision;
}
