// The cluster controller: informers → (leader only) reconcile cycles every interval and soon after
// a change → status patches. Graceful stop: abort in-flight work, stop watches, release the Lease.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Actuator } from '../actuator/actuator.js';
import { formatAge } from '../collector/availability.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { VariantOptimizer } from './decision.js';
import { KubeSource, type RestartBackoff } from './kube.js';
import { LeaderElector, type LeaderElectorOptions } from './leader.js';
import {
  type ControllerTelemetry,
  type CycleResult,
  type MetricsReader,
  mapBounded,
  Reconciler,
} from './reconciler.js';
import { KubeStatusWriter } from './status-writer.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** FleetCollector (read; refresh for cache warming before the first cycle). */
  collector: MetricsReader & { refresh?(signal?: AbortSignal): Promise<void> };
  /** [] or undefined: all namespaces. */
  namespaces?: string[];
  /** Full cycle period (GLOBAL_OPT_INTERVAL); default 60000. */
  intervalMs?: number;
  /** Reconciles in flight at once; default 16. */
  concurrency?: number;
  /** Wait after a change event before reconciling it (events within it are batched); default 200. */
  debounceMs?: number;
  /** false: no election, this replica always reconciles (single replica, tests). */
  leaderElection?:
    | Omit<LeaderElectorOptions, 'kubeConfig' | 'logger' | 'onStartedLeading' | 'onStoppedLeading'>
    | false;
  logger?: Logger;
  telemetry?: ControllerTelemetry;
  unitCosts?: Record<string, number>;
  /** Decides desiredOptimizedAlloc (see decision.ts); absent: measurements only. */
  optimizer?: VariantOptimizer;
  backoff?: RestartBackoff;
  /** Publishes and applies decisions (leader only: cleared when leadership is lost). */
  actuator?: Actuator;
  /** Called after every full cycle (tests, logs). */
  onCycle?: (r: CycleResult) => void;
  now?: () => Date;
  /** /readyz turns false once an informer has been unable to list or watch for longer; default 120000. */
  informerOutageLimitMs?: number;
}

/** Default bound on an informer outage before /readyz says not ready. */
export const DEFAULT_INFORMER_OUTAGE_LIMIT_MS = 120_000;

export class Controller {
  readonly source: KubeSource;
  readonly writer: KubeStatusWriter;
  readonly reconciler: Reconciler;
  readonly elector: LeaderElector | undefined;
  private readonly log: Logger;
  private intervalMs: number;
  private readonly debounceMs: number;
  private work = new AbortController();
  private stopped = true;
  private cycleTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<string>();
  private readonly tasks = new Set<Promise<unknown>>();
  private firstCycleDone = false;
  private cycleRunning = false;
  cycles = 0;

  constructor(private readonly o: ControllerOptions) {
    this.log = o.logger ?? silentLogger;
    this.intervalMs = o.intervalMs ?? 60_000;
    this.debounceMs = o.debounceMs ?? 200;
    this.source = new KubeSource({
      kubeConfig: o.kubeConfig,
      namespaces: o.namespaces,
      logger: this.log,
      backoff: o.backoff,
      onChange: (key) => this.enqueue(key),
      ...(o.now ? { now: () => (o.now as () => Date)().getTime() } : {}),
    });
    this.elector = o.leaderElection
      ? new LeaderElector({
          ...o.leaderElection,
          kubeConfig: o.kubeConfig,
          logger: this.log,
          onStartedLeading: () => this.onStartedLeading(),
          onStoppedLeading: () => this.onStoppedLeading(),
        })
      : undefined;
    this.writer = new KubeStatusWriter({
      kubeConfig: o.kubeConfig,
      logger: this.log,
      canWrite: () => !this.stopped && this.isLeader,
    });
    this.reconciler = new Reconciler({
      source: this.source,
      collector: o.collector,
      writer: this.writer,
      concurrency: o.concurrency,
      logger: this.log,
      telemetry: o.telemetry,
      unitCosts: o.unitCosts,
      optimizer: o.optimizer,
      now: o.now,
      ...(o.actuator ? { actuator: o.actuator } : {}),
    });
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
  }

  /**
   * For /readyz: ready once the informers listed (standbys too: they serve /metrics), and not while
   * one has been cut off from the API server for longer than the outage limit (its statuses would
   * be written from an old view of the cluster); ready again once it lists or watches again.
   */
  ready(): { ready: boolean; reason?: string } {
    if (this.stopped) return { ready: false, reason: 'stopped' };
    if (!this.source.synced) return { ready: false, reason: 'informers not synced yet' };
    const outage = this.source.outage();
    if (outage) {
      const limit = this.o.informerOutageLimitMs ?? DEFAULT_INFORMER_OUTAGE_LIMIT_MS;
      const downMs = (this.o.now?.() ?? new Date()).getTime() - outage.sinceMs;
      if (downMs > limit) {
        return {
          ready: false,
          reason: `cannot list or watch ${outage.path} on the API server for ${formatAge(downMs)} (limit ${formatAge(limit)}); check the API server and the service account's RBAC`,
        };
      }
    }
    return { ready: true };
  }

  /** Live reload of interval and concurrency. */
  configure(o: { intervalMs?: number; concurrency?: number }): void {
    if (o.concurrency !== undefined) this.reconciler.concurrency = Math.max(1, o.concurrency);
    if (o.intervalMs !== undefined && o.intervalMs !== this.intervalMs) {
      this.intervalMs = o.intervalMs;
      if (this.cycleTimer) this.scheduleCycle(this.intervalMs);
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p)).catch(() => {});
    return p;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.work = new AbortController();
    this.source.start();
    if (this.elector) this.elector.start();
    else this.onStartedLeading();
  }

  private onStartedLeading(): void {
    if (this.stopped) return;
    this.work = new AbortController();
    this.firstCycleDone = false;
    this.scheduleCycle(0);
  }

  private onStoppedLeading(): void {
    // Stop at once: no new work, abort what is in flight (queries, patches).
    this.work.abort(new Error('leadership lost'));
    clearTimeout(this.cycleTimer);
    clearTimeout(this.debounceTimer);
    this.cycleTimer = undefined;
    this.pending.clear();
    // A standby serves no per-variant series: the new leader publishes its own.
    this.o.actuator?.clear();
  }

  private scheduleCycle(delayMs: number): void {
    clearTimeout(this.cycleTimer);
    this.cycleTimer = setTimeout(() => {
      this.cycleTimer = undefined;
      void this.track(this.cycleAndReschedule());
    }, delayMs);
  }

  private async cycleAndReschedule(): Promise<void> {
    const signal = this.work.signal;
    try {
      await this.runCycle(signal);
    } catch (err) {
      if (!signal.aborted) this.log.error({ err: (err as Error).message }, 'cycle failed');
    }
    if (!this.stopped && !signal.aborted && this.isLeader) this.scheduleCycle(this.intervalMs);
  }

  /** One full cycle now (waits for the informers' first list; warms the cache first time). */
  async runCycle(signal: AbortSignal = this.work.signal): Promise<CycleResult | undefined> {
    if (!this.isLeader || this.stopped) return undefined;
    await this.source.waitForSync(60_000, signal);
    if (!this.firstCycleDone && this.o.collector.refresh) {
      // Cache warming: one fleet query before the first cycle, so its reads all hit.
      await this.o.collector.refresh(signal).catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'cache warming failed');
      });
    }
    this.cycleRunning = true;
    // The cycle lists every object right now (synchronously), so changes seen so far are covered;
    // changes from here on stay pending and are reconciled once the cycle ends.
    this.pending.clear();
    try {
      const r = await this.reconciler.runCycle(signal);
      this.firstCycleDone = true;
      this.cycles++;
      this.o.onCycle?.(r);
      return r;
    } finally {
      this.cycleRunning = false;
      if (this.pending.size > 0) this.flushSoon();
    }
  }

  /** A change event: reconcile that key soon (batched); during a cycle, right after it. */
  enqueue(key: string): void {
    if (this.stopped || !this.isLeader) return;
    this.pending.add(key);
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      const signal = this.work.signal;
      if (signal.aborted) {
        this.pending.clear();
        return;
      }
      // Before the first cycle, or while one runs: kept for the cycle's start or end to handle.
      if (this.cycleRunning || !this.firstCycleDone) return;
      const keys = [...this.pending];
      this.pending.clear();
      void this.track(
        mapBounded(keys, this.reconciler.concurrency, (k) => this.reconciler.reconcile(k, signal)),
      );
    }, this.debounceMs);
  }

  /**
   * Graceful stop: no new work, abort in-flight queries and patches, stop the watches, release
   * the Lease. Resolves within a few seconds even if the API server does not answer.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStoppedLeading();
    const settle = Promise.allSettled([...this.tasks]);
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([
      Promise.all([settle, this.source.stop(), this.elector?.stop()]).then(() => undefined),
      deadline,
    ]);
  }
}
