// How far what the controller read is from what the emulator emitted: the demo's check that the
// metrics path (emulator -> Prometheus -> collector -> cache) reads back the truth.
import type { DemoRow, DemoSummary } from './types.js';

/** Relative error; an unknown reading (or truth) counts as entirely wrong unless both are unknown. */
function relError(actual: number | undefined, expected: number | undefined): number {
  if (actual === undefined || expected === undefined) return actual === expected ? 0 : 1;
  if (expected === 0) return actual === 0 ? 0 : 1;
  return Math.abs(actual / expected - 1);
}

/** Worst relative error of the read metrics against what the emulator emitted, per metric. */
export function cycleError(rows: DemoRow[]): DemoSummary['lastCycleError'] {
  const worst = { arrivalRate: 0, avgInputTokens: 0, avgOutputTokens: 0, ttft: 0, itl: 0 };
  let any = false;
  for (const r of rows) {
    if (!r.metrics || !r.emulated) continue;
    any = true;
    const a = r.metrics;
    const e = r.emulated;
    worst.arrivalRate = Math.max(worst.arrivalRate, relError(a.load.arrivalRate, e.load.arrivalRate));
    worst.avgInputTokens = Math.max(
      worst.avgInputTokens,
      relError(a.load.avgInputTokens, e.load.avgInputTokens),
    );
    worst.avgOutputTokens = Math.max(
      worst.avgOutputTokens,
      relError(a.load.avgOutputTokens, e.load.avgOutputTokens),
    );
    worst.ttft = Math.max(worst.ttft, relError(a.ttftAverage, e.ttftAverage));
    worst.itl = Math.max(worst.itl, relError(a.itlAverage, e.itlAverage));
  }
  return any ? worst : undefined;
}
