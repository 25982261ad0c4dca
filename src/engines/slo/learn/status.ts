// When a learned model may be used, and the sentence that says why (or why not yet).
import type { EstimatorState, Identified, LearnedProfileStatus } from './estimator.js';
import { measuredUpTo } from './line.js';
import type { LearnSettings } from './settings.js';

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

function pctOrNull(fraction: number | null): number | null {
  return fraction === null ? null : Math.round(fraction * 1000) / 10;
}

function list(words: string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** What a given profile's contradiction looks like in words, or null when it holds. */
function contradiction(s: EstimatorState): string | null {
  if (!s.contradicted) return null;
  const c = s.confidence;
  const parts: string[] = [];
  if (c.priorItlError !== null) parts.push(`ITL ${pct(c.priorItlError)}`);
  if (c.priorTtftError !== null) parts.push(`TTFT ${pct(c.priorTtftError)}`);
  return `the given profile contradicts the measurements (its predictions are off by ${list(parts)} over ${c.cycles} cycles)`;
}

export function describeStatus(
  s: EstimatorState,
  id: Identified,
  set: Readonly<LearnSettings>,
): LearnedProfileStatus {
  const c = s.confidence;
  // A given profile that the measurements do not contradict may stand in for unidentified slopes.
  const trustedPrior = s.prior.source === 'given' && !s.contradicted;
  const blockers: string[] = [];

  if (c.cycles === 0) {
    blockers.push(
      s.lastRefusal === null
        ? 'no observation yet'
        : `no valid observation yet (last refused: ${s.lastRefusal})`,
    );
  } else if (c.cycles < set.minCycles) {
    blockers.push(`${c.cycles} of ${set.minCycles} cycles observed`);
  }
  if (c.cycles > 0 && c.prefillCycles === 0)
    blockers.push('no prefill measurement yet, so TTFT cannot be predicted');
  else if (c.prefillCycles > 0 && c.prefillCycles < set.minCycles)
    blockers.push(`${c.prefillCycles} of ${set.minCycles} prefill cycles observed`);

  // Only once a line has data enough to tell: before that the cycle count is the blocker.
  let slope: string | null = null;
  const beta = !trustedPrior && id.alpha && !id.beta;
  const delta = !trustedPrior && id.gamma && !id.delta;
  if (beta && delta) slope = 'batch has not varied (beta and delta unidentified)';
  else if (beta) slope = 'batch has not varied (beta unidentified)';
  else if (delta) slope = 'input tokens x batch has not varied (delta unidentified)';
  const othersBlock = blockers.length > 0;
  if (slope !== null) blockers.push(slope);
  const errorBlocked =
    (c.itlError !== null && c.itlError >= set.errorThreshold) ||
    (c.ttftError !== null && c.ttftError >= set.errorThreshold);
  if (c.itlError !== null && c.itlError >= set.errorThreshold)
    blockers.push(`ITL prediction error ${pct(c.itlError)} is not below ${pct(set.errorThreshold)}`);
  if (c.ttftError !== null && c.ttftError >= set.errorThreshold)
    blockers.push(`TTFT prediction error ${pct(c.ttftError)} is not below ${pct(set.errorThreshold)}`);

  const scored = c.itlError !== null && c.ttftError !== null;
  const usable = blockers.length === 0 && scored;
  // Confident where it has measured, and only a slope unknown: usable for loads within that range.
  const inRange = !usable && scored && slope !== null && !othersBlock && !errorBlocked;
  const contra = contradiction(s);
  let reason: string;
  if (usable) {
    const figures = `${c.cycles} cycles, ITL error ${pct(c.itlError!)}, TTFT error ${pct(c.ttftError!)}`;
    if (contra) reason = `learned profile (${figures}) replaces the given one: ${contra}`;
    else if (trustedPrior) reason = `given profile, corrected by the measurements (${figures})`;
    else reason = `learned profile (${figures})`;
  } else {
    reason = `not yet: ${blockers.join('; ')}`;
    if (contra) reason = `${contra}; ${reason}`;
  }
  return {
    cycles: c.cycles,
    itlErrorPct: pctOrNull(c.itlError),
    ttftErrorPct: pctOrNull(c.ttftError),
    identified: id,
    usable,
    reason,
    priorSource: s.prior.source,
    contradicted: s.contradicted,
    withinMeasured: inRange
      ? {
          maxBatch: beta ? measuredUpTo(s.decode.stats) : Number.POSITIVE_INFINITY,
          maxPrefillX: delta ? measuredUpTo(s.prefill.stats) : Number.POSITIVE_INFINITY,
        }
      : null,
  };
}
