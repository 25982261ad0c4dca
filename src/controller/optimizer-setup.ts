// The optimizer's ConfigMap store for each mode, fed by watches in a cluster (the two shared
// ConfigMaps in the controller's namespace, sloClassRef ConfigMaps read per cycle) or by the
// manifests in local mode. The pipeline builds the store first: the actuator reads its unit costs
// and the engines are built on it.
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

/** The optimizer's ConfigMaps: a store, and the watches that feed it (none in local mode). */
export interface OptimizerConfigParts {
  store: OptimizerConfigStore;
  start(): void;
  stop(): Promise<void>;
}

/** Local mode: ConfigMaps come from the manifests (LocalController feeds the store). */
export function localOptimizerConfig(logger: Logger): OptimizerConfigParts {
  const store = new OptimizerConfigStore({ namespace: 'manifests', logger });
  return { store, start() {}, stop: async () => {} };
}

/** Cluster mode: watches the two shared ConfigMaps; reads sloClassRef ConfigMaps on demand. */
export function clusterOptimizerConfig(
  kubeConfig: KubeConfig,
  namespace: string,
  logger: Logger,
): OptimizerConfigParts {
  const fetch = async (ns: string, name: string): Promise<ConfigMapData | undefined> => {
    try {
      return await getConfigMap(kubeConfig, ns, name);
    } catch (err) {
      throw new Error(`ConfigMap ${ns}/${name}: ${apiErrorMessage(err)}`);
    }
  };
  const store = new OptimizerConfigStore({ namespace, logger, fetch });
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
    store,
    start: () => {
      for (const w of watches) w.start();
    },
    stop: async () => {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}

/** Cluster mode's store with the SLO engine's optimizer on it (tests that build the parts by hand). */
export function clusterOptimizer(
  kubeConfig: KubeConfig,
  namespace: string,
  s: OptimizerSettings,
  logger: Logger,
): OptimizerParts {
  const parts = clusterOptimizerConfig(kubeConfig, namespace, logger);
  return { ...parts, optimizer: new VariantOptimizer({ config: parts.store, ...s }) };
}
