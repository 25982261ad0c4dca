// Parts of the cluster pipeline beyond the controller: the GPU limiter's Node watch, and scale from
// zero (the InferencePool watch and the loop, started once per leadership term; only where this
// controller scales targets itself, --actuator=scale). Each takes the informers' source and the
// status writer at construction: the pipeline builds those first.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeEventSink } from '../actuator/events.js';
import { DeploymentScaler } from '../actuator/scaler.js';
import type { Config } from '../config/keys.js';
import { gpuUsage, NodeGpuWatch } from '../controller/gpu-nodes.js';
import type { StatusWriter, VariantSource } from '../controller/reconciler.js';
import { saturationFleet } from '../controller/saturation-fleet.js';
import {
  clusterScaleFromZero,
  gatewayQueueSource,
  InferencePoolWatch,
} from '../controller/scale-from-zero.js';
import { DEFAULT_MAX_CONCURRENCY } from '../engines/scale-from-zero/loop.js';
import { PodWatch } from '../kube/pods.js';
import type { Logger, PromAPI } from '../types.js';

/**
 * The saturation engines' cluster inputs: the GPU limiter's Node watch (started the first time the
 * limiter asks, enableLimiter), the Pod watch that maps pods to variants by owner and selector
 * (started on first use), and the fleet for the limiter's fleet-wide order.
 */
export function gpuParts(o: {
  kubeConfig: KubeConfig;
  source: VariantSource;
  logger: Logger;
  namespaces: string[];
  collector: Parameters<typeof saturationFleet>[1];
}) {
  const nodes = new NodeGpuWatch({ kubeConfig: o.kubeConfig, logger: o.logger });
  const pods = new PodWatch({ kubeConfig: o.kubeConfig, logger: o.logger, namespaces: o.namespaces });
  let started = false;
  return {
    gpus: {
      capacity: () => {
        if (!started) {
          started = true;
          nodes.start();
        }
        return nodes.capacity();
      },
      usage: () => gpuUsage(o.source),
    },
    pods,
    fleet: saturationFleet(o.source, o.collector),
    stop: () => Promise.all([started ? nodes.stop() : undefined, pods.stop()]).then(() => undefined),
  };
}

/** Scale from zero over the informers' caches and the status writer; nothing unless --actuator=scale. */
export function scaleFromZeroParts(o: {
  kubeConfig: KubeConfig;
  config: Config;
  identity: string;
  source: VariantSource;
  writer: StatusWriter;
  logger: Logger;
  /** Where the gateway's queue is read from with SCALE_FROM_ZERO_QUEUE_SOURCE=prometheus. */
  prom: PromAPI;
}) {
  if (o.config.actuation.mode !== 'scale') return undefined;
  const pools = new InferencePoolWatch({
    kubeConfig: o.kubeConfig,
    namespaces: o.config.reconcile.namespaces,
    logger: o.logger,
  });
  const token = process.env.EPP_METRIC_READER_BEARER_TOKEN;
  const loop = clusterScaleFromZero({
    source: o.source,
    pools,
    scaler: new DeploymentScaler({ kubeConfig: o.kubeConfig, logger: o.logger }),
    writer: o.writer,
    events: new KubeEventSink({ kubeConfig: o.kubeConfig, identity: o.identity, logger: o.logger }),
    logger: o.logger,
    loop: {
      ...gatewayQueueSource(process.env, o.prom),
      ...(token ? { token } : {}),
      maxConcurrency: Number(process.env.SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY ?? DEFAULT_MAX_CONCURRENCY),
    },
  });
  return { pools, perTerm: { start: () => loop.start(), stop: async () => loop.stop() } };
}
