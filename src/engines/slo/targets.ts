// The SLO engine's targets and load as it sizes for them: each target reduced by its fraction (room
// for what one window's averages scatter), and the load checked before it is sized.
import type { LoadProfile, SloTargets } from '../../optimizer/types.js';

/** Size for these fractions of the TTFT and ITL targets. */
export interface TargetFractions {
  ttftMs?: number;
  itlMs?: number;
}

export function fractionOf(f: number | undefined): number {
  return f !== undefined && Number.isFinite(f) && f > 0 && f <= 1 ? f : 1;
}

export function sloTargetsOf(slo: SloTargets | null, fraction: number | TargetFractions): SloTargets | null {
  if (slo === null) return null;
  const ft = fractionOf(typeof fraction === 'number' ? fraction : fraction.ttftMs);
  const fi = fractionOf(typeof fraction === 'number' ? fraction : fraction.itlMs);
  const out: SloTargets = {};
  if (slo.ttftMs !== undefined && Number.isFinite(slo.ttftMs) && slo.ttftMs > 0) out.ttftMs = slo.ttftMs * ft;
  if (slo.itlMs !== undefined && Number.isFinite(slo.itlMs) && slo.itlMs > 0) out.itlMs = slo.itlMs * fi;
  return out.ttftMs === undefined && out.itlMs === undefined ? null : out;
}

export function loadProblem(load: LoadProfile | null): string | null {
  if (load === null) return 'the model’s load is unknown this cycle';
  const ok = (v: number) => Number.isFinite(v) && v >= 0;
  if (!ok(load.arrivalRate)) return `the arrival rate ${load.arrivalRate} is not a rate`;
  if (load.arrivalRate > 0 && !(load.avgInputTokens > 0 && load.avgOutputTokens > 0))
    return 'requests arrive but their token counts are unknown';
  return null;
}
