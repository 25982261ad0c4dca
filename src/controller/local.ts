// Local mode: VariantAutoscalings (and optional Deployments) from YAML files instead of a cluster.
// Status is computed exactly as in the cluster and kept in memory, so conditions and their
// lastTransitionTime behave the same across cycles; each cycle yields a report to print.
import type { Actuator } from '../actuator/actuator.js';
import { conditionsOf, findCondition } from '../kube/conditions.js';
import { type NamespaceLike, outOfScope } from '../kube/scope.js';
import {
  type Allocation,
  type Condition,
  type Deployment,
  METRICS_AVAILABLE,
  type OptimizedAlloc,
  objectKey,
  RECONCILED,
  type VariantAutoscaling,
  type VariantAutoscalingStatus,
} from '../kube/types.js';
import { deploymentNameOf } from '../kube/va-spec.js';
import { SERVICE_CLASSES_CONFIGMAP, UNIT_COSTS_CONFIGMAP } from '../optimizer/index.js';
import { silentLogger } from '../telemetry/logger.js';
import type { AggregateMetrics, Logger } from '../types.js';
import type { Decision, VariantOptimizer } from './decision.js';
import { Manager } from './manager.js';
import { loadManifests, type Manifests } from './manifests.js';
import type { OptimizerConfigStore } from './optimizer-config.js';
import {
  type ControllerTelemetry,
  type CycleResult,
  type MetricsReader,
  Reconciler,
  type StatusWriter,
  type VariantSource,
} from './reconciler.js';
import type { SaturationConfigHolder } from './saturation-config.js';
import type { VariantDecider } from './saturation-outcome.js';
import { deploymentReplicas, statusUnchanged } from './status.js';

export { loadManifests, MAX_MANIFEST_BYTES, type Manifests } from './manifests.js';

/** Source and in-memory status store over loaded manifests. */
export class LocalSource implements VariantSource, StatusWriter {
  private variants = new Map<string, VariantAutoscaling>();
  private deployments = new Map<string, Deployment>();
  private namespaces = new Map<string, NamespaceLike>();

  /** `view`: the Deployment as something else runs it (the demo's emulator), instead of as read;
   *  `controllerInstance`: only VariantAutoscalings labelled with it are listed. */
  constructor(
    private readonly view?: (d: Deployment) => Deployment,
    private readonly controllerInstance?: string,
  ) {}

  /** Replaces the object set; statuses computed earlier carry over to objects of the same key. */
  load(m: Manifests): void {
    const next = new Map<string, VariantAutoscaling>();
    for (const va of m.variants) {
      const key = objectKey(va);
      const prev = this.variants.get(key);
      next.set(key, prev && !va.status ? { ...va, status: prev.status } : va);
    }
    this.variants = next;
    this.deployments = new Map(m.deployments.map((d) => [objectKey(d), d]));
    this.namespaces = m.namespaces ?? new Map();
  }

  /** Out of scope (an excluded namespace, another instance): left alone, as in a cluster. */
  private inScope = (va: VariantAutoscaling) => !outOfScope(va, this.namespaces, this.controllerInstance);

  listVariants(): VariantAutoscaling[] {
    return [...this.variants.values()].filter(this.inScope);
  }

  getVariant(namespace: string, name: string): VariantAutoscaling | undefined {
    const va = this.variants.get(`${namespace}/${name}`);
    return va && this.inScope(va) ? va : undefined;
  }

  getDeployment(namespace: string, name: string): Deployment | undefined {
    const d = this.deployments.get(`${namespace}/${name}`);
    return d && this.view ? this.view(d) : d;
  }

  async write(va: VariantAutoscaling, compute: (fresh: VariantAutoscaling) => VariantAutoscalingStatus) {
    const key = objectKey(va);
    const fresh = this.variants.get(key) ?? va;
    const status = compute(fresh);
    if (statusUnchanged(fresh.status, status))
      return { outcome: 'unchanged' as const, status: fresh.status ?? {} };
    this.variants.set(key, { ...fresh, status });
    return { outcome: 'written' as const, status };
  }
}

export interface CycleRow {
  name: string;
  namespace: string;
  modelId: string;
  /** From the Deployment; null when there is none. */
  replicas: number | null;
  /** What status.currentAlloc would be (undefined until metrics were ever available). */
  status: Allocation | undefined;
  /** What status.desiredOptimizedAlloc would be. */
  desired?: OptimizedAlloc;
  /** The condition that says most: Reconciled when it is False, else MetricsAvailable. */
  condition: Pick<Condition, 'type' | 'status' | 'reason' | 'message'> | undefined;
  conditions: Condition[];
  /** The metrics read this cycle, also when they could not go into currentAlloc. */
  metrics?: AggregateMetrics;
  /** The optimizer's decision this cycle (with the predicted latencies at the decided count). */
  decision?: Decision;
  /** Which engine decided the variant this cycle (saturation engines; the SLO engine's is `decision`). */
  engine?: string;
  /** The seam's SLO engine prediction, where it sized a share of the load for the variant. */
  predicted?: { ttftMs: number; itlMs: number };
  outcome: string;
}

export interface CycleReport {
  startedAt: Date;
  durationMs: number;
  rows: CycleRow[];
}

export interface LocalControllerOptions {
  /** A YAML/JSON file or a directory; re-read every cycle so edits show up. */
  manifests: string;
  collector: MetricsReader;
  /** Cycle period for start(); default 60000 (GLOBAL_OPT_INTERVAL). */
  intervalMs?: number;
  logger?: Logger;
  telemetry?: ControllerTelemetry;
  concurrency?: number;
  now?: () => Date;
  unitCosts?: Record<string, number>;
  /** Decides desiredOptimizedAlloc, with `optimizerConfig` fed from the manifests' ConfigMaps. */
  optimizer?: VariantOptimizer;
  optimizerConfig?: OptimizerConfigStore;
  /** Publishes and applies each decision (the demo scales its emulator through it). */
  actuator?: Actuator;
  /** The Deployments as they run, when something other than the manifests runs them (the demo). */
  deploymentView?: (d: Deployment) => Deployment;
  /** CONTROLLER_INSTANCE. */
  controllerInstance?: string;
  /** Decides variants without an SLO profile; fed wva-saturation-scaling-config from the manifests. */
  saturation?: { decider: VariantDecider; config: SaturationConfigHolder };
}

/**
 * Local mode: the Manager's loop over manifests, statuses kept in memory (conditions and their
 * lastTransitionTime behave as in a cluster). Manifests are re-read at the start of every cycle, so
 * edits show up; a broken edit keeps the last good set.
 */
export class LocalController {
  readonly source: LocalSource;
  readonly manager: Manager;
  private readonly o: LocalControllerOptions;
  private readonly log: Logger;
  private loaded = false;
  private onReport: ((r: CycleReport) => void) | undefined;

  constructor(options: LocalControllerOptions) {
    this.o = options;
    this.source = new LocalSource(options.deploymentView, options.controllerInstance);
    this.log = options.logger ?? silentLogger;
    const reconciler = new Reconciler({
      source: this.source,
      writer: this.source,
      collector: options.collector,
      now: options.now,
      logger: this.log,
      telemetry: options.telemetry,
      // The manifests' accelerator-unit-costs as last read, unless the caller fixes them.
      unitCosts: options.unitCosts ?? (() => options.optimizerConfig?.unitCosts.value),
      optimizer: options.optimizer,
      actuator: options.actuator,
      ...(options.saturation ? { saturation: options.saturation.decider } : {}),
    });
    this.manager = new Manager({
      source: this.source,
      reconciler,
      collector: options.collector,
      intervalMs: options.intervalMs,
      workers: options.concurrency,
      beforeCycle: () => this.reload(),
      onCycle: (r) => this.onReport?.(this.report(r)),
      logger: this.log,
      telemetry: options.telemetry,
    });
  }

  /** The cycle period of start(); settable live. */
  set intervalMs(ms: number) {
    this.manager.configure({ intervalMs: ms });
  }

  private lastConfigMaps = '';

  /** The optimizer ConfigMaps from the manifests, whatever their namespace; applied when changed. */
  private feedOptimizer(m: Manifests): void {
    const store = this.o.optimizerConfig;
    if (!store) return;
    const maps = m.configMaps ?? new Map<string, Record<string, string>>();
    const text = JSON.stringify([...maps]);
    if (text === this.lastConfigMaps) return;
    this.lastConfigMaps = text;
    const byName = (name: string) => [...maps].find(([k]) => k.endsWith(`/${name}`))?.[1];
    store.setServiceClasses(byName(SERVICE_CLASSES_CONFIGMAP));
    store.setUnitCosts(byName(UNIT_COSTS_CONFIGMAP));
    store.setNamespaceConfigMaps(maps);
  }

  private lastSaturation = '';

  /**
   * wva-saturation-scaling-config from the manifests: a copy in the holder's namespace is the
   * global one, copies elsewhere are the namespace-local ones of their namespace.
   */
  private feedSaturation(m: Manifests): void {
    const holder = this.o.saturation?.config;
    if (!holder) return;
    const copies = [...(m.configMaps ?? new Map<string, Record<string, string>>())]
      .map(([k, data]) => ({
        namespace: k.slice(0, k.indexOf('/')),
        name: k.slice(k.indexOf('/') + 1),
        data,
      }))
      .filter((c) => c.name === holder.name);
    const text = JSON.stringify(copies);
    if (text === this.lastSaturation) return;
    this.lastSaturation = text;
    holder.setGlobal(copies.find((c) => c.namespace === holder.namespace)?.data);
    holder.setLocal(
      copies
        .filter((c) => c.namespace !== holder.namespace)
        .map((c) => ({ metadata: { namespace: c.namespace, name: c.name }, data: c.data })),
    );
  }

  /** Re-reads the manifests (a broken edit keeps the last good set, after the first load). */
  private reload(): void {
    try {
      const m = loadManifests(this.o.manifests);
      this.source.load(m);
      this.feedOptimizer(m);
      this.feedSaturation(m);
      this.loaded = true;
    } catch (err) {
      if (!this.loaded) throw err;
      this.log.warn({ err: (err as Error).message }, 'manifests unreadable; keeping the last good set');
    }
  }

  /** One cycle now. Throws for unreadable manifests (first load) or when stopped meanwhile. */
  async runCycle(signal?: AbortSignal): Promise<CycleReport> {
    const cycle = await this.manager.runCycle(signal);
    if (!cycle) throw new Error('local controller stopped during the cycle');
    return this.report(cycle);
  }

  private report(cycle: CycleResult): CycleReport {
    const rows = cycle.results.map((r): CycleRow => {
      const va = this.source.getVariant(r.namespace, r.name);
      const rec = findCondition(va?.status, RECONCILED);
      const main =
        rec && rec.status === 'False' ? rec : (findCondition(va?.status, METRICS_AVAILABLE) ?? rec);
      const dep = va ? this.source.getDeployment(r.namespace, deploymentNameOf(va)) : undefined;
      const row: CycleRow = {
        name: r.name,
        namespace: r.namespace,
        modelId: r.modelId ?? '',
        replicas: dep ? deploymentReplicas(dep) : null,
        status: va?.status?.currentAlloc,
        desired: va?.status?.desiredOptimizedAlloc,
        condition: main && {
          type: main.type,
          status: main.status,
          reason: main.reason,
          message: main.message,
        },
        conditions: conditionsOf(va?.status),
        outcome: r.error ? `error: ${r.error.message}` : r.outcome,
      };
      if (r.read?.metrics) row.metrics = r.read.metrics;
      if (r.decision) row.decision = r.decision;
      if (r.engine) row.engine = r.engine;
      if (r.engineDecision?.predicted) row.predicted = r.engineDecision.predicted;
      return row;
    });
    return { startedAt: cycle.startedAt, durationMs: cycle.durationMs, rows };
  }

  /** A cycle now and then every interval until stop(), each report to `onCycle`; errors are logged. */
  start(onCycle: (r: CycleReport) => void): void {
    this.onReport = onCycle;
    this.manager.start();
  }

  /** Stops the cycles, aborts an in-flight one and waits for it to settle. */
  stop(): Promise<void> {
    return this.manager.stop();
  }
}
