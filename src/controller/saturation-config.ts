// wva-saturation-scaling-config as the controller holds it for the saturation engine: the global
// copy (the controller's namespace, watched) and namespace-local copies labelled
// wva.llmd.ai/config-enabled (from manifests in local mode), resolved per model namespace as
// upstream does. Parsing and validation are the engine's; this only keeps the data and says when
// it changed.
import type { KubeConfig } from '@kubernetes/client-node';
import { type ConfigMapLike, scopedData } from '../config/scale-to-zero.js';
import { configMapNames } from '../config/upstream.js';
import type { Logger } from '../types.js';
import { ConfigMapWatch } from './kube.js';
import { SaturationDecider, type SaturationDeciderOptions } from './saturation-decider.js';

export class SaturationConfigHolder {
  private global: ConfigMapLike | undefined;
  private local = new Map<string, ConfigMapLike>();
  private readonly listeners: Array<() => void> = [];
  /** Bumped on every change, so a consumer can tell whether to parse again. */
  version = 0;

  constructor(
    readonly namespace: string,
    readonly name: string,
  ) {}

  /** New data of the global copy (undefined: deleted). */
  setGlobal(data: Record<string, string> | undefined): void {
    this.global =
      data === undefined ? undefined : { metadata: { namespace: this.namespace, name: this.name }, data };
    this.changed();
  }

  /** The namespace-local copies (labelled ConfigMaps of this name outside the controller's namespace). */
  setLocal(copies: Iterable<ConfigMapLike>): void {
    this.local = new Map([...copies].map((c) => [c.metadata.namespace, c]));
    this.changed();
  }

  /** The data for models in `namespace`, and which ConfigMap it came from. */
  dataFor(namespace: string): { data: Record<string, string> | undefined; from: string | undefined } {
    return scopedData(namespace, [this.global], this.local);
  }

  /** Called after every change (the engine re-parses). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }
}

/** The global copy watched in the controller's namespace, each change logged once. */
export function watchSaturationConfig(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  logger: Logger,
): { holder: SaturationConfigHolder; start(): void; stop(): Promise<void> } {
  const holder = new SaturationConfigHolder(namespace, name);
  holder.onChange(() =>
    logger.info(
      { configMap: `${namespace}/${name}`, keys: Object.keys(holder.dataFor(namespace).data ?? {}) },
      'saturation scaling configuration received; held for the saturation engine',
    ),
  );
  const watch = new ConfigMapWatch({
    kubeConfig,
    namespace,
    name,
    logger,
    onData: (d) => holder.setGlobal(d),
  });
  return { holder, start: () => watch.start(), stop: () => watch.stop() };
}

/** The saturation engines for a mode: a holder (watched in a cluster, fed from manifests locally). */
export function saturationParts(o: {
  holder?: SaturationConfigHolder;
  /** Where the global copy lives; default upstream's controller namespace. */
  namespace?: string;
  stabilizationWindowMs: number;
  scaleToZeroEnabled: () => boolean;
  logger: Logger;
  gpus?: SaturationDeciderOptions['gpus'];
  pods?: SaturationDeciderOptions['pods'];
  scaleToZero?: SaturationDeciderOptions['scaleToZero'];
  fleet?: SaturationDeciderOptions['fleet'];
  floor?: boolean;
}): { decider: SaturationDecider; config: SaturationConfigHolder } {
  const config =
    o.holder ??
    new SaturationConfigHolder(
      o.namespace ?? 'workload-variant-autoscaler-system',
      configMapNames(process.env).saturation[0] as string,
    );
  const decider = new SaturationDecider({
    config,
    stabilizationWindowMs: o.stabilizationWindowMs,
    scaleToZeroEnabled: o.scaleToZeroEnabled,
    logger: o.logger,
    ...(o.gpus ? { gpus: o.gpus } : {}),
    ...(o.pods ? { pods: o.pods } : {}),
    ...(o.scaleToZero ? { scaleToZero: o.scaleToZero } : {}),
    ...(o.fleet ? { fleet: o.fleet } : {}),
    ...(o.floor !== undefined ? { floor: o.floor } : {}),
  });
  return { decider, config };
}
