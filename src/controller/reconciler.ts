// Reconcile one VariantAutoscaling by key, idempotently, and the cycle's bounds around the keys
// (beginCycle / endCycle); the Manager drives every cycle through its work queue. Sources
// (Kubernetes informers or local manifests) and status writers (API patch or in-memory) are
// swappable; nothing here knows which.

import type { ActuationInput, Actuator } from '../actuator/actuator.js';
import { withActuation } from '../actuator/actuator.js';
import {
  type Deployment,
  nameProblem,
  namespaceProblem,
  objectKey,
  splitKey,
  type VariantAutoscaling,
  type VariantAutoscalingStatus,
} from '../kube/types.js';
import { parseSpec } from '../kube/va-spec.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { Decision, VariantOptimizer } from './decision.js';
import { CycleGroups } from './groups.js';
import type { ControllerTelemetry, ReconcileResult, WriteOutcome } from './reconcile-result.js';
import type { SaturationOutcome } from './saturation-decider.js';
import {
  saturationActuation,
  saturationOutcome,
  type VariantDecider,
  withSaturationFloor,
} from './saturation-outcome.js';
import { type GivenDecider, type GivenPlan, givenOutcome } from './slo-given.js';
import { computeStatus, type MetricsRead } from './status.js';
import { lookupTarget, type ScaleTargetSource, specProblemsOf, undecidedEngine } from './targets.js';

export { cycleFinished } from './cycle.js';

/** One consistent view of every model's metrics (FleetCollector's snapshot). */
export interface MetricsView {
  read(modelId: string, namespace: string): MetricsRead;
}

/** What the reconciler needs of the collector: FleetCollector's shape. `snapshot`, when there is
 *  one, gives a cycle its view (one Prometheus call per cycle at most); else each key is `read`. */
export interface MetricsReader {
  read(modelId: string, namespace: string, signal?: AbortSignal): Promise<MetricsRead>;
  snapshot?(signal?: AbortSignal): Promise<MetricsView>;
}

/** Where VariantAutoscalings and Deployments come from (an informer cache, or manifests). */
export interface VariantSource {
  listVariants(): VariantAutoscaling[];
  getVariant(namespace: string, name: string): VariantAutoscaling | undefined;
  getDeployment(namespace: string, name: string): Deployment | undefined | Promise<Deployment | undefined>;
  /** Every Deployment is known (informers): a variant whose Deployment is missing cannot serve. */
  readonly targetsKnown?: boolean;
  /** Targets of other kinds (read through their scale subresource); absent: none are found. */
  getScaleTarget?: ScaleTargetSource;
}

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

export type {
  ControllerTelemetry,
  CycleResult,
  ReconcileOutcome,
  ReconcileResult,
  WriteOutcome,
} from './reconcile-result.js';

export interface ReconcilerOptions {
  source: VariantSource;
  collector: MetricsReader;
  writer: StatusWriter;
  now?: () => Date;
  /** Monotonic milliseconds for the stabilisation window; default `now` when given, else performance.now(). */
  monotonic?: () => number;
  logger?: Logger;
  telemetry?: ControllerTelemetry;
  /** Unit cost per accelerator for currentAlloc.variantCost (a function: the live ConfigMap's). */
  unitCosts?: Record<string, number> | (() => Record<string, number> | undefined);
  /** Decides desiredOptimizedAlloc; absent: the status carries measurements only. */
  optimizer?: Pick<VariantOptimizer, 'decide' | 'beginCycle' | 'prepare'>;
  /** Publishes and applies each decision once its status is computed; none: status only. */
  actuator?: Actuator;
  /** Decides variants without an SLO profile (saturation engines); absent: they wait, said so.
   *  With `given`, it also corrects given profiles by what is measured (and may fall back). */
  saturation?: Omit<VariantDecider, 'forget'> & { given?: GivenDecider };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly log: Logger;

  constructor(options: ReconcilerOptions) {
    this.o = options;
    this.log = options.logger ?? silentLogger;
    this.groups = new CycleGroups(options.source, options.optimizer);
  }

  private readonly inflight = new Map<string, Promise<ReconcileResult>>();

  private monotonic(): number {
    if (this.o.monotonic) return this.o.monotonic();
    return this.o.now ? this.o.now().getTime() : performance.now();
  }
  /** Objects already warned about (bad name or namespace, malformed conditions): once each. */
  private readonly warned = new Set<string>();

  private warnOnce(key: string, what: string, obj: object, msg: string): void {
    const id = `${what}\0${key}`;
    if (this.warned.has(id)) return;
    // Bounded: hostile objects must not grow it without limit; past that a warning may repeat.
    if (this.warned.size >= 10_000) this.warned.clear();
    this.warned.add(id);
    this.log.warn(obj, msg);
  }

  /**
   * Sources other than manifests (the API server's objects) are checked here too: a namespace or
   * name that is not a Kubernetes name would be split wrongly in a "namespace/name" key.
   */
  private usable(va: VariantAutoscaling): boolean {
    const { namespace, name } = va.metadata;
    const problem = namespaceProblem(namespace) ?? nameProblem(name);
    if (!problem) return true;
    this.warnOnce(
      objectKey(va),
      'name',
      { namespace: String(namespace).slice(0, 100), name: String(name).slice(0, 100), problem },
      'VariantAutoscaling skipped: its namespace or name is not a valid Kubernetes name',
    );
    return false;
  }

  /** The variants of each model, grouped once per cycle. */
  private readonly groups: CycleGroups;
  /** Keys whose last status write failed: their replicas are not reduced until one succeeds. */
  private readonly writeFailed = new Set<string>();

  private async decide(
    va: VariantAutoscaling,
    deployment: Deployment | undefined,
    read: MetricsRead,
    now: Date,
    signal?: AbortSignal,
    performance?: GivenPlan,
  ): Promise<Decision | undefined> {
    const optimizer = this.o.optimizer;
    if (!optimizer) return undefined;
    try {
      const group = await this.groups.of(va);
      await optimizer.prepare([va]);
      // Aborted (leadership lost, shutdown): nothing goes into the stabilisation window.
      if (signal?.aborted) return undefined;
      const monotonicMs = this.monotonic();
      const requireTarget = this.o.source.targetsKnown ?? false;
      const d = optimizer.decide({
        va,
        deployment,
        read,
        group,
        now,
        monotonicMs,
        requireTarget,
        ...(performance ? { performance } : {}),
      });
      const sat = this.o.saturation;
      if (!d.ok || !sat || !read.pods?.length) return d;
      // The SLO group is the model's SLO-sized variants: the floor's members.
      return withSaturationFloor(d, sat.floor(va, group, read.pods));
    } catch (err) {
      // A defect in the optimizer must not stop currentAlloc from being written.
      return {
        ok: false,
        reason: 'OptimizationFailed',
        message: `optimizer failed: ${asError(err).message}`,
      };
    }
  }

  /**
   * What the actuator acts on: this reconcile's decision, never a count found in status (written
   * by an earlier process, another controller or a person). Without an optimizer nothing is decided.
   */
  private decided(d: Decision | undefined): Pick<ActuationInput, 'decision' | 'undecided' | 'predicted'> {
    if (d?.ok) {
      return {
        decision: { accelerator: d.accelerator, numReplicas: d.numReplicas },
        predicted: d.allocation.predicted,
      };
    }
    if (!this.o.optimizer) return { undecided: 'no optimizer: nothing is decided here' };
    return { undecided: d ? `${d.reason}: ${d.message}` : 'nothing decided' };
  }

  /**
   * Brings one object's status in line with the world. Never rejects: failures are a result.
   * Calls for one key run one after another (a change event during a cycle waits its turn).
   */
  reconcile(key: string, signal?: AbortSignal, view?: MetricsView): Promise<ReconcileResult> {
    const prev = this.inflight.get(key);
    const run = () => this.reconcileNow(key, signal, view);
    const p = prev ? prev.then(run) : run();
    this.inflight.set(key, p);
    void p.then(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    return p;
  }

  private async reconcileNow(
    key: string,
    signal?: AbortSignal,
    view?: MetricsView,
  ): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const base: ReconcileResult = { key, namespace, name, outcome: 'gone' };
    const log = this.log.child({ namespace, name });
    try {
      signal?.throwIfAborted();
      const va = this.o.source.getVariant(namespace, name);
      if (!va || !this.usable(va)) {
        this.o.actuator?.forget(key);
        this.writeFailed.delete(key);
        return base;
      }
      const conditions: unknown = va.status?.conditions;
      if (conditions !== undefined && conditions !== null && !Array.isArray(conditions)) {
        this.warnOnce(
          key,
          'conditions',
          { namespace, name, conditionsType: typeof conditions },
          'status.conditions is not a list; read as no conditions, replaced by the next write',
        );
      }
      const modelId = typeof va.spec?.modelID === 'string' ? va.spec.modelID : undefined;
      if (modelId) base.modelId = modelId;
      if (va.metadata.deletionTimestamp) {
        this.o.actuator?.forget(key);
        return { ...base, outcome: 'skipped', status: va.status };
      }

      const spec = parseSpec(va.spec, name);
      const specProblems = spec.ok ? [] : spec.problems;
      let read: MetricsRead | undefined;
      let deployment: Deployment | undefined;
      if (spec.ok) {
        [read, deployment] = await Promise.all([
          view
            ? view.read(va.spec.modelID, namespace)
            : this.o.collector.read(va.spec.modelID, namespace, signal),
          lookupTarget(this.o.source, namespace, spec.spec.target),
        ]);
      } else {
        log.warn({ problems: specProblems }, 'invalid VariantAutoscaling spec');
      }
      // The seam for sizing and actuation: each is a function of this key's object, its Deployment
      // and `read` (the cycle's snapshot), run here, between the read and the status write.
      const now = (this.o.now ?? (() => new Date()))();
      // Decided once, outside compute (which may run again after a conflict): the decision
      // records a recommendation in the stabilisation window.
      let sat: SaturationOutcome | undefined;
      let plan: GivenPlan | undefined;
      if (spec.ok && read && spec.spec.engine === 'saturation' && this.o.saturation) {
        sat = await saturationOutcome(this.o.saturation, () => this.groups.ofModel(va), va, read);
      } else if (spec.ok && read && spec.spec.engine === 'slo' && this.o.optimizer) {
        // A given profile: the optimizer sizes with it as measured, unless contradicted (saturation then).
        const g = await givenOutcome(this.o.saturation, () => this.groups.ofModel(va), va, read, log);
        if (g && 'fallback' in g) sat = g.fallback;
        else plan = g?.plan;
      }
      const waiting = spec.ok && this.o.optimizer && !sat ? undecidedEngine(spec.spec) : undefined;
      const decision = sat
        ? undefined
        : read
          ? (waiting ?? (await this.decide(va, deployment, read, now, signal, plan)))
          : this.o.optimizer && specProblems.length > 0
            ? ({
                ok: false,
                reason: 'InvalidProfile',
                message: 'spec invalid (see the Reconciled condition): nothing decided',
              } as const)
            : undefined;
      signal?.throwIfAborted();
      // The actuator and the write usually see the same object: computed once for it.
      let ownStatus: ReturnType<typeof computeStatus> | undefined;
      const statusOf = (fresh: VariantAutoscaling) => {
        if (fresh !== va) return computeOf(fresh);
        ownStatus ??= computeOf(va);
        return ownStatus;
      };
      const computeOf = (fresh: VariantAutoscaling) =>
        computeStatus({
          va: fresh,
          specProblems: fresh === va ? specProblems : specProblemsOf(fresh),
          deployment,
          read,
          now,
          unitCosts: typeof this.o.unitCosts === 'function' ? this.o.unitCosts() : this.o.unitCosts,
          decision,
          ...(sat ? { engine: sat.status } : {}),
        });
      // Actuation acts on the status just computed; the write then records what it did.
      const actuator = this.o.actuator;
      let actuation: Awaited<ReturnType<Actuator['actuate']>> | undefined;
      if (actuator && specProblems.length === 0) {
        actuation = await actuator.actuate(
          {
            key,
            va,
            status: statusOf(va),
            deployment,
            measured: read?.metrics,
            ...(sat ? saturationActuation(sat) : this.decided(decision)),
            ...(this.writeFailed.has(key) ? { noScaleDown: 'the last status write failed' } : {}),
          },
          signal,
        );
      } else actuator?.unpublish(key);
      let written: Awaited<ReturnType<StatusWriter['write']>>;
      try {
        written = await this.o.writer.write(
          va,
          (fresh) => {
            const next = statusOf(fresh);
            return actuation ? withActuation(next, actuation, now, fresh.metadata.generation) : next;
          },
          signal,
        );
      } catch (err) {
        if (!signal?.aborted) this.writeFailed.add(key);
        throw err;
      }
      this.writeFailed.delete(key);
      const { outcome, status } = written;
      this.o.telemetry?.statusWrite?.(outcome);
      if (outcome === 'written') log.debug({ model: modelId }, 'status written');
      const result: ReconcileResult = { ...base, outcome, status };
      if (deployment) result.deployment = deployment;
      if (read) result.read = read;
      if (decision) result.decision = decision;
      if (sat) {
        result.engine = sat.model.engine;
        if (sat.decision) result.engineDecision = sat.decision;
      }
      return result;
    } catch (err) {
      const error = asError(err);
      this.o.telemetry?.statusWrite?.('error');
      if (!signal?.aborted) log.error({ err: error.message }, 'reconcile failed');
      return { ...base, outcome: 'error', error };
    }
  }

  /**
   * A cycle begins: the keys to reconcile (every object the source knows whose name can be a key),
   * told to the optimizer, and the variants grouped by model once for the whole cycle. Call
   * `endCycle` when the cycle's keys are done.
   */
  beginCycle(): string[] {
    const vas = this.o.source.listVariants().filter((va) => this.usable(va));
    const keys = vas.map(objectKey);
    this.o.optimizer?.beginCycle(new Set(keys));
    this.o.saturation?.beginCycle(new Set(keys));
    this.o.actuator?.beginCycle();
    if (this.o.optimizer || this.o.saturation) this.groups.begin(vas);
    return keys;
  }

  /** The cycle's keys are done. `completed`: it ran to its end (not aborted), so a VariantAutoscaling
   *  gone without an event reaching us loses its published series now. */
  endCycle(completed = true): void {
    this.groups.end();
    if (!completed) return;
    const keys = new Set(this.o.source.listVariants().map(objectKey));
    this.o.actuator?.retain(keys);
    for (const k of this.writeFailed) if (!keys.has(k)) this.writeFailed.delete(k);
  }
}
