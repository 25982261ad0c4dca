// The cluster controller: the Manager's loop over Kubernetes parts. Informers feed keys to the work
// queue, the Lease decides who runs the workers, statuses go out as patches. Each part is built
// from the kube config unless the caller hands one in. Graceful stop: abort in-flight work, stop the
// watches, release the Lease.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Actuator } from '../actuator/actuator.js';
import { formatAge } from '../collector/availability.js';
import type { RestartBackoff } from '../kube/informer.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { VariantOptimizer } from './decision.js';
import { KubeSource, type KubeSourceOptions } from './kube.js';
import { LeaderElector, type LeaderElectorOptions } from './leader.js';
import { type Elector, Manager } from './manager.js';
import {
  type ControllerTelemetry,
  type CycleResult,
  type MetricsReader,
  Reconciler,
  type StatusWriter,
} from './reconciler.js';
import type { VariantDecider } from './saturation-outcome.js';
import { KubeStatusWriter } from './status-writer.js';

export interface ControllerOptions<W extends StatusWriter = KubeStatusWriter> {
  kubeConfig: KubeConfig;
  /** FleetCollector: a snapshot per cycle, per-key reads for changes between cycles. */
  collector: MetricsReader;
  /** [] or undefined: all namespaces. */
  namespaces?: string[];
  /** Which VariantAutoscalings are this controller's (see KubeSourceOptions). */
  scope?: Pick<KubeSourceOptions, 'controllerInstance' | 'namespaceExclusion'>;
  /** Resync period (GLOBAL_OPT_INTERVAL). */
  intervalMs?: number;
  /** Workers reconciling at once (WVA_RECONCILE_CONCURRENCY). */
  concurrency?: number;
  /** Wait after a change event before reconciling it (a burst for one key makes one reconcile); default 200. */
  debounceMs?: number;
  /** false: no election, this replica always reconciles (single replica, tests). */
  leaderElection?:
    | Omit<LeaderElectorOptions, 'kubeConfig' | 'logger' | 'onStartedLeading' | 'onStoppedLeading'>
    | false;
  /** Injected parts (tests, other clusters); each defaults to the one built from `kubeConfig`. */
  source?: KubeSource;
  writer?: W;
  elector?: Elector;
  logger?: Logger;
  telemetry?: ControllerTelemetry;
  /** Unit cost per accelerator for currentAlloc.variantCost (a function: the live ConfigMap's). */
  unitCosts?: Record<string, number> | (() => Record<string, number> | undefined);
  /** Decides desiredOptimizedAlloc (see decision.ts); absent: measurements only. */
  optimizer?: VariantOptimizer;
  backoff?: RestartBackoff;
  /** Publishes and applies decisions (leader only: cleared when leadership is lost). */
  actuator?: Actuator;
  /** Decides variants without an SLO profile (saturation engines). */
  saturation?: VariantDecider;
  /** A loop run once per leadership term (scale from zero): started on leading, stopped on losing it. */
  perTerm?: { start(): void; stop(): Promise<void> };
  /** Called after every full cycle (tests, logs). */
  onCycle?: (r: CycleResult) => void;
  now?: () => Date;
  /** /readyz turns false once an informer has been unable to list or watch for longer; default 120000. */
  informerOutageLimitMs?: number;
}

/** Default bound on an informer outage before /readyz says not ready. */
export const DEFAULT_INFORMER_OUTAGE_LIMIT_MS = 120_000;

export class Controller<W extends StatusWriter = KubeStatusWriter> {
  readonly source: KubeSource;
  readonly writer: W;
  readonly reconciler: Reconciler;
  readonly elector: Elector | undefined;
  readonly manager: Manager;

  constructor(private readonly o: ControllerOptions<W>) {
    const log = o.logger ?? silentLogger;
    // The parts call back into the manager (events enqueue, leadership starts and stops workers),
    // and the manager is built from the parts: the callbacks close over it.
    const manager = (): Manager => this.manager;
    this.source =
      o.source ??
      new KubeSource({
        kubeConfig: o.kubeConfig,
        namespaces: o.namespaces,
        ...o.scope,
        logger: log,
        backoff: o.backoff,
        onChange: (key) => manager().enqueue(key),
        ...(o.now ? { now: () => (o.now as () => Date)().getTime() } : {}),
      });
    this.elector =
      o.elector ??
      (o.leaderElection
        ? new LeaderElector({
            ...o.leaderElection,
            kubeConfig: o.kubeConfig,
            logger: log,
            onStartedLeading: () => manager().startedLeading(),
            onStoppedLeading: () => manager().stoppedLeading(),
          })
        : undefined);
    this.writer =
      o.writer ??
      (new KubeStatusWriter({
        kubeConfig: o.kubeConfig,
        logger: log,
        canWrite: () => manager().running && manager().isLeader,
      }) as StatusWriter as W);
    this.reconciler = new Reconciler({
      source: this.source,
      collector: o.collector,
      writer: this.writer,
      logger: log,
      telemetry: o.telemetry,
      unitCosts: o.unitCosts,
      optimizer: o.optimizer,
      now: o.now,
      ...(o.actuator ? { actuator: o.actuator } : {}),
      ...(o.saturation ? { saturation: o.saturation } : {}),
    });
    this.manager = new Manager({
      source: this.source,
      reconciler: this.reconciler,
      collector: o.collector,
      elector: this.elector,
      intervalMs: o.intervalMs,
      workers: o.concurrency,
      eventDelayMs: o.debounceMs ?? 200,
      // A standby serves no per-variant series: the new leader publishes its own. Nor does it keep
      // recommendations: another leader may publish meanwhile, so a next term starts from status.
      onStartedLeading: () => o.perTerm?.start(),
      onStoppedLeading: () => {
        void o.perTerm?.stop();
        o.actuator?.clear();
        o.optimizer?.forget();
        o.saturation?.forget();
      },
      onCycle: o.onCycle,
      logger: log,
      telemetry: o.telemetry,
    });
  }

  get isLeader(): boolean {
    return this.manager.isLeader;
  }

  /** Full cycles finished. */
  get cycles(): number {
    return this.manager.cycles;
  }

  /**
   * For /readyz: ready once the informers listed (standbys too: they serve /metrics), and not while
   * one has been cut off from the API server for longer than the outage limit (its statuses would
   * be written from an old view of the cluster); ready again once it lists or watches again.
   */
  ready(): { ready: boolean; reason?: string } {
    if (!this.manager.running) return { ready: false, reason: 'stopped' };
    if (!this.source.synced) return { ready: false, reason: 'informers not synced yet' };
    const outage = this.source.outage();
    if (outage) {
      const limit = this.o.informerOutageLimitMs ?? DEFAULT_INFORMER_OUTAGE_LIMIT_MS;
      // The informers' clock: monotonic, or the injected one.
      const downMs = (this.o.now ? this.o.now().getTime() : performance.now()) - outage.sinceMs;
      if (downMs > limit) {
        return {
          ready: false,
          reason: `cannot list or watch ${outage.path} on the API server for ${formatAge(downMs)} (limit ${formatAge(limit)}); check the API server and the service account's RBAC`,
        };
      }
    }
    return { ready: true };
  }

  /** Live reload of the interval and the number of workers. */
  configure(o: { intervalMs?: number; concurrency?: number }): void {
    this.manager.configure({ intervalMs: o.intervalMs, workers: o.concurrency });
  }

  async start(): Promise<void> {
    this.manager.start();
  }

  /** One full cycle now (waits for the informers' first list); undefined when not leading. */
  runCycle(signal?: AbortSignal): Promise<CycleResult | undefined> {
    return this.manager.runCycle(signal);
  }

  /** A change event: the key is reconciled soon. */
  enqueue(key: string): void {
    this.manager.enqueue(key);
  }

  /**
   * Graceful stop: no new work, abort in-flight queries and patches, stop the watches, release
   * the Lease. Resolves within `timeoutMs` even if the API server does not answer.
   */
  stop(timeoutMs = 5000): Promise<void> {
    return this.manager.stop(timeoutMs);
  }
}
