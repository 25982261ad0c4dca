// Where the engines are built, for every mode: the queueing-model SLO engine (VariantOptimizer, on
// the optimizer ConfigMaps, for variants with a profile), and for the rest the saturation engines
// (on wva-saturation-scaling-config) under the SLO engine with performance models learned online.
// Which engine decides a model is chosen per model in the deciders; this is the one place that
// constructs them, so a new engine is one line here.
import type { Config } from '../config/index.js';
import { VariantOptimizer } from '../controller/decision.js';
import type { OptimizerConfigStore } from '../controller/optimizer-config.js';
import { type SloParts, type SloPartsOptions, sloParts } from '../controller/slo-setup.js';
import type { VariantAutoscaling } from '../kube/types.js';

export interface Engines {
  /** The SLO engine on given profiles: desiredOptimizedAlloc for variants with an SLO class and a profile. */
  optimizer: VariantOptimizer;
  /** The saturation engines (V1, V2) and the learned SLO engine over them, and their ConfigMap holder. */
  saturation: SloParts;
  /** A reloaded configuration's reconcile settings, to every engine that uses them. */
  configure(reconcile: Config['reconcile']): void;
}

export interface EngineInputs {
  reconcile: Config['reconcile'];
  /** The optimizer ConfigMaps (watched in a cluster, from the manifests locally). */
  store: OptimizerConfigStore;
  /** Fewest replicas per variant (the actuator's scale-to-zero gate); absent: 1. */
  minReplicas?: (va: VariantAutoscaling) => number;
  /** The saturation engines' inputs, where learned models persist, the gauges' registry. */
  saturation: Omit<SloPartsOptions, 'reconcile' | 'serviceClasses'>;
}

export function buildEngines(o: EngineInputs): Engines {
  const optimizer = new VariantOptimizer({
    config: o.store,
    ...o.reconcile,
    ...(o.minReplicas ? { minReplicasDefault: o.minReplicas } : {}),
  });
  // The learned engine's SLOs are the service classes of the same optimizer ConfigMaps.
  const saturation = sloParts({
    ...o.saturation,
    reconcile: o.reconcile,
    serviceClasses: () => o.store.serviceClasses.value,
  });
  return {
    optimizer,
    saturation,
    configure(reconcile) {
      optimizer.configure(reconcile);
      saturation.decider.configure(reconcile);
    },
  };
}
