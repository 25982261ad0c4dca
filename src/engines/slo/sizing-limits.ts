// Limits on what the queueing model sizes: a model not extrapolated beyond the loads it was measured
// at, the dead band's count for a scale-down, and which variants' refusals send the model to the
// fallback.
import type { VariantOutcome } from '../../optimizer/group.js';
import type { SizingMemo } from '../../optimizer/memo.js';
import { analyseReplica } from '../../optimizer/sizing.js';
import type { LoadProfile, QueueProfile, SloTargets } from '../../optimizer/types.js';
import type { MeasuredRange } from './performance.js';

/**
 * The fewest replicas from `from` up to `upTo` whose predicted load per replica stays within the
 * measured range: a model whose slope is unidentified is not extrapolated to larger batches.
 */
export function leastWithin(
  profile: QueueProfile,
  load: LoadProfile,
  ratePerSecond: number,
  from: number,
  upTo: number,
  range: MeasuredRange,
): number {
  for (let n = Math.max(1, from); n < upTo; n++) {
    const batch = analyseReplica(profile, load, ratePerSecond / n).avgInService;
    if (batch <= range.maxBatch && batch * load.avgInputTokens <= range.maxPrefillX) return n;
  }
  return upTo;
}

/**
 * Replicas for the same share of the load at the dead band's stricter targets, or null when no
 * count meets them (then the band holds nothing: it must not pin a variant high).
 */
export function bandCount(
  profile: QueueProfile,
  load: LoadProfile,
  slo: SloTargets,
  ratePerSecond: number,
  memo: SizingMemo,
): number | null {
  try {
    const plan = memo.plan(profile, load.avgInputTokens, load.avgOutputTokens, slo);
    return ratePerSecond > 0 ? Math.ceil(ratePerSecond / plan.ratePerReplica) : 0;
  } catch {
    return null;
  }
}

/**
 * Why the model must fall back, or null when every variant was sized or only SLOUnreachable ones
 * were not and at least one was sized (those keep their minimum).
 */
export function unreachableOnly(
  variants: readonly { variantName: string }[],
  sized: ReadonlyMap<string, VariantOutcome>,
): { fallback: string | null } {
  let ok = 0;
  const unreachable: string[] = [];
  for (const v of variants) {
    const a = sized.get(v.variantName);
    if (a?.ok) ok++;
    else if (a !== undefined && a.reason === 'SLOUnreachable')
      unreachable.push(`no replica count meets the SLO on ${v.variantName}: ${a.message}`);
    else return { fallback: a === undefined ? `${v.variantName} not sized` : a.message };
  }
  return { fallback: ok === 0 ? unreachable.join('; ') : null };
}
