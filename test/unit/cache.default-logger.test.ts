import { expect, it, vi } from 'vitest';
import type { Logger } from '../../src/types.js';

const warnings: Array<{ fields: object; msg?: string }> = [];
const fakeLogger: Logger = {
  debug() {},
  info() {},
  warn(fields, msg) {
    warnings.push({ fields, msg });
  },
  error() {},
  child: () => fakeLogger,
};
const createLogger = vi.fn(() => fakeLogger);
vi.mock('../../src/telemetry/logger.js', () => ({ createLogger }));

const { ModelMetricsCache } = await import('../../src/cache/index.js');

it('makes a logger only when it has something to warn about', () => {
  new ModelMetricsCache({ ttlMs: 5_000 });
  expect(createLogger).not.toHaveBeenCalled();
  const cache = new ModelMetricsCache(0);
  expect(cache.ttlMs).toBe(30_000);
  expect(createLogger).toHaveBeenCalledTimes(1);
  expect(warnings).toEqual([
    {
      fields: { ttlMs: '0', usingTtlMs: 30_000 },
      msg: 'cache TTL must be a positive, finite number of milliseconds; using 30000',
    },
  ]);
});
