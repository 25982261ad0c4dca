import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startCacheJanitor } from '../../src/cache/janitor.js';
import { ModelMetricsCache } from '../../src/cache/model-metrics-cache.js';

const metrics = {
  load: { arrivalRate: 1, avgInputTokens: 2, avgOutputTokens: 3 },
  ttftAverage: 4,
  itlAverage: 5,
};

describe('startCacheJanitor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('removes expired entries every TTL by default', () => {
    const cache = new ModelMetricsCache({ ttlMs: 10_000, now: () => Date.now() });
    const janitor = startCacheJanitor(cache);
    cache.set('a', 'ns', metrics);
    vi.advanceTimersByTime(5000);
    cache.set('b', 'ns', metrics);
    expect(cache.size).toBe(2);
    vi.advanceTimersByTime(5001); // t=10001: janitor ran at t=10000, 'a' was exactly 10 s old
    vi.advanceTimersByTime(9999); // t=20000: second round, 'a' and 'b' expired
    expect(cache.size).toBe(0);
    expect(cache.stats().evictions.expired).toBe(2);
    janitor.stop();
  });

  it('calls cleanup on its cadence, follows a live TTL change, never below 1 s', () => {
    const cache = { ttlMs: 3000, cleanup: vi.fn(() => 0) };
    const janitor = startCacheJanitor(cache);
    vi.advanceTimersByTime(2999);
    expect(cache.cleanup).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(1);
    expect(cache.cleanup).toHaveBeenCalledTimes(1);
    cache.ttlMs = 100; // shorter than the floor
    vi.advanceTimersByTime(3000); // the round already scheduled at the old TTL
    expect(cache.cleanup).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(999);
    expect(cache.cleanup).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1);
    expect(cache.cleanup).toHaveBeenCalledTimes(3);
    janitor.stop();
    vi.advanceTimersByTime(60_000);
    expect(cache.cleanup).toHaveBeenCalledTimes(3);
    janitor.stop(); // idempotent
  });

  it('its timer does not keep the process alive', () => {
    vi.useRealTimers();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const janitor = startCacheJanitor({ ttlMs: 60_000, cleanup: () => 0 });
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    janitor.stop();
  });

  it('uses a fixed interval when given one', () => {
    const cache = { ttlMs: 60_000, cleanup: vi.fn(() => 2) };
    const debug = vi.fn();
    const logger = { debug, info() {}, warn() {}, error() {}, child: () => logger };
    const janitor = startCacheJanitor(cache, { intervalMs: 5000, logger });
    vi.advanceTimersByTime(15_000);
    expect(cache.cleanup).toHaveBeenCalledTimes(3);
    expect(debug).toHaveBeenCalledWith({ removed: 2 }, 'expired cache entries removed');
    const timers = vi.getTimerCount();
    expect(timers).toBe(1);
    janitor.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps going when cleanup throws', () => {
    let calls = 0;
    const warn = vi.fn();
    const logger = { debug() {}, info() {}, warn, error() {}, child: () => logger };
    const janitor = startCacheJanitor(
      {
        ttlMs: 1000,
        cleanup: () => {
          calls++;
          throw new Error('boom');
        },
      },
      { logger },
    );
    vi.advanceTimersByTime(3000);
    expect(calls).toBe(3);
    expect(warn).toHaveBeenCalledTimes(3);
    janitor.stop();
  });
});

describe('startCacheJanitor with a TTL beyond what setTimeout holds', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not spin: a 30-day TTL (over 2^31-1 ms, which setTimeout turns into 1 ms) waits, not 1 ms rounds', () => {
    const cache = { ttlMs: 30 * 86_400_000, cleanup: vi.fn(() => 0) };
    const noWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const janitor = startCacheJanitor(cache);
    try {
      vi.advanceTimersByTime(60_000); // a spinning timer would have run 60 000 times
      expect(cache.cleanup).toHaveBeenCalledTimes(0);
      vi.advanceTimersByTime(2 ** 31 - 1 - 60_000);
      expect(cache.cleanup).toHaveBeenCalledTimes(1); // at setTimeout's longest delay
    } finally {
      janitor.stop();
      noWarning.mockRestore();
    }
  });

  it('does not spin on an interval that is not a number: it waits the 1 s floor', () => {
    const cache = { ttlMs: 1000, cleanup: vi.fn(() => 0) };
    const janitor = startCacheJanitor(cache, { intervalMs: Number.NaN });
    try {
      vi.advanceTimersByTime(999);
      expect(cache.cleanup).toHaveBeenCalledTimes(0);
      vi.advanceTimersByTime(1);
      expect(cache.cleanup).toHaveBeenCalledTimes(1);
    } finally {
      janitor.stop();
    }
  });
});
