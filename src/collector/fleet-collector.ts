// What the controller reads metrics through: one Prometheus call per cycle, whatever the fleet.
//
// A read whose key is not answered by the current snapshot refreshes the WHOLE fleet (or the watched
// namespaces) in one query (every statistic plus each pair's newest sample time), shared by every concurrent caller; the
// results go into the cache, so the rest of the cycle's reads are cache hits. Until the snapshot
// is older than the cache TTL:
//   - a pair in the snapshot answers from the cache (or from the snapshot, if the cache dropped it);
//   - a pair Prometheus does not know answers zeros + MetricsMissing without another query;
//   - a fresh pair with traffic and an unknown statistic answers MetricsIncomplete;
// and after a failed refresh, every read answers PrometheusError without another attempt until the
// cache's failure TTL ends (1000 callers during an outage: 1 attempt).
// Within a reconcile cycle (beginCycle() ... end()) the TTLs do not cut the cycle in two: the state
// that was fresh when the cycle began, or the cycle's own refresh, answers every read of that cycle
// whatever its length, so a cycle costs at most one Prometheus call.
import type { ModelMetricsCache } from '../cache/index.js';
import { checkWindow, DEFAULT_WINDOW } from '../prometheus/promql.js';
import { silentLogger } from '../telemetry/logger.js';
import type { AggregateMetrics, CollectorObserver, Logger, MetricsAvailability, PromAPI } from '../types.js';
import { abortable } from './abortable.js';
import {
  availabilityFromError,
  availabilityOf,
  DEFAULT_STALE_AFTER_MS,
  freshnessRangeSeconds,
} from './availability.js';
import { setCacheWindow } from './cache-window.js';
import { collectFleetMetrics, copyMetrics, type FleetMetrics, pairKey, zeroMetrics } from './collect.js';

export interface FleetCollectorOptions {
  prom: PromAPI;
  cache: ModelMetricsCache;
  /** Rate window, a PromQL duration. Default `1m`. */
  window?: string;
  /** Read only these namespaces' series (the watched ones); empty or absent: every namespace. */
  namespaces?: readonly string[];
  /** A pair whose newest sample is older than this is MetricsStale. Default 300000 (5 min). */
  staleAfterMs?: number;
  /** ms clock (tests): decides when the snapshot and a failure expire. Use the cache's clock. */
  now?: () => number;
  /** Evaluation time of each refresh (tests against backfilled data). Default: Prometheus' now. */
  evaluationTime?: () => Date | undefined;
  observer?: CollectorObserver;
  logger?: Logger;
  /** Periods (seconds) whose request counts each refresh also reads (scale to zero), asked per refresh. */
  requestsOverSeconds?: () => readonly number[];
}

/** What the last refresh said about a pair's requests over a period. */
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
}

interface Snapshot {
  atMs: number;
  pairs: Map<string, FleetMetrics>;
  evaluatedAt: Date;
  requestsOverSeconds: readonly number[];
}

interface Failure {
  atMs: number;
  error: Error;
}

export class FleetCollector {
  private readonly prom: PromAPI;
  private readonly cache: ModelMetricsCache;
  private readonly now: () => number;
  private readonly evaluationTime: () => Date | undefined;
  private readonly observer: CollectorObserver | undefined;
  private readonly logger: Logger;
  private readonly requestsOverSeconds: () => readonly number[];
  private window: string;
  private readonly namespaces: readonly string[] | undefined;
  private staleAfterMs: number;
  private snapshot: Snapshot | undefined;
  private failure: Failure | undefined;
  private inFlight: Promise<void> | undefined;
  /** Bumped by configure(): a refresh started under the old settings does not become the snapshot. */
  private generation = 0;
  /** Cycles open now (beginCycle without its end). */
  private openCycles = 0;
  /** The current snapshot or failure answers the open cycle(s), expired or not. */
  private pinned = false;

  constructor(o: FleetCollectorOptions) {
    this.prom = o.prom;
    this.cache = o.cache;
    this.now = o.now ?? Date.now;
    this.evaluationTime = o.evaluationTime ?? (() => undefined);
    this.observer = o.observer;
    this.logger = o.logger ?? silentLogger;
    this.requestsOverSeconds = o.requestsOverSeconds ?? (() => []);
    this.window = checkWindow(o.window ?? DEFAULT_WINDOW);
    setCacheWindow(this.cache, this.window);
    this.namespaces = o.namespaces && o.namespaces.length > 0 ? [...o.namespaces] : undefined;
    this.staleAfterMs = checkStaleAfter(o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  }

  /**
   * The pair's metrics and availability. Never rejects for Prometheus trouble (availability
   * PrometheusError instead); rejects with the abort reason when `signal` aborts. Observer lookups:
   * `hit` (answered from the current snapshot, a pair Prometheus does not know included), `miss`
   * (started a refresh), `coalesced` (joined one), `failure_hit` (answered a stored failure).
   */
  async read(modelId: string, namespace: string, signal?: AbortSignal): Promise<FleetRead> {
    if (signal?.aborted) throw signal.reason;
    const answered = this.answer(modelId, namespace, true);
    if (answered) return answered;

    const joining = this.inFlight !== undefined;
    this.observer?.lookup?.(joining ? 'coalesced' : 'miss', modelId, namespace);
    if (!joining) this.logger.debug({ model: modelId, namespace }, 'Querying Prometheus for fleet metrics');
    // No answer after a refresh only when configure() dropped its result (a live reload raced it):
    // refresh again under the new settings, a bounded number of times, rather than report an error.
    for (let attempt = 0; attempt < 3; attempt++) {
      await abortable(this.startRefresh(), signal);
      const answer = this.answer(modelId, namespace, false);
      if (answer) return answer;
    }
    return {
      availability: availabilityFromError(
        modelId,
        namespace,
        new Error('collector reconfigured during refresh'),
      ),
    };
  }

  /** Cache warming: one fleet query now (joined if one is already running). Never rejects for
   *  Prometheus trouble; the failure is kept and answered to readers until the failure TTL ends. */
  async refresh(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    await abortable(this.startRefresh(), signal);
  }

  /**
   * Opens a reconcile cycle; call the returned function when it ends (idempotent). Until then,
   * the snapshot (or failure) that is current at the start, if still within its TTL, or else the
   * first refresh the cycle makes, answers every read regardless of age: one Prometheus call per
   * cycle at most, even for a cycle longer than the cache TTL. Overlapping cycles share the pin.
   */
  beginCycle(): () => void {
    if (this.openCycles === 0) this.pinned = this.answersFresh(this.now());
    this.openCycles++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.openCycles--;
      if (this.openCycles === 0) this.pinned = false;
    };
  }

  /** True when the current state would answer a first look without a query. */
  private answersFresh(now: number): boolean {
    if (this.failure) return now - this.failure.atMs <= this.cache.failureTtlMs;
    return this.snapshot !== undefined && now - this.snapshot.atMs <= this.cache.ttlMs;
  }

  /** Live reload. A new window drops the snapshot (its numbers were over the old window). */
  configure(o: { window?: string; staleAfterMs?: number }): void {
    if (o.window !== undefined && o.window !== this.window) {
      this.window = checkWindow(o.window);
      setCacheWindow(this.cache, this.window);
      this.snapshot = undefined;
      this.failure = undefined;
      this.pinned = false;
      this.generation++;
    }
    if (o.staleAfterMs !== undefined) this.staleAfterMs = checkStaleAfter(o.staleAfterMs);
  }

  /**
   * An answer without a query, when the current state gives one. `fresh` = this is the first look
   * (count it as a lookup); after a refresh, the answer comes from the new state whatever its age.
   */
  private answer(modelId: string, namespace: string, fresh: boolean): FleetRead | undefined {
    const now = this.now();
    const snap = this.snapshot;
    const fail = this.failure;
    // After a refresh, or while an open cycle pins the state, answer whatever its age.
    const checkAge = fresh && !this.pinned;
    if (fail && (!checkAge || now - fail.atMs <= this.cache.failureTtlMs)) {
      if (fresh) this.observer?.lookup?.('failure_hit', modelId, namespace);
      return { availability: availabilityFromError(modelId, namespace, fail.error) };
    }
    if (!snap || (checkAge && now - snap.atMs > this.cache.ttlMs)) return undefined;

    const key = pairKey(modelId, namespace);
    const pair = snap.pairs.get(key);
    const availability = availabilityOf(
      modelId,
      namespace,
      pair ?? zeroMetrics(),
      pair?.newestSample,
      pair?.evaluatedAt ?? snap.evaluatedAt,
      this.staleAfterMs,
      this.window,
    );
    if (fresh) this.observer?.lookup?.('hit', modelId, namespace);
    if (!pair) return { metrics: zeroMetrics(), availability };
    // The cache is read for its own bookkeeping (LRU order, hit counters); the snapshot backs it
    // up when the cache has dropped the entry (capacity) or holds another writer's failure.
    const cached = keyOk(modelId, namespace) ? this.cache.get(modelId, namespace) : undefined;
    return { metrics: copyMetrics(cached?.valid ? cached : pair), availability };
  }

  /** The pair's requests over `seconds` as of the last refresh (no query of its own). */
  requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer {
    if (this.failure)
      return { kind: 'unknown', reason: `the last fleet query failed: ${this.failure.error.message}` };
    const snap = this.snapshot;
    if (!snap) return { kind: 'unknown', reason: 'no fleet query answered yet' };
    if (!snap.requestsOverSeconds.includes(seconds)) {
      return {
        kind: 'unknown',
        reason: `requests over ${seconds}s not asked yet (asked from the next refresh on)`,
      };
    }
    const pair = snap.pairs.get(pairKey(modelId, namespace));
    if (!pair) return { kind: 'no-series' };
    const n = pair.requestsOver?.get(seconds);
    return n === undefined ? { kind: 'no-value' } : { kind: 'count', requests: n };
  }

  private startRefresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const generation = this.generation;
    const run = this.runRefresh(generation).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async runRefresh(generation: number): Promise<void> {
    const observer = this.observer;
    observer?.queryStarted?.('fleet');
    const started = performance.now();
    const requestsOverSeconds = [...this.requestsOverSeconds()];
    try {
      const pairs = await collectFleetMetrics(this.prom, {
        window: this.window,
        ...(this.namespaces ? { namespaces: this.namespaces } : {}),
        time: this.evaluationTime(),
        freshnessRangeSeconds: freshnessRangeSeconds(this.staleAfterMs),
        ...(requestsOverSeconds.length > 0 ? { requestsOverSeconds } : {}),
      });
      observer?.queryFinished?.('fleet', 'success', (performance.now() - started) / 1000);
      if (generation !== this.generation) return;
      let evaluatedAt = this.evaluationTime() ?? new Date();
      for (const p of pairs.values()) {
        evaluatedAt = p.evaluatedAt;
        // Pairs without a namespace or model_name label (a scrape config that adds none) cannot be
        // cache keys (set would throw and fail the whole refresh); they stay in the snapshot only.
        if (keyOk(p.modelId, p.namespace)) this.cache.set(p.modelId, p.namespace, p, true);
      }
      this.snapshot = { atMs: this.now(), pairs, evaluatedAt, requestsOverSeconds };
      this.failure = undefined;
      if (this.openCycles > 0) this.pinned = true;
      this.logger.debug({ pairs: pairs.size }, 'Fleet metrics refreshed');
    } catch (err) {
      observer?.queryFinished?.('fleet', 'error', (performance.now() - started) / 1000);
      if (generation !== this.generation) return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.failure = { atMs: this.now(), error };
      this.snapshot = undefined;
      if (this.openCycles > 0) this.pinned = true;
      this.logger.warn(
        { err: error.message, retryAfterMs: this.cache.failureTtlMs },
        'Fleet metrics refresh failed; answering PrometheusError until the failure TTL ends',
      );
    }
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
