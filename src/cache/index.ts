export { abortable } from './abortable.js';
export { type CacheJanitor, type CacheJanitorOptions, startCacheJanitor } from './janitor.js';
export type { CacheStats, FetchResult, ModelMetricsCacheOptions } from './model-metrics-cache.js';
export { DEFAULT_MAX_ENTRIES, DEFAULT_TTL_MS, ModelMetricsCache } from './model-metrics-cache.js';
