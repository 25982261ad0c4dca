// ModelMetricsCache: the TTL + LRU store of per-model metrics that every metrics read goes through.
//
// lru-cache does the storing: recency, the capacity bound and `fetch()` coalescing. This class adds
// what the spec asks on top: a key that is a (modelId, namespace) pair, found in lru-cache's one
// lookup (see pair-keys.ts), frozen entries, expiry by the entry's own stamp against the TTL in force
// (a second, shorter TTL for failures), and counters for telemetry. Expiry is checked here rather
// than by lru-cache's per-entry TTLs: a read then costs one comparison, a TTL change applies to what
// is cached without restamping it, and no TTL arrays are kept beside the entries.
import { LRUCache } from 'lru-cache';
import type { AggregateMetrics, ModelMetrics } from '../types.js';
import { abortable } from './abortable.js';
import {
  CachedModelMetrics,
  checkKey,
  checkTtls,
  describe,
  makeEntry,
  touch,
  touchedAt,
  ZERO_METRICS,
} from './entry.js';
import {
  type CacheStats,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_TTL_MS,
  type FetchResult,
  type ModelMetricsCacheOptions,
} from './options.js';
import { PairKeys, type StoreKey } from './pair-keys.js';

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
  /** The injected clock, else undefined: Date.now(), one reading reused for up to 1 ms on reads. */
  readonly #clock: (() => number) | undefined;
  #coarseNow = 0;
  readonly #lru: LRUCache<StoreKey, CachedModelMetrics, FetchContext>;
  readonly #keys = new PairKeys();
  /** The loads in flight by key (lru-cache holds no entry for them yet): whose pair each loads. */
  readonly #loading = new Map<StoreKey, FetchContext>();
  #fetching = 0;
  /** Counts every store and hit; an entry's touch is the count when it was last stored or returned. */
  #touches = 0;
  /** The clock reading of the `set` in progress, for classifying the entry it pushes out. */
  #setAt = 0;
  #clearing = false;
  #expiring = false;

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
    this.#clock = o.now;
    this.#lru = new LRUCache<StoreKey, CachedModelMetrics, FetchContext>({
      max,
      // Waiters of a fetch get its result even when the pair is invalidated or cleared meanwhile.
      ignoreFetchAbort: true,
      dispose: (entry, key, reason) => this.#disposed(entry, key, reason),
      onInsert: (entry) => {
        if (entry instanceof CachedModelMetrics) touch(entry, ++this.#touches);
      },
      fetchMethod: (key, _stale, { context }) => this.#load(key, context),
    });
  }

  /** "modelId:namespace", the key `getAll` uses. Throws a TypeError for an invalid pair. */
  static key(modelId: string, namespace: string): string {
    checkKey(modelId, namespace);
    return `${modelId}:${namespace}`;
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
    // While no model has a chain (the usual case), every pair's key is its model id: no lookup of ours.
    const key = this.#keys.chains === 0 ? modelId : this.#keys.readKey(modelId, namespace);
    const entry = key === undefined ? undefined : this.#lru.get(key);
    if (
      entry !== undefined &&
      entry.namespace === namespace &&
      (this.#coarseNow || this.#readNow()) - entry.updatedAtMs <= (entry.valid ? this.#ttl : this.#failureTtl)
    ) {
      touch(entry, ++this.#touches);
      this.#found++;
      if (!entry.valid) this.#failureHits++;
      return entry;
    }
    this.#miss(modelId, namespace, key, entry);
    return undefined;
  }

  /** A `get` that found no fresh entry for the pair (kept out of `get`, so the hit path stays small). */
  #miss(
    modelId: string,
    namespace: string,
    key: StoreKey | undefined,
    entry: CachedModelMetrics | undefined,
  ) {
    if (entry !== undefined && entry.namespace === namespace) {
      this.#expire(key!);
      this.#expiredReads++;
    } else {
      // The pair was checked when it was set, so only a miss needs checking (keeps hits cheap).
      checkKey(modelId, namespace);
      if (entry !== undefined) {
        // The model is cached in another namespace only, and looking it up by model id made that
        // entry the most recently used: put it back, and look the model up by its chain from now on.
        this.#restoreRecency(entry);
        this.#keys.open(modelId, entry.namespace);
      }
    }
    this.#misses++;
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
    const entry = makeEntry(modelId, namespace, metrics, valid !== false, error, this.#stampNow());
    this.#store(this.#keys.keyFor(modelId, namespace, this.#storedNamespace(modelId)), entry);
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
    const key = this.#keys.keyFor(modelId, namespace, this.#storedNamespace(modelId));
    const status: LRUCache.Status<StoreKey, CachedModelMetrics, FetchContext> = {};
    const shared = this.#lru.fetch(key, { context: { modelId, namespace, load }, status });
    const result: FetchResult = status.fetch === 'inflight' ? 'coalesced' : 'miss';
    let entry = await abortable(shared, signal);
    // Not stored (invalidated or pushed out while loading): forget the key unless set again since.
    if (!this.#lru.has(key)) this.#keys.forget(modelId, key);
    entry ??= makeEntry(
      modelId,
      namespace,
      ZERO_METRICS,
      false,
      new Error('metrics load gave no result'),
      this.#stampNow(),
    );
    return { entry, result };
  }

  /** Removes the pair's entry, if any. */
  invalidate(modelId: string, namespace: string): void {
    checkKey(modelId, namespace);
    const key = this.#keys.keyOf(modelId, namespace, this.#storedNamespace(modelId));
    if (key === undefined) return;
    this.#lru.delete(key);
    this.#keys.forget(modelId, key);
  }

  /** Removes every entry (counted as `evictions.cleared`, one per entry). */
  clear(): void {
    this.#clearing = true;
    try {
      this.#lru.clear();
    } finally {
      this.#clearing = false;
    }
    this.#keys.clear();
  }

  /**
   * A snapshot of the fresh entries (what `get` would return), key "modelId:namespace", from least to
   * most recently used. Reading it changes no counter and no recency.
   */
  getAll(): Map<string, ModelMetrics> {
    const all = new Map<string, ModelMetrics>();
    const now = this.#readNow();
    for (const [, entry] of this.#lru.rentries() as Iterable<[StoreKey, CachedModelMetrics]>) {
      if (this.#fresh(entry, now)) all.set(`${entry.modelId}:${entry.namespace}`, entry);
    }
    return all;
  }

  /** Removes the expired entries (counted as `evictions.expired`); returns how many. */
  cleanup(): number {
    const now = this.#readNow();
    const expired: StoreKey[] = [];
    for (const [key, entry] of this.#lru.rentries() as Iterable<[StoreKey, CachedModelMetrics]>) {
      if (!this.#fresh(entry, now)) expired.push(key);
    }
    for (const key of expired) this.#expire(key);
    return expired.length;
  }

  /** Changes the TTLs (live config reload); they apply to entries already cached. Throws RangeError. */
  setTtl(ttlMs: number, failureTtlMs: number = ttlMs): void {
    checkTtls(ttlMs, failureTtlMs);
    this.#ttl = ttlMs;
    this.#failureTtl = failureTtlMs;
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

  #fresh(entry: CachedModelMetrics, now: number): boolean {
    return now - entry.updatedAtMs <= this.#ttlOf(entry);
  }

  /** The clock for expiry checks. Date is read at call time, so fake timers in tests move it too. */
  #readNow(): number {
    if (this.#clock !== undefined) return this.#clock();
    if (this.#coarseNow === 0) {
      this.#coarseNow = Date.now();
      setTimeout(() => {
        this.#coarseNow = 0;
      }, 1).unref();
    }
    return this.#coarseNow;
  }

  /** The clock for stamps: always a real reading. */
  #stampNow(): number {
    return this.#clock !== undefined ? this.#clock() : Date.now();
  }

  /** The namespace of the pair stored (or being loaded) under the model id itself, if any. */
  #storedNamespace(modelId: string): string | undefined {
    return this.#lru.peek(modelId)?.namespace ?? this.#loading.get(modelId)?.namespace;
  }

  #expire(key: StoreKey): void {
    this.#expiring = true;
    try {
      this.#lru.delete(key);
    } finally {
      this.#expiring = false;
    }
  }

  /** Undoes the recency `moved` got from a lookup that was not for it: every entry stored or returned
   *  since it was is made more recent again, in the same order. */
  #restoreRecency(moved: CachedModelMetrics): void {
    const since = touchedAt(moved);
    const later: StoreKey[] = [];
    for (const [key, entry] of this.#lru.rentries() as Iterable<[StoreKey, CachedModelMetrics]>) {
      if (touchedAt(entry) > since && entry !== moved) later.push(key);
    }
    for (const key of later) this.#lru.get(key);
  }

  #store(key: StoreKey, entry: CachedModelMetrics): void {
    this.#sets++;
    this.#setAt = entry.updatedAtMs;
    this.#lru.set(key, entry);
  }

  /** lru-cache's fetchMethod: runs the shared load; its result becomes the entry, stored on return. */
  async #load(key: StoreKey, context: FetchContext): Promise<CachedModelMetrics> {
    const { modelId, namespace } = context;
    this.#fetching++;
    this.#loading.set(key, context);
    let entry: CachedModelMetrics;
    try {
      entry = makeEntry(modelId, namespace, await context.load(), true, undefined, this.#stampNow());
    } catch (err) {
      entry = makeEntry(modelId, namespace, ZERO_METRICS, false, err, this.#stampNow());
    } finally {
      this.#fetching--;
      if (this.#loading.get(key) === context) this.#loading.delete(key);
    }
    this.#sets++;
    this.#setAt = entry.updatedAtMs;
    return entry;
  }

  #disposed(entry: CachedModelMetrics, key: StoreKey, reason: LRUCache.DisposeReason): void {
    if (reason === 'set') return;
    if (reason === 'evict') {
      if (this.#setAt - entry.updatedAtMs > this.#ttlOf(entry)) this.#evictedExpired++;
      else this.#evictedCapacity++;
    } else if (this.#clearing) this.#evictedCleared++;
    else if (this.#expiring) this.#evictedExpired++;
    else this.#evictedInvalidated++;
    this.#keys.forget(entry.modelId, key);
  }
}
