// Which accelerator a variant runs on: the VA's label, else the GPU product its target's pod
// template asks the scheduler for (a node selector, or a required node affinity with one value),
// else unknown. A VA is never skipped for lacking it; decisions then name the accelerator unknown.
import { ACCELERATOR_LABEL } from './types.js';

/** Node labels that carry the GPU product (NVIDIA GPU feature discovery, GKE, AMD, Intel). */
export const GPU_PRODUCT_LABELS = [
  'nvidia.com/gpu.product',
  'cloud.google.com/gke-accelerator',
  'amd.com/gpu.product',
  'gpu.intel.com/product',
] as const;

export const UNKNOWN_ACCELERATOR = 'unknown';

/** The part of a pod template the scheduler reads for placement. */
export interface PlacementSpec {
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        nodeSelectorTerms?: Array<{
          matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }>;
        }>;
      };
    };
  };
}

export type AcceleratorSource = 'label' | 'nodeSelector' | 'nodeAffinity' | 'unknown';

function fromAffinity(p: PlacementSpec): string | undefined {
  const terms =
    p.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const label of GPU_PRODUCT_LABELS) {
    // Only an answer every term agrees on: terms are ORed, so two products mean either could run.
    const values = new Set<string>();
    for (const t of terms) {
      for (const e of t.matchExpressions ?? []) {
        if (e.key === label && e.operator === 'In') for (const v of e.values ?? []) values.add(v);
      }
    }
    if (values.size === 1) return [...values][0];
  }
  return undefined;
}

/** The accelerator and where it was found. `podSpec`: the target's `spec.template.spec`, if any. */
export function resolveAccelerator(
  labels: Record<string, string> | undefined,
  podSpec: PlacementSpec | undefined,
): { accelerator: string; source: AcceleratorSource } {
  const label = labels?.[ACCELERATOR_LABEL]?.trim();
  if (label) return { accelerator: label, source: 'label' };
  for (const key of GPU_PRODUCT_LABELS) {
    const v = podSpec?.nodeSelector?.[key]?.trim();
    if (v) return { accelerator: v, source: 'nodeSelector' };
  }
  const a = podSpec ? fromAffinity(podSpec) : undefined;
  if (a) return { accelerator: a, source: 'nodeAffinity' };
  return { accelerator: UNKNOWN_ACCELERATOR, source: 'unknown' };
}

/** Of a pod spec, only what resolveAccelerator reads (GPU product labels): a few bytes to cache. */
export function gpuPlacement(podSpec: unknown): PlacementSpec | undefined {
  if (typeof podSpec !== 'object' || podSpec === null) return undefined;
  const p = podSpec as PlacementSpec;
  const gpu = (k: unknown) => typeof k === 'string' && (GPU_PRODUCT_LABELS as readonly string[]).includes(k);
  const out: PlacementSpec = {};
  const sel = Object.entries(p.nodeSelector ?? {}).filter(([k, v]) => gpu(k) && typeof v === 'string');
  if (sel.length > 0) out.nodeSelector = Object.fromEntries(sel);
  const terms = p.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (Array.isArray(terms)) {
    const kept = terms.map((t) => ({
      matchExpressions: (Array.isArray(t?.matchExpressions) ? t.matchExpressions : [])
        .filter((e) => gpu(e?.key) && Array.isArray(e.values))
        .map((e) => ({
          key: e.key,
          operator: e.operator,
          values: e.values?.filter((v) => typeof v === 'string'),
        })),
    }));
    if (kept.some((t) => t.matchExpressions.length > 0)) {
      out.affinity = {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: kept } },
      };
    }
  }
  return out.nodeSelector || out.affinity ? out : undefined;
}
