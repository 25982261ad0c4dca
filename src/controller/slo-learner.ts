// The controller's side of learning each variant's performance model: one estimator per variant
// (model, namespace, accelerator, vLLM arguments), fed once per cycle from the per-pod series of
// the cycle's one fleet query, bounded in number, and turned into the document persisted across
// restarts. The estimators themselves (gating, identifiability, confidence) are the learner's.
import type { PodMetrics } from '../collector/pods.js';
import type { DeploymentLike } from '../engines/saturation/types.js';
import {
  type EstimatorState,
  type LearnedProfileStatus,
  type LearnSettings,
  learnedProfilesJson,
  MAX_LEARNED_DOCUMENT_BYTES,
  maxBatchSizeFromArgs,
  neutralPrior,
  type ObservationOutcome,
  PerformanceEstimator,
  type PerformanceObservation,
  type PriorParameters,
  type RefusedEstimate,
  restoreLearnedProfiles,
  serializeLearnedProfiles,
  type VariantKey,
  variantKeyString,
  vllmArgsFingerprint,
} from '../engines/slo/learn/index.js';

/** Most variants learned at once; beyond it the one updated longest ago is dropped. */
export const DEFAULT_MAX_LEARNED_VARIANTS = 1000;

/** One variant as the learner reads it this cycle. */
export interface LearnerVariant {
  model: string;
  namespace: string;
  variantName: string;
  accelerator: string;
  /** Its Deployment (the vLLM arguments key the estimate); null: not found. */
  deployment?: DeploymentLike | null;
  /** The variant's pods this cycle (matched through its Deployment). */
  pods: readonly PodMetrics[];
  /** A given modelProfile for the accelerator it runs on: the prior, and the sizing's max batch. */
  given?: GivenPrior;
}

/** A given profile's lines as the learner's prior (old-shape objects). */
export interface GivenPrior extends PriorParameters {
  maxBatchSize: number;
}

const sameGiven = (a: PriorParameters, b: PriorParameters) =>
  a.alpha === b.alpha && a.beta === b.beta && a.gamma === b.gamma && a.delta === b.delta;

/** Why a held estimate does not fit the prior asked for now, or null when it does. */
function priorChange(held: EstimatorState, given: GivenPrior | undefined): string | null {
  const source = held.prior.source;
  if (!given) return source === 'given' ? 'the given profile was removed' : null;
  if (source !== 'given') return 'a profile is given now';
  if (!sameGiven(held.prior, given) || held.maxBatchSize !== given.maxBatchSize)
    return 'the given profile changed';
  return null;
}

/** What the CLI and the gauges show of one learned variant. */
export interface LearnedView {
  key: VariantKey;
  /** The VariantAutoscaling last seen with this estimate; '' when only restored so far. */
  variantName: string;
  profile: { alpha: number; beta: number; gamma: number; delta: number; maxBatchSize: number };
  status: LearnedProfileStatus;
  updatedAtMs: number | null;
}

interface Entry {
  estimator: PerformanceEstimator;
  variantName: string;
  /** Why this estimate started afresh, when it replaced one (a condition message shows it). */
  note?: string;
}

/** The vLLM command line of a Deployment: every container's command and args, in order. */
export function deploymentArgs(d: DeploymentLike | null | undefined): string[] {
  const out: string[] = [];
  for (const c of d?.spec?.template?.spec?.containers ?? []) {
    for (const x of [...(c.command ?? []), ...(c.args ?? [])]) if (typeof x === 'string') out.push(x);
  }
  return out;
}

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function mean(xs: number[]): number | undefined {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

/**
 * `value` over the pods that report it, each weighted by its batch: a pod serves requests in
 * proportion to it, so a pod just Ready with one slow request weighs next to nothing against
 * pods serving dozens. The plain mean where no pod runs anything.
 */
function batchWeighted(pods: readonly PodMetrics[], value: (p: PodMetrics) => number | undefined) {
  const reported = pods.flatMap((p) => {
    const v = value(p);
    return finite(v) ? [{ v, w: p.avgRunning as number }] : [];
  });
  const w = reported.reduce((a, x) => a + x.w, 0);
  return w > 0 ? reported.reduce((a, x) => a + x.v * x.w, 0) / w : mean(reported.map((x) => x.v));
}

/**
 * One cycle's observation of a variant from its pods: batch averaged over the pods that report
 * both running and ITL; ITL, prefill, queue time, TTFT and input tokens each weighted by the pod's
 * batch (its share of the requests and tokens). Coverage is the share of pods that report: a pod whose series are
 * young (or not scraped) lowers it, and the learner refuses a cycle covered too thinly. Null: no
 * pod reports at all (nothing to learn, nothing refused).
 */
export function observationOf(pods: readonly PodMetrics[]): PerformanceObservation | null {
  const full = pods.filter((p) => finite(p.avgRunning) && finite(p.itlMs));
  if (full.length === 0) return null;
  const running = full.map((p) => p.avgRunning as number);
  const total = running.reduce((a, b) => a + b, 0);
  const o: PerformanceObservation = {
    batch: total / full.length,
    itlMs: batchWeighted(full, (p) => p.itlMs) as number,
    coverage: full.length / pods.length,
  };
  const prefill = batchWeighted(full, (p) => p.prefillMs);
  const tokens = batchWeighted(full, (p) => p.avgInputTokens);
  if (prefill !== undefined && tokens !== undefined) {
    o.prefillMs = prefill;
    o.inputTokens = tokens;
    const queue = batchWeighted(full, (p) => p.queueMs);
    const ttft = batchWeighted(full, (p) => p.ttftMs);
    if (queue !== undefined) o.queueMs = queue;
    if (ttft !== undefined) o.ttftMs = ttft;
  }
  return o;
}

export interface SloLearnerOptions {
  settings?: Partial<LearnSettings>;
  maxVariants?: number;
}

export interface RestoreReport {
  restored: number;
  refused: RefusedEstimate[];
  /** The whole document was refused (not JSON, another schema). */
  error: string | null;
}

/** A variant's estimates under any vLLM arguments share this: model, namespace, accelerator. */
const siblingsOf = (k: VariantKey): string => `${k.model}\0${k.namespace}\0${k.accelerator}`;

export class SloLearner {
  /** Least recently used first: an entry used is moved to the end. */
  readonly #entries = new Map<string, Entry>();
  /** The ids filed under each model, namespace and accelerator (so a changed fingerprint is found at once). */
  readonly #siblings = new Map<string, Set<string>>();
  readonly #max: number;

  constructor(private readonly o: SloLearnerOptions = {}) {
    this.#max = Math.max(1, o.maxVariants ?? DEFAULT_MAX_LEARNED_VARIANTS);
  }

  /** The key a variant's estimate is filed under. */
  keyOf(v: Pick<LearnerVariant, 'model' | 'namespace' | 'accelerator' | 'deployment'>): VariantKey {
    return {
      model: v.model,
      namespace: v.namespace,
      accelerator: v.accelerator,
      argsFingerprint: vllmArgsFingerprint(deploymentArgs(v.deployment)),
    };
  }

  #put(id: string, e: Entry): void {
    this.#entries.delete(id);
    this.#entries.set(id, e);
    const sib = siblingsOf(e.estimator.key);
    const ids = this.#siblings.get(sib) ?? new Set<string>();
    ids.add(id);
    this.#siblings.set(sib, ids);
  }

  #drop(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    const sib = siblingsOf(e.estimator.key);
    const ids = this.#siblings.get(sib);
    ids?.delete(id);
    if (ids?.size === 0) this.#siblings.delete(sib);
  }

  #entry(v: LearnerVariant): Entry {
    const key = this.keyOf(v);
    const id = variantKeyString(key);
    let e = this.#entries.get(id);
    // The prior is part of what an estimate means: a profile given, changed or removed starts afresh.
    const changed = e ? priorChange(e.estimator.snapshot(), v.given) : null;
    if (e && changed !== null) {
      this.#drop(id);
      e = undefined;
    }
    if (!e) {
      // The same variant under other vLLM arguments: its latencies describe another server.
      let note: string | undefined =
        changed !== null ? `${changed}: the estimate made from the old prior was dropped` : undefined;
      for (const k of [...(this.#siblings.get(siblingsOf(key)) ?? [])]) {
        const ok = (this.#entries.get(k) as Entry).estimator.key;
        if (ok.argsFingerprint !== key.argsFingerprint) {
          this.#drop(k);
          note =
            `the estimate learned under other vLLM arguments (fingerprint ${ok.argsFingerprint}, ` +
            `now ${key.argsFingerprint}) was dropped: learning started afresh`;
        }
      }
      e = {
        estimator: new PerformanceEstimator({
          key,
          // A given profile's max batch is what its sizing assumes; else the server's own.
          maxBatchSize: v.given?.maxBatchSize ?? maxBatchSizeFromArgs(deploymentArgs(v.deployment)),
          neutral: neutralPrior(v.model, v.accelerator),
          ...(v.given
            ? {
                given: {
                  alpha: v.given.alpha,
                  beta: v.given.beta,
                  gamma: v.given.gamma,
                  delta: v.given.delta,
                },
              }
            : {}),
          ...(this.o.settings ? { settings: this.o.settings } : {}),
        }),
        variantName: v.variantName,
        ...(note ? { note } : {}),
      };
      this.#put(id, e);
      this.#evict();
    } else this.#put(id, e);
    e.variantName = v.variantName;
    return e;
  }

  #evict(): void {
    // The first entry is the one used longest ago.
    while (this.#entries.size > this.#max) this.#drop(this.#entries.keys().next().value as string);
  }

  /**
   * Learns from one cycle of a variant (before the cycle's decision uses it). `nowMs` is the wall
   * clock recorded with the estimate. Returns the estimator's state (also when nothing was learned
   * this cycle) and what the observation did, if there was one.
   */
  observe(
    v: LearnerVariant,
    nowMs: number,
  ): { state: EstimatorState; outcome?: ObservationOutcome; note?: string } {
    const e = this.#entry(v);
    const o = observationOf(v.pods);
    const outcome = o ? e.estimator.observe(o, nowMs) : undefined;
    return {
      state: e.estimator.snapshot(),
      ...(outcome ? { outcome } : {}),
      ...(e.note ? { note: e.note } : {}),
    };
  }

  /**
   * `observe`, but a variant with nothing measured this cycle and no estimate yet gets none
   * (undefined): nothing to learn from, and no state to hold for it until there is.
   */
  observeMeasured(v: LearnerVariant, nowMs: number): ReturnType<SloLearner['observe']> | undefined {
    if (observationOf(v.pods) !== null) return this.observe(v, nowMs);
    // The key hashes the vLLM arguments: only worth it when something is held.
    if (this.#entries.size === 0 || !this.#entries.has(variantKeyString(this.keyOf(v)))) return undefined;
    return this.observe(v, nowMs);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Every estimate, for the gauges and the CLI. */
  views(): LearnedView[] {
    return [...this.#entries.values()].map((e) => ({
      key: e.estimator.key,
      variantName: e.variantName,
      profile: e.estimator.profile(),
      status: e.estimator.status(),
      updatedAtMs: e.estimator.snapshot().updatedAtMs,
    }));
  }

  /**
   * The persisted document's text: estimates that learned something, newest first, as many as a
   * ConfigMap holds (the oldest are left out rather than the write failing).
   */
  serialize(nowMs: number): string {
    const all = [...this.#entries.values()]
      .map((e) => e.estimator)
      .sort((a, b) => (b.snapshot().updatedAtMs ?? 0) - (a.snapshot().updatedAtMs ?? 0));
    let n = all.length;
    for (;;) {
      const text = learnedProfilesJson(serializeLearnedProfiles(all.slice(0, n), nowMs));
      if (Buffer.byteLength(text) <= MAX_LEARNED_DOCUMENT_BYTES || n === 0) return text;
      n = Math.floor(n * 0.9);
    }
  }

  /**
   * Continues from a persisted document. Of an estimate held already and the document's, the one
   * updated last wins (another leader may have learned meanwhile); `current` are the variants known
   * now, so an estimate made under other vLLM arguments is refused.
   */
  restore(text: string, nowMs: number, current?: readonly VariantKey[]): RestoreReport {
    const r = restoreLearnedProfiles(text, {
      nowMs,
      ...(current ? { current } : {}),
      ...(this.o.settings ? { settings: this.o.settings } : {}),
    });
    let restored = 0;
    for (const est of r.estimators) {
      const id = variantKeyString(est.key);
      const held = this.#entries.get(id);
      const heldAt = held?.estimator.snapshot().updatedAtMs ?? null;
      if (held && heldAt !== null && heldAt >= (est.snapshot().updatedAtMs ?? 0)) continue;
      this.#put(id, {
        estimator: est,
        variantName: held?.variantName ?? '',
      });
      restored++;
    }
    this.#evict();
    return { restored, refused: r.refused, error: r.error };
  }
}
