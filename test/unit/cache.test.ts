import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelMetricsCache, type ModelMetricsCacheOptions } from '../../src/cache/index.js';
import type { AggregateMetrics } from '../../src/types.js';

function metrics(n = 1): AggregateMetrics {
  return {
    load: { arrivalRate: n * 60, avgInputTokens: n * 100.5, avgOutputTokens: n * 200.25 },
    ttftAverage: n * 12.5,
    itlAverage: n * 3.25,
  };
}

/** A cache on a fake clock starting at t = 1 000 000 ms. */
function setup(options: ModelMetricsCacheOptions = {}) {
  const clock = { t: 1_000_000 };
  const cache = new ModelMetricsCache({ now: () => clock.t, ...options });
  return { cache, clock };
}

describe('ModelMetricsCache options', () => {
  it('defaults to a 30 s TTL, failure TTL = TTL, 10 000 entries', () => {
    const { cache } = setup();
    expect(cache.ttlMs).toBe(30_000);
    expect(cache.failureTtlMs).toBe(30_000);
    expect(cache.maxEntries).toBe(10_000);
    expect(cache.size).toBe(0);
  });

  it('takes a plain number as the TTL in ms, like the original constructor', () => {
    const cache = new ModelMetricsCache(60_000);
    expect(cache.ttlMs).toBe(60_000);
    expect(cache.failureTtlMs).toBe(60_000);
    expect(new ModelMetricsCache().ttlMs).toBe(30_000);
  });

  it.each([0, -1, -30_000, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'refuses the invalid TTL %s with a RangeError naming the option and what is allowed',
    (ttlMs) => {
      expect(() => setup({ ttlMs })).toThrow(RangeError);
      expect(() => setup({ ttlMs })).toThrow(
        new RegExp(`cache ttlMs ${String(ttlMs)} is not valid: use a positive, finite number of ms`),
      );
      expect(() => new ModelMetricsCache(ttlMs)).toThrow(RangeError);
    },
  );

  it('keeps a failure TTL shorter than the TTL', () => {
    const { cache } = setup({ ttlMs: 30_000, failureTtlMs: 5_000 });
    expect(cache.failureTtlMs).toBe(5_000);
  });

  it('refuses a failure TTL longer than the TTL', () => {
    expect(() => setup({ ttlMs: 10_000, failureTtlMs: 20_000 })).toThrow(
      'cache failureTtlMs 20000 is longer than ttlMs 10000: a failure cannot outlive a success',
    );
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses the invalid failure TTL %s',
    (failureTtlMs) => {
      expect(() => setup({ ttlMs: 10_000, failureTtlMs })).toThrow(/cache failureTtlMs .* is not valid/);
    },
  );

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses the invalid maxEntries %s',
    (maxEntries) => {
      expect(() => setup({ maxEntries })).toThrow(RangeError);
      expect(() => setup({ maxEntries })).toThrow(/cache maxEntries .* is not valid: use a positive integer/);
    },
  );
});

describe('ModelMetricsCache keys', () => {
  it('builds "modelId:namespace" keys', () => {
    expect(ModelMetricsCache.key('meta-llama/Llama-2-7b', 'production')).toBe(
      'meta-llama/Llama-2-7b:production',
    );
  });

  it('accepts a model id holding ":" and splits a key at its last ":"', () => {
    const { cache } = setup();
    cache.set('registry:5000/org/model:v2', 'prod', metrics(1));
    expect(cache.get('registry:5000/org/model:v2', 'prod')?.ttftAverage).toBe(12.5);
    const key = ModelMetricsCache.key('registry:5000/org/model:v2', 'prod');
    expect(ModelMetricsCache.parseKey(key)).toEqual({
      modelId: 'registry:5000/org/model:v2',
      namespace: 'prod',
    });
    expect([...cache.getAll().keys()]).toEqual([key]);
  });

  it.each([
    ['model', ''],
    ['model', 'team:a'],
    ['model', ':'],
  ])('rejects the namespace of (%j, %j), naming it and the rule', (modelId, namespace) => {
    const { cache } = setup();
    const rule = new RegExp(`namespace ${JSON.stringify(namespace)} is not valid: .*DNS label.*':'`);
    expect(() => cache.set(modelId, namespace, metrics())).toThrow(TypeError);
    expect(() => cache.set(modelId, namespace, metrics())).toThrow(rule);
    expect(() => cache.get(modelId, namespace)).toThrow(rule);
    expect(() => cache.invalidate(modelId, namespace)).toThrow(rule);
    expect(() => ModelMetricsCache.key(modelId, namespace)).toThrow(rule);
    expect(cache.size).toBe(0);
    expect(cache.stats().misses).toBe(0);
  });

  it('rejects an empty model id and non-strings', () => {
    const { cache } = setup();
    expect(() => cache.set('', 'ns', metrics())).toThrow(
      /model id "" is not valid: it must be a non-empty string/,
    );
    expect(() => cache.get('', 'ns')).toThrow(TypeError);
    expect(() => cache.get(undefined as unknown as string, 'ns')).toThrow(/model id undefined/);
    expect(() => cache.get('m', 42 as unknown as string)).toThrow(/namespace 42 is not valid/);
    expect(() => ModelMetricsCache.parseKey('no-colon')).toThrow(TypeError);
    expect(() => ModelMetricsCache.parseKey(':ns')).toThrow(/model id ""/);
  });

  it('cannot mix up pairs whose concatenations would collide', () => {
    const { cache } = setup();
    cache.set('a:b', 'c', metrics(1));
    // ('a', 'b:c') would make the same "a:b:c" key: such a namespace is refused.
    expect(() => cache.set('a', 'b:c', metrics(2))).toThrow(TypeError);
    cache.set('a', 'c', metrics(3));
    expect(cache.get('a:b', 'c')?.ttftAverage).toBe(12.5);
    expect(cache.get('a', 'c')?.ttftAverage).toBe(37.5);
  });
});

describe('ModelMetricsCache get / set (ported from the original suite)', () => {
  it('returns what was set, stamped with the clock', () => {
    const { cache, clock } = setup();
    cache.set('meta-llama/Llama-2-7b', 'production', metrics(2));
    const entry = cache.get('meta-llama/Llama-2-7b', 'production');
    expect(entry).toEqual({
      modelId: 'meta-llama/Llama-2-7b',
      namespace: 'production',
      load: { arrivalRate: 120, avgInputTokens: 201, avgOutputTokens: 400.5 },
      ttftAverage: 25,
      itlAverage: 6.5,
      valid: true,
      error: undefined,
      updatedAtMs: clock.t,
    });
    expect(entry?.lastUpdated).toEqual(new Date(clock.t));
    expect(cache.size).toBe(1);
  });

  it('misses a key never set', () => {
    const { cache } = setup();
    expect(cache.get('nope', 'default')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, expiredReads: 0 });
  });

  it('expires entries after the TTL (fresh at exactly the TTL) and removes them on read', () => {
    const { cache, clock } = setup({ ttlMs: 1_000 });
    cache.set('m', 'ns', metrics());
    clock.t += 1_000;
    expect(cache.get('m', 'ns')).toBeDefined();
    clock.t += 1;
    expect(cache.get('m', 'ns')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.stats()).toMatchObject({
      hits: 1,
      misses: 1,
      expiredReads: 1,
      evictions: { expired: 1, capacity: 0, invalidated: 0, cleared: 0 },
    });
    // Gone, so a second read is a plain miss.
    expect(cache.get('m', 'ns')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ misses: 2, expiredReads: 1 });
  });

  it('keeps namespaces apart for one model', () => {
    const { cache } = setup();
    cache.set('ibm/granite-13b', 'production', metrics(1));
    cache.set('ibm/granite-13b', 'staging', metrics(2));
    expect(cache.size).toBe(2);
    expect(cache.get('ibm/granite-13b', 'production')?.load.arrivalRate).toBe(60);
    expect(cache.get('ibm/granite-13b', 'staging')?.load.arrivalRate).toBe(120);
    expect(cache.get('ibm/granite-13b', 'dev')).toBeUndefined();
    cache.invalidate('ibm/granite-13b', 'production');
    expect(cache.get('ibm/granite-13b', 'production')).toBeUndefined();
    expect(cache.get('ibm/granite-13b', 'staging')?.load.arrivalRate).toBe(120);
  });

  it('unlinks any namespace of a model (first, middle, last) and keeps the others', () => {
    for (const drop of ['a', 'b', 'c', 'd']) {
      const { cache } = setup();
      for (const [i, ns] of ['a', 'b', 'c', 'd'].entries()) cache.set('m', ns, metrics(i + 1));
      cache.invalidate('m', drop);
      for (const [i, ns] of ['a', 'b', 'c', 'd'].entries()) {
        expect(cache.get('m', ns)?.load.arrivalRate).toBe(ns === drop ? undefined : (i + 1) * 60);
      }
      cache.set('m', drop, metrics(9));
      expect(cache.get('m', drop)?.load.arrivalRate).toBe(540);
      expect(cache.size).toBe(4);
    }
  });

  it('overwrites an entry without counting an eviction, and restamps it', () => {
    const { cache, clock } = setup({ ttlMs: 1_000 });
    cache.set('m', 'ns', metrics(1));
    clock.t += 900;
    cache.set('m', 'ns', metrics(2));
    clock.t += 900;
    expect(cache.get('m', 'ns')?.load.arrivalRate).toBe(120);
    expect(cache.size).toBe(1);
    expect(cache.stats()).toMatchObject({ sets: 2, hits: 1, evictions: { expired: 0, capacity: 0 } });
  });
});

describe('ModelMetricsCache failed entries', () => {
  it('returns a failed entry with its error until the failure TTL, then expires it', () => {
    const { cache, clock } = setup({ ttlMs: 30_000, failureTtlMs: 5_000 });
    const error = new Error('Prometheus unreachable');
    cache.set('m', 'ns', metrics(0), false, error);
    const entry = cache.get('m', 'ns');
    expect(entry?.valid).toBe(false);
    expect(entry?.error).toBe(error);
    clock.t += 5_000;
    expect(cache.get('m', 'ns')?.error).toBe(error);
    clock.t += 1;
    expect(cache.get('m', 'ns')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, failureHits: 2, misses: 1, expiredReads: 1 });
  });

  it('gives a failed entry set without an error a generic one naming the pair', () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(), false);
    expect(cache.get('m', 'ns')?.error?.message).toBe(
      'metrics collection failed for model m in namespace ns',
    );
  });

  it('wraps a thrown non-Error in an Error', () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(), false, 'socket hang up' as unknown as Error);
    const error = cache.get('m', 'ns')?.error;
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toBe('socket hang up');
  });

  it('drops an error passed with a valid entry', () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(), true, new Error('ignored'));
    expect(cache.get('m', 'ns')?.error).toBeUndefined();
  });

  it('replaces a failed entry by a valid one', () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(), false, new Error('down'));
    cache.set('m', 'ns', metrics(2), true);
    expect(cache.get('m', 'ns')).toMatchObject({ valid: true, error: undefined, ttftAverage: 25 });
  });
});

describe('ModelMetricsCache immutability', () => {
  it('does not keep the caller input by reference', () => {
    const { cache } = setup();
    const input = metrics(1);
    cache.set('m', 'ns', input);
    input.load.arrivalRate = 999;
    input.ttftAverage = 999;
    input.load = { arrivalRate: 1, avgInputTokens: 1, avgOutputTokens: 1 };
    const entry = cache.get('m', 'ns');
    expect(entry?.load).toEqual({ arrivalRate: 60, avgInputTokens: 100.5, avgOutputTokens: 200.25 });
    expect(entry?.ttftAverage).toBe(12.5);
    expect(entry?.load).not.toBe(input.load);
  });

  it('hands out frozen entries: writes throw and change nothing', () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(1));
    const entry = cache.get('m', 'ns')!;
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry.load)).toBe(true);
    expect(() => {
      entry.ttftAverage = 0;
    }).toThrow(TypeError);
    expect(() => {
      entry.load.arrivalRate = 0;
    }).toThrow(TypeError);
    expect(() => {
      entry.valid = false;
    }).toThrow(TypeError);
    expect(() => {
      entry.lastUpdated = new Date(0);
    }).toThrow(TypeError);
    entry.lastUpdated.setTime(0);
    expect(() =>
      Object.defineProperty(Object.getPrototypeOf(entry), 'lastUpdated', { get: () => new Date(0) }),
    ).toThrow(TypeError);
    const again = cache.get('m', 'ns')!;
    expect(again.ttftAverage).toBe(12.5);
    expect(again.load.arrivalRate).toBe(60);
    expect(again.valid).toBe(true);
    expect(again.lastUpdated.getTime()).toBe(1_000_000);
  });

  it('getAll returns a snapshot: changing the map or its entries leaves the cache alone', () => {
    const { cache } = setup();
    cache.set('m1', 'ns', metrics(1));
    cache.set('m2', 'ns', metrics(2));
    const all = cache.getAll();
    expect([...all.keys()]).toEqual(['m1:ns', 'm2:ns']);
    all.delete('m1:ns');
    all.set('m3:ns', all.get('m2:ns')!);
    expect(() => {
      all.get('m2:ns')!.load.arrivalRate = 0;
    }).toThrow(TypeError);
    expect(cache.size).toBe(2);
    expect(cache.get('m1', 'ns')).toBeDefined();
    expect(cache.get('m3', 'ns')).toBeUndefined();
    expect(cache.get('m2', 'ns')?.load.arrivalRate).toBe(120);
  });

  it('serialises to JSON with lastUpdated and the error message', () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(1), false, new Error('boom'));
    expect(JSON.parse(JSON.stringify(cache.get('m', 'ns')))).toEqual({
      modelId: 'm',
      namespace: 'ns',
      load: { arrivalRate: 60, avgInputTokens: 100.5, avgOutputTokens: 200.25 },
      ttftAverage: 12.5,
      itlAverage: 3.25,
      lastUpdated: new Date(1_000_000).toISOString(),
      valid: false,
      error: 'boom',
    });
  });
});

describe('ModelMetricsCache LRU bound', () => {
  it('evicts the least recently used entry; get and set refresh recency', () => {
    const { cache } = setup({ maxEntries: 3 });
    cache.set('a', 'ns', metrics(1));
    cache.set('b', 'ns', metrics(2));
    cache.set('c', 'ns', metrics(3));
    expect(cache.get('a', 'ns')).toBeDefined(); // order now b, c, a
    cache.set('d', 'ns', metrics(4)); // evicts b
    expect([...cache.getAll().keys()]).toEqual(['c:ns', 'a:ns', 'd:ns']);
    cache.set('c', 'ns', metrics(5)); // order a, d, c
    cache.set('e', 'ns', metrics(6)); // evicts a
    expect([...cache.getAll().keys()]).toEqual(['d:ns', 'c:ns', 'e:ns']);
    expect(cache.get('b', 'ns')).toBeUndefined();
    expect(cache.get('a', 'ns')).toBeUndefined();
    expect(cache.size).toBe(3);
    expect(cache.stats().evictions).toEqual({ expired: 0, capacity: 2, invalidated: 0, cleared: 0 });
  });

  it('counts an expired entry pushed out by capacity as expired, not capacity', () => {
    const { cache, clock } = setup({ maxEntries: 2, ttlMs: 1_000 });
    cache.set('a', 'ns', metrics());
    clock.t += 500;
    cache.set('b', 'ns', metrics());
    clock.t += 600; // a expired, b fresh
    cache.set('c', 'ns', metrics()); // pushes out a
    cache.set('d', 'ns', metrics()); // pushes out b (fresh)
    expect(cache.stats().evictions).toMatchObject({ expired: 1, capacity: 1 });
  });

  it('holds one entry when maxEntries is 1', () => {
    const { cache } = setup({ maxEntries: 1 });
    cache.set('a', 'ns', metrics(1));
    cache.set('a', 'other', metrics(2));
    expect(cache.get('a', 'ns')).toBeUndefined();
    expect(cache.get('a', 'other')?.load.arrivalRate).toBe(120);
    expect(cache.size).toBe(1);
  });

  it('grows past its first slots and keeps the newest maxEntries', () => {
    const { cache } = setup({ maxEntries: 50 });
    for (let i = 0; i < 200; i++) cache.set(`model-${i}`, `ns-${i % 7}`, metrics(i));
    expect(cache.size).toBe(50);
    for (let i = 0; i < 200; i++) {
      expect(cache.get(`model-${i}`, `ns-${i % 7}`)?.load.arrivalRate).toBe(i < 150 ? undefined : i * 60);
    }
    expect(cache.stats().evictions.capacity).toBe(150);
  });
});

describe('ModelMetricsCache getAll / cleanup / invalidate / clear / size', () => {
  it('getAll lists fresh entries only, failed ones within their failure TTL, without side effects', () => {
    const { cache, clock } = setup({ ttlMs: 10_000, failureTtlMs: 2_000 });
    cache.set('old', 'ns', metrics());
    clock.t += 5_000;
    cache.set('failed', 'ns', metrics(), false);
    cache.set('new', 'ns', metrics());
    expect([...cache.getAll().keys()]).toEqual(['old:ns', 'failed:ns', 'new:ns']);
    clock.t += 2_001; // failed expired
    expect([...cache.getAll().keys()]).toEqual(['old:ns', 'new:ns']);
    clock.t += 3_000; // old expired
    expect([...cache.getAll().keys()]).toEqual(['new:ns']);
    expect(cache.size).toBe(3);
    const { hits, failureHits, misses, expiredReads, evictions } = cache.stats();
    expect({ hits, failureHits, misses, expiredReads, expired: evictions.expired }).toEqual({
      hits: 0,
      failureHits: 0,
      misses: 0,
      expiredReads: 0,
      expired: 0,
    });
  });

  it('cleanup removes the expired entries and returns how many', () => {
    const { cache, clock } = setup({ ttlMs: 1_000, failureTtlMs: 500 });
    cache.set('a', 'ns', metrics());
    cache.set('b', 'ns', metrics(), false);
    clock.t += 600;
    cache.set('c', 'ns', metrics());
    expect(cache.cleanup()).toBe(1); // b
    clock.t += 500;
    expect(cache.cleanup()).toBe(1); // a
    expect(cache.cleanup()).toBe(0);
    expect(cache.size).toBe(1);
    expect(cache.get('c', 'ns')).toBeDefined();
    expect(cache.stats().evictions.expired).toBe(2);
  });

  it('cleanup of many expired entries leaves the fresh ones reachable', () => {
    const { cache, clock } = setup({ ttlMs: 1_000 });
    for (let i = 0; i < 30; i++) cache.set(`m${i % 5}`, `ns${i}`, metrics(i));
    clock.t += 1_001;
    for (let i = 0; i < 30; i += 3) cache.set(`m${i % 5}`, `ns${i}`, metrics(i));
    expect(cache.cleanup()).toBe(20);
    for (let i = 0; i < 30; i++) expect(cache.get(`m${i % 5}`, `ns${i}`) !== undefined).toBe(i % 3 === 0);
  });

  it('invalidate removes one entry and counts it; a missing key is a no-op', () => {
    const { cache } = setup();
    cache.set('a', 'ns', metrics());
    cache.set('b', 'ns', metrics());
    cache.invalidate('a', 'ns');
    cache.invalidate('a', 'ns');
    cache.invalidate('zzz', 'ns');
    expect(cache.size).toBe(1);
    expect(cache.get('a', 'ns')).toBeUndefined();
    expect(cache.get('b', 'ns')).toBeDefined();
    expect(cache.stats().evictions.invalidated).toBe(1);
  });

  it('clear drops everything, counts each entry, and the cache works afterwards', () => {
    const { cache } = setup({ maxEntries: 20 });
    for (let i = 0; i < 20; i++) cache.set(`m${i}`, 'ns', metrics(i));
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.getAll().size).toBe(0);
    expect(cache.get('m1', 'ns')).toBeUndefined();
    expect(cache.stats().evictions.cleared).toBe(20);
    cache.clear();
    expect(cache.stats().evictions.cleared).toBe(20);
    cache.set('m1', 'ns', metrics(3));
    expect(cache.get('m1', 'ns')?.load.arrivalRate).toBe(180);
    expect(cache.size).toBe(1);
  });

  it('size counts expired entries until they are read or cleaned up (as the original)', () => {
    const { cache, clock } = setup({ ttlMs: 100 });
    cache.set('a', 'ns', metrics());
    cache.set('b', 'ns', metrics());
    clock.t += 101;
    expect(cache.size).toBe(2);
    cache.get('a', 'ns');
    expect(cache.size).toBe(1);
    cache.cleanup();
    expect(cache.size).toBe(0);
  });

  it('stats is a snapshot, not a live view', () => {
    const { cache } = setup({ ttlMs: 5_000, failureTtlMs: 1_000, maxEntries: 7 });
    const before = cache.stats();
    cache.set('a', 'ns', metrics());
    cache.get('a', 'ns');
    expect(before).toEqual({
      size: 0,
      maxEntries: 7,
      ttlMs: 5_000,
      failureTtlMs: 1_000,
      hits: 0,
      failureHits: 0,
      misses: 0,
      expiredReads: 0,
      sets: 0,
      evictions: { expired: 0, capacity: 0, invalidated: 0, cleared: 0 },
    });
    expect(cache.stats()).toMatchObject({ size: 1, hits: 1, sets: 1 });
  });
});

describe('ModelMetricsCache setTtl (live reload)', () => {
  it('applies a new TTL to entries already cached, both ways', () => {
    const { cache, clock } = setup({ ttlMs: 10_000 });
    cache.set('a', 'ns', metrics());
    clock.t += 6_000;
    cache.setTtl(5_000);
    expect(cache.ttlMs).toBe(5_000);
    expect(cache.getAll().size).toBe(0);
    cache.setTtl(20_000);
    expect(cache.get('a', 'ns')).toBeDefined();
    cache.setTtl(5_000);
    expect(cache.get('a', 'ns')).toBeUndefined();
  });

  it('sets the failure TTL, defaulting it to the new TTL', () => {
    const { cache } = setup({ ttlMs: 10_000, failureTtlMs: 1_000 });
    cache.setTtl(20_000, 2_000);
    expect([cache.ttlMs, cache.failureTtlMs]).toEqual([20_000, 2_000]);
    cache.setTtl(15_000);
    expect([cache.ttlMs, cache.failureTtlMs]).toEqual([15_000, 15_000]);
    expect(cache.stats()).toMatchObject({ ttlMs: 15_000, failureTtlMs: 15_000 });
  });

  it('validates like the constructor and changes nothing when it refuses', () => {
    const { cache } = setup({ ttlMs: 10_000, failureTtlMs: 2_000 });
    expect(() => cache.setTtl(-1)).toThrow(/cache ttlMs -1 is not valid/);
    expect(() => cache.setTtl(1_000, 9_000)).toThrow(/longer than ttlMs/);
    expect(() => cache.setTtl(1_000, Number.NaN)).toThrow(/cache failureTtlMs NaN is not valid/);
    expect([cache.ttlMs, cache.failureTtlMs]).toEqual([10_000, 2_000]);
  });

  it('keeps the recency order when it restamps the entries', () => {
    const { cache } = setup({ ttlMs: 10_000, maxEntries: 3 });
    cache.set('a', 'ns', metrics(1));
    cache.set('b', 'ns', metrics(2));
    cache.set('c', 'ns', metrics(3));
    cache.get('a', 'ns'); // order b, c, a
    cache.setTtl(20_000);
    expect([...cache.getAll().keys()]).toEqual(['b:ns', 'c:ns', 'a:ns']);
    cache.set('d', 'ns', metrics(4)); // evicts b
    expect(cache.get('b', 'ns')).toBeUndefined();
  });
});

describe('ModelMetricsCache with many concurrent async users', () => {
  it('stays consistent when 100 tasks interleave sets, gets, invalidations and cleanups', async () => {
    const { cache, clock } = setup({ ttlMs: 1_000_000 });
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
    const users = Array.from({ length: 100 }, async (_, u) => {
      for (let round = 0; round < 20; round++) {
        cache.set(`model-${u % 10}`, `ns-${u}`, metrics(u + round));
        await tick();
        // Own key: always its latest write (no one else writes it).
        expect(cache.get(`model-${u % 10}`, `ns-${u}`)?.load.arrivalRate).toBe((u + round) * 60);
        cache.set('shared', 'ns', metrics(u));
        const shared = cache.get('shared', 'ns');
        expect(shared?.valid).toBe(true);
        if (round % 5 === 4) cache.invalidate(`model-${u % 10}`, `ns-${u}`);
        if (u % 25 === 0) cache.cleanup();
        clock.t += 1;
        await tick();
      }
    });
    await Promise.all(users);
    // Each user invalidated its own key last in round 19.
    expect(cache.size).toBe(1);
    const stats = cache.stats();
    expect(stats.sets).toBe(100 * 20 * 2);
    expect(stats.hits).toBe(100 * 20 * 2);
    expect(stats.evictions.invalidated).toBe(100 * 4);
    expect(stats.misses).toBe(0);
  });
});

describe('ModelMetricsCache on the default clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stamps entries with Date.now()', () => {
    const cache = new ModelMetricsCache();
    const before = Date.now();
    cache.set('m', 'ns', metrics());
    const stamp = cache.get('m', 'ns')!.lastUpdated.getTime();
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });

  it('ages entries on the monotonic clock: a wall clock set back or forward changes no expiry', () => {
    vi.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
    const cache = new ModelMetricsCache({ ttlMs: 1_000 });
    cache.set('m', 'ns', metrics());
    vi.setSystemTime(Date.now() - 3_600_000); // an hour back: the entry does not get younger
    vi.advanceTimersByTime(1_001);
    expect(cache.get('m', 'ns')).toBeUndefined();
    expect(cache.stats().expiredReads).toBe(1);
    cache.set('m', 'ns', metrics());
    vi.setSystemTime(Date.now() + 7_200_000); // two hours forward: nor older
    expect(cache.get('m', 'ns')).toBeDefined();
    // lastUpdated is for people: the wall time of the set, whatever came after.
    expect(cache.get('m', 'ns')!.lastUpdated.toISOString()).toBe('2024-12-31T23:00:01.001Z');
  });

  it('reads an injected clock on every operation (fake timers through now)', () => {
    vi.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
    const cache = new ModelMetricsCache({ ttlMs: 1_000, now: () => Date.now() });
    cache.set('m', 'ns', metrics());
    expect(cache.get('m', 'ns')).toBeDefined();
    vi.setSystemTime(Date.now() + 1_001);
    expect(cache.get('m', 'ns')).toBeUndefined();
  });
});

describe('ModelMetricsCache fetch (one shared load per pair)', () => {
  const deferred = () => {
    let resolve!: (m: AggregateMetrics) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<AggregateMetrics>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it('answers a fresh entry without loading; a miss loads once for every concurrent caller', async () => {
    const { cache } = setup();
    cache.set('m', 'ns', metrics(1));
    const load = vi.fn(() => Promise.resolve(metrics(9)));
    expect(await cache.fetch('m', 'ns', load)).toMatchObject({ result: 'hit', entry: { ttftAverage: 12.5 } });
    expect(load).not.toHaveBeenCalled();

    const pending = deferred();
    const shared = vi.fn(() => pending.promise);
    const calls = Array.from({ length: 100 }, () => cache.fetch('cold', 'ns', shared));
    pending.resolve(metrics(2));
    const answers = await Promise.all(calls);
    expect(shared).toHaveBeenCalledTimes(1);
    expect(answers.map((a) => a.result).sort()).toEqual(['miss', ...Array(99).fill('coalesced')].sort());
    expect(new Set(answers.map((a) => a.entry.ttftAverage))).toEqual(new Set([25]));
    expect(cache.get('cold', 'ns')).toMatchObject({ valid: true, ttftAverage: 25 });
    expect(cache.stats()).toMatchObject({ sets: 2, size: 2 });
  });

  it('stores a failed load as a failed entry for the failure TTL, answered without another load', async () => {
    const { cache, clock } = setup({ ttlMs: 30_000, failureTtlMs: 5_000 });
    const error = new Error('Prometheus unreachable');
    const load = vi.fn(() => Promise.reject(error));
    const first = await cache.fetch('m', 'ns', load);
    expect(first).toMatchObject({ result: 'miss', entry: { valid: false } });
    expect(first.entry.error).toBe(error);
    expect(await cache.fetch('m', 'ns', load)).toMatchObject({ result: 'failure_hit' });
    clock.t += 5_001;
    expect((await cache.fetch('m', 'ns', load)).result).toBe('miss');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('lets one caller stop waiting without failing the others; an invalidation meanwhile is not undone', async () => {
    const { cache } = setup();
    const pending = deferred();
    const ac = new AbortController();
    const leaving = cache.fetch('m', 'ns', () => pending.promise, ac.signal);
    const staying = cache.fetch('m', 'ns', () => pending.promise);
    ac.abort(new Error('caller gave up'));
    await expect(leaving).rejects.toThrow('caller gave up');
    cache.invalidate('m', 'ns');
    pending.resolve(metrics(3));
    expect(await staying).toMatchObject({ result: 'coalesced', entry: { ttftAverage: 37.5 } });
    expect(cache.get('m', 'ns')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('checks the pair before loading', async () => {
    const { cache } = setup();
    const load = vi.fn(() => Promise.resolve(metrics()));
    await expect(cache.fetch('m', 'a:b', load)).rejects.toThrow(TypeError);
    expect(load).not.toHaveBeenCalled();
  });
});
