// The policies the benchmark compares. Each reads, every cycle, only the collector's view of the
// fleet (view.ts) and answers a replica count per variant; none sees the simulator's internals.
import { DEFAULT_CONFIG } from '../../src/config/load.js';
import {
  createSaturationV1Engine,
  createSaturationV2Engine,
  createSloEngine,
  type Engine,
  type ModelDecision,
  parseSaturationScalingConfigMap,
  type SaturationModelInput,
  type SloModelInput,
  type SloVariantInput,
  type TargetFractions,
} from '../../src/engines/index.js';
import {
  type LearnSettings,
  neutralPrior,
  PerformanceEstimator,
  RateTrend,
} from '../../src/engines/slo/index.js';
import type { TailOptions } from '../../src/engines/slo/percentile.js';
import type { QueueProfile } from '../../src/optimizer/index.js';
import type { ModelSpec, VariantSpec } from './fleet.js';
import type { ModelView } from './view.js';

export interface Bounds {
  minReplicas: number;
  maxReplicas: number;
}

export interface Policy {
  readonly name: string;
  /** Replicas per variant for the next cycle (variants absent keep theirs). */
  decide(views: ModelView[], nowMs: number): Map<string, number>;
}

// Upstream's default thresholds; V2 is chosen by analyzerName, as upstream's ConfigMap does it.
const V1_THRESHOLDS =
  'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n';
const SATURATION_CONFIG = parseSaturationScalingConfigMap({ default: V1_THRESHOLDS }, { product: true });
const V2_CONFIG = parseSaturationScalingConfigMap(
  { default: `${V1_THRESHOLDS}analyzerName: saturation\n` },
  { product: true },
);

function vllmArgs(v: VariantSpec): string[] {
  const a = v.setup.args;
  return [
    '--max-num-seqs',
    String(a.maxNumSeqs),
    '--max-num-batched-tokens',
    String(a.maxNumBatchedTokens),
    '--block-size',
    String(a.blockSize),
    '--gpu-memory-utilization',
    String(a.gpuMemoryUtilization),
  ];
}

/** The seam's input for one model, as the controller would build it from the collector's view. */
function saturationInput(
  spec: ModelSpec,
  view: ModelView,
  published: Map<string, number>,
  bounds: Bounds,
  config = SATURATION_CONFIG,
): SaturationModelInput {
  return {
    modelId: spec.id,
    namespace: 'bench',
    variants: view.variants.map((v) => {
      const s = spec.variants.find((x) => x.name === v.name)!;
      return {
        variantName: v.name,
        cost: v.cost,
        acceleratorName: v.accelerator,
        currentReplicas: v.replicas,
        desiredReplicas: published.get(v.name) ?? v.replicas,
        pendingReplicas: Math.max(0, v.replicas - v.ready),
        gpusPerReplica: s.setup.gpus,
        deployment: { spec: { template: { spec: { containers: [{ args: vllmArgs(s) }] } } } },
        ...bounds,
      };
    }),
    pods: new Map(view.variants.map((v) => [v.name, v.pods])),
    config,
    scaleToZero: { config: {}, requestCount: null, envDefault: false },
  };
}

function targetsOf(d: ModelDecision, into: Map<string, number>): void {
  for (const x of d.decisions) into.set(x.variantName, x.targetReplicas);
}

/** Upstream's saturation engines as wired there: one decision per model per cycle. */
export class SaturationPolicy implements Policy {
  private readonly engine: Engine;
  private readonly published = new Map<string, number>();
  constructor(
    readonly name: 'saturation-v1' | 'saturation-v2',
    private readonly models: ModelSpec[],
    private readonly bounds: Bounds,
  ) {
    this.engine = name === 'saturation-v1' ? createSaturationV1Engine() : createSaturationV2Engine();
  }
  decide(views: ModelView[]): Map<string, number> {
    const out = new Map<string, number>();
    views.forEach((view, i) => {
      const config = this.name === 'saturation-v2' ? V2_CONFIG : SATURATION_CONFIG;
      const input = saturationInput(this.models[i]!, view, this.published, this.bounds, config);
      targetsOf(this.engine.decide(input), out);
    });
    for (const [k, n] of out) this.published.set(k, n);
    return out;
  }
}

/** What the learned policy's estimators said at a time, for the prediction-error report. */
export interface LearnedSnapshot {
  tMs: number;
  variant: string;
  itlErrorPct: number | null;
  ttftErrorPct: number | null;
  usable: boolean;
}

/**
 * Ours: the SLO engine with either learned models (an estimator per variant fed each cycle's
 * measurements, neutral priors, no profile anywhere) or an offline profile per variant.
 */
export class SloPolicy implements Policy {
  private readonly engine: Engine<SloModelInput>;
  private readonly estimators = new Map<string, PerformanceEstimator>();
  private readonly published = new Map<string, number>();
  readonly snapshots: LearnedSnapshot[] = [];
  /** The last cycle's reason per variant (diagnosis). */
  readonly reasons = new Map<string, string>();
  /** Model-cycles decided by the SLO engine, and all model-cycles. */
  sloCycles = 0;
  cycles = 0;
  constructor(
    readonly name: 'learned' | 'profiled',
    private readonly models: ModelSpec[],
    private readonly bounds: Bounds,
    private readonly profiles: Map<string, QueueProfile> = new Map(),
    private readonly learnSettings: Partial<LearnSettings> = {},
    targetFraction: number | TargetFractions = 1,
    private readonly fallbackV2 = false,
    scaleDownFraction = 1,
    /** The collector's window, for the rising-rate estimate; none: size on the window average. */
    trendWindowMs?: number,
    /** Pods' start-up, for the backlog expected when new ones serve; none: the queue now. */
    startupMs?: number,
    /** Size for a quantile of per-request ITL (TailOptions); none: the mean. */
    tail?: TailOptions,
    /** How far ahead a steadily rising load is sized (RateTrend's lead). */
    trendLeadMs = 0,
  ) {
    // No stabilisation window: with saturation V1 as the floor a scale-down is already at most one
    // replica per cycle and only when V1 finds spare capacity; a window on top would hold the counts
    // a backlog asked for five more minutes.
    // With analyzerName: saturation the fallback is saturation V2 (its capacity store kept across
    // cycles); the floor stays V1.
    this.engine = createSloEngine({
      targetFraction,
      scaleDownFraction,
      ...(trendWindowMs !== undefined ? { trend: new RateTrend(trendWindowMs, trendLeadMs) } : {}),
      ...(startupMs !== undefined ? { startupMs } : {}),
      ...(tail !== undefined ? { tail } : {}),
      ...(fallbackV2 ? { fallback: createSaturationV2Engine() } : {}),
    });
    if (name === 'learned')
      for (const m of models)
        for (const v of m.variants)
          this.estimators.set(
            v.name,
            new PerformanceEstimator({
              key: { model: m.id, namespace: 'bench', accelerator: v.accelerator, argsFingerprint: v.name },
              maxBatchSize: v.setup.args.maxNumSeqs,
              neutral: neutralPrior(m.id, v.accelerator),
              settings: learnSettings,
            }),
          );
  }

  decide(views: ModelView[], nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    views.forEach((view, i) => {
      const spec = this.models[i]!;
      const config = this.fallbackV2 ? V2_CONFIG : SATURATION_CONFIG;
      const base = saturationInput(spec, view, this.published, this.bounds, config);
      const variants: SloVariantInput[] = base.variants.map((v) => {
        const est = this.estimators.get(v.variantName);
        const obs = view.variants.find((x) => x.name === v.variantName)?.observation;
        if (est && obs) est.observe(obs, nowMs);
        if (est) {
          const st = est.status();
          this.snapshots.push({
            tMs: nowMs,
            variant: v.variantName,
            itlErrorPct: st.itlErrorPct,
            ttftErrorPct: st.ttftErrorPct,
            usable: st.usable,
          });
        }
        const profile = this.profiles.get(v.variantName);
        return {
          ...v,
          ...(est ? { learned: est.snapshot(), learnSettings: this.learnSettings } : {}),
          ...(profile ? { profile } : {}),
        };
      });
      const input: SloModelInput = {
        ...base,
        variants,
        slo: spec.slo,
        load:
          view.arrivalRate > 0 && view.avgOutputTokens === 0
            ? null
            : {
                arrivalRate: view.arrivalRate,
                avgInputTokens: view.avgInputTokens,
                avgOutputTokens: view.avgOutputTokens,
              },
        waiting: view.waiting,
        backlogDrainMs: DEFAULT_CONFIG.reconcile.backlogDrainMs,
        nowMs,
      };
      const d = this.engine.decide(input);
      this.cycles++;
      if (d.engine === 'slo-queueing') this.sloCycles++;
      for (const x of d.decisions) this.reasons.set(x.variantName, x.reason);
      targetsOf(d, out);
    });
    for (const [k, n] of out) this.published.set(k, n);
    return out;
  }
}

/**
 * An HPA through KEDA's Prometheus scaler on vllm:num_requests_waiting, per variant: AverageValue
 * target per pod (desired = ceil(sum / target)), HPA's 10 % tolerance, scale-up at most doubling
 * (or +4 pods) per period, scale-down to the highest recommendation of the last 300 s.
 */
export class HpaQueuePolicy implements Policy {
  readonly name = 'hpa-queue';
  private readonly history = new Map<string, Array<{ tMs: number; n: number }>>();
  constructor(
    private readonly bounds: Bounds,
    readonly targetPerPod = 5,
    readonly downWindowMs = 300_000,
  ) {}
  decide(views: ModelView[], nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const view of views)
      for (const v of view.variants) {
        const waiting = v.waiting;
        const current = v.replicas;
        let want = current;
        const ratio = v.ready > 0 ? waiting / (this.targetPerPod * v.ready) : waiting > 0 ? 2 : 0;
        if (Math.abs(ratio - 1) > 0.1) want = Math.ceil(waiting / this.targetPerPod);
        want = Math.min(want, Math.max(2 * current, current + 4));
        want = Math.max(this.bounds.minReplicas, Math.min(this.bounds.maxReplicas, want));
        const h = this.history.get(v.name) ?? [];
        h.push({ tMs: nowMs, n: want });
        while (h.length > 0 && h[0]!.tMs < nowMs - this.downWindowMs) h.shift();
        this.history.set(v.name, h);
        const stable = Math.max(...h.map((x) => x.n));
        out.set(v.name, want > current ? want : Math.min(current, stable));
      }
    return out;
  }
}

/** The same counts all the time. */
export class StaticPolicy implements Policy {
  readonly name = 'static-peak';
  constructor(readonly counts: Map<string, number>) {}
  decide(): Map<string, number> {
    return new Map(this.counts);
  }
}
