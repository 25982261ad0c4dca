// The VariantAutoscaling resource (llmd.ai/v1alpha1) as it travels on the wire, field for field
// the CRD in deploy/crd.yaml, plus the slice of apps/v1 Deployment the controller reads.
// Numbers in status are strings (the CRD says so); they are written with two decimals.
import { escapeControls } from '../safe-text.js';
import type { PlacementSpec } from './accelerator.js';

export const GROUP = 'llmd.ai';
export const VERSION = 'v1alpha1';
export const PLURAL = 'variantautoscalings';
export const KIND = 'VariantAutoscaling';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Label the original reads the current accelerator from. */
export const ACCELERATOR_LABEL = 'inference.optimization/acceleratorName';

/** The condition the collector owns; reasons are `AvailabilityReason`. */
export const METRICS_AVAILABLE = 'MetricsAvailable';
/** Our second condition: whether this object could be reconciled at all (spec, Deployment). */
export const RECONCILED = 'Reconciled';
/** The optimizer's condition: whether desiredOptimizedAlloc holds a decision for the current inputs. */
export const OPTIMIZATION_READY = 'OptimizationReady';
export type ReconciledReason = 'Reconciled' | 'InvalidSpec' | 'DeploymentNotFound';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PerfParms {
  decodeParms: Record<string, string>;
  prefillParms: Record<string, string>;
}

export interface AcceleratorProfile {
  acc: string;
  accCount: number;
  maxBatchSize: number;
  perfParms: PerfParms;
}

export interface VariantAutoscalingSpec {
  modelID: string;
  /** With sloClassRef, what the SLO engine sizes with; both absent in upstream v0.5's shape. */
  modelProfile?: { accelerators: AcceleratorProfile[] };
  sloClassRef?: { name: string; key: string };
  /** What is scaled; absent: the Deployment named like the object (see va-spec.ts). */
  scaleTargetRef?: { apiVersion?: string; kind: string; name: string };
  /** Cost per replica, a decimal in a string; absent: "10.0". */
  variantCost?: string;
}

export interface LoadProfileStatus {
  /** Requests per minute, two decimals. */
  arrivalRate: string;
  avgInputTokens: string;
  avgOutputTokens: string;
}

export interface Allocation {
  accelerator: string;
  numReplicas: number;
  maxBatch: number;
  variantCost: string;
  /** Milliseconds, two decimals. */
  ttftAverage: string;
  /** Milliseconds, two decimals. */
  itlAverage: string;
  load: LoadProfileStatus;
}

export interface OptimizedAlloc {
  accelerator: string;
  numReplicas: number;
  lastRunTime?: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** RFC 3339, seconds precision (metav1.Time). */
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface VariantAutoscalingStatus {
  currentAlloc?: Allocation;
  /** The optimizer's decision; kept as found when it could not decide. */
  desiredOptimizedAlloc?: OptimizedAlloc;
  actuation?: { applied: boolean };
  conditions?: Condition[];
}

export interface VariantAutoscaling {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: VariantAutoscalingSpec;
  status?: VariantAutoscalingStatus;
}

/** The part of an apps/v1 Deployment the controller reads; of its pod template only the GPU
 *  placement (accelerator.ts), which is all the informer keeps of it. */
/** A Kubernetes label selector (apps/v1 Deployment `spec.selector`). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface Deployment {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    replicas?: number;
    selector?: LabelSelector;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: PlacementSpec & {
        containers?: Array<{
          command?: string[];
          args?: string[];
          env?: Array<{ name: string; value?: string }>;
          resources?: { requests?: Record<string, string | number> };
        }>;
      };
    };
  };
  status?: { replicas?: number; readyReplicas?: number };
}

/** "namespace/name", the work-queue key. */
export function objectKey(o: { metadata: { namespace?: string; name?: string } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A value quoted for a problem line, bounded and with control characters escaped. */
function quoted(s: string): string {
  return escapeControls(JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s));
}

/**
 * Why `ns` cannot be a namespace (a DNS-1123 label), or undefined when it can. Anything else would
 * be split wrongly in a "namespace/name" key (`prod/x` reading namespace prod) or defaulted away.
 */
export function namespaceProblem(ns: unknown, at = 'metadata.namespace'): string | undefined {
  if (typeof ns === 'number') return `${at}: ${ns} is a number, not a namespace name`;
  if (typeof ns !== 'string') return `${at}: must be a string, got ${ns === null ? 'null' : typeof ns}`;
  if (ns === '') return `${at}: empty`;
  if (ns.length <= 63 && DNS_LABEL.test(ns)) return undefined;
  return `${at}: ${quoted(ns)} is not a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)`;
}

/** Why `name` cannot be an object name (a DNS-1123 subdomain), or undefined when it can. */
export function nameProblem(name: unknown): string | undefined {
  const at = 'metadata.name';
  if (typeof name !== 'string' || name === '') return `${at}: required`;
  if (name.length <= 253 && DNS_SUBDOMAIN.test(name)) return undefined;
  return `${at}: ${quoted(name)} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit)`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value for a problem message. Never throws: an object from YAML such as `{toString: false}`
 *  makes String() throw, which would turn an invalid spec into a failed reconcile. */
function shown(v: unknown): string {
  try {
    return String(v);
  } catch {
    try {
      return JSON.stringify(v) ?? typeof v;
    } catch {
      return typeof v;
    }
  }
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function isIntAtLeast(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function checkParms(where: string, v: unknown, keys: string[], problems: string[]): void {
  if (!isRecord(v) || Object.keys(v).length === 0) {
    problems.push(`${where}: required, a map with keys ${keys.join(', ')}`);
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string' || !DECIMAL.test(val.trim())) {
      problems.push(`${where}.${k}: "${shown(val)}" is not a number in a string`);
    }
  }
  for (const k of keys) if (!(k in v)) problems.push(`${where}.${k}: required`);
}

/**
 * Checks a spec against the CRD's schema (and that the perf parameters are numbers, which the CRD
 * cannot say). Returns one line per problem, naming the field and what is allowed; [] when valid.
 * In a cluster the API server already rejects most of these; local manifests get no such check.
 */
export function validateSpec(spec: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(spec)) return ['spec: required, an object with modelID, modelProfile and sloClassRef'];
  if (!isNonEmptyString(spec.modelID)) problems.push('spec.modelID: required, a non-empty string');
  const slo = spec.sloClassRef;
  if (!isRecord(slo)) problems.push('spec.sloClassRef: required, an object with name and key');
  else {
    if (!isNonEmptyString(slo.name)) problems.push('spec.sloClassRef.name: required, a non-empty string');
    if (!isNonEmptyString(slo.key)) problems.push('spec.sloClassRef.key: required, a non-empty string');
  }
  const profile = spec.modelProfile;
  if (!isRecord(profile)) {
    problems.push('spec.modelProfile: required, an object with accelerators');
    return problems;
  }
  const accs = profile.accelerators;
  if (!Array.isArray(accs) || accs.length === 0) {
    problems.push('spec.modelProfile.accelerators: required, a list of at least one accelerator');
    return problems;
  }
  accs.forEach((a: unknown, i) => {
    const at = `spec.modelProfile.accelerators[${i}]`;
    if (!isRecord(a)) {
      problems.push(`${at}: must be an object`);
      return;
    }
    if (!isNonEmptyString(a.acc)) problems.push(`${at}.acc: required, a non-empty string`);
    if (!isIntAtLeast(a.accCount, 1))
      problems.push(`${at}.accCount: "${shown(a.accCount)}" must be an integer >= 1`);
    if (!isIntAtLeast(a.maxBatchSize, 1)) {
      problems.push(`${at}.maxBatchSize: "${shown(a.maxBatchSize)}" must be an integer >= 1`);
    }
    if (!isRecord(a.perfParms))
      problems.push(`${at}.perfParms: required, an object with decodeParms and prefillParms`);
    else {
      checkParms(`${at}.perfParms.decodeParms`, a.perfParms.decodeParms, ['alpha', 'beta'], problems);
      checkParms(`${at}.perfParms.prefillParms`, a.perfParms.prefillParms, ['gamma', 'delta'], problems);
    }
  });
  return problems;
}

/** Checks the object envelope (what the informer or a manifest file hands us). */
export function validateObject(o: unknown): string[] {
  if (!isRecord(o)) return ['object: not a mapping'];
  const problems: string[] = [];
  if (o.apiVersion !== API_VERSION)
    problems.push(`apiVersion: "${shown(o.apiVersion)}" must be ${API_VERSION}`);
  if (o.kind !== KIND) problems.push(`kind: "${shown(o.kind)}" must be ${KIND}`);
  const md = o.metadata;
  if (!isRecord(md)) problems.push('metadata.name: required');
  else {
    const bad =
      nameProblem(md.name) ?? (md.namespace === undefined ? undefined : namespaceProblem(md.namespace));
    if (bad) problems.push(bad);
  }
  return problems.concat(validateSpec(o.spec));
}
