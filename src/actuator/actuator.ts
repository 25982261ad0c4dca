// Moves a decision (status.desiredOptimizedAlloc) into the world, once per VariantAutoscaling per
// reconcile, on the leader: the gauges an HPA or KEDA scales on (always), the Deployment's scale
// subresource (--actuator=scale, never against an HPA), Events on the VariantAutoscaling, and the
// scale-to-zero gate. Returns what status.actuation and the Actuated condition should say.
import { findCondition } from '../kube/conditions.js';
import {
  ACCELERATOR_LABEL,
  type Deployment,
  OPTIMIZATION_READY,
  type VariantAutoscaling,
  type VariantAutoscalingStatus,
} from '../kube/types.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { EventSink, VariantEvent } from './events.js';
import type { ActuationMetrics } from './metrics.js';
import { ACTUATED, type ActuationResult, isCount, readyReplicas, specReplicas } from './outcome.js';
import {
  type IdleEvidence,
  parseScaleToZeroConfig,
  ruleFor,
  type ScaleToZeroConfig,
  type ZeroVerdict,
  zeroVerdict,
} from './scale-to-zero.js';
import type { HpaLookup, Scaler } from './scaler.js';

export { ACTUATED, type ActuatedReason, type ActuationResult, withActuation } from './outcome.js';

export interface ActuationInput {
  /** "namespace/name". */
  key: string;
  va: VariantAutoscaling;
  /** The status just computed for it (desiredOptimizedAlloc and conditions as they will be written). */
  status: VariantAutoscalingStatus;
  deployment: Deployment | undefined;
  /** What the optimizer predicts at its decision, ms (dashboard gauges). */
  predicted?: { ttftMs: number; itlMs: number };
  /** What the collector measured for the model, ms; absent: unknown. */
  measured?: { ttftAverage?: number; itlAverage?: number };
  /**
   * The decision of this reconcile; absent: nothing was decided now (`undecided` says why), and
   * nothing moves: a count published earlier (or found in status) is not applied again.
   */
  decision?: { accelerator: string; numReplicas: number };
  undecided?: string;
  /** Why the replicas that run must not be reduced now (the last status write failed), if so. */
  noScaleDown?: string;
}

/** Whether a variant keeps its model serving, and if not, which variant serves it now. */
export interface Serving {
  keeps: boolean;
  /** The variant that keeps the model serving with ready replicas now, when it is another one. */
  by?: string;
}

export interface ActuatorOptions {
  mode: 'metrics' | 'scale';
  metrics: ActuationMetrics;
  events?: EventSink;
  /** Scale mode: who patches, and who knows the HPAs. */
  scaler?: Scaler;
  hpas?: HpaLookup;
  /** WVA_SCALE_TO_ZERO, read at each reconcile (live reload). */
  scaleToZeroEnabled?: () => boolean;
  /**
   * With scale to zero not allowed, whether this variant is the one that keeps its model serving
   * (the cheapest of the model's variants that can serve); the others may go to 0 while that one
   * has ready replicas. Default: every variant keeps its model serving.
   */
  serving?: (va: VariantAutoscaling) => Serving;
  /** A reconcile cycle begins (what is derived from the whole fleet may be computed again). */
  onCycle?: () => void;
  /** Requests of a model over a period, from the cycle's fleet query. */
  idleEvidence?: (modelId: string, namespace: string, retentionMs: number) => IdleEvidence;
  logger?: Logger;
}

function latencySeconds(i: ActuationInput) {
  const s = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
  return {
    predictedTtft: s(i.predicted?.ttftMs),
    predictedItl: s(i.predicted?.itlMs),
    measuredTtft: s(i.measured?.ttftAverage),
    measuredItl: s(i.measured?.itlAverage),
  };
}

function scaleEvent(from: number, to: number, why: string): VariantEvent {
  if (to === 0)
    return { reason: 'ScaledToZero', type: 'Normal', message: `Scaled from ${from} to 0 replicas: ${why}` };
  return {
    reason: to > from ? 'ScaledUp' : 'ScaledDown',
    type: 'Normal',
    message: `Desired replicas ${from} -> ${to}: ${why}`,
  };
}

export class Actuator {
  readonly mode: 'metrics' | 'scale';
  private readonly log: Logger;
  private zeroConfig: ScaleToZeroConfig = parseScaleToZeroConfig({});
  /** Per key: the last count published, and the last failure and refusal evented. */
  private readonly lastPublished = new Map<string, number>();
  private readonly lastFailure = new Map<string, string>();
  private readonly lastRefusal = new Map<string, string>();

  constructor(private readonly o: ActuatorOptions) {
    this.mode = o.mode;
    this.log = o.logger ?? silentLogger;
  }

  /** The model-scale-to-zero-config ConfigMap's data (undefined: deleted). Returns its problems. */
  setScaleToZeroConfig(data: Record<string, string> | undefined): string[] {
    this.zeroConfig = parseScaleToZeroConfig(data);
    for (const p of this.zeroConfig.problems) this.log.warn({ problem: p }, 'scale-to-zero entry ignored');
    return this.zeroConfig.problems;
  }

  get scaleToZeroConfig(): ScaleToZeroConfig {
    return this.zeroConfig;
  }

  async actuate(input: ActuationInput, signal?: AbortSignal): Promise<ActuationResult> {
    const result = await this.actuateNow(input, signal);
    const s = input.status;
    this.o.metrics.setConditions(input.key, {
      MetricsAvailable: findCondition(s, 'MetricsAvailable')?.status,
      OptimizationReady: findCondition(s, OPTIMIZATION_READY)?.status,
      [ACTUATED]: result.applied ? 'True' : 'False',
    });
    await this.eventOptimization(input, signal);
    return result;
  }

  private async actuateNow(input: ActuationInput, signal?: AbortSignal): Promise<ActuationResult> {
    const { key, va, deployment } = input;
    const decision = input.decision;
    const running = specReplicas(deployment);
    if (!decision || !isCount(decision.numReplicas)) {
      return this.hold(input, running, input.undecided ?? 'no desiredOptimizedAlloc yet');
    }
    const gated = this.gate(va, decision.numReplicas, deployment);
    let { count, why } = gated;
    if (input.noScaleDown && running !== undefined && count < running) {
      why = `${why}; kept at ${running}, not ${count}: ${input.noScaleDown}`;
      count = running;
    }
    this.o.metrics.set(key, {
      variantName: va.metadata.name,
      namespace: va.metadata.namespace,
      accelerator: decision.accelerator,
      desired: count,
      current: readyReplicas(deployment),
      latency: latencySeconds(input),
    });
    const previous = this.lastPublished.get(key) ?? running;
    if (this.mode === 'metrics') {
      this.lastPublished.set(key, count);
      if (previous !== undefined && previous !== count)
        await this.emit(va, scaleEvent(previous, count, why), signal);
      return {
        applied: true,
        reason: 'Published',
        message: `wva_desired_replicas ${count} published (${why})`,
        published: count,
      };
    }
    return this.scale(input, count, why, signal);
  }

  /**
   * Nothing decided now: nothing moves. The gauges say what runs (an HPA or KEDA then holds, where
   * a missing series could read as 0); no Deployment is patched.
   */
  private hold(input: ActuationInput, running: number | undefined, why: string): ActuationResult {
    const { key, va, deployment } = input;
    this.lastPublished.delete(key);
    const target = `Deployment ${va.metadata.namespace}/${va.metadata.name}`;
    if (running === undefined) {
      this.o.metrics.unpublish(key);
      return { applied: false, reason: 'NoDecision', message: `No decision: nothing published (${why})` };
    }
    this.o.metrics.set(key, {
      variantName: va.metadata.name,
      namespace: va.metadata.namespace,
      accelerator:
        input.status.desiredOptimizedAlloc?.accelerator ??
        va.metadata.labels?.[ACCELERATOR_LABEL] ??
        'unknown',
      desired: running,
      current: readyReplicas(deployment),
      latency: latencySeconds(input),
    });
    return {
      applied: false,
      reason: 'NoDecision',
      message: `No decision: ${target} left at ${running} replicas (${why})`,
    };
  }

  /**
   * Whether the model of `va` may have 0 replicas now (scale to zero on for it, and Prometheus
   * proved a whole retention period without requests): the optimizer's minimum, 0 or 1.
   */
  zeroVerdict(va: VariantAutoscaling, deployment: Deployment | undefined): ZeroVerdict {
    const modelId = va.spec.modelID;
    const ns = va.metadata.namespace;
    const rule = ruleFor(this.zeroConfig, this.o.scaleToZeroEnabled?.() ?? false, modelId, ns);
    if (!rule.enabled) return { allowed: false, why: 'scale to zero is off for this model' };
    const evidence: IdleEvidence = this.o.idleEvidence?.(modelId, ns, rule.retentionMs) ?? {
      state: 'unknown',
      reason: 'no retention query configured',
    };
    return zeroVerdict(rule, evidence, specReplicas(deployment));
  }

  /**
   * The optimizer's minimum replicas for `va`: 0 where the model may go to zero now, and for every
   * variant but the one that keeps the model serving; 1 for that one.
   */
  minReplicas(va: VariantAutoscaling, deployment: Deployment | undefined): number {
    return this.zeroVerdict(va, deployment).allowed || !this.keepsServing(va) ? 0 : 1;
  }

  private keepsServing(va: VariantAutoscaling): boolean {
    return this.o.serving?.(va).keeps ?? true;
  }

  /** A reconcile cycle begins. */
  beginCycle(): void {
    this.o.onCycle?.();
  }

  /** The published count: a decision of 0 only where zero is allowed now, else one replica. */
  private gate(
    va: VariantAutoscaling,
    decided: number,
    deployment: Deployment | undefined,
  ): { count: number; why: string } {
    const verdict = this.zeroVerdict(va, deployment);
    if (decided > 0) {
      // Zero may be allowed while the decision is still above it (the stabilisation window holds it).
      const zeroOn = verdict.why !== 'scale to zero is off for this model';
      const zero = verdict.allowed ? `zero allowed: ${verdict.why}` : `not zero: ${verdict.why}`;
      return { count: decided, why: zeroOn ? `the optimizer decision (${zero})` : 'the optimizer decision' };
    }
    if (verdict.allowed) return { count: 0, why: verdict.why };
    const serving = this.o.serving?.(va) ?? { keeps: true };
    if (!serving.keeps && serving.by) {
      return { count: 0, why: `the optimizer decision; variant ${serving.by} keeps serving the model` };
    }
    if (!serving.keeps) {
      return {
        count: 1,
        why: `one replica kept: no other variant of the model has ready replicas (${verdict.why})`,
      };
    }
    return { count: 1, why: `one replica kept: ${verdict.why}` };
  }

  private async scale(
    input: ActuationInput,
    count: number,
    why: string,
    signal?: AbortSignal,
  ): Promise<ActuationResult> {
    const { key, va, deployment } = input;
    const { namespace, name } = va.metadata;
    const target = `Deployment ${namespace}/${name}`;
    if (!deployment) {
      return {
        applied: false,
        reason: 'DeploymentNotFound',
        message: `${target} not found: nothing to scale`,
        published: count,
      };
    }
    if (deployment.metadata?.deletionTimestamp) {
      return {
        applied: false,
        reason: 'DeploymentDeleting',
        message: `${target} is being deleted: not scaled`,
        published: count,
      };
    }
    if (!this.o.hpas?.synced) {
      return {
        applied: false,
        reason: 'HPAsNotListed',
        message:
          'HorizontalPodAutoscalers not listed yet: not scaling before knowing none targets the Deployment',
        published: count,
      };
    }
    const hpa = this.o.hpas.hpaFor(namespace, name);
    if (hpa) {
      const message = `HorizontalPodAutoscaler ${hpa} targets ${target}: not scaling it directly (the HPA scales it; use --actuator=metrics, or delete the HPA)`;
      if (this.lastRefusal.get(key) !== message) {
        this.lastRefusal.set(key, message);
        await this.emit(va, { reason: 'ActuationRefused', type: 'Warning', message }, signal);
      }
      return { applied: false, reason: 'HPAConflict', message, published: count };
    }
    this.lastRefusal.delete(key);
    const from = specReplicas(deployment) as number;
    if (from !== count) {
      try {
        await this.o.scaler?.scale(namespace, name, count, signal);
      } catch (err) {
        return { applied: false, reason: 'ScaleFailed', message: (err as Error).message, published: count };
      }
      await this.emit(va, scaleEvent(from, count, why), signal);
    }
    this.lastPublished.set(key, count);
    return {
      applied: true,
      reason: 'Scaled',
      message: `${target} scaled to ${count} replicas (${why})`,
      published: count,
    };
  }

  /** OptimizationFailed once per distinct failure (reason and message), not every cycle. */
  private async eventOptimization(input: ActuationInput, signal?: AbortSignal): Promise<void> {
    const c = findCondition(input.status, OPTIMIZATION_READY);
    if (c?.status !== 'False') {
      this.lastFailure.delete(input.key);
      return;
    }
    const failure = `${c.reason}: ${c.message}`;
    if (this.lastFailure.get(input.key) === failure) return;
    this.lastFailure.set(input.key, failure);
    await this.emit(input.va, { reason: 'OptimizationFailed', type: 'Warning', message: failure }, signal);
  }

  private async emit(va: VariantAutoscaling, e: VariantEvent, signal?: AbortSignal): Promise<void> {
    await this.o.events?.emit(va, e, signal);
  }

  /** The decision went (invalid spec, object being deleted): its series go. */
  unpublish(key: string): void {
    this.o.metrics.unpublish(key);
    this.lastPublished.delete(key);
  }

  /** The VariantAutoscaling went. */
  forget(key: string): void {
    this.o.metrics.forget(key);
    this.lastPublished.delete(key);
    this.lastFailure.delete(key);
    this.lastRefusal.delete(key);
  }

  /** After a full cycle: forgets every key the cycle did not see (deleted while no event came). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.o.metrics.keys()) if (!keys.has(k)) this.forget(k);
  }

  /** Leadership lost or shutdown: a standby publishes nothing. */
  clear(): void {
    this.o.metrics.clear();
    this.lastPublished.clear();
    this.lastFailure.clear();
    this.lastRefusal.clear();
  }
}
