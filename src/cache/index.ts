export { abortable } from './abortable.js';
export { type CacheJanitor, type CacheJanitorOptions, startCacheJanitor } from './janitor.js';
export { ModelMetricsCache } from './model-metrics-cache.js';
export type { CacheStats, FetchResult, ModelMetricsCacheOptions } from './options.js';
export { DEFAULT_MAX_ENTRIES, DEFAULT_TTL_MS } from './options.js';
