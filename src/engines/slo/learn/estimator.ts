// The performance model of one variant learned online: the decode line itl = alpha + beta x batch
// and the prefill line prefill = gamma + delta x (inTokens x batch), each a `line.ts` estimator,
// with its confidence measured as the rolling error of the predictions it made before each cycle.
import type { QueueProfile } from '../../../optimizer/types.js';
import type { VariantKey } from './fingerprint.js';
import {
  emptyLineState,
  type Line,
  type LinePrior,
  type LineSettings,
  type LineState,
  type LineVerdict,
  predict,
  slopeKnown,
  solveLine,
  updateLine,
} from './line.js';
import { checkObservation, type PerformanceObservation } from './observation.js';
import type { PriorParameters } from './priors.js';
import { type LearnSettings, resolveLearnSettings } from './settings.js';
import { describeStatus } from './status.js';

export type PriorSource = 'given' | 'neutral';

/** Rolling relative prediction errors (fractions) and the cycles they cover. */
export interface ConfidenceState {
  /** Cycles whose decode point was scored. */
  cycles: number;
  /** Cycles whose prefill point was scored. */
  prefillCycles: number;
  itlError: number | null;
  ttftError: number | null;
  /** The given profile's own rolling errors, to tell whether the measurements contradict it. */
  priorItlError: number | null;
  priorTtftError: number | null;
}

/** Everything an estimator holds; plain data, persisted as is. */
export interface EstimatorState {
  key: VariantKey;
  maxBatchSize: number;
  prior: PriorParameters & { source: PriorSource };
  decode: LineState;
  prefill: LineState;
  confidence: ConfidenceState;
  contradicted: boolean;
  /** Points refused by the validity checks, and gated by the innovation test. */
  refused: number;
  gated: number;
  lastRefusal: string | null;
  /** When an observation last changed the estimate (the injected clock), ms since the epoch. */
  updatedAtMs: number | null;
}

export interface Identified {
  alpha: boolean;
  beta: boolean;
  gamma: boolean;
  delta: boolean;
}

export interface LearnedProfileStatus {
  /** Cycles scored (decode points accepted). */
  cycles: number;
  /** Rolling relative ITL / TTFT prediction error, percent; null before the first scored cycle. */
  itlErrorPct: number | null;
  ttftErrorPct: number | null;
  identified: Identified;
  /** Whether an SLO engine may size with `profile()`. */
  usable: boolean;
  /** A sentence saying why (not) usable, for a condition message. */
  reason: string;
  priorSource: PriorSource;
  /** The given profile's predictions are persistently far from the measurements. */
  contradicted: boolean;
  /**
   * Not usable in general only because a slope is unidentified, yet confident at the loads measured:
   * the model may size for loads within the measured range (batch at most `maxBatch`, input tokens
   * x batch at most `maxPrefillX`; Infinity where the slope is identified). Null otherwise.
   */
  withinMeasured: { maxBatch: number; maxPrefillX: number } | null;
}

/** What one observation did to each line. */
export interface ObservationOutcome {
  decode: LineVerdict | 'refused';
  prefill: LineVerdict | 'refused';
  /** Why a point was refused, when one was. */
  refusal: string | null;
}

export interface EstimatorOptions {
  key: VariantKey;
  /** vLLM's max_num_seqs for this variant (`maxBatchSizeFromArgs`) or the given profile's. */
  maxBatchSize: number;
  /** A given modelProfile's lines; otherwise `neutral` (from `neutralPrior`) is the prior. */
  given?: PriorParameters;
  neutral: PriorParameters;
  settings?: Partial<LearnSettings>;
}

function ewma(prev: number | null, value: number, window: number): number {
  const k = 2 / (window + 1);
  return prev === null ? value : (1 - k) * prev + k * value;
}

// A prediction a hundred times off is simply wrong; the cap keeps the rolling error finite.
const MAX_REL_ERROR = 100;

function relError(predicted: number, measured: number): number {
  return Math.min(MAX_REL_ERROR, Math.abs(predicted - measured) / measured);
}

/** The largest max_num_seqs accepted; keeps the prefill regressor's sums far from overflow. */
export const MAX_BATCH = 100_000;
const MAX_PRIOR = 1e7;
// The largest time a JavaScript Date holds.
const MAX_DATE_MS = 8.64e15;

function checkPrior(p: PriorParameters, what: string): void {
  const ok = (v: number, strict: boolean) =>
    Number.isFinite(v) && (strict ? v > 0 : v >= 0) && v <= MAX_PRIOR;
  for (const [name, strict] of [
    ['alpha', true],
    ['gamma', true],
    ['beta', false],
    ['delta', false],
  ] as const) {
    if (!ok(p[name], strict))
      throw new RangeError(
        `${what}: ${name} must be ${strict ? '>' : '>='} 0 and at most ${MAX_PRIOR}, got ${p[name]}`,
      );
  }
}

export class PerformanceEstimator {
  readonly settings: Readonly<LearnSettings>;
  #s: EstimatorState;

  /** @throws RangeError when a setting, maxBatchSize or a prior parameter is out of range. */
  constructor(opts: EstimatorOptions) {
    this.settings = resolveLearnSettings(opts.settings);
    const p = opts.given ?? opts.neutral;
    checkPrior(p, opts.given ? 'given profile' : 'neutral prior');
    if (!(Number.isSafeInteger(opts.maxBatchSize) && opts.maxBatchSize > 0 && opts.maxBatchSize <= MAX_BATCH))
      throw new RangeError(`maxBatchSize must be an integer in 1..${MAX_BATCH}, got ${opts.maxBatchSize}`);
    this.#s = {
      key: { ...opts.key },
      maxBatchSize: opts.maxBatchSize,
      prior: {
        alpha: p.alpha,
        beta: p.beta,
        gamma: p.gamma,
        delta: p.delta,
        source: opts.given ? 'given' : 'neutral',
      },
      decode: emptyLineState(),
      prefill: emptyLineState(),
      confidence: {
        cycles: 0,
        prefillCycles: 0,
        itlError: null,
        ttftError: null,
        priorItlError: null,
        priorTtftError: null,
      },
      contradicted: false,
      refused: 0,
      gated: 0,
      lastRefusal: null,
      updatedAtMs: null,
    };
  }

  /** An estimator continuing from a saved state (already validated by the caller). */
  static fromState(state: EstimatorState, settings?: Partial<LearnSettings>): PerformanceEstimator {
    const e = new PerformanceEstimator({
      key: state.key,
      maxBatchSize: state.maxBatchSize,
      neutral: state.prior,
      ...(settings ? { settings } : {}),
    });
    e.#s = structuredClone(state);
    return e;
  }

  get key(): VariantKey {
    return { ...this.#s.key };
  }

  /** A copy of the state, for persistence. */
  snapshot(): EstimatorState {
    return structuredClone(this.#s);
  }

  #lineSettings(referenceX: number): LineSettings {
    return { ...this.settings, referenceX };
  }

  #decodeSettings(): LineSettings {
    return this.#lineSettings(Math.max(1, this.#s.maxBatchSize / 2));
  }

  #prefillSettings(): LineSettings {
    return this.#lineSettings(Math.max(1, (this.#s.maxBatchSize / 2) * this.settings.typicalInputTokens));
  }

  #priorWeight(): number {
    const s = this.settings;
    return this.#s.prior.source === 'given' && !this.#s.contradicted
      ? s.givenPriorWeight
      : s.neutralPriorWeight;
  }

  #decodePrior(): LinePrior {
    return { intercept: this.#s.prior.alpha, slope: this.#s.prior.beta, weight: this.#priorWeight() };
  }

  #prefillPrior(): LinePrior {
    return { intercept: this.#s.prior.gamma, slope: this.#s.prior.delta, weight: this.#priorWeight() };
  }

  #decodeLine(): Line {
    return solveLine(this.#decodePrior(), this.#s.decode, this.#decodeSettings());
  }

  #prefillLine(): Line {
    return solveLine(this.#prefillPrior(), this.#s.prefill, this.#prefillSettings());
  }

  /**
   * Scores the current model on one cycle's measurements, then learns from them. `nowMs` is the
   * injected clock: the time recorded with the estimate.
   * @throws RangeError when nowMs is not a time a Date can hold (a caller's bug, not a measurement).
   */
  observe(o: PerformanceObservation, nowMs: number): ObservationOutcome {
    if (!(Number.isFinite(nowMs) && Math.abs(nowMs) <= MAX_DATE_MS))
      throw new RangeError(`observe: nowMs must be a valid time in ms since the epoch, got ${nowMs}`);
    const s = this.#s;
    const set = this.settings;
    const checked = checkObservation(o, s.maxBatchSize, set.minCoverage);
    const out: ObservationOutcome = { decode: 'refused', prefill: 'refused', refusal: null };
    const c = s.confidence;
    const given = s.prior.source === 'given';

    if ('refused' in checked.decode) {
      out.refusal = checked.decode.refused;
    } else {
      const { x, y } = checked.decode;
      const line = this.#decodeLine();
      const r = updateLine(this.#decodePrior(), s.decode, line, x, y, this.#decodeSettings());
      out.decode = r.verdict;
      s.decode = r.state;
      if (r.verdict !== 'outlier') {
        c.cycles++;
        c.itlError = ewma(c.itlError, relError(predict(line, x), y), set.errorWindow);
        if (given) {
          const p = predict({ intercept: s.prior.alpha, slope: s.prior.beta }, x);
          c.priorItlError = ewma(c.priorItlError, relError(p, y), set.errorWindow);
        }
      }
    }

    if ('refused' in checked.prefill) {
      // A missing prefill series is ordinary (not every server exports it), not a refusal to count.
      if (out.refusal === null && checked.prefill.refused !== 'no prefill measurement')
        out.refusal = checked.prefill.refused;
    } else {
      const { x, y, queueMs, ttftMs } = checked.prefill;
      const line = this.#prefillLine();
      const r = updateLine(this.#prefillPrior(), s.prefill, line, x, y, this.#prefillSettings());
      out.prefill = r.verdict;
      s.prefill = r.state;
      if (r.verdict !== 'outlier') {
        c.prefillCycles++;
        c.ttftError = ewma(c.ttftError, relError(queueMs + predict(line, x), ttftMs), set.errorWindow);
        if (given) {
          const p = queueMs + predict({ intercept: s.prior.gamma, slope: s.prior.delta }, x);
          c.priorTtftError = ewma(c.priorTtftError, relError(p, ttftMs), set.errorWindow);
        }
      }
    }

    if (out.decode === 'refused' || out.prefill === 'refused') {
      if (out.refusal !== null) {
        s.refused++;
        s.lastRefusal = out.refusal;
      }
    }
    if (out.decode === 'outlier' || out.prefill === 'outlier') s.gated++;
    if (
      (out.decode !== 'refused' && out.decode !== 'outlier') ||
      (out.prefill !== 'refused' && out.prefill !== 'outlier')
    )
      s.updatedAtMs = nowMs;
    if (given) this.#judgePrior();
    return out;
  }

  // Hysteresis: contradicted above the contradiction threshold, cleared only below the usable one.
  #judgePrior(): void {
    const c = this.#s.confidence;
    const set = this.settings;
    if (c.cycles < set.contradictionCycles) return;
    const worst = Math.max(c.priorItlError ?? 0, c.priorTtftError ?? 0);
    if (worst > set.contradictionThreshold) this.#s.contradicted = true;
    else if (worst < set.errorThreshold) this.#s.contradicted = false;
  }

  /** The current estimate in the optimizer's shape. */
  profile(): QueueProfile {
    const d = this.#decodeLine();
    const p = this.#prefillLine();
    return {
      alpha: d.intercept,
      beta: d.slope,
      gamma: p.intercept,
      delta: p.slope,
      maxBatchSize: this.#s.maxBatchSize,
    };
  }

  /** Predicted ITL and prefill, ms, at a batch and input length, with the current estimate. */
  predict(batch: number, inputTokens: number): { itlMs: number; prefillMs: number } {
    const q = this.profile();
    return { itlMs: q.alpha + q.beta * batch, prefillMs: q.gamma + q.delta * inputTokens * batch };
  }

  identified(): Identified {
    const s = this.#s;
    const set = this.settings;
    return {
      alpha: s.decode.stats.s0 >= set.minWeight,
      beta: slopeKnown(s.decode, this.#decodeSettings()),
      gamma: s.prefill.stats.s0 >= set.minWeight,
      delta: slopeKnown(s.prefill, this.#prefillSettings()),
    };
  }

  status(): LearnedProfileStatus {
    return describeStatus(this.#s, this.identified(), this.settings);
  }
}
