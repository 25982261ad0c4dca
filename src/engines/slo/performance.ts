// Which performance model the SLO engine may size a variant with: a learned one that is
// confident, else a given profile the measurements do not contradict, else none (and why not).
import type { QueueProfile } from '../../optimizer/types.js';
import { type EstimatorState, PerformanceEstimator } from './learn/estimator.js';
import type { LearnSettings } from './learn/settings.js';

export type PerformanceSource = 'learned' | 'given';

/** The loads a model was measured at, beyond which it must not be extrapolated. */
export interface MeasuredRange {
  /** Requests running per replica. */
  maxBatch: number;
  /** Input tokens x batch. */
  maxPrefillX: number;
}

export type PerformanceChoice =
  | {
      ok: true;
      profile: QueueProfile;
      source: PerformanceSource;
      reason: string;
      /** Set when a slope is unidentified: size only for loads within this range. */
      withinMeasured?: MeasuredRange;
      /** A learned model's rolling relative ITL prediction error (0.05: 5 %), when measured. */
      itlError?: number;
    }
  | { ok: false; reason: string };

export interface PerformanceInputs {
  /** A given modelProfile for the variant's accelerator (old-shape objects). */
  profile?: QueueProfile;
  /** The variant's estimator state, as the learner keeps it (owned by the caller). */
  learned?: EstimatorState;
  learnSettings?: Partial<LearnSettings>;
}

function finiteProfile(p: QueueProfile): boolean {
  return (
    [p.alpha, p.beta, p.gamma, p.delta].every((v) => Number.isFinite(v) && v >= 0) &&
    p.alpha > 0 &&
    Number.isFinite(p.maxBatchSize) &&
    p.maxBatchSize >= 1
  );
}

function errorOf(pct: number | null): { itlError?: number } {
  return pct !== null && Number.isFinite(pct) && pct >= 0 ? { itlError: pct / 100 } : {};
}

/** The model to size a variant with, or the sentence saying why there is none. Never throws. */
export function choosePerformance(v: PerformanceInputs): PerformanceChoice {
  let learnedWhy: string | null = null;
  if (v.learned !== undefined) {
    try {
      // The state comes from the caller's estimator (or its restore, which validates it).
      const est = PerformanceEstimator.fromState(v.learned, v.learnSettings);
      const status = est.status();
      if (status.contradicted && v.profile !== undefined && !status.usable)
        return { ok: false, reason: status.reason };
      if (status.usable) {
        const profile = est.profile();
        if (finiteProfile(profile))
          return {
            ok: true,
            profile,
            source: 'learned',
            reason: status.reason,
            ...errorOf(status.itlErrorPct),
          };
        learnedWhy = 'the learned profile has a parameter out of range';
      } else if (status.withinMeasured !== null && v.profile === undefined) {
        const profile = est.profile();
        const r = status.withinMeasured;
        const upTo = Number.isFinite(r.maxBatch)
          ? `batch up to ${r.maxBatch.toFixed(1)}`
          : 'the inputs measured';
        if (finiteProfile(profile))
          return {
            ok: true,
            profile,
            source: 'learned',
            reason: `learned profile within the measured range (${upTo}; ${status.reason.replace(/^not yet: /, '')})`,
            withinMeasured: r,
            ...errorOf(status.itlErrorPct),
          };
        learnedWhy = 'the learned profile has a parameter out of range';
      } else {
        learnedWhy = `learned profile ${status.reason}`;
      }
    } catch (err) {
      learnedWhy = `the learned state is unreadable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (v.profile !== undefined) {
    if (finiteProfile(v.profile))
      return { ok: true, profile: v.profile, source: 'given', reason: 'given profile' };
    return { ok: false, reason: 'the given profile has a parameter out of range' };
  }
  return { ok: false, reason: learnedWhy ?? 'no performance model (no profile given, nothing learned)' };
}
