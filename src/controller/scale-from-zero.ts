// Scale from zero in the cluster: the loop's source (variants whose Deployment is at 0 replicas,
// from the controller's informer cache, and InferencePools from their own informer), its scale
// call (the scale subresource) and where its outcomes go (status conditions and Events). The loop
// itself (src/engines/scale-from-zero) starts once per leadership term.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { EventReason, EventSink } from '../actuator/events.js';
import type { DeploymentScaler } from '../actuator/scaler.js';
import { GATEWAY_QUEUE_METRIC, gatewayQueueSizes } from '../collector/gateway-queue.js';
import {
  type InactiveVariant,
  type InferencePoolInfo,
  ScaleFromZeroLoop,
  type ScaleFromZeroOptions,
  type ScaleFromZeroOutcome,
} from '../engines/scale-from-zero/loop.js';
import { formatTime, setCondition } from '../kube/conditions.js';
import {
  namespacedTrimmedInformers,
  type ResilientInformer,
  type RestartBackoff,
  type Trim,
} from '../kube/informer.js';
import { ACCELERATOR_LABEL, type VariantAutoscaling, type VariantAutoscalingStatus } from '../kube/types.js';
import { parseSpec, scaledOf } from '../kube/va-spec.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger, PromAPI } from '../types.js';
import type { StatusWriter, VariantSource } from './reconciler.js';

export const INFERENCE_POOL_GROUP = 'inference.networking.x-k8s.io';
export const INFERENCE_POOL_VERSION = 'v1alpha2';
/** The EPP's metrics port when the pool's extensionRef names none. */
export const DEFAULT_EPP_METRICS_PORT = 9090;

interface PoolObject extends KubernetesObject {
  metadata: { name: string; namespace: string };
  spec?: {
    selector?: Record<string, string>;
    extensionRef?: { name?: string; portNumber?: number };
  };
}

/** InferencePools, trimmed to what scale from zero reads (name, selector, the EPP's Service). */
export class InferencePoolWatch {
  private readonly informers: ResilientInformer<PoolObject>[];

  constructor(
    private readonly o: {
      kubeConfig: KubeConfig;
      namespaces?: string[];
      logger?: Logger;
      backoff?: RestartBackoff;
      /** The EPP's metrics URL for a pool; default its extensionRef Service's in-cluster address. */
      eppUrl?: (pool: { name: string; namespace: string; service: string; port: number }) => string;
    },
  ) {
    const trim: Trim<PoolObject> = (p) => ({
      metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
      spec: {
        selector: { ...(p.spec?.selector ?? {}) },
        extensionRef: { ...(p.spec?.extensionRef ?? {}) },
      },
    });
    this.informers = namespacedTrimmedInformers<PoolObject>({
      kubeConfig: o.kubeConfig,
      api: `/apis/${INFERENCE_POOL_GROUP}/${INFERENCE_POOL_VERSION}`,
      plural: 'inferencepools',
      namespaces: o.namespaces,
      trim,
      logger: o.logger ?? silentLogger,
      backoff: o.backoff,
    }).map(({ informer }) => informer);
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** The pools; null until every informer has listed once. */
  pools(): InferencePoolInfo[] | null {
    if (!this.informers.every((i) => i.synced)) return null;
    const out: InferencePoolInfo[] = [];
    for (const i of this.informers) {
      for (const p of i.informer.list()) {
        const service = p.spec?.extensionRef?.name ?? '';
        if (service === '') continue;
        const port = p.spec?.extensionRef?.portNumber ?? DEFAULT_EPP_METRICS_PORT;
        const where = { name: p.metadata.name, namespace: p.metadata.namespace, service, port };
        out.push({
          name: p.metadata.name,
          namespace: p.metadata.namespace,
          selector: { ...(p.spec?.selector ?? {}) },
          eppMetricsUrl: this.o.eppUrl
            ? this.o.eppUrl(where)
            : `http://${service}.${p.metadata.namespace}.svc:${port}/metrics`,
        });
      }
    }
    return out;
  }
}

/** Where scale from zero reads the gateway's queue: `epp` (default) or `prometheus`. */
export const QUEUE_SOURCE_ENV = 'SCALE_FROM_ZERO_QUEUE_SOURCE';

/**
 * The loop's queue reader for `SCALE_FROM_ZERO_QUEUE_SOURCE`: unset or `epp`, each InferencePool's
 * endpoint picker is scraped (nothing to add); `prometheus`, where the EPP metrics are scraped into
 * Prometheus, one query per tick for every model at zero. Any other value is refused, naming the
 * choices. `at`: the evaluation time (tests pin it; default now).
 */
export function gatewayQueueSource(
  env: Readonly<Record<string, string | undefined>>,
  prom: PromAPI | undefined,
  at?: () => Date,
): Pick<ScaleFromZeroOptions, 'queueSizes'> {
  const raw = env[QUEUE_SOURCE_ENV];
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === 'epp') return {};
  if (v === 'prometheus' && prom) return { queueSizes: (models) => gatewayQueueSizes(prom, models, at?.()) };
  if (v === 'prometheus')
    throw new Error(`${QUEUE_SOURCE_ENV}=prometheus needs a Prometheus client; none is configured here`);
  throw new Error(
    `${QUEUE_SOURCE_ENV}=${JSON.stringify(raw)} is not a queue source: use "epp" (scrape each InferencePool's endpoint picker; the default) or "prometheus" (read ${GATEWAY_QUEUE_METRIC} from Prometheus, where the EPP metrics are scraped)`,
  );
}

/** Variants whose target Deployment exists, is not being deleted and asks for 0 replicas. */
export async function inactiveVariants(source: VariantSource): Promise<InactiveVariant[]> {
  const out: InactiveVariant[] = [];
  for (const va of source.listVariants()) {
    if (va.metadata.deletionTimestamp || !parseSpec(va.spec, va.metadata.name).ok) continue;
    const { name, kind } = scaledOf(va);
    if (kind.kind !== 'Deployment') continue;
    const d = await source.getDeployment(va.metadata.namespace, name);
    if (!d || d.metadata.deletionTimestamp || d.spec?.replicas !== 0) continue;
    const labels = d.spec.template?.metadata?.labels;
    out.push({
      name: va.metadata.name,
      namespace: va.metadata.namespace,
      modelId: va.spec.modelID,
      target: { kind: 'Deployment', name, namespace: va.metadata.namespace },
      ...(labels ? { podLabels: labels } : {}),
      accelerator:
        va.status?.desiredOptimizedAlloc?.accelerator || (va.metadata.labels?.[ACCELERATOR_LABEL] ?? ''),
    });
  }
  return out;
}

/** A variant's status after a scale-from-zero outcome: its conditions, and the desired 1 when scaled. */
export function statusAfter(
  va: VariantAutoscaling,
  o: ScaleFromZeroOutcome,
  now: Date,
): VariantAutoscalingStatus {
  const prev = va.status ?? {};
  let conditions = prev.conditions ?? [];
  for (const c of o.conditions) {
    conditions = setCondition(conditions, { ...c, observedGeneration: va.metadata.generation }, now);
  }
  const next: VariantAutoscalingStatus = { ...prev, conditions };
  if (o.desired) {
    next.desiredOptimizedAlloc = {
      accelerator: o.desired.accelerator || 'unknown',
      numReplicas: o.desired.numReplicas,
      lastRunTime: formatTime(now),
    };
  }
  return next;
}

/** The loop wired to the cluster: informer caches in, scale subresource and status out. */
export function clusterScaleFromZero(o: {
  source: VariantSource;
  pools: InferencePoolWatch;
  scaler: Pick<DeploymentScaler, 'scale'>;
  writer: StatusWriter;
  events?: EventSink;
  now?: () => Date;
  logger?: Logger;
  loop?: Pick<
    ScaleFromZeroOptions,
    'timers' | 'scrape' | 'token' | 'intervalMs' | 'maxConcurrency' | 'queueSizes'
  >;
}): ScaleFromZeroLoop {
  const log = o.logger ?? silentLogger;
  const now = o.now ?? (() => new Date());
  return new ScaleFromZeroLoop({
    ...o.loop,
    source: { inactiveVariants: () => inactiveVariants(o.source), inferencePools: () => o.pools.pools() },
    scaleTo: (t, replicas) => o.scaler.scale(t.namespace, t.name, replicas),
    onEvent: (e) => {
      (e.type === 'Warning' ? log.warn : log.info).call(
        log,
        { namespace: e.variant.namespace, name: e.variant.name, reason: e.reason },
        e.message,
      );
      const va = o.source.getVariant(e.variant.namespace, e.variant.name);
      const reason = e.reason as EventReason;
      if (va && o.events) void o.events.emit(va, { reason, type: e.type, message: e.message });
    },
    onOutcome: (out) => {
      const va = o.source.getVariant(out.variant.namespace, out.variant.name);
      if (!va) return;
      o.writer
        .write(va, (fresh) => statusAfter(fresh, out, now()))
        .catch((err: unknown) =>
          log.warn(
            { namespace: out.variant.namespace, name: out.variant.name, err: (err as Error).message },
            'scale from zero: status not written',
          ),
        );
    },
  });
}
