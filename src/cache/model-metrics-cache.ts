// ModelMetricsCache: the TTL + LRU store of per-model metrics that every metrics read goes through.
//
// lru-cache does the storing: recency, the capacity bound, per-entry TTLs (a failed entry lives for
// the failure TTL) and `fetch()` coalescing. This class adds what the spec asks on top: a key that is
// a (modelId, namespace) pair, frozen entries, a second TTL for failures, TTL changes that apply to
// what is already cached, and counters for telemetry.
import { LRUCache } from 'lru-cache';
import type { AggregateMetrics, ModelMetrics } from '../types.js';
import { abortable } from './abortable.js';
import { type CachedModelMetrics, checkKey, checkTtls, describe, makeEntry, ZERO_METRICS } from './entry.js';

/** Default time-to-live of an entry: 30 s, as in the original. */
export const DEFAULT_TTL_MS = 30_000;
/** Default bound on the number of entries. */
export const DEFAULT_MAX_ENTRIES = 10_000;

export interface ModelMetricsCacheOptions {
  /** How long an entry is fresh, ms: a positive, finite number. Default 30 000. */
  ttlMs?: number;
  /** How long a failed entry (`valid: false`) is returned, ms: positive, at most `ttlMs`. Default: `ttlMs`. */
  failureTtlMs?: number;
  /** Most entries kept (a positive integer); the least recently used goes first. Default 10 000. */
  maxEntries?: number;
  /**
   * Monotonic clock in ms that ages entries, read on every operation (tests pass a fake one).
   * Default: `performance.now()`, of which the expiry checks reuse one reading for up to 1 ms
   * (lru-cache's `ttlResolution`): an entry may look fresh up to 1 ms past its TTL. The wall clock
   * never ages an entry: it may be set back or forward at any time.
   */
  now?: () => number;
  /** Wall clock in ms since the epoch for `lastUpdated`, shown to people only. Default: `now` when
   *  that is injected (one fake clock for both), else `Date.now()`. */
  wallNow?: () => number;
}

/** A snapshot of the cache's counters, for telemetry. Every lookup counts as one of hits, failureHits, misses. */
export interface CacheStats {
  size: number;
  maxEntries: number;
  ttlMs: number;
  failureTtlMs: number;
  /** Fresh valid entries returned by `get` or `fetch`. */
  hits: number;
  /** Fresh failed entries (`valid: false`) returned by `get` or `fetch`. */
  failureHits: number;
  /** Lookups that found no fresh entry: none, an expired one, or one being fetched. */
  misses: number;
  /** The misses that found an expired entry (and removed it). */
  expiredReads: number;
  sets: number;
  /** Entries removed, by why: expired (on read, by `cleanup`, or stale when pushed out), capacity (LRU),
   *  invalidated (`invalidate`), cleared (`clear`). Overwrites by `set` are not evictions. */
  evictions: { expired: number; capacity: number; invalidated: number; cleared: number };
}

/** How `fetch` found its entry: in the cache, or by loading it (alone, or joining a load in flight). */
export type FetchResult = 'hit' | 'failure_hit' | 'miss' | 'coalesced';

// lru-cache reads a TTL start of 0 as "no TTL", and a fake clock may well start at 0: the times it
// sees are shifted by this much (both the starts and its clock, so ages are unchanged).
const START_SHIFT = 2 ** 32;

/** What a `fetch` hands the shared load; lru-cache passes it to `fetchMethod` as the context. */
interface FetchContext {
  modelId: string;
  namespace: string;
  load: () => Promise<AggregateMetrics>;
}

/**
 * Metrics per (model id, namespace) with a TTL, a shorter-or-equal TTL for failed collections, and an
 * LRU bound. Single-threaded like all JS, so no locks: every method runs to completion.
 *
 * - `get` returns fresh entries only; a failed one (`valid: false`, `error` set) while younger than
 *   `failureTtlMs`, so callers answer with the cached failure instead of querying again.
 * - `fetch` returns the fresh entry or runs ONE load shared by every concurrent caller of the pair.
 * - `setTtl` applies to what is cached: an entry's age is compared with the TTL in force.
 * - Expired entries are removed when read, by `cleanup()` (see janitor.ts for a timer), or when pushed
 *   out by capacity; `size` counts them until then, as the original's `Size`.
 */
export class ModelMetricsCache {
  #ttl: number;
  #failureTtl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #wallNow: () => number;
  readonly #lru: LRUCache<string, CachedModelMetrics, FetchContext>;
  #fetching = 0;
  #clearing = false;

  #found = 0;
  #failureHits = 0;
  #misses = 0;
  #expiredReads = 0;
  #sets = 0;
  #evictedExpired = 0;
  #evictedCapacity = 0;
  #evictedInvalidated = 0;
  #evictedCleared = 0;

  constructor(options?: number | ModelMetricsCacheOptions) {
    const o: ModelMetricsCacheOptions = typeof options === 'number' ? { ttlMs: options } : (options ?? {});
    const max = o.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1 || max > 2 ** 31 - 1) {
      throw new RangeError(`cache maxEntries ${describe(max)} is not valid: use a positive integer`);
    }
    this.#ttl = o.ttlMs ?? DEFAULT_TTL_MS;
    this.#failureTtl = o.failureTtlMs ?? this.#ttl;
    checkTtls(this.#ttl, this.#failureTtl);
    this.#max = max;
    const injected = o.now;
    // The defaults are read at call time, so fake timers in tests move them too.
    const clock = injected ?? (() => performance.now());
    this.#now = clock;
    this.#wallNow = o.wallNow ?? injected ?? (() => Date.now());
    this.#lru = new LRUCache<string, CachedModelMetrics, FetchContext>({
      max,
      perf: { now: () => clock() + START_SHIFT },
      ttlResolution: injected ? 0 : 1,
      // Waiters of a fetch get its result even when the pair is invalidated or cleared meanwhile.
      ignoreFetchAbort: true,
      dispose: (_entry, key, reason) => this.#disposed(key, reason),
      fetchMethod: (_key, _stale, { options, context }) => this.#load(context, options),
    });
  }

  /** "modelId:namespace", the key `getAll` uses. Throws a TypeError for an invalid pair. */
  static key(modelId: string, namespace: string): string {
    checkKey(modelId, namespace);
    return pairKey(modelId, namespace);
  }

  /** The inverse of `key`: a namespace holds no ':', so the last ':' splits the key. */
  static parseKey(key: string): { modelId: string; namespace: string } {
    const at = key.lastIndexOf(':');
    const modelId = key.slice(0, Math.max(at, 0));
    const namespace = at < 0 ? '' : key.slice(at + 1);
    checkKey(modelId, namespace);
    return { modelId, namespace };
  }

  get ttlMs(): number {
    return this.#ttl;
  }

  get failureTtlMs(): number {
    return this.#failureTtl;
  }

  get maxEntries(): number {
    return this.#max;
  }

  /** Entries held, expired ones not yet removed included (as the original's `Size`). */
  get size(): number {
    return this.#lru.size - this.#fetching;
  }

  /**
   * The fresh entry for the pair, failed ones included while younger than `failureTtlMs`; else
   * undefined. An expired entry is removed. A hit makes the entry the most recently used.
   */
  get(modelId: string, namespace: string): ModelMetrics | undefined {
    const expiredBefore = this.#evictedExpired;
    // pairKey's key, as a template: a lookup's key is dropped at once, so it need not be flat.
    const entry = this.#lru.get(`${modelId}:${namespace}`);
    if (entry === undefined) {
      // The pair was checked when it was set, so only a miss needs checking (keeps hits cheap).
      checkKey(modelId, namespace);
      this.#misses++;
      if (this.#evictedExpired !== expiredBefore) this.#expiredReads++;
      return undefined;
    }
    this.#found++;
    if (!entry.valid) this.#failureHits++;
    return entry;
  }

  /**
   * Stores a copy of `metrics` for the pair, stamped now, as the most recently used entry. `valid =
   * false` records a failed collection; its `error` (default: a generic one naming the pair; a
   * non-Error is wrapped) is handed back until `failureTtlMs` passes. When full, the least recently
   * used entry is evicted. Returns the stored entry (what `get` will hand out).
   */
  set(
    modelId: string,
    namespace: string,
    metrics: AggregateMetrics,
    valid = true,
    error?: Error,
  ): ModelMetrics {
    checkKey(modelId, namespace);
    const entry = makeEntry(modelId, namespace, metrics, valid !== false, error, this.#wallNow());
    this.#sets++;
    this.#lru.set(pairKey(modelId, namespace), entry, { ttl: this.#ttlOf(entry), start: this.#start() });
    return entry;
  }

  /**
   * The pair's fresh entry, or else the entry `load` produces, stored for the TTL (a rejection as a
   * failed entry for the failure TTL). Concurrent callers of a pair share ONE call of `load`; the
   * shared call gets no caller's signal (one caller giving up must not fail the others), `signal`
   * only stops this caller waiting (rejects with its reason). Never rejects for `load`'s failure.
   */
  async fetch(
    modelId: string,
    namespace: string,
    load: () => Promise<AggregateMetrics>,
    signal?: AbortSignal,
  ): Promise<{ entry: ModelMetrics; result: FetchResult }> {
    signal?.throwIfAborted();
    const cached = this.get(modelId, namespace);
    if (cached) return { entry: cached, result: cached.valid ? 'hit' : 'failure_hit' };
    const key = pairKey(modelId, namespace);
    const status: LRUCache.Status<string, CachedModelMetrics, FetchContext> = {};
    const shared = this.#lru.fetch(key, { context: { modelId, namespace, load }, status });
    const result: FetchResult = status.fetch === 'inflight' ? 'coalesced' : 'miss';
    let entry = await abortable(shared, signal);
    entry ??= makeEntry(
      modelId,
      namespace,
      ZERO_METRICS,
      false,
      new Error('metrics load gave no result'),
      this.#wallNow(),
    );
    return { entry, result };
  }

  /** Removes the pair's entry, if any. */
  invalidate(modelId: string, namespace: string): void {
    checkKey(modelId, namespace);
    this.#lru.delete(pairKey(modelId, namespace));
  }

  /** Removes every entry (counted as `evictions.cleared`, one per entry). */
  clear(): void {
    this.#clearing = true;
    try {
      this.#lru.clear();
    } finally {
      this.#clearing = false;
    }
  }

  /**
   * A snapshot of the fresh entries (what `get` would return), key "modelId:namespace", from least to
   * most recently used. Reading it changes no counter and no recency.
   */
  getAll(): Map<string, ModelMetrics> {
    const all = new Map<string, ModelMetrics>();
    for (const [key, entry] of this.#lru.rentries() as Iterable<[string, CachedModelMetrics]>) {
      all.set(key, entry);
    }
    return all;
  }

  /** Removes the expired entries (counted as `evictions.expired`); returns how many. */
  cleanup(): number {
    const before = this.#evictedExpired;
    this.#lru.purgeStale();
    return this.#evictedExpired - before;
  }

  /** Changes the TTLs (live config reload); they apply to entries already cached. Throws RangeError. */
  setTtl(ttlMs: number, failureTtlMs: number = ttlMs): void {
    checkTtls(ttlMs, failureTtlMs);
    this.#ttl = ttlMs;
    this.#failureTtl = failureTtlMs;
    // lru-cache keeps a TTL per entry: restamp each with the start it had (now less its age, from
    // the TTL it was stored with and what remains of it), least recent first, so the recency order
    // comes out as it was.
    const now = this.#start();
    for (const [key, { value, ttl }] of this.#lru.dump()) {
      const remaining = this.#lru.info(key)?.ttl ?? 0;
      this.#lru.set(key, value, { ttl: this.#ttlOf(value), start: now - ((ttl ?? 0) - remaining) });
    }
  }

  stats(): CacheStats {
    return {
      size: this.size,
      maxEntries: this.#max,
      ttlMs: this.#ttl,
      failureTtlMs: this.#failureTtl,
      hits: this.#found - this.#failureHits,
      failureHits: this.#failureHits,
      misses: this.#misses,
      expiredReads: this.#expiredReads,
      sets: this.#sets,
      evictions: {
        expired: this.#evictedExpired,
        capacity: this.#evictedCapacity,
        invalidated: this.#evictedInvalidated,
        cleared: this.#evictedCleared,
      },
    };
  }

  #ttlOf(entry: CachedModelMetrics): number {
    return entry.valid ? this.#ttl : this.#failureTtl;
  }

  /** The monotonic clock as lru-cache sees it. */
  #start(): number {
    return this.#now() + START_SHIFT;
  }

  /** lru-cache's fetchMethod: runs the shared load; its result becomes the entry, stored on return. */
  async #load(
    context: FetchContext,
    options: LRUCache.FetcherFetchOptions<string, CachedModelMetrics, FetchContext>,
  ): Promise<CachedModelMetrics> {
    const { modelId, namespace } = context;
    this.#fetching++;
    let entry: CachedModelMetrics;
    try {
      entry = makeEntry(modelId, namespace, await context.load(), true, undefined, this.#wallNow());
    } catch (err) {
      entry = makeEntry(modelId, namespace, ZERO_METRICS, false, err, this.#wallNow());
    } finally {
      this.#fetching--;
    }
    this.#sets++;
    // lru-cache stores the result with these options: the entry's own TTL, from now.
    Object.assign(options, { ttl: this.#ttlOf(entry), start: this.#start() });
    return entry;
  }

  #disposed(key: string, reason: LRUCache.DisposeReason): void {
    if (reason === 'set') return;
    if (reason === 'expire') this.#evictedExpired++;
    else if (reason === 'evict') {
      // lru-cache still holds the pushed-out entry here: what remains of its TTL says if it expired.
      if ((this.#lru.info(key)?.ttl ?? 0) < 0) this.#evictedExpired++;
      else this.#evictedCapacity++;
    } else if (this.#clearing) this.#evictedCleared++;
    else this.#evictedInvalidated++;
  }
}

// join() builds a flat string; a template literal makes a cons string that V8 flattens on the first
// hash but keeps as a second object for as long as a stored key lives.
function pairKey(modelId: string, namespace: string): string {
  return [modelId, namespace].join(':');
}
