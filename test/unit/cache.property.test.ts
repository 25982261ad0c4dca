// Random operation sequences against a trivially correct model of the cache (a Map plus an explicit
// recency list, everything recomputed the slow way), comparing every observable result and the stats.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CacheStats, ModelMetricsCache } from '../../src/cache/index.js';
import type { AggregateMetrics, ModelMetrics } from '../../src/types.js';

// Few ids so operations collide; model ids with ':' and one model in several namespaces on purpose.
const MODELS = ['m', 'org/m:v1', 'org/m', 'registry:5000/x'];
const NAMESPACES = ['a', 'b', 'v1'];

interface ModelEntry {
  modelId: string;
  namespace: string;
  metrics: AggregateMetrics;
  valid: boolean;
  error: Error | undefined;
  at: number;
}

/** Whether the cache accepts the pair of TTLs (it throws a RangeError for any other). */
function validTtls(ttl: number, failureTtl: number): boolean {
  const ok = (v: number) => Number.isFinite(v) && v > 0;
  return ok(ttl) && ok(failureTtl) && failureTtl <= ttl;
}

/** The cache's documented behaviour, written as plainly as possible. */
class ReferenceModel {
  ttl = 30_000;
  failureTtl = 30_000;
  entries = new Map<string, ModelEntry>();
  recency: string[] = []; // least recently used first
  stats: CacheStats;

  constructor(
    readonly max: number,
    ttl: number | undefined,
    failureTtl: number | undefined,
  ) {
    this.setTtl(ttl, failureTtl);
    this.stats = {
      size: 0,
      maxEntries: max,
      ttlMs: this.ttl,
      failureTtlMs: this.failureTtl,
      hits: 0,
      failureHits: 0,
      misses: 0,
      expiredReads: 0,
      sets: 0,
      evictions: { expired: 0, capacity: 0, invalidated: 0, cleared: 0 },
    };
  }

  setTtl(ttl: number | undefined, failureTtl: number | undefined): void {
    const t = ttl ?? 30_000;
    this.ttl = t;
    this.failureTtl = failureTtl ?? t;
  }

  expired(e: ModelEntry, now: number): boolean {
    return now - e.at > (e.valid ? this.ttl : this.failureTtl);
  }

  drop(key: string): void {
    this.entries.delete(key);
    this.recency = this.recency.filter((k) => k !== key);
  }

  touch(key: string): void {
    this.recency = [...this.recency.filter((k) => k !== key), key];
  }

  get(modelId: string, namespace: string, now: number): ModelEntry | undefined {
    const key = `${modelId}:${namespace}`;
    const e = this.entries.get(key);
    if (!e) {
      this.stats.misses++;
      return undefined;
    }
    if (this.expired(e, now)) {
      this.drop(key);
      this.stats.misses++;
      this.stats.expiredReads++;
      this.stats.evictions.expired++;
      return undefined;
    }
    this.touch(key);
    if (e.valid) this.stats.hits++;
    else this.stats.failureHits++;
    return e;
  }

  set(e: ModelEntry): void {
    const key = `${e.modelId}:${e.namespace}`;
    this.stats.sets++;
    if (!this.entries.has(key) && this.entries.size >= this.max) {
      const victim = this.recency[0]!;
      if (this.expired(this.entries.get(victim)!, e.at)) this.stats.evictions.expired++;
      else this.stats.evictions.capacity++;
      this.drop(victim);
    }
    this.entries.set(key, e);
    this.touch(key);
  }

  invalidate(modelId: string, namespace: string): void {
    const key = `${modelId}:${namespace}`;
    if (!this.entries.has(key)) return;
    this.drop(key);
    this.stats.evictions.invalidated++;
  }

  clear(): void {
    this.stats.evictions.cleared += this.entries.size;
    this.entries.clear();
    this.recency = [];
  }

  cleanup(now: number): number {
    const gone = this.recency.filter((k) => this.expired(this.entries.get(k)!, now));
    for (const k of gone) this.drop(k);
    this.stats.evictions.expired += gone.length;
    return gone.length;
  }

  getAll(now: number): string[] {
    return this.recency.filter((k) => !this.expired(this.entries.get(k)!, now));
  }

  snapshot(): CacheStats {
    return {
      ...this.stats,
      size: this.entries.size,
      ttlMs: this.ttl,
      failureTtlMs: this.failureTtl,
      evictions: { ...this.stats.evictions },
    };
  }
}

const modelArb = fc.constantFrom(...MODELS);
const nsArb = fc.constantFrom(...NAMESPACES);
const numberArb = fc.double({ min: 0, max: 1e6, noNaN: true });
const metricsArb = fc.record({
  load: fc.record({ arrivalRate: numberArb, avgInputTokens: numberArb, avgOutputTokens: numberArb }),
  ttftAverage: numberArb,
  itlAverage: numberArb,
});
const ttlArb = fc.oneof(
  fc.integer({ min: 1, max: 5_000 }),
  fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY),
);

const opArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      modelId: modelArb,
      namespace: nsArb,
      metrics: metricsArb,
      valid: fc.boolean(),
      withError: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('get' as const), modelId: modelArb, namespace: nsArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('invalidate' as const), modelId: modelArb, namespace: nsArb }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cleanup' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('getAll' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('setTtl' as const),
      ttl: ttlArb,
      failureTtl: fc.option(ttlArb, { nil: undefined }),
    }),
  },
);

function expectSameEntry(actual: ModelMetrics | undefined, expected: ModelEntry | undefined): void {
  if (expected === undefined) {
    expect(actual).toBeUndefined();
    return;
  }
  expect(actual).toBeDefined();
  const a = actual!;
  expect([a.modelId, a.namespace, a.valid]).toEqual([expected.modelId, expected.namespace, expected.valid]);
  expect({ load: { ...a.load }, ttftAverage: a.ttftAverage, itlAverage: a.itlAverage }).toEqual(
    expected.metrics,
  );
  expect(a.lastUpdated.getTime()).toBe(expected.at);
  if (expected.valid) expect(a.error).toBeUndefined();
  else if (expected.error) expect(a.error).toBe(expected.error);
  else
    expect(a.error?.message).toBe(
      `metrics collection failed for model ${a.modelId} in namespace ${a.namespace}`,
    );
}

describe('ModelMetricsCache keys', () => {
  it('parseKey(key(m, ns)) gives back any model id (":" included) and any namespace without ":"', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }).filter((ns) => !ns.includes(':')),
        (modelId, namespace) => {
          expect(ModelMetricsCache.parseKey(ModelMetricsCache.key(modelId, namespace))).toEqual({
            modelId,
            namespace,
          });
        },
      ),
    );
  });
});

describe('ModelMetricsCache against a reference model', () => {
  it('agrees on every result and counter for random operation sequences', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        ttlArb,
        fc.option(ttlArb, { nil: undefined }),
        fc.array(opArb, { maxLength: 120 }),
        (maxEntries, ttlMs, failureTtlMs, ops) => {
          let t = 1_700_000_000_000;
          const options = { maxEntries, ttlMs, failureTtlMs, now: () => t };
          if (!validTtls(ttlMs, failureTtlMs ?? ttlMs)) {
            expect(() => new ModelMetricsCache(options)).toThrow(RangeError);
            return;
          }
          const cache = new ModelMetricsCache(options);
          const model = new ReferenceModel(maxEntries, ttlMs, failureTtlMs);
          for (const op of ops) {
            switch (op.op) {
              case 'set': {
                const error = op.withError ? new Error('query failed') : undefined;
                // The cache copies its input: hand it an object we then scribble over.
                const input = structuredClone(op.metrics);
                cache.set(op.modelId, op.namespace, input, op.valid, error);
                input.load.arrivalRate = -1;
                input.ttftAverage = -1;
                model.set({
                  modelId: op.modelId,
                  namespace: op.namespace,
                  metrics: op.metrics,
                  valid: op.valid,
                  error: op.valid ? undefined : error,
                  at: t,
                });
                break;
              }
              case 'get':
                expectSameEntry(cache.get(op.modelId, op.namespace), model.get(op.modelId, op.namespace, t));
                break;
              case 'invalidate':
                cache.invalidate(op.modelId, op.namespace);
                model.invalidate(op.modelId, op.namespace);
                break;
              case 'clear':
                cache.clear();
                model.clear();
                break;
              case 'cleanup':
                expect(cache.cleanup()).toBe(model.cleanup(t));
                break;
              case 'getAll': {
                const all = cache.getAll();
                const keys = model.getAll(t);
                expect([...all.keys()]).toEqual(keys);
                for (const k of keys) expectSameEntry(all.get(k), model.entries.get(k));
                break;
              }
              case 'advance':
                t += op.ms;
                break;
              case 'setTtl':
                if (validTtls(op.ttl, op.failureTtl ?? op.ttl)) {
                  cache.setTtl(op.ttl, op.failureTtl);
                  model.setTtl(op.ttl, op.failureTtl);
                } else {
                  // Refused, and nothing changes (the stats comparison below checks the TTLs).
                  expect(() => cache.setTtl(op.ttl, op.failureTtl)).toThrow(RangeError);
                }
                break;
            }
            expect(cache.size).toBe(model.entries.size);
            expect(cache.stats()).toEqual(model.snapshot());
          }
          // Recency order of everything held, expired entries included, via a TTL long enough to see all.
          cache.setTtl(Number.MAX_SAFE_INTEGER);
          model.setTtl(Number.MAX_SAFE_INTEGER, undefined);
          expect([...cache.getAll().keys()]).toEqual(model.recency);
        },
      ),
      { numRuns: 400 },
    );
  });
});
