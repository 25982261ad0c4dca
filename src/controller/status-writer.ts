// Writes VariantAutoscaling status through the status subresource as a JSON merge patch carrying
// metadata.resourceVersion (optimistic concurrency: someone else's newer write makes ours a 409,
// never a silent overwrite). On 409 the object is re-read and the status recomputed from it.
import { type KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { apiErrorCode, apiErrorMessage, kubeRequest } from '../kube/http.js';
import {
  GROUP,
  PLURAL,
  type VariantAutoscaling,
  type VariantAutoscalingStatus,
  VERSION,
} from '../kube/types.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { StatusWriter, WriteOutcome } from './reconciler.js';
import { ownedStatus, statusUnchanged } from './status.js';

export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
}

export interface KubeStatusWriterOptions {
  kubeConfig: KubeConfig;
  /** Re-reads after a 409 before giving up; default 5. */
  maxConflictRetries?: number;
  /** Checked right before every patch: false → no write (a replica that lost its lease). */
  canWrite?: () => boolean;
  logger?: Logger;
}

export class KubeStatusWriter implements StatusWriter {
  private readonly maxRetries: number;
  private readonly log: Logger;
  /** Patches sent, conflicts met: for tests and logs. */
  patches = 0;
  conflicts = 0;

  constructor(private readonly o: KubeStatusWriterOptions) {
    this.maxRetries = o.maxConflictRetries ?? 5;
    this.log = o.logger ?? silentLogger;
  }

  private async read(namespace: string, name: string, signal?: AbortSignal): Promise<VariantAutoscaling> {
    // The main resource (RBAC: get on variantautoscalings) carries the status too; no need for
    // get on variantautoscalings/status.
    return kubeRequest<VariantAutoscaling>(this.o.kubeConfig, {
      method: 'GET',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(name)}`,
      signal,
    });
  }

  async write(
    va: VariantAutoscaling,
    compute: (fresh: VariantAutoscaling) => VariantAutoscalingStatus,
    signal?: AbortSignal,
  ): Promise<{ outcome: WriteOutcome; status: VariantAutoscalingStatus }> {
    const { namespace, name } = va.metadata;
    let current = va;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const next = compute(current);
      if (statusUnchanged(current.status, next))
        return { outcome: 'unchanged', status: current.status ?? {} };
      if (this.o.canWrite && !this.o.canWrite())
        throw new NotLeaderError('not the leader: status not written');
      try {
        this.patches++;
        const body = {
          metadata: { resourceVersion: current.metadata.resourceVersion },
          status: ownedStatus(next),
        };
        const updated = await kubeRequest<VariantAutoscaling>(this.o.kubeConfig, {
          method: 'PATCH',
          path: `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(name)}/status?fieldManager=wva-metrics`,
          body,
          contentType: PatchStrategy.MergePatch,
          signal,
        });
        return { outcome: 'written', status: updated.status ?? next };
      } catch (err) {
        if (apiErrorCode(err) !== 409 || attempt >= this.maxRetries) {
          throw new Error(`status patch of ${namespace}/${name} failed: ${apiErrorMessage(err)}`, {
            cause: err,
          });
        }
        this.conflicts++;
        this.log.debug({ namespace, name, attempt }, 'status conflict; re-reading');
        current = await this.read(namespace, name, signal);
      }
    }
  }
}
