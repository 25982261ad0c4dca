// Which VariantAutoscalings this controller may touch, as upstream v0.5 scopes them: not in a
// Namespace annotated `wva.llmd.ai/exclude: "true"`, and, when CONTROLLER_INSTANCE is set, only those
// labelled with that instance.

export const EXCLUDE_ANNOTATION = 'wva.llmd.ai/exclude';
export const CONTROLLER_INSTANCE_VA_LABEL = 'wva.llmd.ai/controller-instance';

/** A Namespace as the API or the manifests hand it over. */
export interface NamespaceLike {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
}

/** Whether the Namespace opts out of autoscaling (the annotation, any case of "true"). */
export function isExcluded(ns: NamespaceLike | undefined): boolean {
  return ns?.metadata.annotations?.[EXCLUDE_ANNOTATION]?.trim().toLowerCase() === 'true';
}

/**
 * Whether a VariantAutoscaling belongs to this controller: without an instance, every one; with
 * one, only those whose label names it.
 */
export function ownedByInstance(
  labels: Record<string, string> | undefined,
  instance: string | undefined,
): boolean {
  if (!instance) return true;
  return labels?.[CONTROLLER_INSTANCE_VA_LABEL] === instance;
}

/** Why a VariantAutoscaling is out of this controller's scope, or undefined when it is in it. */
export function outOfScope(
  va: { metadata: { namespace: string; labels?: Record<string, string> } },
  namespaces: ReadonlyMap<string, NamespaceLike>,
  instance: string | undefined,
): string | undefined {
  if (isExcluded(namespaces.get(va.metadata.namespace))) {
    return `namespace ${va.metadata.namespace} is annotated ${EXCLUDE_ANNOTATION}: "true"`;
  }
  if (!ownedByInstance(va.metadata.labels, instance)) {
    return `label ${CONTROLLER_INSTANCE_VA_LABEL} is not "${instance}" (CONTROLLER_INSTANCE)`;
  }
  return undefined;
}
