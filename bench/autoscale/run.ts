// One policy over one trace in virtual time: the fleet steps every second, the policy decides every
// cycle from the collector's view, and the run is scored on what the clients saw.
import { createSloEngine, type SloModelInput, type TargetFractions } from '../../src/engines/index.js';
import type { LearnSettings } from '../../src/engines/slo/index.js';
import type { TailOptions } from '../../src/engines/slo/percentile.js';
import type { QueueProfile } from '../../src/optimizer/index.js';
import { fitProfile } from '../../src/simulator/index.js';
import { type Finished, type ModelSpec, type ModelState, SimFleet, worldBounds } from './fleet.js';
import {
  type Bounds,
  HpaQueuePolicy,
  type LearnedSnapshot,
  type Policy,
  SaturationPolicy,
  SloPolicy,
  StaticPolicy,
} from './policies.js';
import { peakRate, type Trace } from './traces.js';
import { readFleet } from './view.js';

export interface RunSettings {
  stepMs: number;
  cycleMs: number;
  windowMs: number;
  startupMs: number;
  seed: number;
  bounds: Bounds;
  /** Static fleet: this much above the count sized for the peak. */
  staticHeadroom: number;
  /** The learned policy's learner settings (defaults otherwise). */
  learn: Partial<LearnSettings>;
  /** The SLO engine sizes for this fraction of each target. */
  targetFraction: number | TargetFractions;
  /** The SLO policies' fallback is saturation V2 (analyzerName: saturation); the floor stays V1. */
  fallbackV2?: boolean;
  /** The SLO policies' dead band: scale down only to the count meeting this further fraction. */
  scaleDownFraction?: number;
  /** The SLO policies size a rising load for the last cycle's own rate (RateTrend). */
  trend?: boolean;
  /** The SLO policies size the backlog for the queue expected when the pods they ask for serve. */
  backlogAhead?: boolean;
  /** The SLO policies size for this quantile of per-request ITL. */
  tail?: TailOptions;
  /** With `trend`: size a steadily rising load for its rate this far ahead (0: none). */
  trendLeadMs?: number;
}

export interface Row {
  trace: string;
  policy: string;
  minuteAttainment: number;
  /** Requests whose own TTFT is within target (the design's definition; the goal is judged on it). */
  requestAttainment: number;
  /** Requests whose own TTFT and own ITL are both within target (stricter; reported beside it). */
  requestAttainmentStrict: number;
  gpuHours: number;
  actions: number;
  recoverySeconds: number | null;
  maxReplicas: number;
}

export interface RunOutcome {
  row: Row;
  /** The learned policy's estimator figures over time. */
  snapshots: LearnedSnapshot[];
  /** Share of model-cycles the SLO engine decided (SLO policies). */
  sloShare: number | null;
}

export const POLICY_NAMES = [
  'learned',
  'profiled',
  'saturation-v1',
  'saturation-v2',
  'hpa-queue',
  'static-peak',
];

interface Bucket {
  ttft: number;
  n: number;
  decode: number;
  gaps: number;
}

const empty = (): Bucket => ({ ttft: 0, n: 0, decode: 0, gaps: 0 });

function add(b: Bucket, f: Finished): void {
  b.ttft += f.clientTtftMs;
  b.n++;
  b.decode += f.decodeMs;
  b.gaps += f.gaps;
}

function within(b: Bucket, slo: { ttftMs: number; itlMs: number }): boolean {
  return b.n > 0 && b.ttft / b.n <= slo.ttftMs && (b.gaps === 0 || b.decode / b.gaps <= slo.itlMs);
}

/** The trace's models with its request lengths. */
export function modelsFor(models: ModelSpec[], trace: Trace): ModelSpec[] {
  return models.map((m) => (trace.lengths ? { ...m, ...trace.lengths } : m));
}

const fitted = new Map<string, QueueProfile>();

/** Each variant's offline profile for these lengths, fitted as an operator would (fitProfile). */
export function profilesFor(models: ModelSpec[], seed: number): Map<string, QueueProfile> {
  const out = new Map<string, QueueProfile>();
  for (const m of models)
    for (const v of m.variants) {
      const key = `${v.name}|${m.input.mean}|${m.output.mean}|${seed}`;
      let p = fitted.get(key);
      if (!p) {
        const f = fitProfile(v.setup, Math.round(m.input.mean), Math.round(m.output.mean), seed);
        p = {
          ...f,
          alpha: Math.max(f.alpha, 0.1),
          gamma: Math.max(f.gamma, 0.1),
          maxBatchSize: v.setup.args.maxNumSeqs,
        };
        fitted.set(key, p);
      }
      out.set(v.name, p);
    }
  return out;
}

/** Replicas per variant the SLO engine sizes on the profiles for each model's rate. */
export function sizeFor(
  models: ModelSpec[],
  profiles: Map<string, QueueProfile>,
  rates: number[],
  bounds: Bounds,
): Map<string, number> {
  const out = new Map<string, number>();
  models.forEach((m, i) => {
    const input: SloModelInput = {
      modelId: m.id,
      namespace: 'bench',
      variants: m.variants.map((v) => ({
        variantName: v.name,
        cost: v.cost,
        acceleratorName: v.accelerator,
        currentReplicas: bounds.minReplicas,
        desiredReplicas: bounds.minReplicas,
        pendingReplicas: 0,
        gpusPerReplica: 1,
        ...bounds,
        profile: profiles.get(v.name)!,
      })),
      pods: new Map(),
      config: { entries: {}, default: null, builtIn: false, problems: [], product: true } as never,
      scaleToZero: { config: {}, requestCount: null, envDefault: false },
      slo: m.slo,
      load: { arrivalRate: rates[i]!, avgInputTokens: m.input.mean, avgOutputTokens: m.output.mean },
      nowMs: 0,
    };
    for (const d of createSloEngine().decide(input).decisions) out.set(d.variantName, d.targetReplicas);
  });
  return out;
}

export function makePolicy(name: string, trace: Trace, models: ModelSpec[], s: RunSettings): Policy {
  switch (name) {
    case 'learned':
    case 'profiled': {
      // The same engine and settings; learned starts from neutral priors, profiled from the
      // profiles fitted offline.
      const learned = name === 'learned';
      return new SloPolicy(
        name,
        models,
        s.bounds,
        learned ? new Map() : profilesFor(models, s.seed),
        learned ? s.learn : {},
        s.targetFraction,
        s.fallbackV2,
        s.scaleDownFraction,
        s.trend ? s.windowMs : undefined,
        s.backlogAhead ? s.startupMs : undefined,
        s.tail,
        s.trendLeadMs ?? 0,
      );
    }
    case 'saturation-v1':
    case 'saturation-v2':
      return new SaturationPolicy(name, models, s.bounds);
    case 'hpa-queue':
      // An HPA keeps at least one pod per variant (upstream's chart: minReplicas 1); a per-pod queue
      // metric could not wake a variant with none.
      return new HpaQueuePolicy({ ...s.bounds, minReplicas: Math.max(1, s.bounds.minReplicas) });
    case 'static-peak': {
      const peak = models.map((_, i) => peakRate(trace, i) * s.staticHeadroom);
      return new StaticPolicy(sizeFor(models, profilesFor(models, s.seed), peak, s.bounds));
    }
    default:
      throw new Error(`unknown policy ${name}`);
  }
}

/** Optional observers of a run, for diagnosis (diagnose.ts); the score does not depend on them. */
export interface RunProbe {
  /** Every finished request with the model's index and whether it met each target. */
  request?(model: number, f: Finished, ttftOk: boolean, itlOk: boolean): void;
  /** Every cycle after the policy decided: the fleet and the views the policy read. */
  cycle?(tMs: number, fleet: SimFleet, views: ReturnType<typeof readFleet>, policy: Policy): void;
  /** The end: requests sent before the last minute and never finished, per model. */
  end?(lost: number[]): void;
}

export function runOne(
  trace: Trace,
  policyName: string,
  baseModels: ModelSpec[],
  s: RunSettings,
  probe: RunProbe = {},
): RunOutcome {
  const models = modelsFor(baseModels, trace);
  const policy = makePolicy(policyName, trace, models, s);
  // Every policy starts from the fleet sized for the first rate; the static one from its own.
  const initial =
    policy instanceof StaticPolicy
      ? policy.counts
      : sizeFor(
          models,
          profilesFor(models, s.seed),
          models.map((_, i) => trace.rate(i, 0)),
          s.bounds,
        );
  const minutes = Math.ceil(trace.durationMs / 60_000);
  const perMinute = models.map(() => Array.from({ length: minutes }, empty));
  const byArrival = models.map(() => Array.from({ length: Math.ceil(trace.durationMs / 10_000) }, empty));
  const tail = trace.durationMs - 60_000;
  let counted = 0;
  let ok = 0;
  let okStrict = 0;
  const finishedBeforeTail = models.map(() => 0);
  const index = new Map(models.map((m, i) => [m.id, i]));
  const onFinished = (m: ModelState, f: Finished) => {
    const i = index.get(m.spec.id)!;
    const b = perMinute[i]![Math.floor(f.finishedMs / 60_000)];
    if (b) add(b, f);
    const a = byArrival[i]![Math.floor(f.arrivalMs / 10_000)];
    if (a) add(a, f);
    if (f.arrivalMs >= tail) return;
    finishedBeforeTail[i]!++;
    counted++;
    const itl = f.gaps > 0 ? f.decodeMs / f.gaps : 0;
    const ttftOk = f.clientTtftMs <= m.spec.slo.ttftMs;
    const itlOk = itl <= m.spec.slo.itlMs;
    probe.request?.(i, f, ttftOk, itlOk);
    if (ttftOk) ok++;
    if (ttftOk && itlOk) okStrict++;
  };
  const fleet = new SimFleet({
    models,
    initial: Object.fromEntries(worldBounds(models, () => 0, initial, s.bounds.maxReplicas)),
    startupMs: s.startupMs,
    seed: s.seed,
    arrivalCv: trace.arrivalCv,
    onFinished,
  });
  let actions = 0;
  let maxReplicas = fleet.replicas;
  const arrivedBeforeTail = models.map(() => 0);
  for (let t = 0; t < trace.durationMs; t += s.stepMs) {
    const t1 = t + s.stepMs;
    fleet.step(
      t,
      s.stepMs,
      models.map((_, i) => trace.rate(i, t + s.stepMs / 2)),
    );
    if (t1 === tail)
      fleet.models.forEach((m, i) => {
        arrivedBeforeTail[i] = m.id;
      });
    if (t1 % s.cycleMs !== 0) continue;
    const views = readFleet(fleet, t1, s.windowMs);
    const want = worldBounds(
      models,
      (v) => fleet.variant(v).pods.length,
      policy.decide(views, t1),
      s.bounds.maxReplicas,
    );
    for (const [name, n] of want) {
      if (fleet.variant(name).pods.length === n) continue;
      actions++;
      fleet.setReplicas(name, n, t1);
    }
    maxReplicas = Math.max(maxReplicas, fleet.replicas);
    probe.cycle?.(t1, fleet, views, policy);
  }
  // Requests sent before the last minute and never finished missed their SLO.
  const lostPer = arrivedBeforeTail.map((n, i) => Math.max(0, n - finishedBeforeTail[i]!));
  probe.end?.(lostPer);
  const lost = lostPer.reduce((a, n) => a + n, 0);
  let minutesOk = 0;
  models.forEach((m, i) => {
    for (const b of perMinute[i]!) if (within(b, m.slo)) minutesOk++;
  });
  const row: Row = {
    trace: trace.name,
    policy: policy.name,
    minuteAttainment: minutesOk / (minutes * models.length),
    requestAttainment: counted + lost > 0 ? ok / (counted + lost) : 1,
    requestAttainmentStrict: counted + lost > 0 ? okStrict / (counted + lost) : 1,
    gpuHours: fleet.costMs / 3_600_000,
    actions,
    recoverySeconds: recovery(trace, models, byArrival),
    maxReplicas,
  };
  const slo = policy instanceof SloPolicy ? policy : null;
  return {
    row,
    snapshots: slo?.snapshots ?? [],
    sloShare: slo ? (slo.cycles > 0 ? slo.sloCycles / slo.cycles : 0) : null,
  };
}

/**
 * Seconds from each step up until requests sent over the following minute are, on average, within
 * both targets again; the worst over the steps and models. Null for a trace without a step up.
 */
function recovery(trace: Trace, models: ModelSpec[], byArrival: Bucket[][]): number | null {
  if (trace.stepsUp.length === 0) return null;
  let worst = 0;
  for (const at of trace.stepsUp)
    models.forEach((m, i) => {
      const buckets = byArrival[i]!;
      const from = Math.floor(at / 10_000);
      let k = from;
      for (; k + 6 <= buckets.length; k++) {
        const sum = empty();
        for (const b of buckets.slice(k, k + 6)) {
          sum.ttft += b.ttft;
          sum.n += b.n;
          sum.decode += b.decode;
          sum.gaps += b.gaps;
        }
        if (within(sum, m.slo)) break;
      }
      worst = Math.max(worst, (k - from) * 10);
    });
  return worst;
}
