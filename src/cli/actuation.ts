// The actuation parts of `wva-metrics run` in a cluster: the Actuator with its gauges and Events,
// direct scaling and the HPA watch (--actuator=scale), and scale to zero (its ConfigMap, the
// switch, and the retention periods the fleet query counts requests over).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Actuator } from '../actuator/actuator.js';
import { KubeEventSink } from '../actuator/events.js';
import { ActuationMetrics } from '../actuator/metrics.js';
import { idleEvidence, retentionPeriods, SCALE_TO_ZERO_CONFIGMAP } from '../actuator/scale-to-zero.js';
import { DeploymentScaler, HpaWatch } from '../actuator/scaler.js';
import type { RequestsOverAnswer } from '../collector/fleet-collector.js';
import type { Config } from '../config/index.js';
import { ConfigMapWatch } from '../controller/kube.js';
import type { VariantSource } from '../controller/reconciler.js';
import type { Logger } from '../types.js';

export interface ClusterActuationOptions {
  kubeConfig: KubeConfig;
  config: Config;
  /** Reported on Events (the pod's name). */
  identity: string;
  /** The controller's namespace, where model-scale-to-zero-config lives. */
  namespace: string;
  /** false: no ConfigMap reads (--no-configmap). */
  watchConfigMap: boolean;
  registry: Registry;
  /** The fleet collector: what its last query said about a model's requests over a period. */
  collector: { requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer };
  logger: Logger;
}

export class ClusterActuation {
  readonly actuator: Actuator;
  private scaleToZero: boolean;
  private readonly hpas: HpaWatch | undefined;
  private readonly zeroConfigWatch: ConfigMapWatch | undefined;
  private source: VariantSource | undefined;

  constructor(o: ClusterActuationOptions) {
    const { kubeConfig, config, logger } = o;
    this.scaleToZero = config.actuation.scaleToZero;
    const scaleMode = config.actuation.mode === 'scale';
    this.hpas = scaleMode
      ? new HpaWatch({ kubeConfig, namespaces: config.reconcile.namespaces, logger })
      : undefined;
    this.actuator = new Actuator({
      mode: config.actuation.mode,
      metrics: new ActuationMetrics(o.registry),
      events: new KubeEventSink({ kubeConfig, identity: o.identity, logger }),
      ...(this.hpas ? { scaler: new DeploymentScaler({ kubeConfig, logger }), hpas: this.hpas } : {}),
      scaleToZeroEnabled: () => this.scaleToZero,
      idleEvidence: (m, ns, ms) => idleEvidence(o.collector.requestsOver(m, ns, ms / 1000)),
      logger,
    });
    this.zeroConfigWatch = o.watchConfigMap
      ? new ConfigMapWatch({
          kubeConfig,
          namespace: o.namespace,
          name: SCALE_TO_ZERO_CONFIGMAP,
          logger,
          onData: (data) => this.actuator.setScaleToZeroConfig(data),
        })
      : undefined;
  }

  /** Where the VariantAutoscalings are listed (for the retention periods in force). */
  bindSource(source: VariantSource): void {
    this.source = source;
  }

  /** WVA_SCALE_TO_ZERO, live. */
  setScaleToZero(enabled: boolean): void {
    this.scaleToZero = enabled;
  }

  /** The periods (seconds) the next fleet query counts requests over: none when nothing may go to zero. */
  requestsOverSeconds(): number[] {
    const models = (this.source?.listVariants() ?? [])
      .filter((va) => typeof va.spec?.modelID === 'string')
      .map((va) => ({ modelId: va.spec.modelID, namespace: va.metadata.namespace }));
    return retentionPeriods(this.actuator.scaleToZeroConfig, this.scaleToZero, models).map((ms) => ms / 1000);
  }

  start(): void {
    this.zeroConfigWatch?.start();
    this.hpas?.start();
  }

  async stop(): Promise<void> {
    this.actuator.clear();
    await Promise.all([this.zeroConfigWatch?.stop(), this.hpas?.stop()]);
  }
}
