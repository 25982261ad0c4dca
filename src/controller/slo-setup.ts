// The SLO engine with learned models for a mode: the learner, its persistence (a ConfigMap in a
// cluster, a file or nothing locally), the gauges, and the decider that wraps the saturation one.
import type { Registry } from 'prom-client';
import type { LearnSettings } from '../engines/slo/learn/index.js';
import type { ServiceClass } from '../optimizer/inputs.js';
import { type LearnedModelSample, registerLearnedModelMetrics } from '../telemetry/learned-metrics.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import { PodStartup } from './pod-startup.js';
import { type SaturationConfigHolder, saturationParts } from './saturation-config.js';
import { SloDecider } from './slo-decider.js';
import { SloLearner } from './slo-learner.js';
import { type LearnedStore, SloPersistence } from './slo-persistence.js';

/** saturationParts' options (its stabilisation window is the reconcile settings'), then ours. */
export interface SloPartsOptions
  extends Omit<Parameters<typeof saturationParts>[0], 'stabilizationWindowMs' | 'logger'> {
  serviceClasses: () => readonly ServiceClass[] | undefined;
  /** Where learned models persist; absent: nowhere (a restart learns afresh). */
  store?: LearnedStore;
  saveEveryCycles?: number;
  /** The controller's reconcile settings (stabilisation window, backlog drain time, pod start-up default). */
  reconcile: { stabilizationWindowMs: number; backlogDrainMs?: number; podStartupMs?: number };
  /** The window the arrival rate is averaged over, ms (WVA_QUERY_WINDOW). */
  rateWindowMs?: number;
  /** The gauges go here. */
  registry?: Registry;
  logger?: Logger;
  learnSettings?: Partial<LearnSettings>;
  monotonic?: () => number;
  now?: () => number;
}

export interface SloParts {
  decider: SloDecider;
  config: SaturationConfigHolder;
  learner: SloLearner;
  /** Saves now (shutdown); resolves when written or failed (logged). */
  flush(): Promise<void>;
}

/** The gauges' view of the learner. */
export function learnedSamples(learner: SloLearner): LearnedModelSample[] {
  return learner.views().map((v) => ({
    namespace: v.key.namespace,
    variant: v.variantName,
    accelerator: v.key.accelerator,
    parameters: {
      alpha: v.profile.alpha,
      beta: v.profile.beta,
      gamma: v.profile.gamma,
      delta: v.profile.delta,
    },
    itlErrorPct: v.status.itlErrorPct,
    ttftErrorPct: v.status.ttftErrorPct,
    usable: v.status.usable,
  }));
}

export function sloParts(o: SloPartsOptions): SloParts {
  const {
    serviceClasses,
    store,
    saveEveryCycles,
    reconcile,
    rateWindowMs,
    registry,
    logger,
    learnSettings,
    monotonic,
    now,
    ...sat
  } = o;
  const log = logger ?? silentLogger;
  const saturation = saturationParts({
    ...sat,
    stabilizationWindowMs: reconcile.stabilizationWindowMs,
    logger: log,
  });
  const learner = new SloLearner(learnSettings ? { settings: learnSettings } : {});
  const persistence = store
    ? new SloPersistence({
        store,
        learner,
        logger: log,
        ...(saveEveryCycles !== undefined ? { everyCycles: saveEveryCycles } : {}),
        ...(now ? { now } : {}),
      })
    : undefined;
  if (registry) registerLearnedModelMetrics(registry, () => learnedSamples(learner));
  const decider = new SloDecider({
    saturation: saturation.decider,
    learner,
    serviceClasses,
    logger: log,
    stabilizationWindowMs: reconcile.stabilizationWindowMs,
    ...(persistence ? { persistence } : {}),
    ...(rateWindowMs !== undefined ? { rateWindowMs } : {}),
    ...(reconcile.backlogDrainMs !== undefined ? { backlogDrainMs: reconcile.backlogDrainMs } : {}),
    // Measured from the Pod objects where there are some (a cluster), else the configured default.
    ...(reconcile.podStartupMs !== undefined
      ? {
          startup: new PodStartup({
            defaultMs: reconcile.podStartupMs,
            ...(sat.pods ? { pods: sat.pods } : {}),
          }),
        }
      : {}),
    ...(learnSettings ? { learnSettings } : {}),
    ...(monotonic ? { monotonic } : {}),
    ...(now ? { now } : {}),
  });
  return {
    decider,
    config: saturation.config,
    learner,
    flush: () => persistence?.flush() ?? Promise.resolve(),
  };
}

export { ConfigMapLearnedStore, FileLearnedStore } from './slo-persistence.js';
