// The cache's options, counters and results, as its users see them.

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
   * Clock in ms, read on every operation (tests pass a fake one). Default: `Date.now()`, of which the
   * expiry checks reuse one reading for up to 1 ms (a timer turn): an entry may look fresh up to 1 ms
   * past its TTL. Entries are always stamped with a real reading.
   */
  now?: () => number;
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
