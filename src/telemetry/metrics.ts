// The wva_* metrics: declared once, small fixed label sets (never a model name as a label: a fleet of
// models would become unbounded series). Cache numbers are read from the cache itself at scrape time,
// so they cannot drift from what the cache did.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CollectorObserver, LookupResult, QueryKind, QueryOutcome } from '../types.js';

export const LOOKUP_RESULTS: readonly LookupResult[] = ['hit', 'miss', 'failure_hit', 'coalesced'];
export const QUERY_KINDS: readonly QueryKind[] = ['model', 'fleet', 'availability'];
export const QUERY_OUTCOMES: readonly QueryOutcome[] = ['success', 'error'];
export const EVICTION_REASONS = ['expired', 'capacity', 'invalidated', 'cleared'] as const;
export type EvictionReason = (typeof EVICTION_REASONS)[number];
export type CycleOutcome = 'success' | 'error';
export type ReloadOutcome = 'success' | 'error';
export type StatusWriteOutcome = 'written' | 'unchanged' | 'error';

/** What telemetry reads of the cache (ModelMetricsCache.stats() has this shape and more). */
export interface CacheStatsSource {
  stats(): {
    size: number;
    maxEntries: number;
    ttlMs: number;
    failureTtlMs: number;
    evictions: Record<EvictionReason, number>;
  };
}

export interface TelemetryOptions {
  /** Default: a new Registry of its own (tests read exactly what they moved). */
  registry?: Registry;
  /** process_* and nodejs_* metrics of prom-client. Default true. */
  collectDefaultMetrics?: boolean;
}

// Prometheus instant queries: a few ms on a healthy server, up to the client timeout (10 s) when not.
const QUERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CYCLE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Counts what the collector, cache, controller and config reloads do. Pass it as the collector's
 * `observer`; call `bindCache` once with the running cache.
 */
export class Telemetry implements CollectorObserver {
  readonly registry: Registry;
  private cache: CacheStatsSource | undefined;

  private readonly lookups: Counter<'result'>;
  private readonly queries: Counter<'kind' | 'outcome'>;
  private readonly queryDuration: Histogram<'kind'>;
  private readonly inFlight: Gauge<'kind'>;
  private readonly cycles: Counter<'outcome'>;
  private readonly cycleDuration: Histogram;
  private readonly reloads: Counter<'outcome'>;
  private readonly lastReloadSuccess: Gauge;
  private readonly lastReloadTime: Gauge;
  private readonly statusWrites: Counter<'outcome'>;

  constructor(options: TelemetryOptions = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    // Read by the collect() callbacks below; an arrow keeps `this` the Telemetry.
    const stats = () => this.cache?.stats();

    this.lookups = new Counter({
      name: 'wva_cache_lookups_total',
      help: 'Cached metric lookups by result: hit (fresh valid entry), miss (queried Prometheus), failure_hit (fresh failed entry, no query), coalesced (joined a query already running).',
      labelNames: ['result'],
      registers,
    });
    for (const result of LOOKUP_RESULTS) this.lookups.inc({ result }, 0);

    new Gauge({
      name: 'wva_cache_entries',
      help: 'Entries held in the model metrics cache, valid and failed, fresh or not yet cleaned up.',
      registers,
      collect() {
        this.set(stats()?.size ?? 0);
      },
    });
    new Gauge({
      name: 'wva_cache_max_entries',
      help: 'Capacity of the model metrics cache; the least recently used entry is evicted beyond it.',
      registers,
      collect() {
        this.set(stats()?.maxEntries ?? 0);
      },
    });
    new Gauge({
      name: 'wva_cache_ttl_seconds',
      help: 'How long a cached entry stays fresh, by entry kind: valid (successful collection) or failed.',
      labelNames: ['entry'],
      registers,
      collect() {
        const s = stats();
        this.set({ entry: 'valid' }, (s?.ttlMs ?? 0) / 1000);
        this.set({ entry: 'failed' }, (s?.failureTtlMs ?? 0) / 1000);
      },
    });
    new Counter({
      name: 'wva_cache_evictions_total',
      help: 'Entries removed from the cache by reason: expired (cleanup of stale entries), capacity (LRU bound), invalidated, cleared.',
      labelNames: ['reason'],
      registers,
      collect() {
        const evictions = stats()?.evictions;
        // The cache keeps the running totals; mirror them (reset + inc is how a Counter is set).
        this.reset();
        for (const reason of EVICTION_REASONS) this.inc({ reason }, evictions?.[reason] ?? 0);
      },
    });

    this.queries = new Counter({
      name: 'wva_prometheus_queries_total',
      help: 'Prometheus instant queries by kind (model: one model, fleet: all models in one query, availability: metrics presence check) and outcome.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.queryDuration = new Histogram({
      name: 'wva_prometheus_query_duration_seconds',
      help: 'Duration of Prometheus queries by kind, including failed ones.',
      labelNames: ['kind'],
      buckets: QUERY_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({
      name: 'wva_prometheus_queries_in_flight',
      help: 'Prometheus queries started and not yet finished, by kind.',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of QUERY_KINDS) {
      this.inFlight.set({ kind }, 0);
      for (const outcome of QUERY_OUTCOMES) this.queries.inc({ kind, outcome }, 0);
    }

    this.cycles = new Counter({
      name: 'wva_collection_cycles_total',
      help: 'Reconcile/collection cycles by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.cycleDuration = new Histogram({
      name: 'wva_collection_cycle_duration_seconds',
      help: 'Duration of whole reconcile/collection cycles.',
      buckets: CYCLE_BUCKETS,
      registers,
    });
    for (const outcome of ['success', 'error']) this.cycles.inc({ outcome }, 0);

    this.reloads = new Counter({
      name: 'wva_config_reloads_total',
      help: 'Live configuration reloads by outcome; on error the previous configuration stays in force.',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['success', 'error']) this.reloads.inc({ outcome }, 0);
    this.lastReloadSuccess = new Gauge({
      name: 'wva_config_last_reload_successful',
      help: '1 if the last configuration reload (or the initial load) succeeded, 0 if it was refused.',
      registers,
    });
    this.lastReloadSuccess.set(1);
    this.lastReloadTime = new Gauge({
      name: 'wva_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last configuration applied (the initial load counts).',
      registers,
    });
    this.lastReloadTime.set(Date.now() / 1000);

    this.statusWrites = new Counter({
      name: 'wva_status_writes_total',
      help: 'VariantAutoscaling status updates by outcome: written (patched), unchanged (no patch needed), error.',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['written', 'unchanged', 'error']) this.statusWrites.inc({ outcome }, 0);

    if (options.collectDefaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** Cache gauges and eviction counters read this cache's stats() at every scrape. */
  bindCache(cache: CacheStatsSource): void {
    this.cache = cache;
  }

  // CollectorObserver: must never throw into the collector.
  lookup(result: LookupResult, _modelId?: string, _namespace?: string): void {
    if (LOOKUP_RESULTS.includes(result)) this.lookups.inc({ result });
  }

  queryStarted(kind: QueryKind): void {
    if (QUERY_KINDS.includes(kind)) this.inFlight.inc({ kind });
  }

  queryFinished(kind: QueryKind, outcome: QueryOutcome, seconds: number): void {
    if (!QUERY_KINDS.includes(kind) || !QUERY_OUTCOMES.includes(outcome)) return;
    this.inFlight.dec({ kind });
    this.queries.inc({ kind, outcome });
    if (Number.isFinite(seconds) && seconds >= 0) this.queryDuration.observe({ kind }, seconds);
  }

  cycleFinished(outcome: CycleOutcome, seconds: number): void {
    if (outcome !== 'success' && outcome !== 'error') return;
    this.cycles.inc({ outcome });
    if (Number.isFinite(seconds) && seconds >= 0) this.cycleDuration.observe(seconds);
  }

  configReloaded(outcome: ReloadOutcome): void {
    if (outcome !== 'success' && outcome !== 'error') return;
    this.reloads.inc({ outcome });
    this.lastReloadSuccess.set(outcome === 'success' ? 1 : 0);
    if (outcome === 'success') this.lastReloadTime.set(Date.now() / 1000);
  }

  statusWrite(outcome: StatusWriteOutcome): void {
    if (outcome !== 'written' && outcome !== 'unchanged' && outcome !== 'error') return;
    this.statusWrites.inc({ outcome });
  }

  /** The exposition text, as served at /metrics. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
