// The actuation parts of `wva-metrics run` in a cluster: the Actuator with its gauges and Events,
// direct scaling and the HPA watch (--actuator=scale), and scale to zero (its ConfigMap, the
// switch, and the retention periods the fleet query counts requests over).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Actuator, type Serving } from '../actuator/actuator.js';
import { KubeEventSink } from '../actuator/events.js';
import { ActuationMetrics } from '../actuator/metrics.js';
import { idleEvidence, retentionPeriods, SCALE_TO_ZERO_CONFIGMAP } from '../actuator/scale-to-zero.js';
import { DeploymentScaler, HpaWatch } from '../actuator/scaler.js';
import type { RequestsOverAnswer } from '../collector/fleet-collector.js';
import type { Config } from '../config/index.js';
import type { ConfigMapLike } from '../config/scale-to-zero.js';
import { SCALE_TO_ZERO_CONFIGMAP_V05 } from '../config/upstream.js';
import { targetProblem } from '../controller/group-plan.js';
import { ConfigMapWatch } from '../controller/kube.js';
import { type Deployment, type VariantAutoscaling, validateSpec } from '../kube/types.js';
import { deploymentNameOf } from '../kube/va-spec.js';
import { parseModelProfile } from '../optimizer/index.js';
import type { Logger } from '../types.js';

const modelKey = (va: VariantAutoscaling) => `${va.metadata.namespace}\u0000${va.spec.modelID}`;

export interface ActuationPlace {
  /** Reported on Events (the pod's name). */
  identity: string;
  /** The controller's namespace, where model-scale-to-zero-config lives. */
  namespace: string;
  /** false: no ConfigMap reads (--no-configmap). */
  watchConfigMap: boolean;
}

/** What it reads: the registry the gauges go on, the fleet collector's request counts (scale to
 *  zero's evidence), the VariantAutoscalings and Deployments (KubeSource), and the unit costs per
 *  accelerator (the optimizer's accelerator-unit-costs, to find the cheapest variant). */
export interface ActuationParts {
  telemetry: { registry: Registry };
  collector: { requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer };
  source: ListedVariants;
  unitCosts: () => Record<string, number> | undefined;
}

/** What it reads of the informers (KubeSource). */
export interface ListedVariants {
  listVariants(): VariantAutoscaling[];
  getDeployment(namespace: string, name: string): Deployment | undefined;
}

/** The desired count in advisory mode: a name no HPA or KEDA object selects. */
export const ADVISORY_DESIRED_REPLICAS = 'wva_advisory_desired_replicas';

export class ClusterActuation {
  readonly actuator: Actuator;
  private scaleToZero: boolean;
  private readonly hpas: HpaWatch | undefined;
  private readonly zeroConfigWatch: ConfigMapWatch | undefined;
  private readonly zeroConfigWatchV05: ConfigMapWatch | undefined;
  private readonly source: ListedVariants;
  private readonly unitCosts: () => Record<string, number> | undefined;

  constructor(
    kubeConfig: KubeConfig,
    config: Config,
    o: ActuationPlace,
    parts: ActuationParts,
    private readonly log: Logger,
  ) {
    const logger = log;
    this.source = parts.source;
    this.unitCosts = parts.unitCosts;
    this.scaleToZero = config.actuation.scaleToZero;
    const scaleMode = config.actuation.mode === 'scale';
    this.hpas = scaleMode
      ? new HpaWatch({ kubeConfig, namespaces: config.reconcile.namespaces, logger })
      : undefined;
    const advisory = config.actuation.mode === 'advisory';
    const instance = config.reconcile.controllerInstance;
    this.actuator = new Actuator({
      // Advisory: published like metrics mode, under a name no HPA selects; nothing is patched.
      mode: config.actuation.mode === 'scale' ? 'scale' : 'metrics',
      metrics: new ActuationMetrics(parts.telemetry.registry, {
        ...(instance ? { controllerInstance: instance } : {}),
        ...(advisory ? { desiredName: ADVISORY_DESIRED_REPLICAS } : {}),
      }),
      events: new KubeEventSink({ kubeConfig, identity: o.identity, logger }),
      ...(this.hpas ? { scaler: new DeploymentScaler({ kubeConfig, logger }), hpas: this.hpas } : {}),
      scaleToZeroEnabled: () => this.scaleToZero,
      serving: (va) => this.serving(va),
      onCycle: () => {
        this.keepers = undefined;
      },
      idleEvidence: (m, ns, ms) => idleEvidence(parts.collector.requestsOver(m, ns, ms / 1000)),
      logger,
    });
    // Upstream's ConfigMap when it exists, else the older one (each in its own format).
    const zero: { upstream?: Record<string, string>; older?: Record<string, string> } = {};
    const upstreamName = `${o.namespace}/${SCALE_TO_ZERO_CONFIGMAP_V05}`;
    const applyZero = () =>
      zero.upstream !== undefined
        ? this.actuator.setScaleToZeroConfig(zero.upstream, 'upstream', upstreamName)
        : this.actuator.setScaleToZeroConfig(zero.older);
    const watch = (name: string, at: 'upstream' | 'older') =>
      new ConfigMapWatch({
        kubeConfig,
        namespace: o.namespace,
        name,
        logger,
        onData: (data) => {
          zero[at] = data;
          applyZero();
        },
      });
    this.zeroConfigWatch = o.watchConfigMap ? watch(SCALE_TO_ZERO_CONFIGMAP, 'older') : undefined;
    this.zeroConfigWatchV05 = o.watchConfigMap ? watch(SCALE_TO_ZERO_CONFIGMAP_V05, 'upstream') : undefined;
  }

  /** Namespace-local copies of upstream's scale-to-zero ConfigMap, all of them after every change. */
  localScaleToZero(copies: ConfigMapLike[]): void {
    const byNamespace = new Map(copies.map((c) => [c.metadata.namespace, c.data ?? {}]));
    for (const problem of this.actuator.scaleToZeroPolicies.setLocal(byNamespace)) {
      this.log.warn({ problem }, 'scale-to-zero entry ignored');
    }
  }

  /**
   * Per model and namespace, the variant that keeps the model serving while it may not go to zero:
   * the cheapest per replica (the lowest unit cost x accCount over its profile; no known cost counts
   * as dearest; ties by name) among those that can serve (valid, not being deleted, a profile that
   * parses, a Deployment that exists and is not being deleted). Built once per cycle: one pass over the fleet.
   */
  private keepers: Map<string, { name: string; cost: number }> | undefined;

  private keeperOf(va: VariantAutoscaling): { name: string; cost: number } | undefined {
    if (!this.keepers) this.keepers = this.findKeepers();
    return this.keepers.get(modelKey(va));
  }

  private findKeepers(): Map<string, { name: string; cost: number }> {
    const out = new Map<string, { name: string; cost: number }>();
    const source = this.source;
    const costs = this.unitCosts() ?? {};
    for (const v of source.listVariants()) {
      if (v.metadata.deletionTimestamp || validateSpec(v.spec).length > 0) continue;
      if (targetProblem(source.getDeployment(v.metadata.namespace, deploymentNameOf(v)))) continue;
      if (!parseModelProfile(v.spec.modelProfile).ok) continue;
      const accs = v.spec.modelProfile?.accelerators ?? [];
      let cost = Number.POSITIVE_INFINITY;
      for (const a of accs) cost = Math.min(cost, (costs[a.acc] ?? Number.POSITIVE_INFINITY) * a.accCount);
      const k = modelKey(v);
      const best = out.get(k);
      const name = v.metadata.name;
      if (!best || cost < best.cost || (cost === best.cost && name < best.name)) out.set(k, { name, cost });
    }
    return out;
  }

  /**
   * Whether `va` keeps its model serving; if not, the variant that does, when it has ready
   * replicas now (only then may `va` go to 0 with scale to zero off).
   */
  serving(va: VariantAutoscaling): Serving {
    const keeper = this.keeperOf(va);
    // None can serve (this one included): it keeps what it has; nothing else would serve the model.
    if (!keeper || keeper.name === va.metadata.name) return { keeps: true };
    const d = this.source.getDeployment(va.metadata.namespace, keeper.name);
    const ready = d && !targetProblem(d) ? (d.status?.readyReplicas ?? 0) : 0;
    return ready > 0 ? { keeps: false, by: keeper.name } : { keeps: false };
  }

  /** The optimizer's fewest replicas for a variant: 0 where its model may go to zero now, or for
   *  any variant but the one that keeps the model serving; 1 for that one. */
  minReplicas(va: VariantAutoscaling): number {
    return this.actuator.minReplicas(
      va,
      this.source.getDeployment(va.metadata.namespace, deploymentNameOf(va)),
    );
  }

  /** WVA_SCALE_TO_ZERO as it stands now. */
  scaleToZeroEnabled(): boolean {
    return this.scaleToZero;
  }

  /** Live reload: WVA_SCALE_TO_ZERO applies from the next reconcile. Returns the keys applied. */
  reload(next: Config, keys: readonly string[]): string[] {
    if (!keys.includes('WVA_SCALE_TO_ZERO')) return [];
    this.scaleToZero = next.actuation.scaleToZero;
    return ['WVA_SCALE_TO_ZERO'];
  }

  /** The periods (seconds) the next fleet query counts requests over (the collector asks at each
   *  refresh, so the retention term rides in the one fleet query): none when nothing may go to zero. */
  requestsOverSeconds(): number[] {
    const byNamespace = new Map<string, Array<{ modelId: string; namespace: string }>>();
    for (const va of this.source.listVariants()) {
      if (typeof va.spec?.modelID !== 'string') continue;
      const ns = va.metadata.namespace;
      // Appended in place: copying the list per variant was quadratic (10 000 variants: 0.5 GB of
      // garbage per cycle, which promoted the cycle's live objects and grew the old space).
      const models = byNamespace.get(ns);
      if (models) models.push({ modelId: va.spec.modelID, namespace: ns });
      else byNamespace.set(ns, [{ modelId: va.spec.modelID, namespace: ns }]);
    }
    const periods = new Set<number>();
    for (const [ns, models] of byNamespace) {
      for (const ms of retentionPeriods(
        this.actuator.scaleToZeroPolicies.forNamespace(ns),
        this.scaleToZero,
        models,
      ))
        periods.add(ms);
    }
    return [...periods].sort((a, b) => a - b).map((ms) => ms / 1000);
  }

  start(): void {
    this.zeroConfigWatch?.start();
    this.zeroConfigWatchV05?.start();
    this.hpas?.start();
  }

  async stop(): Promise<void> {
    this.actuator.clear();
    await Promise.all([this.zeroConfigWatch?.stop(), this.zeroConfigWatchV05?.stop(), this.hpas?.stop()]);
  }
}
