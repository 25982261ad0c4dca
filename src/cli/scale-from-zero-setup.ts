// Parts of `run` in a cluster beyond the controller: the GPU limiter's Node watch, and scale from
// zero (the InferencePool watch and the loop, started once per leadership term; only where this
// controller scales targets itself, --actuator=scale).
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeEventSink } from '../actuator/events.js';
import { DeploymentScaler } from '../actuator/scaler.js';
import type { Config } from '../config/keys.js';
import type { Controller } from '../controller/controller.js';
import { gpuUsage, NodeGpuWatch } from '../controller/gpu-nodes.js';
import type { VariantSource } from '../controller/reconciler.js';
import { saturationFleet } from '../controller/saturation-fleet.js';
import {
  clusterScaleFromZero,
  gatewayQueueSource,
  InferencePoolWatch,
} from '../controller/scale-from-zero.js';
import { DEFAULT_MAX_CONCURRENCY, type ScaleFromZeroLoop } from '../engines/scale-from-zero/loop.js';
import { PodWatch } from '../kube/pods.js';
import type { Logger, PromAPI } from '../types.js';

/** The GPU limiter's inputs: the Node watch starts the first time the limiter asks (enableLimiter). */
export function gpuParts(o: {
  kubeConfig: KubeConfig;
  logger: Logger;
  namespaces?: string[];
  collector?: Parameters<typeof saturationFleet>[1];
}) {
  const nodes = new NodeGpuWatch({ kubeConfig: o.kubeConfig, logger: o.logger });
  // The saturation engines' Pod watch (pods to variants by owner and selector), started on first use.
  const pods = new PodWatch({ kubeConfig: o.kubeConfig, logger: o.logger, namespaces: o.namespaces ?? [] });
  let started = false;
  let source: VariantSource | undefined;
  return {
    gpus: {
      capacity: () => {
        if (!started) {
          started = true;
          nodes.start();
        }
        return nodes.capacity();
      },
      usage: () => (source ? gpuUsage(source) : {}),
    },
    pods,
    /** The fleet for the limiter's fleet-wide order, once the controller's source is wired. */
    fleet: () => (source ? saturationFleet(source, o.collector ?? {})() : Promise.resolve([])),
    wire(s: VariantSource): void {
      source = s;
    },
    stop: () => Promise.all([started ? nodes.stop() : undefined, pods.stop()]).then(() => undefined),
  };
}

export function scaleFromZeroParts(o: {
  kubeConfig: KubeConfig;
  config: Config;
  identity: string;
  logger: Logger;
  /** Where the gateway's queue is read from with SCALE_FROM_ZERO_QUEUE_SOURCE=prometheus. */
  prom?: PromAPI;
}) {
  const pools =
    o.config.actuation.mode === 'scale'
      ? new InferencePoolWatch({
          kubeConfig: o.kubeConfig,
          namespaces: o.config.reconcile.namespaces,
          logger: o.logger,
        })
      : undefined;
  let loop: ScaleFromZeroLoop | undefined;
  return {
    pools,
    perTerm: { start: () => loop?.start(), stop: async () => loop?.stop() },
    /** Builds the loop over the controller's caches and status writer (once, before it starts). */
    wire(controller: Pick<Controller, 'source' | 'writer'>): void {
      if (!pools) return;
      const token = process.env.EPP_METRIC_READER_BEARER_TOKEN;
      loop = clusterScaleFromZero({
        source: controller.source,
        pools,
        scaler: new DeploymentScaler({ kubeConfig: o.kubeConfig, logger: o.logger }),
        writer: controller.writer,
        events: new KubeEventSink({ kubeConfig: o.kubeConfig, identity: o.identity, logger: o.logger }),
        logger: o.logger,
        loop: {
          ...gatewayQueueSource(process.env, o.prom),
          ...(token ? { token } : {}),
          maxConcurrency: Number(
            process.env.SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY ?? DEFAULT_MAX_CONCURRENCY,
          ),
        },
      });
    },
  };
}
