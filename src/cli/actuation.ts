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
import type { Deployment, VariantAutoscaling } from '../kube/types.js';
import type { Logger } from '../types.js';

export interface ActuationPlace {
  /** Reported on Events (the pod's name). */
  identity: string;
  /** The controller's namespace, where model-scale-to-zero-config lives. */
  namespace: string;
  /** false: no ConfigMap reads (--no-configmap). */
  watchConfigMap: boolean;
}

/** The shared parts it uses: the registry the gauges go on, and the fleet collector. */
export interface ActuationParts {
  telemetry: { registry: Registry };
  collector: {
    requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer;
    countRequestsOver(periods: () => readonly number[]): void;
  };
}

/** What it reads of the informers (KubeSource). */
export interface ListedVariants {
  listVariants(): VariantAutoscaling[];
  getDeployment(namespace: string, name: string): Deployment | undefined;
}

export class ClusterActuation {
  readonly actuator: Actuator;
  private scaleToZero: boolean;
  private readonly hpas: HpaWatch | undefined;
  private readonly zeroConfigWatch: ConfigMapWatch | undefined;
  private source: ListedVariants | undefined;
  private unitCosts: (() => Record<string, number> | undefined) | undefined;

  constructor(
    kubeConfig: KubeConfig,
    config: Config,
    o: ActuationPlace,
    parts: ActuationParts,
    logger: Logger,
  ) {
    this.scaleToZero = config.actuation.scaleToZero;
    const scaleMode = config.actuation.mode === 'scale';
    this.hpas = scaleMode
      ? new HpaWatch({ kubeConfig, namespaces: config.reconcile.namespaces, logger })
      : undefined;
    this.actuator = new Actuator({
      mode: config.actuation.mode,
      metrics: new ActuationMetrics(parts.telemetry.registry),
      events: new KubeEventSink({ kubeConfig, identity: o.identity, logger }),
      ...(this.hpas ? { scaler: new DeploymentScaler({ kubeConfig, logger }), hpas: this.hpas } : {}),
      scaleToZeroEnabled: () => this.scaleToZero,
      keepsModelServing: (va) => this.isCheapest(va),
      idleEvidence: (m, ns, ms) => idleEvidence(parts.collector.requestsOver(m, ns, ms / 1000)),
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
    // The fleet query also counts requests over the retention periods in force (one query still).
    parts.collector.countRequestsOver(() => this.requestsOverSeconds());
  }

  /** Where the VariantAutoscalings and Deployments are (for the retention periods in force). */
  bindSource(source: ListedVariants): void {
    this.source = source;
  }

  /** Unit costs per accelerator (the optimizer's accelerator-unit-costs), to find the cheapest variant. */
  bindUnitCosts(costs: () => Record<string, number> | undefined): void {
    this.unitCosts = costs;
  }

  /**
   * Whether `va` is the cheapest variant of its model in its namespace (per replica: the lowest
   * unit cost x accCount over its profile; no known cost counts as dearest; ties by name): the one
   * that keeps the model serving while it may not go to zero.
   */
  isCheapest(va: VariantAutoscaling): boolean {
    const costs = this.unitCosts?.() ?? {};
    const perReplica = (v: VariantAutoscaling) =>
      Math.min(
        Number.POSITIVE_INFINITY,
        ...(v.spec?.modelProfile?.accelerators ?? []).map(
          (a) => (costs[a.acc] ?? Number.POSITIVE_INFINITY) * a.accCount,
        ),
      );
    const mine = perReplica(va);
    return !(this.source?.listVariants() ?? []).some(
      (v) =>
        v.metadata.namespace === va.metadata.namespace &&
        v.spec?.modelID === va.spec.modelID &&
        (perReplica(v) < mine || (perReplica(v) === mine && v.metadata.name < va.metadata.name)),
    );
  }

  /** The optimizer's fewest replicas for a variant: 0 where its model may go to zero now, or for
   *  any variant but the model's cheapest; 1 for the cheapest. */
  minReplicas(va: VariantAutoscaling): number {
    return this.actuator.minReplicas(va, this.source?.getDeployment(va.metadata.namespace, va.metadata.name));
  }

  /** Live reload: WVA_SCALE_TO_ZERO applies from the next reconcile. Returns the keys applied. */
  reload(next: Config, keys: readonly string[]): string[] {
    if (!keys.includes('WVA_SCALE_TO_ZERO')) return [];
    this.scaleToZero = next.actuation.scaleToZero;
    return ['WVA_SCALE_TO_ZERO'];
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
