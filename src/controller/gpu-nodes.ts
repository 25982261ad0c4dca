// The GPU limiter's view of the cluster: Nodes (trimmed to their GPU product labels and GPU
// resources) for capacity per accelerator type, and the GPUs the managed targets hold now. Each
// Node that cannot be typed is warned about once.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { GPU_VENDORS, gpuCapacityByType, type NodeLike } from '../engines/gpu-nodes.js';
import { gpusPerReplica, type TargetDeployment } from '../engines/inputs.js';
import { normalizeAcceleratorName } from '../engines/saturation/limiter.js';
import { resolveAccelerator } from '../kube/accelerator.js';
import { type ResilientInformer, type RestartBackoff, type Trim, trimmedInformer } from '../kube/informer.js';
import { scaledOf } from '../kube/va-spec.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { VariantSource } from './reconciler.js';

type NodeObject = NodeLike & KubernetesObject;

const LABELS: readonly string[] = GPU_VENDORS.map((v) => v.label);
const RESOURCES: readonly string[] = GPU_VENDORS.flatMap((v) => [...v.resources]);

const pick = <V>(o: Record<string, V> | undefined, keys: readonly string[]): Record<string, V> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([k]) => keys.includes(k)));

export class NodeGpuWatch {
  private readonly informer: ResilientInformer<NodeObject>;
  private readonly log: Logger;
  private readonly warned = new Set<string>();

  constructor(o: { kubeConfig: KubeConfig; logger?: Logger; backoff?: RestartBackoff }) {
    this.log = o.logger ?? silentLogger;
    const trim: Trim<NodeObject> = (n) => ({
      metadata: { name: n.metadata.name, labels: pick(n.metadata.labels, LABELS) },
      status: { allocatable: pick(n.status?.allocatable ?? n.status?.capacity, RESOURCES) },
    });
    const path = '/api/v1/nodes';
    this.informer = trimmedInformer<NodeObject>({
      kubeConfig: o.kubeConfig,
      path,
      trim,
      logger: this.log,
      backoff: o.backoff,
    });
  }

  start(): void {
    this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** GPUs per normalised type over the Nodes; null until listed. */
  capacity(): Record<string, number> | null {
    if (!this.informer.synced) return null;
    const { byType, problems } = gpuCapacityByType(this.informer.informer.list());
    for (const p of problems) {
      if (this.warned.has(p)) continue;
      if (this.warned.size >= 10_000) this.warned.clear();
      this.warned.add(p);
      this.log.warn({}, p);
    }
    return byType;
  }
}

/** GPUs the source's targets hold now, per normalised type: replicas x GPU requests per pod. */
export function gpuUsage(source: VariantSource): Record<string, number> {
  const used: Record<string, number> = {};
  for (const va of source.listVariants()) {
    const { name, kind } = scaledOf(va);
    if (kind.kind !== 'Deployment') continue;
    const d = source.getDeployment(va.metadata.namespace, name);
    if (!d || d instanceof Promise) continue;
    const type = normalizeAcceleratorName(
      resolveAccelerator(va.metadata.labels, d.spec?.template?.spec).accelerator,
    );
    const replicas = d.status?.replicas ?? d.spec?.replicas ?? 0;
    used[type] = (used[type] ?? 0) + replicas * gpusPerReplica(d as TargetDeployment);
  }
  return used;
}
