// Building a saturation engine's per-variant input from what the controller holds: the
// VariantAutoscaling's few fields, its scale target (a Deployment) and the collector's answer on
// recent requests. Pure; shapes are structural so the controller's cached objects fit as they are.
import type { RequestsOverAnswer } from '../collector/fleet-collector.js';
import type { DeploymentLike } from './saturation/types.js';
import { parseVariantCost } from './saturation-engine.js';
import type { SaturationVariantInput } from './types.js';

/** Extended resources upstream counts as GPUs. */
export const GPU_RESOURCES = ['nvidia.com/gpu', 'amd.com/gpu', 'intel.com/gpu'] as const;

/** The part of a Deployment the engines read. */
export interface TargetDeployment extends DeploymentLike {
  spec?: DeploymentLike['spec'] & {
    replicas?: number;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: {
        containers?: Array<{
          command?: string[];
          args?: string[];
          env?: Array<{ name: string; value?: string }>;
          resources?: {
            requests?: Record<string, string | number>;
            limits?: Record<string, string | number>;
          };
        }>;
      };
    };
  };
  status?: { replicas?: number; readyReplicas?: number };
}

/** The part of a VariantAutoscaling the engines read. */
export interface VariantFields {
  name: string;
  /** `spec.variantCost` as written (a decimal string). */
  variantCost?: string | number;
  /** The `inference.optimization/acceleratorName` label. */
  acceleratorLabel?: string;
  /** `status.desiredOptimizedAlloc.numReplicas`. */
  desiredReplicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
}

function whole(v: string | number | undefined): number {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : 0;
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim())) return 0;
  return Number(v.trim());
}

/** GPUs one replica requests (the three vendors' resources over every container); 0 counts 1. */
export function gpusPerReplica(d: TargetDeployment | null | undefined): number {
  let n = 0;
  for (const c of d?.spec?.template?.spec?.containers ?? []) {
    for (const r of GPU_RESOURCES) n += whole(c.resources?.requests?.[r]);
  }
  return n > 0 ? n : 1;
}

/** Replicas that count as current: status.replicas, or spec.replicas when that is 0 (unset spec: 1). */
export function currentReplicas(d: TargetDeployment): number {
  const status = d.status?.replicas ?? 0;
  return status !== 0 ? status : (d.spec?.replicas ?? 1);
}

/** Whether the saturation engines decide the variant (spec.replicas > 0, unset 1); else scale from zero watches it. */
export function isActiveTarget(d: TargetDeployment): boolean {
  return (d.spec?.replicas ?? 1) > 0;
}

/** One variant's input to a saturation engine. */
export function saturationVariantInput(va: VariantFields, d: TargetDeployment): SaturationVariantInput {
  const current = currentReplicas(d);
  return {
    variantName: va.name,
    cost: parseVariantCost(va.variantCost),
    acceleratorName: va.acceleratorLabel ?? '',
    currentReplicas: current,
    desiredReplicas: va.desiredReplicas ?? 0,
    pendingReplicas: Math.max(0, current - (d.status?.readyReplicas ?? 0)),
    gpusPerReplica: gpusPerReplica(d),
    deployment: d,
    ...(va.minReplicas !== undefined ? { minReplicas: va.minReplicas } : {}),
    ...(va.maxReplicas !== undefined ? { maxReplicas: va.maxReplicas } : {}),
  };
}

/** The scale-to-zero enforcer's request count from the collector's answer: unknown is null, never 0. */
export function requestCountOf(answer: RequestsOverAnswer): number | null {
  return answer.kind === 'count' ? answer.requests : null;
}
