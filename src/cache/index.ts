export type { CacheStats, ModelMetricsCacheOptions } from './model-metrics-cache.js';
export { DEFAULT_MAX_ENTRIES, DEFAULT_TTL_MS, ModelMetricsCache } from './model-metrics-cache.js';
