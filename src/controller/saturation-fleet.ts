// The whole fleet as the saturation engines see it for one cycle: every model's VariantAutoscalings
// (valid, not being deleted) with their scale targets, and the model's pods from the cycle's
// snapshot with its whole read (the collector keeps one per cycle, so this reads no more of
// Prometheus). Used when the GPU limiter must order the fleet's scale-ups together.
import type { PodMetrics } from '../collector/pods.js';
import { parseSpec } from '../kube/va-spec.js';
import type { GroupMember } from './decision.js';
import type { MetricsView, VariantSource } from './reconciler.js';
import type { FleetModel } from './saturation-decider.js';
import { lookupTarget } from './targets.js';

export function saturationFleet(
  source: Pick<VariantSource, 'listVariants' | 'getDeployment' | 'getScaleTarget'>,
  collector: { snapshot?(signal?: AbortSignal): Promise<MetricsView> },
): () => Promise<FleetModel[]> {
  return async () => {
    const view = await collector.snapshot?.();
    const byModel = new Map<string, GroupMember[]>();
    for (const va of source.listVariants()) {
      if (va.metadata.deletionTimestamp) continue;
      const spec = parseSpec(va.spec, va.metadata.name);
      if (!spec.ok || spec.spec.engine !== 'saturation') continue;
      const deployment = await lookupTarget(source, va.metadata.namespace, spec.spec.target);
      const key = `${va.metadata.namespace}\0${va.spec.modelID}`;
      const members = byModel.get(key) ?? [];
      members.push(deployment ? { va, deployment } : { va });
      byModel.set(key, members);
    }
    const out: FleetModel[] = [];
    for (const members of byModel.values()) {
      const va = (members[0] as GroupMember).va;
      const read = view?.read(va.spec.modelID, va.metadata.namespace);
      const pods: readonly PodMetrics[] | undefined = read?.pods;
      out.push(read ? { members, pods, read } : { members, pods });
    }
    return out;
  };
}
