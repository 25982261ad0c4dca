// Builders for VariantAutoscaling and Deployment objects in tests (shape of the sample in the
// reference, with the fields that vary as parameters).
import type { MetricsRead } from '../../src/controller/status.js';
import type { Obj } from './fake-apiserver.js';
import type { ExpectedMetrics } from './vllm-openmetrics.js';

export function variant(
  namespace: string,
  name: string,
  modelID: string,
  o: { accelerator?: string; labels?: Record<string, string>; spec?: Record<string, unknown> } = {},
): Obj {
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

export function deployment(namespace: string, name: string, replicas: number): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } } },
    },
    status: { replicas, readyReplicas: replicas },
  };
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
