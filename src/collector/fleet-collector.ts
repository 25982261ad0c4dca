// What the controller reads metrics through: one Prometheus call per cycle, whatever the fleet.
//
// A refresh asks Prometheus for the WHOLE fleet (or the watched namespaces) in one query and writes
// every pair into the ModelMetricsCache; a failed refresh writes the spec's invalid entries (for the
// pairs it knew) for the failure TTL. What a refresh produced is a FleetSnapshot: the cache entries
// it wrote plus what only the fleet query knows (which pairs exist, their newest sample, when
// Prometheus evaluated it). A reconcile cycle takes one snapshot and reads every key from it, so
// a cycle longer than the TTL still costs one call, and all its keys see one refresh.
// `snapshot()` keeps the current one until the cache TTL (the failure TTL for a failed refresh)
// and coalesces concurrent refreshes: lru-cache's fetch(), as the cache's own coalescing is.
import { LRUCache } from 'lru-cache';
import type { ModelMetricsCache } from '../cache/index.js';
import { abortable } from '../cache/index.js';
import { checkWindow, DEFAULT_WINDOW } from '../prometheus/promql.js';
import type {
  AggregateMetrics,
  CollectorObserver,
  Logger,
  LookupResult,
  MetricsAvailability,
  ModelMetrics,
  PromAPI,
} from '../types.js';
import {
  availabilityFromError,
  availabilityOf,
  DEFAULT_STALE_AFTER_MS,
  freshnessRangeSeconds,
} from './availability.js';
import { setCacheView } from './cache-view.js';
import { collectFleetMetrics, copyMetrics, type FleetMetrics, pairKey, zeroMetrics } from './collect.js';
import { copyPod, type PodMetrics } from './pods.js';

export interface FleetCollectorOptions {
  prom: PromAPI;
  cache: ModelMetricsCache;
  /** Rate window, a PromQL duration. Default `1m`. */
  window?: string;
  /** Read only these namespaces' series (the watched ones); empty or absent: every namespace. */
  namespaces?: readonly string[];
  /** A pair whose newest sample is older than this is MetricsStale. Default 300000 (5 min). */
  staleAfterMs?: number;
  /** Monotonic ms clock that ages snapshots (tests inject one; use the cache's). Default
   *  `performance.now()`: setting the wall clock back or forward moves no TTL. */
  now?: () => number;
  /** Evaluation time of each refresh (tests against backfilled data). Default: Prometheus' now. */
  evaluationTime?: () => Date | undefined;
  observer?: CollectorObserver;
  logger?: Logger;
  /** The periods (seconds) each refresh also counts requests over (scale to zero's evidence);
   *  asked at every refresh, so a lazily-built part may answer. Default none. */
  requestsOverSeconds?: () => readonly number[];
}

/** What the last refresh said about a pair's requests over a period (scale to zero's evidence). */
export type RequestsOverAnswer =
  | { kind: 'count'; requests: number }
  /** The query ran; the pair is in it but has no value for the period (series younger than it). */
  | { kind: 'no-value' }
  /** The query ran; Prometheus has no series of the pair at all. */
  | { kind: 'no-series' }
  /** No answer: no refresh yet, the period was not asked, or the last refresh failed. */
  | { kind: 'unknown'; reason: string };

export interface FleetRead {
  /** Absent only when Prometheus failed (availability PrometheusError). */
  metrics?: AggregateMetrics;
  availability: MetricsAvailability;
  /** The pair's per-pod numbers from this refresh (saturation scaling); absent: no pod series. */
  pods?: readonly PodMetrics[];
}

/** One refresh's view of the fleet: what every read of one reconcile cycle answers from. */
export interface FleetSnapshot {
  /** When the refresh ended (the collector's monotonic clock, ms: for ages, not a date). */
  readonly takenAtMs: number;
  /** Set when the refresh failed: every read answers PrometheusError with it. */
  readonly error?: Error;
  /** The pair's metrics and availability, without a query. Counts a lookup (`hit` or `failure_hit`). */
  read(modelId: string, namespace: string): FleetRead;
}

// lru-cache reads a start of 0 as "no TTL"; a fake clock may start at 0 (see the cache).
const START_SHIFT = 2 ** 32;
const FLEET = 'fleet';

export class FleetCollector {
  readonly #o: FleetCollectorOptions;
  readonly #cache: ModelMetricsCache;
  readonly #now: () => number;
  readonly #namespaces: readonly string[] | undefined;
  #window: string;
  #staleAfterMs: number;
  #refreshing = false;
  readonly #snapshots: LRUCache<string, Snapshot>;
  /** The periods (seconds) each refresh also counts requests over, and the last refresh's snapshot. */
  #requestsOverSeconds: () => readonly number[];
  #last: Snapshot | undefined;

  constructor(o: FleetCollectorOptions) {
    this.#o = o;
    this.#cache = o.cache;
    this.#requestsOverSeconds = o.requestsOverSeconds ?? (() => []);
    // Read at call time, so fake timers in tests move it too.
    const now = o.now ?? (() => performance.now());
    this.#now = now;
    this.#window = checkWindow(o.window ?? DEFAULT_WINDOW);
    this.#namespaces = o.namespaces && o.namespaces.length > 0 ? [...o.namespaces] : undefined;
    this.#staleAfterMs = checkStaleAfter(o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
    this.#snapshots = new LRUCache<string, Snapshot>({
      max: 1,
      perf: { now: () => now() + START_SHIFT },
      ttlResolution: 0,
      fetchMethod: (_key, _stale, { options }) =>
        this.#refresh().then((snap) => {
          // A snapshot lives for the cache's TTL, a failed one for the failure TTL.
          const ttl = snap.error ? this.#cache.failureTtlMs : this.#cache.ttlMs;
          Object.assign(options, { ttl, start: snap.takenAtMs + START_SHIFT });
          return snap;
        }),
    });
  }

  /**
   * The current snapshot while within its TTL, else one from a new refresh (joined if one runs).
   * Never rejects for Prometheus trouble (a failed snapshot instead); rejects with the abort reason
   * when `signal` aborts, without cancelling the refresh for others.
   */
  async snapshot(signal?: AbortSignal): Promise<FleetSnapshot> {
    const { snapshot, fetched } = await this.#take(signal);
    if (fetched === 'hit') return snapshot;
    // Fetched for the reads to come: the first of them is the lookup that missed (or joined a
    // refresh), as it would have been without a snapshot; the others are hits.
    let first: LookupResult | undefined = fetched;
    return {
      takenAtMs: snapshot.takenAtMs,
      ...(snapshot.error ? { error: snapshot.error } : {}),
      read: (modelId, namespace) => {
        const result = first ?? (snapshot.error ? 'failure_hit' : 'hit');
        first = undefined;
        this.#o.observer?.lookup?.(result, modelId, namespace);
        return snapshot.answer(modelId, namespace);
      },
    };
  }

  /**
   * One pair, from the current snapshot or a refresh. Lookups: `hit` (a fresh snapshot answered,
   * a pair Prometheus does not know included), `miss` (started a refresh), `coalesced` (joined
   * one), `failure_hit` (a failed snapshot answered).
   */
  async read(modelId: string, namespace: string, signal?: AbortSignal): Promise<FleetRead> {
    const { snapshot, fetched } = await this.#take(signal);
    const result: LookupResult = snapshot.error ? 'failure_hit' : 'hit';
    this.#o.observer?.lookup?.(fetched === 'hit' ? result : fetched, modelId, namespace);
    return snapshot.answer(modelId, namespace);
  }

  /** Cache warming: a snapshot now (joined if a refresh runs). Never rejects for Prometheus trouble. */
  async refresh(signal?: AbortSignal): Promise<void> {
    await this.#take(signal);
  }

  /** From the next refresh on, also count each pair's requests over these periods (seconds). */
  countRequestsOver(periods: () => readonly number[]): void {
    this.#requestsOverSeconds = periods;
  }

  /**
   * The pair's requests over `seconds` as of the last refresh (no query of its own). An answer
   * older than `staleAfterMs` is unknown: idleness is proven by a recent query, never an old one.
   */
  requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer {
    const snap = this.#last;
    if (!snap) return { kind: 'unknown', reason: 'no fleet query answered yet' };
    if (snap.error) return { kind: 'unknown', reason: `the last fleet query failed: ${snap.error.message}` };
    const age = this.#now() - snap.takenAtMs;
    if (age > this.#staleAfterMs) {
      return {
        kind: 'unknown',
        reason: `the last fleet query answered ${Math.round(age / 1000)}s ago, more than ${Math.round(this.#staleAfterMs / 1000)}s`,
      };
    }
    return snap.requestsOver(modelId, namespace, seconds);
  }

  /** Live reload. A new window drops the current snapshot (its numbers were over the old window);
   *  a refresh in flight re-queries under the new one before it answers. */
  configure(o: { window?: string; staleAfterMs?: number }): void {
    if (o.window !== undefined && o.window !== this.#window) {
      this.#window = checkWindow(o.window);
      if (!this.#refreshing) this.#snapshots.clear();
    }
    if (o.staleAfterMs !== undefined) this.#staleAfterMs = checkStaleAfter(o.staleAfterMs);
  }

  async #take(signal?: AbortSignal): Promise<{ snapshot: Snapshot; fetched: LookupResult }> {
    signal?.throwIfAborted();
    const status: LRUCache.Status<string, Snapshot> = {};
    const pending = this.#snapshots.fetch(FLEET, { status });
    const fetched: LookupResult =
      status.fetch === 'hit' ? 'hit' : status.fetch === 'inflight' ? 'coalesced' : 'miss';
    const snapshot = (await abortable(pending, signal)) as Snapshot;
    return { snapshot, fetched };
  }

  /** One fleet query under the window in force when it ends; the pairs go into the cache. */
  async #refresh(): Promise<Snapshot> {
    this.#refreshing = true;
    const { observer, logger } = this.#o;
    logger?.debug({}, 'Querying Prometheus for fleet metrics');
    try {
      for (;;) {
        const window = this.#window;
        const time = this.#o.evaluationTime?.();
        const periods = [...this.#requestsOverSeconds()];
        observer?.queryStarted?.('fleet');
        const started = performance.now();
        let pairs: Map<string, FleetMetrics>;
        try {
          pairs = await collectFleetMetrics(this.#o.prom, {
            window,
            ...(this.#namespaces ? { namespaces: this.#namespaces } : {}),
            time,
            freshnessRangeSeconds: freshnessRangeSeconds(this.#staleAfterMs),
            ...(periods.length > 0 ? { requestsOverSeconds: periods } : {}),
          });
          observer?.queryFinished?.('fleet', 'success', (performance.now() - started) / 1000);
        } catch (err) {
          observer?.queryFinished?.('fleet', 'error', (performance.now() - started) / 1000);
          if (window !== this.#window) continue;
          return this.#failed(err instanceof Error ? err : new Error(String(err)));
        }
        // A live reload changed the window while the query ran: its numbers are over the old one.
        if (window !== this.#window) continue;
        logger?.debug({ pairs: pairs.size }, 'Fleet metrics refreshed');
        setCacheView(this.#cache, window, time);
        return this.#succeeded(pairs, periods);
      }
    } finally {
      this.#refreshing = false;
    }
  }

  #succeeded(pairs: Map<string, FleetMetrics>, periods: readonly number[]): Snapshot {
    let evaluatedAt = this.#o.evaluationTime?.() ?? new Date();
    const entries = new Map<string, ModelMetrics>();
    for (const [key, p] of pairs) {
      evaluatedAt = p.evaluatedAt;
      // Pairs without a namespace or model_name label (a scrape config that adds none) cannot be
      // cache keys; they are answered from the query's result only.
      if (keyOk(p.modelId, p.namespace)) entries.set(key, this.#cache.set(p.modelId, p.namespace, p, true));
    }
    this.#known = pairs;
    this.#last = new Snapshot(this.#settings, this.#now(), pairs, entries, evaluatedAt, periods);
    return this.#last;
  }

  /** The pairs of the last successful refresh: the ones a failure is recorded for in the cache. */
  #known = new Map<string, FleetMetrics>();

  #failed(error: Error): Snapshot {
    for (const p of this.#known.values()) {
      if (keyOk(p.modelId, p.namespace)) this.#cache.set(p.modelId, p.namespace, zeroMetrics(), false, error);
    }
    this.#o.logger?.warn(
      { err: error.message, retryAfterMs: this.#cache.failureTtlMs },
      'Fleet metrics refresh failed; answering PrometheusError until the failure TTL ends',
    );
    this.#last = new Snapshot(this.#settings, this.#now(), new Map(), new Map(), new Date(), [], error);
    return this.#last;
  }

  /** What a snapshot needs of its collector at read time (staleness and window may change live). */
  readonly #settings = (): SnapshotSettings => ({
    cache: this.#cache,
    staleAfterMs: this.#staleAfterMs,
    window: this.#window,
    observer: this.#o.observer,
  });
}

interface SnapshotSettings {
  cache: ModelMetricsCache;
  staleAfterMs: number;
  window: string;
  observer?: CollectorObserver;
}

class Snapshot implements FleetSnapshot {
  constructor(
    private readonly settings: () => SnapshotSettings,
    readonly takenAtMs: number,
    /** What the query found per pair (for availability: which pairs exist, their newest sample). */
    private readonly pairs: ReadonlyMap<string, FleetMetrics>,
    /** The cache entries this refresh wrote. */
    private readonly entries: ReadonlyMap<string, ModelMetrics>,
    private readonly evaluatedAt: Date,
    /** The periods this refresh counted requests over (seconds). */
    private readonly periods: readonly number[],
    readonly error?: Error,
  ) {}

  requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer {
    if (!this.periods.includes(seconds)) {
      return {
        kind: 'unknown',
        reason: `requests over ${seconds}s not asked yet (asked from the next refresh on)`,
      };
    }
    const pair = this.pairs.get(pairKey(modelId, namespace));
    if (!pair) return { kind: 'no-series' };
    const n = pair.requestsOver?.get(seconds);
    return n === undefined ? { kind: 'no-value' } : { kind: 'count', requests: n };
  }

  read(modelId: string, namespace: string): FleetRead {
    this.settings().observer?.lookup?.(this.error ? 'failure_hit' : 'hit', modelId, namespace);
    return this.answer(modelId, namespace);
  }

  /** The read, without counting a lookup. */
  answer(modelId: string, namespace: string): FleetRead {
    if (this.error) return { availability: availabilityFromError(modelId, namespace, this.error) };
    const { cache, staleAfterMs, window } = this.settings();
    const key = pairKey(modelId, namespace);
    const pair = this.pairs.get(key);
    const availability = availabilityOf(
      modelId,
      namespace,
      pair ?? zeroMetrics(),
      pair?.newestSample,
      pair?.evaluatedAt ?? this.evaluatedAt,
      staleAfterMs,
      window,
    );
    if (!pair) return { metrics: zeroMetrics(), availability };
    const entry = this.entries.get(key);
    // The read goes through the cache, so its counters and recency are the controller's reads. It
    // answers with the entry this refresh stored: a newer refresh, an expiry (a cycle longer than
    // the TTL) or an eviction must not give one cycle the numbers of two.
    if (entry) cache.get(modelId, namespace);
    return {
      metrics: copyMetrics(entry ?? pair),
      availability,
      ...(pair.pods ? { pods: pair.pods.map(copyPod) } : {}),
    };
  }
}

/** A pair the cache accepts as a key (it throws a TypeError for any other). */
function keyOk(modelId: string, namespace: string): boolean {
  return modelId.length > 0 && namespace.length > 0 && !namespace.includes(':');
}

function checkStaleAfter(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0)
    throw new RangeError(`staleAfterMs must be a positive number, got ${ms}`);
  return ms;
}
