// The pipeline over manifests, for `run --manifests` and the demo, built in the order data flows:
// collector via the cache -> the actuation the caller brings (the demo's emulator-backed scaler;
// none for `run --manifests`, which only prints) -> engines -> the controller that drives every
// cycle, with its statuses kept in memory. The collector asks the actuation for its retention
// periods at each refresh, through a closure resolved once the actuation exists.
import type { Actuator } from '../actuator/actuator.js';
import type { FleetCollector } from '../collector/fleet-collector.js';
import type { Config, ReloadHooks } from '../config/index.js';
import { LocalController } from '../controller/local.js';
import { localOptimizerConfig } from '../controller/optimizer-setup.js';
import { saturationZeroSource } from '../controller/saturation-zero.js';
import { FileLearnedStore } from '../controller/slo-setup.js';
import { parseDuration } from '../duration.js';
import type { Deployment, VariantAutoscaling } from '../kube/types.js';
import { buildRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { buildEngines, type Engines } from './engines.js';

/** What scales in local mode: the actuator and what it knows of the targets. */
export interface LocalActuation {
  readonly actuator: Actuator;
  /** The Deployments as they run, when something other than the manifests runs them. */
  readonly deploymentView?: (d: Deployment) => Deployment;
  /** Fewest replicas per variant (the actuator's scale-to-zero gate). */
  minReplicas(va: VariantAutoscaling): number;
  /** The periods (s) the fleet query counts requests over. */
  requestsOverSeconds(): readonly number[];
  /** WVA_SCALE_TO_ZERO as the saturation engines see it. */
  scaleToZeroEnabled(): boolean;
}

export interface LocalPipelineOptions<A extends LocalActuation>
  extends Pick<RuntimeOptions, 'logger' | 'evaluationTime' | 'telemetry' | 'observer'> {
  config: Config;
  /** A YAML/JSON file or a directory, re-read every cycle. */
  manifests: string;
  /** Where the global wva-saturation-scaling-config copy lives; default upstream's namespace. */
  namespace?: string;
  /** Builds the actuation on the fleet collector (its idle evidence); absent: status only. */
  actuation?: (collector: FleetCollector) => A;
  /** false: saturation V1 is no floor under the SLO engine (the demo shows the SLO engine alone). */
  saturationFloor?: boolean;
  /** false: measurements only, nothing decided (the demo's metrics path without its loop). */
  decide?: boolean;
  /** Where learned performance models are kept across runs; absent: not kept. */
  learnedFile?: string;
}

export interface LocalPipeline<A extends LocalActuation> {
  readonly runtime: Runtime;
  readonly engines: Engines;
  readonly actuation: A | undefined;
  readonly controller: LocalController;
  /** What a live reload applies to: the shared parts, the optimizer, and the cycle period. */
  reloadHooks(): ReloadHooks;
}

export function buildLocalPipeline<A extends LocalActuation = LocalActuation>(
  o: LocalPipelineOptions<A>,
): LocalPipeline<A> {
  const { config: cfg, logger } = o;
  let actuation: A | undefined;
  const runtime = buildRuntime(cfg, {
    logger,
    ...(o.evaluationTime ? { evaluationTime: o.evaluationTime } : {}),
    ...(o.telemetry ? { telemetry: o.telemetry } : {}),
    ...(o.observer ? { observer: o.observer } : {}),
    requestsOverSeconds: () => actuation?.requestsOverSeconds() ?? [],
  });
  actuation = o.actuation?.(runtime.collector);
  const act = actuation;
  const optimizerConfig = localOptimizerConfig(logger);
  const engines = buildEngines({
    reconcile: cfg.reconcile,
    store: optimizerConfig.store,
    ...(act ? { minReplicas: (va: VariantAutoscaling) => act.minReplicas(va) } : {}),
    saturation: {
      ...(o.namespace ? { namespace: o.namespace } : {}),
      scaleToZeroEnabled: act ? () => act.scaleToZeroEnabled() : () => cfg.actuation.scaleToZero,
      // As in a cluster: the saturation engines take a model to zero only on the actuator's rule
      // and the fleet query's proof of no request; without it they never decide 0.
      ...(act
        ? {
            scaleToZero: saturationZeroSource(
              act.actuator.scaleToZeroPolicies,
              () => act.scaleToZeroEnabled(),
              runtime.collector,
            ),
          }
        : {}),
      logger,
      ...(o.saturationFloor === false ? { floor: false } : {}),
      ...(o.learnedFile ? { store: new FileLearnedStore(o.learnedFile) } : {}),
      rateWindowMs: parseDuration(cfg.collector.window),
      registry: runtime.telemetry.registry,
    },
  });
  const controller = new LocalController({
    manifests: o.manifests,
    collector: runtime.collector,
    ...(o.decide === false
      ? {}
      : {
          optimizer: engines.optimizer,
          optimizerConfig: optimizerConfig.store,
          saturation: engines.saturation,
        }),
    ...(act ? { actuator: act.actuator } : {}),
    ...(act?.deploymentView ? { deploymentView: act.deploymentView } : {}),
    intervalMs: cfg.reconcile.intervalMs,
    concurrency: cfg.reconcile.concurrency,
    ...(cfg.reconcile.controllerInstance ? { controllerInstance: cfg.reconcile.controllerInstance } : {}),
    logger,
    telemetry: runtime.telemetry,
  });
  return {
    runtime,
    engines,
    actuation: act,
    controller,
    reloadHooks: () =>
      runtime.reloadHooks(
        (n, _p, keys) => {
          if (!keys.includes('GLOBAL_OPT_INTERVAL')) return [];
          controller.intervalMs = n.reconcile.intervalMs;
          return ['GLOBAL_OPT_INTERVAL'];
        },
        { optimizer: engines },
      ),
  };
}
