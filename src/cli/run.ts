// `wva-metrics run`: the controller. In a cluster (default) it watches VariantAutoscalings and
// writes their status, with leader election; with --manifests it reads VariantAutoscalings (and
// Deployments) from YAML and prints what each status would be, every cycle (or once).
import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { startCacheJanitor } from '../cache/janitor.js';
import { ModelMetricsCache } from '../cache/model-metrics-cache.js';
import { FleetCollector } from '../collector/fleet-collector.js';
import { type Config, ConfigReloader, type ConfigTargets, ConfigWatcher } from '../config/index.js';
import { Controller } from '../controller/controller.js';
import { ConfigMapWatch } from '../controller/kube.js';
import { type CycleReport, cycleReportJson, formatCycleTable, LocalController } from '../controller/local.js';
import { clusterOptimizer, localOptimizer, type OptimizerParts } from '../controller/optimizer-setup.js';
import { apiErrorCode, apiErrorMessage } from '../controller/status-writer.js';
import { PrometheusClient } from '../prometheus/client.js';
import { Telemetry } from '../telemetry/metrics.js';
import { startTelemetryServer, type TelemetryServer } from '../telemetry/server.js';
import type { Logger } from '../types.js';
import { ClusterActuation } from './actuation.js';
import { parseTime } from './collect.js';
import { addConfigOptions, configSourcesFromOptions, loadCliConfig } from './config-flags.js';
import { action, UsageError } from './errors.js';

export const DEFAULT_NAMESPACE = 'workload-variant-autoscaler-system';
export const CONFIGMAP_NAME = 'variantautoscaling-config';

interface RunFlags extends Record<string, unknown> {
  manifests?: string;
  output: string;
  once?: boolean;
  time?: string;
  kubeconfig?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  leaseName: string;
  configmap: boolean;
}

/**
 * Parts shared by both modes, built from one validated Config. `watched`: the cluster mode's
 * watched namespaces, so the fleet query reads only their series (local mode reads every namespace
 * its manifests name).
 */
function buildParts(cfg: Config, logger: Logger, evaluationTime?: Date, watched?: readonly string[]) {
  const telemetry = new Telemetry();
  const cache = new ModelMetricsCache({
    ttlMs: cfg.cache.ttlMs,
    failureTtlMs: cfg.cache.failureTtlMs,
    maxEntries: cfg.cache.maxEntries,
  });
  telemetry.bindCache(cache);
  const prom = new PrometheusClient({ ...cfg.prometheus, logger });
  const collector = new FleetCollector({
    prom,
    cache,
    window: cfg.collector.window,
    ...(watched && watched.length > 0 ? { namespaces: watched } : {}),
    staleAfterMs: cfg.collector.staleAfterMs,
    observer: telemetry,
    logger,
    ...(evaluationTime ? { evaluationTime: () => evaluationTime } : {}),
  });
  return { telemetry, cache, prom, collector };
}

/** What a live reload applies to: the shared parts, and through `onChange` what each mode applies itself. */
function reloadTargets(
  parts: ReturnType<typeof buildParts>,
  logger: Logger,
  onChange: NonNullable<ConfigTargets['onChange']>,
): ConfigTargets {
  return {
    cache: parts.cache,
    collector: parts.collector,
    rootLogger: logger as unknown as { level: string },
    telemetry: parts.telemetry,
    logger,
    onChange,
  };
}

/** Live reload of the optimizer's keys; returns those applied. */
function reconfigureOptimizer(opt: OptimizerParts, n: Config, keys: string[]): string[] {
  opt.optimizer.configure(n.reconcile);
  return keys.filter((k) => k === 'WVA_STABILIZATION_WINDOW' || k === 'WVA_KV_CACHE_THRESHOLD');
}

/** Resolves on the first SIGTERM/SIGINT; a second one exits at once. */
function untilSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (sig: string) => {
      if (seen) process.exit(130);
      seen = true;
      logger.info({ signal: sig }, 'shutting down');
      resolve(sig);
    };
    process.once('SIGTERM', () => on('SIGTERM'));
    process.once('SIGINT', () => on('SIGINT'));
  });
}

function printer(output: string): (r: CycleReport) => void {
  return (r) => {
    process.stdout.write(output === 'json' ? `${JSON.stringify(cycleReportJson(r))}\n` : formatCycleTable(r));
  };
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description(
      'Run the controller: reconcile VariantAutoscalings in the cluster (status.currentAlloc and the MetricsAvailable condition), or with --manifests print what their status would be.',
    )
    .option(
      '--manifests <file|dir>',
      'local mode: VariantAutoscalings (+ optional Deployments) from YAML, no cluster',
    )
    .option('--output <format>', 'local mode: table or json (one JSON document per cycle)', 'table')
    .option('--once', 'local mode: one cycle, print, exit')
    .option(
      '--time <unix|rfc3339>',
      'evaluate PromQL at this instant instead of now (replaying recorded data)',
    )
    .option(
      '--kubeconfig <file>',
      'cluster mode: kubeconfig (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)',
    )
    .option('--no-leader-elect', 'cluster mode: reconcile without a Lease (only for a single replica)')
    .option(
      '--lease-namespace <ns>',
      `cluster mode: namespace of the Lease and the ConfigMap (default: $POD_NAMESPACE or ${DEFAULT_NAMESPACE})`,
    )
    .option('--lease-name <name>', 'cluster mode: Lease name', 'wva-metrics-controller')
    .option('--no-configmap', `cluster mode: do not read/watch the ${CONFIGMAP_NAME} ConfigMap`);
  addConfigOptions(cmd);
  cmd.action(
    action(async (opts: RunFlags) => {
      if (!['table', 'json'].includes(opts.output)) {
        throw new UsageError(`--output must be table or json, got "${opts.output}"`);
      }
      if (opts.once && !opts.manifests) throw new UsageError('--once needs --manifests (local mode)');
      const evaluationTime = opts.time !== undefined ? parseTime(opts.time) : undefined;
      const sources = configSourcesFromOptions(opts);
      if (opts.manifests) await runLocal(opts, sources, evaluationTime);
      else await runCluster(opts, sources, evaluationTime);
    }),
  );
}

async function runLocal(
  opts: RunFlags,
  sources: ReturnType<typeof configSourcesFromOptions>,
  evaluationTime: Date | undefined,
): Promise<void> {
  const { config: cfg, logger } = loadCliConfig(sources, { longRunning: !opts.once });
  const parts = buildParts(cfg, logger, evaluationTime);
  const print = printer(opts.output);
  const opt = localOptimizer(cfg.reconcile, logger);
  const local = new LocalController({
    manifests: opts.manifests as string,
    collector: parts.collector,
    intervalMs: cfg.reconcile.intervalMs,
    concurrency: cfg.reconcile.concurrency,
    logger,
    telemetry: parts.telemetry,
    optimizer: opt.optimizer,
    optimizerConfig: opt.store,
  });
  if (opts.once) {
    let report: CycleReport;
    try {
      report = await local.runCycle();
    } catch (err) {
      throw new UsageError(`cannot read manifests: ${(err as Error).message}`);
    } finally {
      parts.prom.close();
    }
    print(report);
    return;
  }
  // Fail fast on unreadable manifests before starting anything long-lived.
  try {
    const { loadManifests } = await import('../controller/local.js');
    loadManifests(opts.manifests as string);
  } catch (err) {
    throw new UsageError(`cannot read manifests: ${(err as Error).message}`);
  }
  const server = await startTelemetryServer({
    address: cfg.telemetry.address,
    registry: parts.telemetry.registry,
    logger,
  });
  const janitor = startCacheJanitor(parts.cache, { logger });
  const watcher = sources.file
    ? new ConfigWatcher(
        { sources: { ...sources, file: sources.file }, current: cfg },
        reloadTargets(parts, logger, (n, _p, keys) => {
          const done: string[] = [];
          if (keys.includes('GLOBAL_OPT_INTERVAL')) {
            local.intervalMs = n.reconcile.intervalMs;
            done.push('GLOBAL_OPT_INTERVAL');
          }
          done.push(...reconfigureOptimizer(opt, n, keys));
          return done;
        }),
      )
    : undefined;
  await parts.collector.refresh().catch(() => {});
  local.start(print);
  await untilSignal(logger);
  await shutdown(
    [
      () => local.stop(),
      () => janitor.stop(),
      () => watcher?.close(),
      () => server.close(),
      () => parts.prom.close(),
    ],
    logger,
  );
  exitSoon();
}

async function shutdown(steps: Array<() => unknown>, logger: Logger): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'shutdown step failed');
    }
  }
}

async function runCluster(
  opts: RunFlags,
  sources: ReturnType<typeof configSourcesFromOptions>,
  evaluationTime: Date | undefined,
): Promise<void> {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot load kubeconfig: ${(err as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new UsageError('no Kubernetes cluster configured (use --kubeconfig or run in a pod)');
  const namespace = opts.leaseNamespace ?? process.env.POD_NAMESPACE ?? DEFAULT_NAMESPACE;

  // The ConfigMap is a layer of the configuration: read it once now, then watch it.
  let configMapData: Record<string, string> | undefined;
  if (opts.configmap) {
    try {
      const cm = await kc
        .makeApiClient(CoreV1Api)
        .readNamespacedConfigMap({ name: CONFIGMAP_NAME, namespace });
      configMapData = cm.data ?? {};
    } catch (err) {
      if (apiErrorCode(err) !== 404) {
        throw new Error(
          `cannot read ConfigMap ${namespace}/${CONFIGMAP_NAME}: ${apiErrorMessage(err)} (check that the service account may get it, or pass --no-configmap)`,
        );
      }
    }
  }
  const startSources = { ...sources, ...(configMapData ? { configMapData } : {}) };
  const { config: cfg, logger } = loadCliConfig(startSources, { longRunning: true });
  const parts = buildParts(cfg, logger, evaluationTime, cfg.reconcile.namespaces);
  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const place = { identity, namespace, watchConfigMap: opts.configmap };
  const actuation = new ClusterActuation(kc, cfg, place, parts, logger);
  const opt = clusterOptimizer(
    kc,
    namespace,
    { ...cfg.reconcile, minReplicasDefault: (va) => actuation.minReplicas(va) },
    logger,
  );
  const controller = new Controller({
    optimizer: opt.optimizer,
    kubeConfig: kc,
    collector: parts.collector,
    namespaces: cfg.reconcile.namespaces,
    intervalMs: cfg.reconcile.intervalMs,
    concurrency: cfg.reconcile.concurrency,
    logger,
    telemetry: parts.telemetry,
    leaderElection: opts.leaderElect ? { namespace, name: opts.leaseName, identity } : false,
    actuator: actuation.actuator,
  });
  actuation.bindSource(controller.source);
  actuation.bindUnitCosts(() => opt.store.unitCosts.value);
  const targets = reloadTargets(parts, logger, (n, _p, keys) => {
    const done: string[] = [];
    if (keys.includes('GLOBAL_OPT_INTERVAL')) done.push('GLOBAL_OPT_INTERVAL');
    if (keys.includes('WVA_RECONCILE_CONCURRENCY')) done.push('WVA_RECONCILE_CONCURRENCY');
    controller.configure({ intervalMs: n.reconcile.intervalMs, concurrency: n.reconcile.concurrency });
    done.push(...reconfigureOptimizer(opt, n, keys), ...actuation.reload(n, keys));
    return done;
  });
  // One reload path for a --config file and the ConfigMap: new ConfigMap data replaces that source
  // and every source is resolved again (file, ConfigMap, env, flags), so neither undoes the other.
  const reloader = startSources.file
    ? new ConfigWatcher({ sources: { ...startSources, file: startSources.file }, current: cfg }, targets)
    : new ConfigReloader(cfg, targets, startSources);
  let lastData = JSON.stringify(configMapData ?? null);
  const cmWatch = opts.configmap
    ? new ConfigMapWatch({
        kubeConfig: kc,
        namespace,
        name: CONFIGMAP_NAME,
        logger,
        onData: (data) => {
          const key = JSON.stringify(data ?? null);
          if (key === lastData) return;
          lastData = key;
          reloader.updateSources({ configMapData: data ?? {} });
        },
      })
    : undefined;

  let server: TelemetryServer | undefined;
  try {
    server = await startTelemetryServer({
      address: cfg.telemetry.address,
      registry: parts.telemetry.registry,
      ready: () => controller.ready(),
      logger,
    });
  } catch (err) {
    throw new Error(`cannot listen on ${cfg.telemetry.address}: ${(err as Error).message}`);
  }
  const janitor = startCacheJanitor(parts.cache, { logger });
  cmWatch?.start();
  actuation.start();
  opt.start();
  await controller.start();
  logger.info(
    { identity, namespace, namespaces: cfg.reconcile.namespaces, telemetryPort: server.port },
    'controller started',
  );
  await untilSignal(logger);
  const t0 = performance.now();
  await shutdown(
    [
      () => controller.stop(4000),
      () => actuation.stop(),
      () => cmWatch?.stop(),
      () => opt.stop(),
      () => (reloader instanceof ConfigWatcher ? reloader.close() : undefined),
      () => janitor.stop(),
      () => server?.close(),
      () => parts.prom.close(),
    ],
    logger,
  );
  logger.info(
    { ms: Math.round(performance.now() - t0), handles: process.getActiveResourcesInfo() },
    'stopped',
  );
  exitSoon();
}

/**
 * Everything is stopped; idle keep-alive sockets of the HTTP clients could still hold the event
 * loop for tens of seconds, longer than a pod's grace period should be spent. Exit shortly.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 200).unref();
}
