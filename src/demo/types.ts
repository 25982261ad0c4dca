// The demo's inputs and outputs: options, what each cycle shows and the closing summary.
import type { EmulatedMetrics, EmulatorConfig } from '../emulator/index.js';
import type { AggregateMetrics, Logger, LookupResult } from '../types.js';
import type { LoopSummary } from './loop.js';
import type { LoopCycle } from './loop-ledger.js';
import type { Scenario } from './scenarios.js';

export interface DemoOptions {
  /** VariantAutoscaling (+ Deployment) manifests: a file or directory. */
  manifests: string;
  /** Emulator config: a YAML path or a parsed config. */
  emulator: string | EmulatorConfig;
  /** Reconcile interval, default 5000. */
  intervalMs?: number;
  /** rate() window, default `30s`. */
  window?: string;
  /**
   * Cache TTL. Default: what `run` derives from the interval (half, at least 5 s), but below the
   * interval, so every cycle refreshes once and the table shows one call per cycle.
   */
  cacheTtlMs?: number;
  /** Scrape interval of the demo's Prometheus, seconds; default 1. */
  scrapeIntervalSeconds?: number;
  /** Ends the demo this long after the first cycle started; default: until `signal` aborts. */
  durationMs?: number;
  /** Prometheus binary; default `prometheus` on PATH. */
  prometheusBinary?: string;
  /** Listen address of the demo's own /metrics (wva_*), scraped by the demo's Prometheus. */
  metricsAddress?: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** Progress lines ("starting Prometheus..."). */
  onProgress?: (message: string) => void;
  /** Called after each cycle. */
  onCycle?: (cycle: DemoCycle) => void;
  /** Called once everything is up, before the first cycle. */
  onReady?: (info: DemoInfo) => void;
  /** Reshapes the emulator's load and sets the pods' start-up delay. */
  scenario?: Scenario;
  /**
   * The controller decides and scales the emulator's Deployments (default true); false: it only
   * reads and writes status, the fleet stays as configured.
   */
  closedLoop?: boolean;
  /** Saturation V1 as the floor under the SLO engine (default true, as `run`). */
  saturationFloor?: boolean;
  /** Scale-down stabilisation window of the demo's controller; default 60 s, to fit a demo. */
  stabilizationWindowMs?: number;
}

export interface DemoInfo {
  /** Time 0 of the load patterns (the emulator's start): a scenario's steps count from here. */
  loadStartedAt: Date;
  prometheusUrl: string;
  emulatorUrl: string;
  metricsUrl: string;
  pods: number;
  models: number;
  variants: number;
  intervalMs: number;
  window: string;
  cacheTtlMs: number;
}

export interface DemoRow {
  modelId: string;
  namespace: string;
  /** VariantAutoscalings of this model in this namespace. */
  variants: number;
  /** Sum of their Deployments' replicas. */
  replicas: number;
  /** What the controller read (through the cache); undefined when it had none. */
  metrics: AggregateMetrics | undefined;
  /** What the emulator emitted over the same window: the truth the read should match. */
  emulated: EmulatedMetrics | undefined;
  /** MetricsAvailable reason of the first variant. */
  reason: string;
  hits: number;
  misses: number;
  /** Lookups that joined a query already running (no query of their own). */
  coalesced: number;
  failureHits: number;
}

export interface DemoCycle {
  index: number;
  startedAt: Date;
  durationMs: number;
  /** True while the series are younger than the window (rate() reads low until then). */
  warmingUp: boolean;
  rows: DemoRow[];
  /** Measured: Prometheus' own /api/v1/query counter, this cycle and since the demo started. */
  promCalls: number;
  promCallsTotal: number;
  /** Computed, not measured: the original design's 5 queries per model and namespace per cycle. */
  originalCalls: number;
  originalCallsTotal: number;
  /** The closed loop's view of the cycle (absent with closedLoop false). */
  loop?: LoopCycle;
}

export interface DemoSummary {
  cycles: number;
  elapsedMs: number;
  promCallsTotal: number;
  maxPromCallsPerCycle: number;
  originalCallsTotal: number;
  lookups: Record<LookupResult, number>;
  /** Worst relative error over the rows of the last settled cycle, per metric (0.01 = 1%). */
  lastCycleError?: {
    arrivalRate: number;
    avgInputTokens: number;
    avgOutputTokens: number;
    ttft: number;
    itl: number;
  };
  /** SLO attainment, replica-minutes and scaling actions, ours and a static peak fleet's. */
  loop?: LoopSummary;
}

export interface DemoResult {
  /** The latest cycles (at most RECENT_CYCLES: a run until Ctrl-C keeps no more); onCycle sees every one. */
  cycles: DemoCycle[];
  summary: DemoSummary;
}
