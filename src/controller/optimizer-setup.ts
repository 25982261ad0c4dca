// Builds the optimizer for each mode: its ConfigMap store, fed by watches in a cluster (the two
// shared ConfigMaps in the controller's namespace, sloClassRef ConfigMaps read per cycle) or by
// the manifests in local mode.
import type { KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage, getConfigMap } from '../kube/http.js';
import type { VariantAutoscaling } from '../kube/types.js';
import { SERVICE_CLASSES_CONFIGMAP, UNIT_COSTS_CONFIGMAP } from '../optimizer/index.js';
import type { Logger } from '../types.js';
import { VariantOptimizer } from './decision.js';
import { ConfigMapWatch } from './kube.js';
import { type ConfigMapData, OptimizerConfigStore } from './optimizer-config.js';

export interface OptimizerSettings {
  stabilizationWindowMs: number;
  kvCacheThreshold: number;
  /** Serve the waiting requests within this time; 0 (the default): size for arrivals only. */
  backlogDrainMs?: number;
  /** Fewest replicas per variant: 1, or 0 where scale to zero allows it now. Default 1. */
  minReplicasDefault?: (va: VariantAutoscaling) => number;
}

export interface OptimizerParts {
  optimizer: VariantOptimizer;
  store: OptimizerConfigStore;
  start(): void;
  stop(): Promise<void>;
}

/** Local mode: ConfigMaps come from the manifests (LocalController feeds the store). */
export function localOptimizer(s: OptimizerSettings, logger: Logger): OptimizerParts {
  const store = new OptimizerConfigStore({ namespace: 'manifests', logger });
  const optimizer = new VariantOptimizer({ config: store, ...s });
  return { optimizer, store, start() {}, stop: async () => {} };
}

/** Cluster mode: watches the two shared ConfigMaps; reads sloClassRef ConfigMaps on demand. */
export function clusterOptimizer(
  kubeConfig: KubeConfig,
  namespace: string,
  s: OptimizerSettings,
  logger: Logger,
): OptimizerParts {
  const fetch = async (ns: string, name: string): Promise<ConfigMapData | undefined> => {
    try {
      return await getConfigMap(kubeConfig, ns, name);
    } catch (err) {
      throw new Error(`ConfigMap ${ns}/${name}: ${apiErrorMessage(err)}`);
    }
  };
  const store = new OptimizerConfigStore({ namespace, logger, fetch });
  const optimizer = new VariantOptimizer({ config: store, ...s });
  const watches = [
    new ConfigMapWatch({
      kubeConfig,
      namespace,
      name: SERVICE_CLASSES_CONFIGMAP,
      logger,
      onData: (d) => store.setServiceClasses(d),
    }),
    new ConfigMapWatch({
      kubeConfig,
      namespace,
      name: UNIT_COSTS_CONFIGMAP,
      logger,
      onData: (d) => store.setUnitCosts(d),
    }),
  ];
  return {
    optimizer,
    store,
    start: () => {
      for (const w of watches) w.start();
    },
    stop: async () => {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
