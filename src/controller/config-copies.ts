// Namespace-local copies of upstream's ConfigMaps (wva-model-scale-to-zero-config,
// wva-saturation-scaling-config): ConfigMaps of those names labelled wva.llmd.ai/config-enabled:
// "true" in a model's namespace, watched by label and handed over whole after every change, each
// replacing the global copy for its namespace. The controller's own namespace holds the global ones.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { ConfigMapLike } from '../config/scale-to-zero.js';
import { CONFIG_ENABLED_LABEL, configMapNames, SCALE_TO_ZERO_CONFIGMAP_V05 } from '../config/upstream.js';
import {
  collectionPath,
  namespaceScopes,
  type ResilientInformer,
  type RestartBackoff,
  trimmedInformer,
} from '../kube/informer.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import { type SaturationConfigHolder, watchSaturationConfig } from './saturation-config.js';

type ConfigMap = KubernetesObject & ConfigMapLike;

export interface ConfigCopiesOptions {
  kubeConfig: KubeConfig;
  /** The controller's namespace: its ConfigMaps are the global copies, not local ones. */
  controllerNamespace: string;
  /** [] or undefined: every namespace. */
  namespaces?: string[];
  /** Names of the ConfigMaps whose copies are wanted, and who takes each name's copies. */
  consumers: Record<string, (copies: ConfigMapLike[]) => void>;
  logger?: Logger;
  backoff?: RestartBackoff;
}

export class ConfigCopiesWatch {
  readonly informers: ResilientInformer<ConfigMap>[] = [];

  constructor(private readonly o: ConfigCopiesOptions) {
    const selector = { label: `${CONFIG_ENABLED_LABEL}=true` };
    const trim = (cm: ConfigMap) =>
      ({
        metadata: { name: cm.metadata?.name, namespace: cm.metadata?.namespace, labels: cm.metadata?.labels },
        data: cm.data ?? {},
      }) as ConfigMap;
    for (const ns of namespaceScopes(o.namespaces)) {
      const path = collectionPath('/api/v1', 'configmaps', ns);
      const inf = trimmedInformer<ConfigMap>({
        kubeConfig: o.kubeConfig,
        path,
        trim,
        logger: o.logger ?? silentLogger,
        backoff: o.backoff,
        selector,
        trimWatch: false,
      });
      for (const ev of ['add', 'update', 'delete'] as const) inf.informer.on(ev, () => this.handOver());
      this.informers.push(inf);
    }
  }

  /** Every consumer gets all current copies of its name (outside the controller's namespace). */
  private handOver(): void {
    const all = this.informers.flatMap((i) => i.informer.list());
    for (const [name, take] of Object.entries(this.o.consumers)) {
      take(
        all.filter(
          (cm) =>
            cm.metadata.name === name &&
            cm.metadata.namespace !== this.o.controllerNamespace &&
            cm.metadata.labels?.[CONFIG_ENABLED_LABEL] === 'true',
        ),
      );
    }
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/**
 * The upstream ConfigMaps the controller watches besides its own: wva-saturation-scaling-config in
 * its namespace (held for the saturation engine) and the namespace-local copies of that one and of
 * wva-model-scale-to-zero-config (those go to `scaleToZeroCopies`).
 */
export function watchUpstreamConfigMaps(o: {
  kubeConfig: KubeConfig;
  namespace: string;
  namespaces?: string[];
  logger: Logger;
  scaleToZeroCopies: (copies: ConfigMapLike[]) => void;
}): { saturation: SaturationConfigHolder; start(): void; stop(): Promise<void> } {
  const name = configMapNames(process.env).saturation[0] as string;
  const sat = watchSaturationConfig(o.kubeConfig, o.namespace, name, o.logger);
  const copies = new ConfigCopiesWatch({
    kubeConfig: o.kubeConfig,
    controllerNamespace: o.namespace,
    ...(o.namespaces ? { namespaces: o.namespaces } : {}),
    logger: o.logger,
    consumers: { [SCALE_TO_ZERO_CONFIGMAP_V05]: o.scaleToZeroCopies, [name]: (l) => sat.holder.setLocal(l) },
  });
  return {
    saturation: sat.holder,
    start: () => {
      sat.start();
      copies.start();
    },
    stop: async () => {
      await Promise.all([sat.stop(), copies.stop()]);
    },
  };
}
