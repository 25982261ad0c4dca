// What the saturation decider takes and gives: its options (configuration, stabilisation, scale to
// zero, the GPU limiter's inputs, Pod objects, the fleet), a model of the fleet, and one variant's
// outcome. Apart from the decider so that it stays one class of logic.
import type { PodMetrics } from '../collector/pods.js';
import type { Engine, ModelDecision, ScalingDecision, VariantStatusContent } from '../engines/types.js';
import type { PodView } from '../kube/pods.js';
import type { Logger } from '../types.js';
import type { GroupMember } from './decision.js';
import type { SaturationZeroSource } from './saturation-zero.js';
import type { MetricsRead } from './status.js';

/** Where the saturation ConfigMap's data comes from (SaturationConfigHolder's shape). */
export interface SaturationConfigSource {
  readonly namespace: string;
  version: number;
  dataFor(namespace: string): { data: Record<string, string> | undefined };
}

export interface SaturationDeciderOptions {
  config: SaturationConfigSource;
  /** A scale-down is published only after the lower count was decided for this long. */
  stabilizationWindowMs?: number;
  monotonic?: () => number;
  /** WVA_SCALE_TO_ZERO, read each cycle. */
  scaleToZeroEnabled?: () => boolean;
  /** Scale to zero's rules and idle evidence; absent: the enforcer never takes a model to 0. */
  scaleToZero?: SaturationZeroSource;
  logger?: Logger;
  /**
   * The GPU limiter's inputs, read once per cycle when the global default has enableLimiter: GPUs
   * per accelerator type on the Nodes (null: not known yet, nothing is limited), and GPUs the
   * managed targets hold now (replicas x GPU requests per pod).
   */
  gpus?: { capacity(): Record<string, number> | null; usage(): Record<string, number> };
  /** Saturation V1 as a floor under the SLO engine's decisions; default true. */
  floor?: boolean;
  /** The engines (tests wrap them); default fresh V1 and V2 engines. */
  engines?: { v1?: Engine; v2?: Engine };
  /**
   * The Pod objects (an informer in the cluster): pods map to variants through their owners, else
   * the target's selector. Absent (local mode, where no Pod objects exist): the owner chain is read
   * from the pods' names.
   */
  pods?: PodView;
  /**
   * Every model of the fleet with its members and this cycle's pods, read once per cycle when the
   * GPU limiter is on, so the fleet's scale-ups are limited together. Absent: model by model.
   */
  fleet?: () => Promise<FleetModel[]>;
}

/** One model of the fleet: its VariantAutoscalings with their targets, and its pods this cycle. */
export interface FleetModel {
  members: GroupMember[];
  pods: readonly PodMetrics[] | undefined;
  /** The model's whole read of the cycle's snapshot (the SLO engine also needs its load). */
  read?: MetricsRead;
}

/**
 * Another engine deciding models of the fleet pass (the SLO engine over saturation), so that its
 * scale-ups are limited together with saturation V1's.
 */
export interface FleetDecider {
  /**
   * The model's decision by the other engine this cycle, to be limited with the fleet's; undefined:
   * saturation decides it; null: the other engine decided it already, outside this pass.
   */
  decide(model: FleetModel): ModelDecision | null | undefined;
  /** What the limiter left of a decision `decide` gave. */
  limited(model: ModelDecision): void;
}

/** What one VariantAutoscaling gets from its model's decision. */
export interface SaturationOutcome {
  /** The engine's decision for this variant, after every stage; absent: nothing decided for it. */
  decision?: ScalingDecision;
  /** The status content (desired allocation and §6 conditions). */
  status: VariantStatusContent;
  model: ModelDecision;
}
