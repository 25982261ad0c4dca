// `wva-metrics run`: the controller. In a cluster (default) it watches VariantAutoscalings and
// writes their status, with leader election; with --manifests it reads VariantAutoscalings (and
// Deployments) from YAML and prints what each status would be, every cycle (or once).
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { ConfigReloader, configMapNames, UPSTREAM_CONFIGMAP } from '../config/index.js';
import { ConfigMapWatch } from '../controller/kube.js';
import type { CycleReport } from '../controller/local.js';
import { buildClusterPipeline, buildLocalPipeline } from '../pipeline/index.js';
import { startTelemetryServer, type TelemetryServer } from '../telemetry/server.js';
import type { Logger } from '../types.js';
import { addConfigOptions, configSourcesFromOptions, loadCliConfig } from './config-flags.js';
import { cycleReportJson, formatCycleTable } from './cycle-report.js';
import { action, UsageError } from './errors.js';
import { readConfigMap } from './read-configmap.js';
import { type ShutdownSignals, watchShutdownSignals } from './signals.js';
import { parseTime } from './time.js';

export const DEFAULT_NAMESPACE = 'workload-variant-autoscaler-system';
/** Upstream's name; the older `variantautoscaling-config` is read when it is absent. */
export const CONFIGMAP_NAME = UPSTREAM_CONFIGMAP;

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
  learnedFile?: string;
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
    .option('--learned-file <file>', 'local mode: keep what was learned in this file (default: not kept)')
    .option(
      '--time <unix|rfc3339>',
      'local mode: evaluate PromQL at this instant instead of now (replaying recorded data)',
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
      // First of all: a signal during anything below (ConfigMap read, warm-up, --once) is handled.
      const signals = watchShutdownSignals();
      try {
        await runCommand(opts, signals);
      } finally {
        signals.dispose();
      }
    }),
  );
}

async function runCommand(opts: RunFlags, signals: ShutdownSignals): Promise<void> {
  if (!['table', 'json'].includes(opts.output)) {
    throw new UsageError(`--output must be table or json, got "${opts.output}"`);
  }
  if (opts.once && !opts.manifests) throw new UsageError('--once needs --manifests (local mode)');
  if (opts.time !== undefined && !opts.manifests) {
    throw new UsageError(
      '--time needs --manifests (local mode): in a cluster the controller would publish and scale from a pinned past instant; leave --time out to read Prometheus now',
    );
  }
  const evaluationTime = opts.time !== undefined ? parseTime(opts.time) : undefined;
  const sources = configSourcesFromOptions(opts);
  if (opts.manifests) await runLocal(opts, sources, evaluationTime, signals);
  else await runCluster(opts, sources, evaluationTime, signals);
}

async function runLocal(
  opts: RunFlags,
  sources: ReturnType<typeof configSourcesFromOptions>,
  evaluationTime: Date | undefined,
  signals: ShutdownSignals,
): Promise<void> {
  const { config: cfg, logger } = loadCliConfig(sources, { longRunning: !opts.once });
  signals.useLogger(logger);
  if (cfg.actuation.mode === 'scale')
    logger.warn({}, 'local mode scales nothing: WVA_ACTUATOR=scale ignored');
  const pipeline = buildLocalPipeline({
    config: cfg,
    logger,
    manifests: opts.manifests as string,
    namespace: process.env.POD_NAMESPACE ?? DEFAULT_NAMESPACE,
    ...(evaluationTime ? { evaluationTime } : {}),
    ...(opts.learnedFile ? { learnedFile: opts.learnedFile } : {}),
  });
  const { runtime: parts, controller: local } = pipeline;
  const slo = pipeline.engines.saturation;
  const print = printer(opts.output);
  if (opts.once) {
    let report: CycleReport | undefined;
    try {
      report = await local.runCycle(signals.signal);
    } catch (err) {
      if (!signals.signal.aborted) throw new UsageError(`cannot read manifests: ${(err as Error).message}`);
    } finally {
      await local.stop();
      await slo.flush();
      parts.prom.close();
    }
    // Interrupted: the cycle did not finish, so there is no table; the exit code says why.
    if (signals.signal.aborted || !report) process.exitCode = signals.exitCode ?? 1;
    else print(report);
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
  const janitor = parts.startJanitor();
  // Reloads follow the --config file (local mode reads no ConfigMap).
  const watcher = new ConfigReloader(cfg, pipeline.reloadHooks(), sources, {});
  logger.info(
    { url: parts.prom.url, timeoutMs: parts.prom.timeoutMs },
    'warming the cache: one fleet query to Prometheus',
  );
  await parts.collector.refresh(signals.signal).catch(() => {});
  if (!signals.signal.aborted) local.start(print);
  await signals.received;
  await shutdown(
    [
      () => local.stop(),
      () => slo.flush(),
      () => janitor.stop(),
      () => watcher.close(),
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
  signals: ShutdownSignals,
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

  // The ConfigMap is a layer of the configuration: read it once now, then watch it. Upstream's
  // name (or CONFIG_MAP_NAME) first; without it, the older name, which is then the one watched.
  let configMapData: Record<string, string> | undefined;
  const names = configMapNames(process.env).main;
  let configMapName = names[0] as string;
  if (opts.configmap) {
    for (const name of names) {
      configMapData = await readConfigMap(kc, namespace, name, signals);
      if (signals.signal.aborted) return;
      if (configMapData) {
        configMapName = name;
        break;
      }
    }
  }
  const startSources = { ...sources, ...(configMapData ? { configMapData } : {}) };
  const { config: cfg, logger } = loadCliConfig(startSources, { longRunning: true });
  signals.useLogger(logger);
  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const pipeline = buildClusterPipeline({
    kubeConfig: kc,
    config: cfg,
    logger,
    identity,
    namespace,
    watchConfigMap: opts.configmap,
    leaseName: opts.leaderElect ? opts.leaseName : false,
    ...(evaluationTime ? { evaluationTime } : {}),
  });
  const { runtime: parts, controller } = pipeline;
  const targets = pipeline.reloadHooks();
  // One reload path for a --config file and the ConfigMap: new ConfigMap data replaces that source
  // and every source is resolved again (file, ConfigMap, env, flags), so neither undoes the other.
  const reloader = new ConfigReloader(cfg, targets, startSources, {});
  let lastData = JSON.stringify(configMapData ?? null);
  const cmWatch = opts.configmap
    ? new ConfigMapWatch({
        kubeConfig: kc,
        namespace,
        name: configMapName,
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
  const janitor = parts.startJanitor();
  cmWatch?.start();
  await pipeline.start();
  logger.info(
    {
      identity,
      namespace,
      namespaces: cfg.reconcile.namespaces,
      telemetryPort: server.port,
      waitingFor: 'the informers to list VariantAutoscalings and Deployments (then /readyz is ready)',
    },
    'controller started',
  );
  await signals.received;
  const t0 = performance.now();
  await shutdown(
    [
      ...pipeline.stopSteps(),
      () => cmWatch?.stop(),
      () => reloader.close(),
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
