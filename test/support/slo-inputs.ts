// Inputs for the SLO engine's unit tests: a calm fleet of one model, its variants and the
// saturation config it falls back to, each overridable per test.
import type { PodMetrics } from '../../src/collector/pods.js';
import { parseSaturationScalingConfigMap } from '../../src/engines/saturation/configmap.js';
import type { SloModelInput, SloVariantInput } from '../../src/engines/slo/engine.js';

/** The saturation config the SLO engine's model input carries (product defaults). */
export const SLO_TEST_CONFIG = parseSaturationScalingConfigMap(
  { default: 'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n' },
  { product: true },
);

/** The steady load the model input carries unless a test gives its own. */
export const SLO_TEST_LOAD = { arrivalRate: 3000, avgInputTokens: 512, avgOutputTokens: 128 };

/** `n` pods of variant `name`, with a third of their KV cache used and nothing queued. */
export const calmPods = (name: string, n: number): PodMetrics[] =>
  Array.from({ length: n }, (_, i) => ({
    pod: `${name}-${i}`,
    modelId: 'llama-8b',
    namespace: 'ns',
    kvCacheUsage: 0.3,
    queueLength: 0,
  }));

/** A variant with `current` replicas (and as many desired), one GPU each, at least one replica. */
export function sloVariant(
  name: string,
  cost: number,
  current: number,
  extra: Partial<SloVariantInput> = {},
): SloVariantInput {
  return {
    variantName: name,
    cost,
    acceleratorName: name.toUpperCase(),
    currentReplicas: current,
    desiredReplicas: current,
    pendingReplicas: 0,
    gpusPerReplica: 1,
    minReplicas: 1,
    ...extra,
  };
}

/** Model llama-8b in `ns` with calm pods for each variant (`defaultVariants` unless `over` names them). */
export function sloModel(
  over: Partial<SloModelInput>,
  defaultVariants: () => SloVariantInput[],
): SloModelInput {
  const variants = over.variants ?? defaultVariants();
  return {
    modelId: 'llama-8b',
    namespace: 'ns',
    pods: new Map(variants.map((v) => [v.variantName, calmPods(v.variantName, v.currentReplicas)])),
    config: SLO_TEST_CONFIG,
    scaleToZero: { config: {}, requestCount: null, envDefault: false },
    slo: { ttftMs: 400, itlMs: 30 },
    load: SLO_TEST_LOAD,
    waiting: 0,
    backlogDrainMs: 60_000,
    nowMs: 0,
    ...over,
    variants,
  };
}
