// The pipeline of `run` in a cluster: collector via the cache, informers (source), optimizer
// ConfigMaps, actuator, engines, status writer, GPU limiter and scale from zero, then the
// controller that drives every cycle. Each part gets what it reads at construction. Three
// closures point the other way, resolved once everything exists: the fleet query asks the
// actuator for its retention periods, an informer event enqueues its key on the controller, and
// the writer writes only while the controller leads.
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterActuation } from '../cli/actuation.js';
import type { Config, ReloadHooks } from '../config/index.js';
import { watchUpstreamConfigMaps } from '../controller/config-copies.js';
import { Controller } from '../controller/controller.js';
import { KubeSource } from '../controller/kube.js';
import { clusterOptimizerConfig } from '../controller/optimizer-setup.js';
import { saturationZeroSource } from '../controller/saturation-zero.js';
import { ConfigMapLearnedStore } from '../controller/slo-setup.js';
import { KubeStatusWriter } from '../controller/status-writer.js';
import { parseDuration } from '../duration.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import type { Logger } from '../types.js';
import { gpuParts, scaleFromZeroParts } from './cluster-parts.js';
import { buildEngines } from './engines.js';

export interface ClusterPipelineOptions {
  kubeConfig: KubeConfig;
  config: Config;
  logger: Logger;
  /** This replica's name (Events, the Lease). */
  identity: string;
  /** The controller's namespace: the Lease and the shared ConfigMaps. */
  namespace: string;
  /** false: no ConfigMap reads (--no-configmap). */
  watchConfigMap: boolean;
  /** The Lease's name; false: no election (a single replica). */
  leaseName: string | false;
  evaluationTime?: Date;
}

export interface ClusterPipeline {
  readonly runtime: Runtime;
  readonly controller: Controller;
  /** Starts the watches, then the controller (informers, election, cycles). */
  start(): Promise<void>;
  /** Stops everything started, the controller first; each step on its own (a failure stops none). */
  stopSteps(): Array<() => unknown>;
  /** What a live reload applies to: the shared parts, the optimizer, the controller and the actuator. */
  reloadHooks(): ReloadHooks;
}

export function buildClusterPipeline(o: ClusterPipelineOptions): ClusterPipeline {
  const { kubeConfig: kc, config: cfg, logger, namespace } = o;
  // The collector counts requests over the actuator's retention periods, asked at each refresh.
  const runtime = buildRuntime(cfg, {
    logger,
    namespaces: cfg.reconcile.namespaces,
    ...(o.evaluationTime ? { evaluationTime: o.evaluationTime } : {}),
    requestsOverSeconds: () => actuation.requestsOverSeconds(),
  });
  let controller: Controller | undefined;
  const source = new KubeSource({
    kubeConfig: kc,
    namespaces: cfg.reconcile.namespaces,
    // With a namespace list that list is the scope: Namespaces are not read cluster-wide then.
    namespaceExclusion: cfg.reconcile.namespaces.length === 0,
    ...(cfg.reconcile.controllerInstance ? { controllerInstance: cfg.reconcile.controllerInstance } : {}),
    logger,
    onChange: (key) => controller?.enqueue(key),
  });
  const writer = new KubeStatusWriter({
    kubeConfig: kc,
    logger,
    canWrite: () => (controller?.manager.running ?? false) && (controller?.isLeader ?? false),
  });
  const optimizerConfig = clusterOptimizerConfig(kc, namespace, logger);
  const unitCosts = () => optimizerConfig.store.unitCosts.value;
  const actuation = new ClusterActuation(
    kc,
    cfg,
    { identity: o.identity, namespace, watchConfigMap: o.watchConfigMap },
    { telemetry: runtime.telemetry, collector: runtime.collector, source, unitCosts },
    logger,
  );
  // wva-saturation-scaling-config (held for the saturation engines) and namespace-local copies.
  const upstreamWatch = o.watchConfigMap
    ? watchUpstreamConfigMaps({
        kubeConfig: kc,
        namespace,
        namespaces: cfg.reconcile.namespaces,
        logger,
        scaleToZeroCopies: (l) => actuation.localScaleToZero(l),
      })
    : undefined;
  const gpu = gpuParts({
    kubeConfig: kc,
    source,
    logger,
    namespaces: cfg.reconcile.namespaces,
    collector: runtime.collector,
  });
  const engines = buildEngines({
    reconcile: cfg.reconcile,
    store: optimizerConfig.store,
    minReplicas: (va) => actuation.minReplicas(va),
    saturation: {
      gpus: gpu.gpus,
      pods: gpu.pods,
      fleet: gpu.fleet,
      scaleToZero: saturationZeroSource(
        actuation.actuator.scaleToZeroPolicies,
        () => actuation.scaleToZeroEnabled(),
        runtime.collector,
      ),
      ...(upstreamWatch ? { holder: upstreamWatch.saturation } : {}),
      namespace,
      scaleToZeroEnabled: () => actuation.scaleToZeroEnabled(),
      // What was learned outlives a restart and a change of leader.
      store: new ConfigMapLearnedStore(kc, namespace),
      rateWindowMs: parseDuration(cfg.collector.window),
      registry: runtime.telemetry.registry,
      logger,
    },
  });
  const fromZero = scaleFromZeroParts({
    kubeConfig: kc,
    config: cfg,
    identity: o.identity,
    source,
    writer,
    logger,
    prom: runtime.prom,
  });
  controller = new Controller({
    kubeConfig: kc,
    source,
    writer,
    collector: runtime.collector,
    optimizer: engines.optimizer,
    saturation: engines.saturation.decider,
    actuator: actuation.actuator,
    ...(fromZero ? { perTerm: fromZero.perTerm } : {}),
    unitCosts,
    namespaces: cfg.reconcile.namespaces,
    intervalMs: cfg.reconcile.intervalMs,
    concurrency: cfg.reconcile.concurrency,
    logger,
    telemetry: runtime.telemetry,
    leaderElection: o.leaseName ? { namespace, name: o.leaseName, identity: o.identity } : false,
  });
  const built = controller;
  return {
    runtime,
    controller: built,
    async start() {
      upstreamWatch?.start();
      actuation.start();
      fromZero?.pools.start();
      optimizerConfig.start();
      await built.start();
    },
    stopSteps: () => [
      () => built.stop(4000),
      () => engines.saturation.flush(),
      () => actuation.stop(),
      () => fromZero?.pools.stop(),
      () => gpu.stop(),
      () => upstreamWatch?.stop(),
      () => optimizerConfig.stop(),
    ],
    reloadHooks: () =>
      runtime.reloadHooks(
        (n, _p, keys) => {
          const done: string[] = [];
          if (keys.includes('GLOBAL_OPT_INTERVAL')) done.push('GLOBAL_OPT_INTERVAL');
          if (keys.includes('WVA_RECONCILE_CONCURRENCY')) done.push('WVA_RECONCILE_CONCURRENCY');
          built.configure({ intervalMs: n.reconcile.intervalMs, concurrency: n.reconcile.concurrency });
          done.push(...actuation.reload(n, keys));
          return done;
        },
        { optimizer: engines },
      ),
  };
}
