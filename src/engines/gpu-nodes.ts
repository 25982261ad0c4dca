// GPU capacity of a cluster's Nodes for the GPU limiter: per Node, the product its labels name
// (NVIDIA, AMD, Intel) and the count its allocatable resources give. Pure; a Node whose GPUs
// cannot be typed is left out with a problem naming the Node, the field and the rule.
import { normalizeAcceleratorName } from './saturation/limiter.js';

/** Each vendor's product label and GPU resource names. */
export const GPU_VENDORS = [
  { vendor: 'NVIDIA', label: 'nvidia.com/gpu.product', resources: ['nvidia.com/gpu'] },
  { vendor: 'AMD', label: 'amd.com/gpu.product', resources: ['amd.com/gpu'] },
  {
    vendor: 'Intel',
    label: 'gpu.intel.com/product',
    resources: ['gpu.intel.com/i915', 'gpu.intel.com/xe', 'intel.com/gpu'],
  },
] as const;

/** The part of a Node the limiter reads. */
export interface NodeLike {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { allocatable?: Record<string, string | number>; capacity?: Record<string, string | number> };
}

function count(v: string | number | undefined): number {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : 0;
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim())) return 0;
  return Number(v.trim());
}

/** GPUs per normalised accelerator type over every Node, and the Nodes left out (one line each). */
export function gpuCapacityByType(nodes: readonly NodeLike[]): {
  byType: Record<string, number>;
  problems: string[];
} {
  const byType: Record<string, number> = {};
  const problems: string[] = [];
  for (const n of nodes) {
    const res = n.status?.allocatable ?? n.status?.capacity ?? {};
    for (const v of GPU_VENDORS) {
      const gpus = v.resources.reduce((s, r) => s + count(res[r]), 0);
      if (gpus === 0) continue;
      const product = n.metadata.labels?.[v.label]?.trim();
      if (!product) {
        problems.push(
          `Node ${n.metadata.name}: ${gpus} ${v.vendor} GPU(s) in status.allocatable but no label ${v.label} naming the product; its GPUs are not counted by the GPU limiter`,
        );
        continue;
      }
      const type = normalizeAcceleratorName(product);
      byType[type] = (byType[type] ?? 0) + gpus;
    }
  }
  return { byType, problems };
}
