// The end-to-end demo, as a function: emulated vLLM pods, a real Prometheus scraping them (namespace
// added by relabelling, as a ServiceMonitor would), and the controller in local mode over
// VariantAutoscaling manifests, reading through the cache and the fleet collector. Each cycle
// yields what was read, what the emulator emitted, the cache's hits and misses, and the Prometheus
// calls as Prometheus itself counted them.
import type { CacheJanitor } from '../cache/index.js';
import type { FleetCollector } from '../collector/fleet-collector.js';
import { type Config, DEFAULT_CONFIG, derivedTtlMs } from '../config/index.js';
import { type LocalController, loadManifests } from '../controller/local.js';
import { parseDuration } from '../duration.js';
import {
  type EmulatorServer,
  loadEmulatorConfig,
  scrapeJob,
  startEmulatorServer,
  VllmEmulator,
} from '../emulator/index.js';
import { buildLocalPipeline } from '../pipeline/index.js';
import type { Runtime } from '../runtime.js';
import { silentLogger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/metrics.js';
import { parseListenAddress, startTelemetryServer, type TelemetryServer } from '../telemetry/server.js';
import type { CollectorObserver, LookupResult } from '../types.js';
import { withDeploymentArgs } from './deployment-args.js';
import { ClosedLoop } from './loop.js';
import { Recent } from './loop-tally.js';
import { type LocalPrometheus, startLocalPrometheus } from './prometheus.js';
import { applyScenario } from './scenarios.js';
import type { DemoCycle, DemoOptions, DemoResult, DemoRow, DemoSummary } from './types.js';

export type { DemoCycle, DemoInfo, DemoOptions, DemoResult, DemoRow, DemoSummary } from './types.js';

/** How many of its latest cycles a run returns (the summary counts them all). */
export const RECENT_CYCLES = 20;

/** Queries per model and namespace per cycle in the original design (5 instant queries). */
export const ORIGINAL_CALLS_PER_MODEL = 5;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function windowMs(window: string): number {
  try {
    const ms = parseDuration(window);
    if (ms >= 1000) return ms;
  } catch {
    // reported below
  }
  throw new Error(`window "${window}" must be a duration of at least 1s, like 30s or 1m`);
}

/** Relative error; an unknown reading (or truth) counts as entirely wrong unless both are unknown. */
function relError(actual: number | undefined, expected: number | undefined): number {
  if (actual === undefined || expected === undefined) return actual === expected ? 0 : 1;
  if (expected === 0) return actual === 0 ? 0 : 1;
  return Math.abs(actual / expected - 1);
}

/** Worst relative error of the read metrics against what the emulator emitted, per metric. */
export function cycleError(rows: DemoRow[]): DemoSummary['lastCycleError'] {
  const worst = { arrivalRate: 0, avgInputTokens: 0, avgOutputTokens: 0, ttft: 0, itl: 0 };
  let any = false;
  for (const r of rows) {
    if (!r.metrics || !r.emulated) continue;
    // A model without traffic in the window (scaled to zero, or idle) has nothing to read back:
    // an unknown reading there is right, not an error.
    if (!(r.emulated.load.arrivalRate > 0)) continue;
    any = true;
    const a = r.metrics;
    const e = r.emulated;
    // The emulator counts finished requests: compare them with the completions read (arrivals
    // also count the growth of requests in flight).
    const completions = a.load.completionRate ?? a.load.arrivalRate;
    worst.arrivalRate = Math.max(worst.arrivalRate, relError(completions, e.load.arrivalRate));
    worst.avgInputTokens = Math.max(
      worst.avgInputTokens,
      relError(a.load.avgInputTokens, e.load.avgInputTokens),
    );
    worst.avgOutputTokens = Math.max(
      worst.avgOutputTokens,
      relError(a.load.avgOutputTokens, e.load.avgOutputTokens),
    );
    worst.ttft = Math.max(worst.ttft, relError(a.ttftAverage, e.ttftAverage));
    worst.itl = Math.max(worst.itl, relError(a.itlAverage, e.itlAverage));
  }
  return any ? worst : undefined;
}

type Lookups = Record<LookupResult, number>;
const noLookups = (): Lookups => ({ hit: 0, miss: 0, failure_hit: 0, coalesced: 0 });

/**
 * Runs the demo until `durationMs` has passed or `signal` aborts, then stops everything it started
 * (Prometheus, the emulator's listener, the telemetry listener), on every path, errors included.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const progress = o.onProgress ?? (() => {});
  const logger = o.logger ?? silentLogger;
  const intervalMs = o.intervalMs ?? 5000;
  const window = o.window ?? '30s';
  const winMs = windowMs(window);
  const cacheTtlMs = o.cacheTtlMs ?? Math.min(derivedTtlMs(intervalMs), Math.max(100, intervalMs - 1000));
  const scrapeIntervalSeconds = o.scrapeIntervalSeconds ?? 1;
  const signal = o.signal;

  const loaded = typeof o.emulator === 'string' ? loadEmulatorConfig(o.emulator) : o.emulator;
  const scenarioConfig = o.scenario ? applyScenario(loaded, o.scenario) : loaded;
  // Read the manifests before starting anything: a wrong path fails at once, with its name.
  let manifests: ReturnType<typeof loadManifests>;
  try {
    manifests = loadManifests(o.manifests);
  } catch (err) {
    throw new Error(`cannot read manifests ${o.manifests}: ${(err as Error).message}`);
  }
  if (manifests.variants.length === 0) throw new Error(`no VariantAutoscalings in ${o.manifests}`);
  const config = withDeploymentArgs(scenarioConfig, manifests.deployments);
  const emulator = new VllmEmulator(config);
  for (const va of manifests.variants) {
    if (!emulator.model(va.spec?.modelID ?? '', va.metadata.namespace)) {
      progress(
        `note: VariantAutoscaling ${va.metadata.namespace}/${va.metadata.name} names model ${va.spec?.modelID}, which the emulator does not serve there: expect MetricsMissing`,
      );
    }
  }
  const telemetry = new Telemetry({ collectDefaultMetrics: false });

  // Lookups per model and namespace for the cycle under way; telemetry still gets every one.
  let cycleLookups = new Map<string, Lookups>();
  const totalLookups = noLookups();
  const observer: CollectorObserver = {
    lookup(result, modelId, namespace) {
      telemetry.lookup(result, modelId, namespace);
      const key = `${modelId}:${namespace}`;
      let l = cycleLookups.get(key);
      if (!l) {
        l = noLookups();
        cycleLookups.set(key, l);
      }
      l[result]++;
      totalLookups[result]++;
    },
    queryStarted: (kind) => telemetry.queryStarted(kind),
    queryFinished: (kind, outcome, seconds) => telemetry.queryFinished(kind, outcome, seconds),
  };

  let emuServer: EmulatorServer | undefined;
  let telemetryServer: TelemetryServer | undefined;
  let prometheus: LocalPrometheus | undefined;
  let runtime: Runtime | undefined;
  let janitor: CacheJanitor | undefined;
  // A run may go on until Ctrl-C: the summary's figures are kept as they go, and only the latest
  // cycles themselves.
  const cycles = new Recent<DemoCycle>(RECENT_CYCLES);
  let maxPromCalls = 0;
  let settled: DemoCycle | undefined;
  const started = Date.now();
  let loopStarted = started;
  try {
    emuServer = await startEmulatorServer(emulator, { logger });
    telemetryServer = await startTelemetryServer({
      address: o.metricsAddress ?? '127.0.0.1:0',
      registry: telemetry.registry,
      logger,
    });
    // Prometheus scrapes our own wva_* metrics too, so the Grafana dashboard works against it.
    const listenHost = parseListenAddress(o.metricsAddress ?? '127.0.0.1:0').host;
    const metricsHost =
      !listenHost || listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
    const metricsTarget = `${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${telemetryServer.port}`;
    // Discovery over HTTP: pods a scale adds or removes come and go as targets, as in Kubernetes.
    const job = scrapeJob({
      address: emuServer.address,
      targets: emulator.targets(),
      scrapeIntervalSeconds,
      discovery: 'http',
    });
    const selfJob = {
      job_name: 'wva-metrics',
      scrape_interval: `${scrapeIntervalSeconds}s`,
      static_configs: [{ targets: [metricsTarget] }],
    };
    const configYaml = [
      'global:',
      `  scrape_interval: ${scrapeIntervalSeconds}s`,
      `  evaluation_interval: ${scrapeIntervalSeconds}s`,
      'scrape_configs:',
      `  - ${JSON.stringify(job)}`,
      `  - ${JSON.stringify(selfJob)}`,
      '',
    ].join('\n');
    progress(
      `starting Prometheus (scrape every ${scrapeIntervalSeconds}s, ${emulator.pods.length} emulated pods)`,
    );
    prometheus = await startLocalPrometheus({
      configYaml,
      ...(o.prometheusBinary ? { binary: o.prometheusBinary } : {}),
      ...(signal ? { signal } : {}),
    });
    // The same pipeline as `run --manifests`, configured by the demo's own options, with the
    // emulator-backed actuation (the closed loop) as what scales.
    const demoConfig: Config = {
      ...DEFAULT_CONFIG,
      prometheus: { ...DEFAULT_CONFIG.prometheus, url: prometheus.url },
      cache: { ...DEFAULT_CONFIG.cache, ttlMs: cacheTtlMs, failureTtlMs: cacheTtlMs },
      collector: { ...DEFAULT_CONFIG.collector, window },
      reconcile: {
        ...DEFAULT_CONFIG.reconcile,
        intervalMs,
        stabilizationWindowMs: o.stabilizationWindowMs ?? 60_000,
        // Local mode has no Pod objects to measure start-up from: set it as an operator would
        // (WVA_POD_STARTUP) to the emulated pods' start-up.
        podStartupMs: config.startupDelay,
      },
    };
    const pipeline = buildLocalPipeline({
      config: demoConfig,
      logger,
      telemetry,
      observer,
      manifests: o.manifests,
      ...(o.closedLoop === false
        ? { decide: false }
        : {
            actuation: (collector: FleetCollector) =>
              new ClosedLoop({
                emulator,
                config,
                manifests,
                registry: telemetry.registry,
                collector,
                logger,
              }),
          }),
      // As `run` has it: saturation V1 is the floor under the SLO engine's decisions.
      saturationFloor: o.saturationFloor ?? true,
    });
    runtime = pipeline.runtime;
    const loop = pipeline.actuation;
    if (loop) loop.learnedViews = () => pipeline.engines.saturation.learner.views();
    // As `run` does: expired entries leave in the background.
    janitor = runtime.startJanitor();

    // Prometheus applies scrape targets a few seconds after start; wait for every one to be up,
    // via /api/v1/targets, which is not a query.
    progress('waiting for Prometheus to scrape every pod');
    const wanted = emulator.targets().length + 1;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (signal?.aborted) break;
      const h = await prometheus.targetHealth();
      if (h.up >= wanted) break;
      if (Date.now() > deadline)
        throw new Error(`Prometheus scraped only ${h.up} of ${wanted} targets after 30 s`);
      await sleep(250, signal);
    }
    const firstScrape = Date.now();

    const controller = pipeline.controller;
    const baseline = await prometheus.queryCalls();
    let lastCalls = baseline;
    let originalTotal = 0;
    o.onReady?.({
      loadStartedAt: new Date(emulator.startMs),
      prometheusUrl: prometheus.url,
      emulatorUrl: emuServer.url,
      metricsUrl: `http://${metricsTarget}/metrics`,
      pods: emulator.pods.length,
      models: emulator.models.length,
      variants: new Set(emulator.pods.map((p) => `${p.namespace}/${p.variant.name}`)).size,
      intervalMs,
      window,
      cacheTtlMs,
    });

    loopStarted = Date.now();
    while (!signal?.aborted) {
      cycleLookups = new Map();
      const cycleStart = Date.now();
      let report: Awaited<ReturnType<LocalController['runCycle']>>;
      try {
        report = await controller.runCycle(signal);
      } catch (err) {
        if (signal?.aborted) break;
        throw err;
      }
      const calls = await prometheus.queryCalls();
      emulator.sync();

      const groups = new Map<string, DemoRow>();
      for (const r of report.rows) {
        const key = `${r.modelId}:${r.namespace}`;
        let row = groups.get(key);
        if (!row) {
          const l = cycleLookups.get(key) ?? noLookups();
          const emulated = emulator.model(r.modelId, r.namespace)
            ? emulator.observed(r.modelId, r.namespace, winMs)
            : undefined;
          row = {
            modelId: r.modelId,
            namespace: r.namespace,
            variants: 0,
            replicas: 0,
            metrics: undefined,
            emulated,
            reason: r.condition?.reason ?? r.outcome,
            hits: l.hit,
            misses: l.miss,
            coalesced: l.coalesced,
            failureHits: l.failure_hit,
          };
          groups.set(key, row);
        }
        row.variants++;
        row.replicas += r.replicas ?? 0;
        if (!row.metrics && r.metrics) row.metrics = r.metrics;
      }
      const rows = [...groups.values()].sort(
        (a, b) => a.namespace.localeCompare(b.namespace) || a.modelId.localeCompare(b.modelId),
      );
      const warmingUp = Date.now() - firstScrape < winMs;
      // Cycles count for attainment once rates cover the window and a first scale-up could serve.
      const scored = !warmingUp && cycleStart - loopStarted >= config.startupDelay;
      const loopView = loop?.record(report, scored);
      const original = rows.length * ORIGINAL_CALLS_PER_MODEL;
      originalTotal += original;
      const cycle: DemoCycle = {
        index: cycles.total + 1,
        startedAt: new Date(cycleStart),
        durationMs: report.durationMs,
        warmingUp,
        rows,
        promCalls: calls - lastCalls,
        promCallsTotal: calls - baseline,
        originalCalls: original,
        originalCallsTotal: originalTotal,
        ...(loopView ? { loop: loopView } : {}),
      };
      lastCalls = calls;
      cycles.push(cycle);
      maxPromCalls = Math.max(maxPromCalls, cycle.promCalls);
      // Compare a cycle that queried (a cached cycle shows an older read against a newer window).
      if (!cycle.warmingUp && cycle.promCalls > 0) settled = cycle;
      o.onCycle?.(cycle);

      const elapsed = Date.now() - loopStarted;
      if (o.durationMs !== undefined && elapsed >= o.durationMs) break;
      const remaining =
        o.durationMs === undefined ? intervalMs : Math.min(intervalMs, o.durationMs - elapsed);
      await sleep(remaining, signal);
      if (o.durationMs !== undefined && Date.now() - loopStarted >= o.durationMs) break;
    }

    const lastErr = settled ? cycleError(settled.rows) : undefined;
    const summary: DemoSummary = {
      cycles: cycles.total,
      elapsedMs: Date.now() - loopStarted,
      promCallsTotal: cycles.list().at(-1)?.promCallsTotal ?? 0,
      maxPromCallsPerCycle: maxPromCalls,
      originalCallsTotal: originalTotal,
      lookups: { ...totalLookups },
      ...(lastErr ? { lastCycleError: lastErr } : {}),
      ...(loop
        ? {
            loop: loop.summary({
              endAt: new Date(),
              intervalMs,
              windowMs: winMs,
              warmupMs: Math.max(winMs, config.startupDelay),
            }),
          }
        : {}),
    };
    return { cycles: cycles.list(), summary };
  } finally {
    janitor?.stop();
    runtime?.prom.close();
    await Promise.allSettled([prometheus?.stop(), emuServer?.close(), telemetryServer?.close()]);
  }
}
