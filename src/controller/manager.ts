// The controller loop, in controller-runtime's shape. Event handlers and the periodic resync only
// put keys on a work queue; workers take one key at a time and call the reconciler, a function of
// that key; a failed reconcile comes back after a per-key exponential delay. Leader election starts
// and stops the workers. The source, the elector and the writer behind the reconciler are whatever
// the composition root hands in (informers or manifests; a Lease or none; the API or memory).
//
// A cycle is one resync: it takes ONE metrics snapshot, queues every key, and ends when each has been
// reconciled against that snapshot, so a cycle costs one Prometheus call however many keys it has.
import { DEFAULT_CONFIG } from '../config/load.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import { WorkQueue, type WorkQueueOptions } from './queue.js';
import {
  type ControllerTelemetry,
  type CycleResult,
  cycleFinished,
  type MetricsReader,
  type MetricsView,
  type ReconcileResult,
  type Reconciler,
  type VariantSource,
} from './reconciler.js';

/** Leadership as the manager sees it; LeaderElector calls back startedLeading/stoppedLeading. */
export interface Elector {
  readonly isLeader: boolean;
  start(): void;
  stop(): Promise<void>;
}

/** Where keys come from; `start`/`stop`/`waitForSync` when the source has a lifecycle (informers). */
export interface ManagedSource extends VariantSource {
  start?(): void;
  stop?(): Promise<void>;
  waitForSync?(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export interface ManagerOptions {
  source: ManagedSource;
  reconciler: Reconciler;
  /** The metrics a cycle reads: `snapshot()` when it has one (FleetCollector), else per-key reads. */
  collector: MetricsReader;
  /** Absent: this replica always leads (local mode, a single replica). */
  elector?: Elector;
  /** Resync period (GLOBAL_OPT_INTERVAL). */
  intervalMs?: number;
  /** Workers reconciling at once (WVA_RECONCILE_CONCURRENCY). */
  workers?: number;
  /** Delay before a changed key is reconciled, so a burst of events for it makes one reconcile. */
  eventDelayMs?: number;
  queue?: WorkQueueOptions;
  /** Called at the start of every cycle, before the keys are listed (local mode re-reads manifests). */
  beforeCycle?: () => void;
  /** Called when a leadership term ends (lost, or stop()): what only the leader serves goes. */
  onStoppedLeading?: () => void;
  /** Leadership gained (or started without election): loops that run once per term start here. */
  onStartedLeading?: () => void;
  onCycle?: (r: CycleResult) => void;
  logger?: Logger;
  telemetry?: ControllerTelemetry;
}

interface Cycle {
  /** Keys taken by a worker after this sequence number count for this cycle. */
  readonly startSeq: number;
  readonly view: MetricsView | undefined;
  readonly pending: Set<string>;
  readonly results: Map<string, ReconcileResult>;
  /** Whole results (status, read, decision) are kept only for a caller that reads them. */
  readonly detail: boolean;
  readonly done: () => void;
}

/** One leadership term: its queue, workers and resync timer, all dropped together. */
interface Term {
  readonly queue: WorkQueue;
  readonly abort: AbortController;
  readonly workers: Set<Promise<void>>;
  resyncTimer?: NodeJS.Timeout;
  /** The term's first cycle has listed its keys: events before that are covered by the listing. */
  listed: boolean;
}

export class Manager {
  readonly #o: ManagerOptions;
  readonly #log: Logger;
  #intervalMs: number;
  #workers: number;
  #term: Term | undefined;
  #running = false;
  #seq = 0;
  readonly #cycles = new Set<Cycle>();
  /** Full cycles finished. */
  cycles = 0;

  constructor(o: ManagerOptions) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
    this.#intervalMs = o.intervalMs ?? DEFAULT_CONFIG.reconcile.intervalMs;
    this.#workers = Math.max(1, o.workers ?? DEFAULT_CONFIG.reconcile.concurrency);
  }

  get isLeader(): boolean {
    return this.#o.elector ? this.#o.elector.isLeader : true;
  }

  /** Started and not stopped. */
  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#o.source.start?.();
    if (this.#o.elector) this.#o.elector.start();
    else this.startedLeading();
  }

  /** Leadership gained (or no election): workers start and a cycle runs now, then every interval. */
  startedLeading(): void {
    if (!this.#running) return;
    this.#beginTerm().resyncTimer = setTimeout(() => void this.#resync(), 0);
    this.#o.onStartedLeading?.();
  }

  /** Leadership lost: at once, no new work; in-flight reconciles (queries, patches) are aborted. */
  stoppedLeading(): void {
    const term = this.#term;
    this.#term = undefined;
    if (!term) return;
    term.abort.abort(new Error('leadership lost'));
    clearTimeout(term.resyncTimer);
    term.queue.shutDown();
    for (const cycle of this.#cycles) cycle.done();
    this.#o.onStoppedLeading?.();
  }

  /** An event handler's only job: queue the key (after the event delay, so bursts collapse). Events
   *  before the term's first cycle lists its keys are dropped: that listing covers them. */
  enqueue(key: string): void {
    const term = this.#term;
    if (!term?.listed) return;
    const delay = this.#o.eventDelayMs ?? 0;
    if (delay > 0) term.queue.addAfter(key, delay);
    else term.queue.add(key);
  }

  /** Live reload of the resync period and the number of workers. */
  configure(o: { intervalMs?: number; workers?: number }): void {
    if (o.workers !== undefined) {
      this.#workers = Math.max(1, o.workers);
      if (this.#term) this.#spawnWorkers(this.#term);
    }
    if (o.intervalMs !== undefined && o.intervalMs !== this.#intervalMs) {
      this.#intervalMs = o.intervalMs;
      const term = this.#term;
      if (term?.resyncTimer) {
        clearTimeout(term.resyncTimer);
        term.resyncTimer = setTimeout(() => void this.#resync(), this.#intervalMs);
      }
    }
  }

  /**
   * One cycle now: every key against one metrics snapshot. Undefined when this replica does not
   * lead or stops meanwhile; rejects with the reason when `signal` aborts. Without start() (local
   * mode's --once) workers run until stop().
   */
  runCycle(signal?: AbortSignal): Promise<CycleResult | undefined> {
    return this.#cycle(signal, true);
  }

  /**
   * `detail` false: each key's result is kept as its outcome alone until the cycle ends. The timer's
   * cycles have no reader of the rest (unless onCycle), and 10 000 statuses, reads and decisions
   * held to the cycle's end lived long enough to be promoted to V8's old space every cycle.
   */
  async #cycle(signal: AbortSignal | undefined, detail: boolean): Promise<CycleResult | undefined> {
    if (!this.#term && !this.#o.elector && !this.#running) this.#beginTerm();
    const term = this.#term;
    if (!term || !this.isLeader) return undefined;
    const abort = signal ? AbortSignal.any([signal, term.abort.signal]) : term.abort.signal;
    const startedAt = new Date();
    const t0 = performance.now();
    await this.#o.source.waitForSync?.(60_000, abort);
    this.#o.beforeCycle?.();
    const view = await this.#o.collector.snapshot?.(abort);
    if (term !== this.#term) return undefined;
    const unique = [...new Set(this.#o.reconciler.beginCycle())];
    term.listed = true;
    const results = await new Promise<Map<string, ReconcileResult>>((resolve) => {
      const cycle: Cycle = {
        startSeq: this.#seq,
        view,
        pending: new Set(unique),
        results: new Map(),
        detail,
        done: () => {
          this.#cycles.delete(cycle);
          signal?.removeEventListener('abort', cycle.done);
          resolve(cycle.results);
        },
      };
      if (unique.length === 0) return resolve(cycle.results);
      this.#cycles.add(cycle);
      signal?.addEventListener('abort', cycle.done, { once: true });
      for (const key of unique) term.queue.add(key);
    });
    this.#o.reconciler.endCycle(term === this.#term && !signal?.aborted && results.size === unique.length);
    signal?.throwIfAborted();
    if (term !== this.#term || results.size < unique.length) return undefined;
    const r = cycleFinished(
      unique.map((k) => results.get(k) as ReconcileResult),
      startedAt,
      t0,
      this.#log,
      this.#o.telemetry,
    );
    this.cycles++;
    this.#o.onCycle?.(r);
    return r;
  }

  /** Stops the workers (in-flight work aborted) and the source and elector; bounded by `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.#running && !this.#term) return;
    this.#running = false;
    const workers = [...(this.#term?.workers ?? [])];
    this.stoppedLeading();
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([
      Promise.all([Promise.allSettled(workers), this.#o.source.stop?.(), this.#o.elector?.stop()]),
      deadline,
    ]);
  }

  #beginTerm(): Term {
    this.stoppedLeading();
    const term: Term = {
      queue: new WorkQueue(this.#o.queue),
      abort: new AbortController(),
      workers: new Set(),
      listed: false,
    };
    this.#term = term;
    this.#spawnWorkers(term);
    return term;
  }

  #spawnWorkers(term: Term): void {
    while (term.workers.size < this.#workers) {
      const worker: Promise<void> = this.#work(term, term.workers.size).finally(() =>
        term.workers.delete(worker),
      );
      term.workers.add(worker);
    }
  }

  async #resync(): Promise<void> {
    const term = this.#term;
    if (!term) return;
    term.resyncTimer = undefined;
    try {
      await this.#cycle(undefined, this.#o.onCycle !== undefined);
    } catch (err) {
      if (!term.abort.signal.aborted) this.#log.error({ err: (err as Error).message }, 'cycle failed');
    }
    if (term === this.#term && this.#running) {
      term.resyncTimer = setTimeout(() => void this.#resync(), this.#intervalMs);
    }
  }

  async #work(term: Term, index: number): Promise<void> {
    for (;;) {
      // A lowered worker count retires the workers above it once they are idle.
      if (index >= this.#workers) return;
      const key = await term.queue.get();
      if (key === undefined) return;
      const seq = ++this.#seq;
      const cycles = [...this.#cycles].filter((c) => c.startSeq < seq && c.pending.has(key));
      const result = await this.#o.reconciler.reconcile(key, term.abort.signal, cycles[0]?.view);
      term.queue.done(key);
      if (term.abort.signal.aborted) return;
      if (result.outcome === 'error') {
        const delayMs = term.queue.addRateLimited(key);
        this.#log.debug({ key, delayMs, failures: term.queue.failures(key) }, 'reconcile failed; requeued');
      } else term.queue.forget(key);
      for (const cycle of cycles) {
        cycle.results.set(key, cycle.detail ? result : outcomeOnly(result));
        cycle.pending.delete(key);
        if (cycle.pending.size === 0) cycle.done();
      }
    }
  }
}

/** What a cycle without a reader of details keeps of a result: the counts need the outcome alone. */
function outcomeOnly(r: ReconcileResult): ReconcileResult {
  const { key, namespace, name, modelId, outcome, error } = r;
  return { key, namespace, name, outcome, ...(modelId ? { modelId } : {}), ...(error ? { error } : {}) };
}
