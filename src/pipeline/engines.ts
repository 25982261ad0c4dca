// Where the engines are built, for every mode: the queueing-model SLO engine (VariantOptimizer, on
// the optimizer ConfigMaps) and the saturation engines (SaturationDecider, on
// wva-saturation-scaling-config). Which engine decides a model is the reconciler's choice per
// variant; this is the one place that constructs them, so a new engine is one line here.
import type { Config } from '../config/index.js';
import { VariantOptimizer } from '../controller/decision.js';
import type { OptimizerConfigStore } from '../controller/optimizer-config.js';
import { type SaturationConfigHolder, saturationParts } from '../controller/saturation-config.js';
import type { SaturationDecider } from '../controller/saturation-decider.js';
import type { VariantAutoscaling } from '../kube/types.js';

export interface Engines {
  /** The SLO engine: desiredOptimizedAlloc for variants with an SLO class and a profile. */
  optimizer: VariantOptimizer;
  /** The saturation engines (V1, V2) for the rest, and their ConfigMap holder. */
  saturation: { decider: SaturationDecider; config: SaturationConfigHolder };
}

export interface EngineInputs {
  reconcile: Config['reconcile'];
  /** The optimizer ConfigMaps (watched in a cluster, from the manifests locally). */
  store: OptimizerConfigStore;
  /** Fewest replicas per variant (the actuator's scale-to-zero gate); absent: 1. */
  minReplicas?: (va: VariantAutoscaling) => number;
  saturation: Omit<Parameters<typeof saturationParts>[0], 'stabilizationWindowMs'>;
}

export function buildEngines(o: EngineInputs): Engines {
  return {
    optimizer: new VariantOptimizer({
      config: o.store,
      ...o.reconcile,
      ...(o.minReplicas ? { minReplicasDefault: o.minReplicas } : {}),
    }),
    saturation: saturationParts({
      ...o.saturation,
      stabilizationWindowMs: o.reconcile.stabilizationWindowMs,
    }),
  };
}
