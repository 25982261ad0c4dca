// The members of a model a saturation engine sizes, as engine input: profile-less (or SLO-sized,
// for the floor), target found, not being deleted, asking for more than 0 replicas.
import { isActiveTarget, saturationVariantInput, type TargetDeployment } from '../engines/inputs.js';
import { variantStatuses } from '../engines/status.js';
import type { ModelDecision, SaturationVariantInput, VariantStatusContent } from '../engines/types.js';
import { resolveAccelerator } from '../kube/accelerator.js';
import { ACCELERATOR_LABEL, type LabelSelector, type VariantAutoscaling } from '../kube/types.js';
import { parseSpec, scaledOf } from '../kube/va-spec.js';
import type { GroupMember } from './decision.js';
import { replicaBounds } from './replica-bounds.js';
import type { SaturationOutcome } from './saturation-options.js';

export interface Active {
  va: VariantAutoscaling;
  input: SaturationVariantInput;
  deploymentName: string;
  selector: LabelSelector | undefined;
  running: number;
}

/** Members the saturation engine sizes: profile-less, target found, not deleting, replicas > 0. */
export function activeMembers(group: GroupMember[], engine: 'saturation' | 'slo' = 'saturation'): Active[] {
  const out: Active[] = [];
  for (const m of group) {
    const spec = parseSpec(m.va.spec, m.va.metadata.name);
    if (!spec.ok || spec.spec.engine !== engine) continue;
    const d = m.deployment as TargetDeployment | undefined;
    if (!d || m.deployment?.metadata.deletionTimestamp || !isActiveTarget(d)) continue;
    const bounds = replicaBounds(m.va);
    const input = saturationVariantInput(
      {
        name: m.va.metadata.name,
        variantCost: m.va.spec.variantCost,
        acceleratorLabel: m.va.metadata.labels?.[ACCELERATOR_LABEL] ?? '',
        desiredReplicas: m.va.status?.desiredOptimizedAlloc?.numReplicas ?? 0,
        ...(typeof bounds === 'object'
          ? { ...(bounds.min !== undefined ? { minReplicas: bounds.min } : {}), maxReplicas: bounds.max }
          : {}),
      },
      d,
    );
    out.push({
      va: m.va,
      input,
      deploymentName: scaledOf(m.va).name,
      selector: m.deployment?.spec?.selector,
      running: input.currentReplicas,
    });
  }
  return out;
}

/** The accelerator a variant is known by: its previous desired one, its label, its placement. */
export function knownAccelerator(va: VariantAutoscaling, group: GroupMember[]): string {
  const prev = va.status?.desiredOptimizedAlloc?.accelerator;
  if (prev) return prev;
  const d = group.find((m) => m.va === va)?.deployment;
  return resolveAccelerator(va.metadata.labels, d?.spec?.template?.spec).accelerator;
}

/** `va`'s part of its model's decision: its decision, if any, and its status content. */
export function variantPart(
  m: ModelDecision,
  va: VariantAutoscaling,
  group: GroupMember[],
): SaturationOutcome {
  const status = variantStatuses(m, [
    { variantName: va.metadata.name, knownAccelerator: knownAccelerator(va, group) },
  ])[0] as VariantStatusContent;
  const decision = m.decisions.find((d) => d.variantName === va.metadata.name);
  return decision ? { decision, status, model: m } : { status, model: m };
}
