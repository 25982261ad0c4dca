// Kubernetes Events on a VariantAutoscaling (core/v1, what `kubectl describe va` shows), written
// over the controller's one HTTP path to the API server (client-node's KubeConfig for credentials).
// An event is best effort: a failed write is logged, never a failed reconcile.
import { randomBytes } from 'node:crypto';
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import type { SCALE_FROM_ZERO_REASONS } from '../engines/scale-from-zero/loop.js';
import { apiErrorMessage, kubeRequest } from '../kube/http.js';
import { API_VERSION, KIND, type VariantAutoscaling } from '../kube/types.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';

export type EventReason =
  | (typeof SCALE_FROM_ZERO_REASONS)[keyof typeof SCALE_FROM_ZERO_REASONS]
  | 'ScaledUp'
  | 'ScaledDown'
  | 'ScaledToZero'
  | 'OptimizationFailed'
  | 'ActuationRefused';

export interface VariantEvent {
  reason: EventReason;
  type: 'Normal' | 'Warning';
  message: string;
}

/** Where events go: the API server, or a list (local mode, tests). */
export interface EventSink {
  emit(va: VariantAutoscaling, event: VariantEvent, signal?: AbortSignal): Promise<void>;
}

export const EVENT_SOURCE = 'wva-metrics';

export class KubeEventSink implements EventSink {
  private readonly log: Logger;
  /** Events written and failed: for tests and logs. */
  written = 0;
  failed = 0;

  constructor(
    private readonly o: { kubeConfig: KubeConfig; identity?: string; logger?: Logger; now?: () => Date },
  ) {
    this.log = o.logger ?? silentLogger;
  }

  async emit(va: VariantAutoscaling, event: VariantEvent, signal?: AbortSignal): Promise<void> {
    const { namespace, name } = va.metadata;
    const now = (this.o.now ?? (() => new Date()))();
    const time = now.toISOString();
    const body: CoreV1Event = {
      // client-go's recorder names events <object>.<unique suffix>; so do we.
      metadata: { name: `${name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`, namespace },
      involvedObject: {
        // A list's items may come without apiVersion and kind; the object is always ours.
        apiVersion: API_VERSION,
        kind: KIND,
        name,
        namespace,
        ...(va.metadata.uid ? { uid: va.metadata.uid } : {}),
        ...(va.metadata.resourceVersion ? { resourceVersion: va.metadata.resourceVersion } : {}),
      },
      reason: event.reason,
      message: event.message.slice(0, 1024),
      type: event.type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: EVENT_SOURCE },
      reportingComponent: EVENT_SOURCE,
      reportingInstance: this.o.identity ?? EVENT_SOURCE,
    };
    try {
      await kubeRequest(this.o.kubeConfig, {
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        body,
        signal,
      });
      this.written++;
    } catch (err) {
      this.failed++;
      if (!signal?.aborted) {
        this.log.warn(
          { namespace, name, reason: event.reason, time, err: apiErrorMessage(err) },
          'event not written',
        );
      }
    }
  }
}

/** Keeps events in memory (local mode and tests). */
export class MemoryEventSink implements EventSink {
  readonly events: Array<VariantEvent & { namespace: string; name: string }> = [];
  async emit(va: VariantAutoscaling, event: VariantEvent): Promise<void> {
    this.events.push({ ...event, namespace: va.metadata.namespace, name: va.metadata.name });
  }
}
