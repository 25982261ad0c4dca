// 1 000 000 distinct keys through the cache (issue 7): the cache never holds more than maxEntries,
// evicts the rest by capacity, and the heap after GC is the same after 1 000 000 keys as after the
// first maxEntries (memory bounded by maxEntries, not by the keys ever seen).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';

const KEYS = Number(process.env.WVA_CACHE_KEYS ?? 1_000_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const metrics = (i: number) => ({
  load: { arrivalRate: i, avgInputTokens: 100, avgOutputTokens: 20 },
  ttftAverage: 50,
  itlAverage: 10,
});

describe(`${KEYS} distinct keys through the cache`, () => {
  for (const maxEntries of [10_000, 100_000]) {
    it(`maxEntries ${maxEntries}: size and heap stay bounded`, () => {
      const base = heapAfterGc();
      const cache = new ModelMetricsCache({ ttlMs: 3_600_000, maxEntries });
      for (let i = 0; i < maxEntries; i++) cache.set(`org/model-${i}`, `ns-${i % 97}`, metrics(i));
      const full = heapAfterGc();
      const t0 = performance.now();
      let peakSize = 0;
      for (let i = maxEntries; i < KEYS; i++) {
        cache.set(`org/model-${i}`, `ns-${i % 97}`, metrics(i));
        if ((i & 0xffff) === 0) peakSize = Math.max(peakSize, cache.size);
        // Reads in between, hitting recent keys (the LRU order moves too).
        if ((i & 7) === 0) cache.get(`org/model-${i - 3}`, `ns-${(i - 3) % 97}`);
      }
      const ms = performance.now() - t0;
      const after = heapAfterGc();
      const stats = cache.stats();
      const perEntry = (full - base) / maxEntries;
      console.log(
        `CACHE ${JSON.stringify({
          keys: KEYS,
          maxEntries,
          size: stats.size,
          capacityEvictions: stats.evictions.capacity,
          heapFullMiB: +((full - base) / 2 ** 20).toFixed(1),
          heapAfterAllKeysMiB: +((after - base) / 2 ** 20).toFixed(1),
          bytesPerEntry: Math.round(perEntry),
          nsPerSet: Math.round((ms * 1e6) / (KEYS - maxEntries)),
        })}`,
      );
      expect(cache.size).toBe(maxEntries);
      expect(peakSize).toBeLessThanOrEqual(maxEntries);
      expect(stats.evictions.capacity).toBe(KEYS - maxEntries);
      // The newest key is there, the oldest long gone.
      expect(cache.get(`org/model-${KEYS - 1}`, `ns-${(KEYS - 1) % 97}`)?.load.arrivalRate).toBe(KEYS - 1);
      expect(cache.get('org/model-0', 'ns-0')).toBeUndefined();
      // Heap after all keys within 10 % (+2 MiB for noise) of the heap when first full.
      expect(after - base).toBeLessThan((full - base) * 1.1 + 2 * 2 ** 20);
      cache.clear();
    });
  }
});
