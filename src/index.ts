// The public API of wva-metrics (see README "Library API").

export type { CacheStats, ModelMetricsCacheOptions } from './cache/index.js';
export { ModelMetricsCache } from './cache/index.js';
export * from './collector/index.js';
export * from './prometheus/index.js';
export type * from './types.js';
