// The types the decision and the status share: what the collector read for a model, and what the
// SLO engine decided for a variant. Types only, importing neither side, so the decision (which
// reads statuses) and the status (which renders decisions) do not import each other.
import type { PodMetrics } from '../collector/pods.js';
import type { Deployment, VariantAutoscaling } from '../kube/types.js';
import type { ServiceClass, SloTargets, VariantAllocation } from '../optimizer/index.js';
import type { AggregateMetrics, MetricsAvailability } from '../types.js';

export interface MetricsRead {
  metrics?: AggregateMetrics;
  availability: MetricsAvailability;
  /** The model's per-pod numbers (saturation engines); absent: no pod series. */
  pods?: readonly PodMetrics[];
}

export type OptimizationReason =
  | 'OptimizationSucceeded'
  | 'MaxReplicasLimited'
  | 'SaturationSafetyOverride'
  | 'SLOUnreachable'
  | 'InvalidProfile'
  | 'NoServiceClass'
  | 'NoUnitCosts'
  | 'MetricsUnavailable'
  | 'SaturationEngineUnavailable'
  | 'OptimizationFailed';

/** A ConfigMap as the optimizer holds it: the last good parse, and what is wrong now, if anything. */
export interface ConfigMapState<T> {
  value?: T;
  problem?: string;
}

export interface OptimizerConfigMaps {
  serviceClasses: ConfigMapState<ServiceClass[]>;
  unitCosts: ConfigMapState<Record<string, number>>;
  /** Data of ConfigMap `name` in `namespace` (an sloClassRef target), when known. */
  namespaceConfigMap?(namespace: string, name: string): Record<string, string> | undefined;
}

export interface GroupMember {
  va: VariantAutoscaling;
  deployment?: Deployment;
}

export type Decision =
  | {
      ok: true;
      reason: 'OptimizationSucceeded' | 'MaxReplicasLimited' | 'SaturationSafetyOverride';
      message: string;
      accelerator: string;
      /** What to publish (after the saturation guard and the stabilisation window). */
      numReplicas: number;
      /** What the model recommends this cycle. */
      recommended: number;
      allocation: VariantAllocation;
      slo: SloTargets;
      sloSource: string;
    }
  | {
      ok: false;
      reason: Exclude<
        OptimizationReason,
        'OptimizationSucceeded' | 'MaxReplicasLimited' | 'SaturationSafetyOverride'
      >;
      message: string;
    };
