// Builders for VariantAutoscaling and Deployment objects in tests (shape of the sample in the
// reference, with the fields that vary as parameters). vaObject/deploymentObject are typed, for code
// that takes the controller's types (no `as unknown as` casts); variant/deployment are the same
// objects as untyped API objects, for the fake API server and manifest files.
import type { GroupMember } from '../../src/controller/decision.js';
import type { MetricsRead } from '../../src/controller/status.js';
import type { Deployment, VariantAutoscaling, VariantAutoscalingSpec } from '../../src/kube/types.js';
import type { Obj } from './fake-apiserver.js';
import type { ExpectedMetrics } from './vllm-openmetrics.js';

/** A VariantAutoscaling as the controller's own type (the sample's shape; checked by the compiler). */
export function vaObject(
  namespace: string,
  name: string,
  modelID: string,
  o: { accelerator?: string; labels?: Record<string, string>; spec?: VariantAutoscalingSpec } = {},
): VariantAutoscaling {
  const acc = o.accelerator ?? 'A100';
  return {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: {
      name,
      namespace,
      labels: { 'inference.optimization/acceleratorName': acc, ...o.labels },
    },
    spec: o.spec ?? {
      modelID,
      sloClassRef: { name: 'premium', key: 'opt-125m' },
      modelProfile: {
        accelerators: [
          {
            acc,
            accCount: 1,
            maxBatchSize: 4,
            perfParms: {
              decodeParms: { alpha: '20.58', beta: '0.41' },
              prefillParms: { gamma: '5.2', delta: '0.1' },
            },
          },
        ],
      },
    },
  };
}

/** vaObject() as an untyped API object (the fake API server's); `spec` may be anything, hostile too. */
export function variant(
  namespace: string,
  name: string,
  modelID: string,
  o: { accelerator?: string; labels?: Record<string, string>; spec?: Record<string, unknown> } = {},
): Obj {
  const { spec, ...rest } = o;
  const va = vaObject(namespace, name, modelID, rest);
  return { ...va, metadata: { ...va.metadata }, ...(spec ? { spec } : {}) };
}

/**
 * A Deployment as the controller's own type. It also carries `spec.selector` (not in the type: the
 * controller does not read it), so it is the same object the API server would hand out. Its pods are
 * labelled `app: <o.app, else name>`; `o.readyReplicas` (default: all) are ready.
 */
export function deploymentObject(
  namespace: string,
  name: string,
  replicas: number,
  o: { app?: string; readyReplicas?: number } = {},
): Deployment {
  const app = o.app ?? name;
  const spec = {
    replicas,
    selector: { matchLabels: { app } },
    template: { metadata: { labels: { app } } },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec,
    status: { replicas, readyReplicas: o.readyReplicas ?? replicas },
  };
}

/** deploymentObject() as an untyped API object (the fake API server's); `o.podSpec`, the template's pod spec. */
export function deployment(
  namespace: string,
  name: string,
  replicas: number,
  o: { app?: string; readyReplicas?: number; podSpec?: Record<string, unknown> } = {},
): Obj {
  const { podSpec, ...typed } = o;
  const d = deploymentObject(namespace, name, replicas, typed);
  const spec = podSpec ? { ...d.spec, template: { ...d.spec?.template, spec: podSpec } } : d.spec;
  return { ...d, metadata: { ...d.metadata }, spec };
}

/**
 * A VariantAutoscaling without an SLO profile, as the saturation engines take one: accelerator L4,
 * its target the Deployment `<name>-decode`, its cost `variantCost`.
 */
export function saturationVaObject(
  namespace: string,
  name: string,
  modelID: string,
  variantCost = '5.0',
): VariantAutoscaling {
  return {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: { name, namespace, labels: { 'inference.optimization/acceleratorName': 'L4' } },
    spec: { scaleTargetRef: { kind: 'Deployment', name: `${name}-decode` }, modelID, variantCost },
  } as VariantAutoscaling;
}

/** saturationVaObject() as an untyped API object (the fake API server's). */
export function saturationVariant(
  namespace: string,
  name: string,
  modelID: string,
  variantCost = '5.0',
): Obj {
  const va = saturationVaObject(namespace, name, modelID, variantCost);
  return { ...va, metadata: { ...va.metadata } };
}

/** A saturationVaObject() and its Deployment `<name>-decode` at one ready replica, as a decider's group member. */
export function saturationMember(namespace: string, name: string, modelID: string): GroupMember {
  const deployment: Deployment = {
    metadata: { name: `${name}-decode`, namespace },
    spec: { replicas: 1 },
    status: { replicas: 1, readyReplicas: 1 },
  };
  return { va: saturationVaObject(namespace, name, modelID), deployment };
}

/**
 * The status.currentAlloc a controller writes for a variant() (default accelerator profile: maxBatch
 * 4, no unit costs) with these replicas and metrics: the CRD's strings, two decimals.
 */
export function expectedAlloc(metrics: ExpectedMetrics, numReplicas: number, accelerator = 'A100') {
  return {
    accelerator,
    numReplicas,
    maxBatch: 4,
    variantCost: '0.00',
    load: {
      arrivalRate: metrics.arrivalRate.toFixed(2),
      avgInputTokens: metrics.avgInputTokens.toFixed(2),
      avgOutputTokens: metrics.avgOutputTokens.toFixed(2),
    },
    ttftAverage: metrics.ttftAverage.toFixed(2),
    itlAverage: metrics.itlAverage.toFixed(2),
  };
}

/** A metrics read that found the model, for tests where the collector is not under test. */
export function foundReading(model: string, ns: string, arrivalRate = 60): MetricsRead {
  return {
    metrics: {
      load: { arrivalRate, avgInputTokens: 10, avgOutputTokens: 5 },
      ttftAverage: 1,
      itlAverage: 1,
    },
    availability: { available: true, reason: 'MetricsFound', message: `found ${model} in ${ns}` },
  };
}
