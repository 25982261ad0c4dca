// Which variant a pod serves: through its owner chain (Pod -> ReplicaSet -> Deployment) when the
// caller knows it, else through the scale target's label selector matched against the pod's labels.
// Never through the model name alone: two variants of one model share it. Pure.
import type { PodMetrics } from '../collector/pods.js';

/** A Kubernetes label selector (apps/v1 Deployment `spec.selector`). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface OwnerReference {
  kind: string;
  name: string;
  controller?: boolean;
}

/** What the caller knows of a Pod object (from a Pod informer or list). */
export interface PodObject {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** One variant's scale target, as the controller resolved it. */
export interface VariantTarget {
  variantName: string;
  namespace: string;
  /** The Deployment's name. */
  deploymentName: string;
  /** The Deployment's `spec.selector`; absent or empty: matching by selector is impossible. */
  selector?: LabelSelector | null;
}

export interface PodMatchInput {
  /** The model's pods as the collector read them (one namespace's pair). */
  pods: readonly PodMetrics[];
  /** Pod objects by `namespace/name`. A pod missing here can still match through nothing: dropped. */
  podObjects: ReadonlyMap<string, PodObject>;
  /** The model's variants in this namespace. */
  variants: readonly VariantTarget[];
  /** ReplicaSet `namespace/name` -> its controlling Deployment's name, when known. */
  replicaSetOwners?: ReadonlyMap<string, string>;
}

export interface UnmatchedPod {
  pod: string;
  namespace: string;
  /** Why no variant took it, one sentence. */
  reason: string;
}

export interface PodMatchResult {
  /** Variant name -> its pods, in input order; every variant present, maybe with []. */
  byVariant: Map<string, PodMetrics[]>;
  unmatched: UnmatchedPod[];
}

/** Why a selector is unusable, or null when it is fine. */
export function selectorProblem(sel: LabelSelector | null | undefined): string | null {
  if (!sel) return 'has no selector';
  const labels = Object.keys(sel.matchLabels ?? {});
  const exprs = sel.matchExpressions ?? [];
  if (labels.length === 0 && exprs.length === 0) return 'has an empty selector, which would select every pod';
  for (const e of exprs) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
      return `has a selector expression on ${JSON.stringify(e.key)} with unknown operator ${JSON.stringify(e.operator)} (use In, NotIn, Exists or DoesNotExist)`;
    }
    if ((e.operator === 'In' || e.operator === 'NotIn') && (e.values ?? []).length === 0) {
      return `has a selector expression ${JSON.stringify(e.key)} ${e.operator} without values`;
    }
  }
  return null;
}

/** Kubernetes' selector semantics: every matchLabels pair and every expression must hold. */
export function selectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** The Deployment controlling a pod through its ReplicaSet, when the owner chain says so. */
function ownerDeployment(
  obj: PodObject,
  replicaSetOwners: ReadonlyMap<string, string> | undefined,
): string | undefined {
  const rs = (obj.ownerReferences ?? []).find((o) => o.kind === 'ReplicaSet' && o.controller !== false);
  if (!rs) return undefined;
  const known = replicaSetOwners?.get(`${obj.namespace}/${rs.name}`);
  if (known !== undefined) return known;
  // A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>` and stamps the hash on
  // the pods, so the chain can be read without the ReplicaSet object.
  const hash = obj.labels?.['pod-template-hash'];
  if (hash && rs.name.endsWith(`-${hash}`)) return rs.name.slice(0, -hash.length - 1);
  return undefined;
}

/**
 * Each pod to the one variant whose Deployment owns it, else whose selector matches its labels.
 * A pod the caller has no object for, that no variant takes, or whose labels match several
 * variants' selectors (and no owner settles it) is unmatched, with the reason.
 */
export function matchPodsToVariants(input: PodMatchInput): PodMatchResult {
  const byVariant = new Map<string, PodMetrics[]>();
  for (const v of input.variants) byVariant.set(v.variantName, []);
  const unmatched: UnmatchedPod[] = [];
  const usable = input.variants.filter((v) => selectorProblem(v.selector) === null);
  for (const pod of input.pods) {
    const obj = input.podObjects.get(`${pod.namespace}/${pod.pod}`);
    if (!obj) {
      unmatched.push({
        pod: pod.pod,
        namespace: pod.namespace,
        reason: `pod ${pod.namespace}/${pod.pod} reports metrics but is not among the known pods (deleted, or not yet seen)`,
      });
      continue;
    }
    const inNs = input.variants.filter((v) => v.namespace === obj.namespace);
    const owner = ownerDeployment(obj, input.replicaSetOwners);
    let chosen: VariantTarget[] = owner === undefined ? [] : inNs.filter((v) => v.deploymentName === owner);
    if (chosen.length === 0) {
      const labels = obj.labels ?? {};
      chosen = usable.filter(
        (v) => v.namespace === obj.namespace && selectorMatches(v.selector as LabelSelector, labels),
      );
    }
    if (chosen.length === 1) {
      byVariant.get((chosen[0] as VariantTarget).variantName)?.push(pod);
      continue;
    }
    unmatched.push({
      pod: pod.pod,
      namespace: pod.namespace,
      reason:
        chosen.length === 0
          ? `pod ${pod.namespace}/${pod.pod} is owned by no variant's Deployment and matches no variant's selector`
          : `pod ${pod.namespace}/${pod.pod} matches the selectors of variants ${chosen.map((v) => v.variantName).join(', ')}; make the Deployments' selectors disjoint`,
    });
  }
  return { byVariant, unmatched };
}
