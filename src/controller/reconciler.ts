// Reconcile one VariantAutoscaling by key, idempotently, and a cycle over all of them with bounded
// concurrency. Sources (Kubernetes informers or local manifests) and status writers (API patch or
// in-memory) are swappable; nothing here knows which.
import type { Actuator } from '../actuator/actuator.js';
import { withActuation } from '../actuator/actuator.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import { computeStatus, type MetricsRead } from './status.js';
import {
  type Deployment,
  objectKey,
  splitKey,
  type VariantAutoscaling,
  type VariantAutoscalingStatus,
  validateSpec,
} from './types.js';

/** What the reconciler needs of the collector: FleetCollector.read's shape. */
export interface MetricsReader {
  read(modelId: string, namespace: string, signal?: AbortSignal): Promise<MetricsRead>;
  /** Opens a cycle (FleetCollector: one Prometheus call per cycle at most); returns its end. */
  beginCycle?(): () => void;
}

/** Where VariantAutoscalings and Deployments come from (an informer cache, or manifests). */
export interface VariantSource {
  listVariants(): VariantAutoscaling[];
  getVariant(namespace: string, name: string): VariantAutoscaling | undefined;
  getDeployment(namespace: string, name: string): Deployment | undefined | Promise<Deployment | undefined>;
}

export type WriteOutcome = 'written' | 'unchanged';

export interface StatusWriter {
  /**
   * Stores the status `compute` returns for the freshest copy of `va`; `compute` may run more than
   * once (after a conflict, on the re-read object). No write when nothing the controller owns changed.
   */
  write(
    va: VariantAutoscaling,
    compute: (fresh: VariantAutoscaling) => VariantAutoscalingStatus,
    signal?: AbortSignal,
  ): Promise<{ outcome: WriteOutcome; status: VariantAutoscalingStatus }>;
}

/** The telemetry hooks the controller moves (Telemetry implements them). */
export interface ControllerTelemetry {
  cycleFinished?(outcome: 'success' | 'error', seconds: number): void;
  statusWrite?(outcome: 'written' | 'unchanged' | 'error'): void;
}

export type ReconcileOutcome = WriteOutcome | 'skipped' | 'gone' | 'error';

export interface ReconcileResult {
  key: string;
  namespace: string;
  name: string;
  modelId?: string;
  outcome: ReconcileOutcome;
  /** The status as it now stands (written or found unchanged). */
  status?: VariantAutoscalingStatus;
  deployment?: Deployment;
  /** What the collector answered (absent for an invalid spec). */
  read?: MetricsRead;
  error?: Error;
}

export interface CycleResult {
  startedAt: Date;
  durationMs: number;
  results: ReconcileResult[];
}

export interface ReconcilerOptions {
  source: VariantSource;
  collector: MetricsReader;
  writer: StatusWriter;
  /** Reconciles running at once in a cycle; default 16. */
  concurrency?: number;
  now?: () => Date;
  logger?: Logger;
  telemetry?: ControllerTelemetry;
  unitCosts?: Record<string, number>;
  /** Publishes and applies each decision once its status is computed; none: status only. */
  actuator?: Actuator;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order; never rejects. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly log: Logger;
  concurrency: number;

  constructor(options: ReconcilerOptions) {
    this.o = options;
    this.log = options.logger ?? silentLogger;
    this.concurrency = Math.max(1, options.concurrency ?? 16);
  }

  private readonly inflight = new Map<string, Promise<ReconcileResult>>();

  /**
   * Brings one object's status in line with the world. Never rejects: failures are a result.
   * Calls for one key run one after another (a change event during a cycle waits its turn).
   */
  reconcile(key: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const prev = this.inflight.get(key);
    const p = prev ? prev.then(() => this.reconcileNow(key, signal)) : this.reconcileNow(key, signal);
    this.inflight.set(key, p);
    void p.then(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    return p;
  }

  private async reconcileNow(key: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const base: ReconcileResult = { key, namespace, name, outcome: 'gone' };
    const log = this.log.child({ namespace, name });
    try {
      signal?.throwIfAborted();
      const va = this.o.source.getVariant(namespace, name);
      if (!va) {
        this.o.actuator?.forget(key);
        return base;
      }
      const modelId = typeof va.spec?.modelID === 'string' ? va.spec.modelID : undefined;
      if (modelId) base.modelId = modelId;
      if (va.metadata.deletionTimestamp) {
        this.o.actuator?.forget(key);
        return { ...base, outcome: 'skipped', status: va.status };
      }

      const specProblems = validateSpec(va.spec);
      let read: MetricsRead | undefined;
      let deployment: Deployment | undefined;
      if (specProblems.length === 0) {
        [read, deployment] = await Promise.all([
          this.o.collector.read(va.spec.modelID, namespace, signal),
          this.o.source.getDeployment(namespace, name),
        ]);
      } else {
        log.warn({ problems: specProblems }, 'invalid VariantAutoscaling spec');
      }
      const now = (this.o.now ?? (() => new Date()))();
      const statusOf = (fresh: VariantAutoscaling) =>
        computeStatus({
          va: fresh,
          specProblems: fresh === va ? specProblems : validateSpec(fresh.spec),
          deployment,
          read,
          now,
          unitCosts: this.o.unitCosts,
        });
      // Actuation acts on the status just computed; the write then records what it did.
      const actuator = this.o.actuator;
      let actuation: Awaited<ReturnType<Actuator['actuate']>> | undefined;
      if (actuator && specProblems.length === 0) {
        actuation = await actuator.actuate({ key, va, status: statusOf(va), deployment }, signal);
      } else actuator?.unpublish(key);
      const { outcome, status } = await this.o.writer.write(
        va,
        (fresh) => {
          const next = statusOf(fresh);
          return actuation ? withActuation(next, actuation, now, fresh.metadata.generation) : next;
        },
        signal,
      );
      this.o.telemetry?.statusWrite?.(outcome);
      if (outcome === 'written') log.debug({ model: modelId }, 'status written');
      const result: ReconcileResult = { ...base, outcome, status };
      if (deployment) result.deployment = deployment;
      if (read) result.read = read;
      return result;
    } catch (err) {
      const error = asError(err);
      this.o.telemetry?.statusWrite?.('error');
      if (!signal?.aborted) log.error({ err: error.message }, 'reconcile failed');
      return { ...base, outcome: 'error', error };
    }
  }

  /** One pass over every object the source knows. One object's failure never stops the others. */
  async runCycle(signal?: AbortSignal): Promise<CycleResult> {
    const startedAt = new Date();
    const t0 = performance.now();
    const keys = this.o.source.listVariants().map(objectKey);
    const endCycle = this.o.collector.beginCycle?.();
    let results: ReconcileResult[];
    try {
      results = await mapBounded(keys, this.concurrency, (k) => this.reconcile(k, signal));
    } finally {
      endCycle?.();
    }
    // A VariantAutoscaling deleted without an event reaching us still loses its series here.
    if (!signal?.aborted) this.o.actuator?.retain(new Set(this.o.source.listVariants().map(objectKey)));
    const durationMs = performance.now() - t0;
    const failed = results.filter((r) => r.outcome === 'error').length;
    this.o.telemetry?.cycleFinished?.(failed > 0 ? 'error' : 'success', durationMs / 1000);
    this.log.info(
      {
        objects: results.length,
        written: results.filter((r) => r.outcome === 'written').length,
        failed,
        durationMs: Math.round(durationMs),
      },
      'reconcile cycle finished',
    );
    return { startedAt, durationMs, results };
  }
}
