// A cycle's result, counted and logged (the Manager's cycles).
import type { Logger } from '../types.js';
import type { ControllerTelemetry, CycleResult, ReconcileResult } from './reconcile-result.js';

/** A cycle's result, counted and logged. */
export function cycleFinished(
  results: ReconcileResult[],
  startedAt: Date,
  t0: number,
  log: Logger,
  telemetry: ControllerTelemetry | undefined,
): CycleResult {
  const durationMs = performance.now() - t0;
  const failed = results.filter((r) => r.outcome === 'error').length;
  telemetry?.cycleFinished?.(failed > 0 ? 'error' : 'success', durationMs / 1000);
  const written = results.filter((r) => r.outcome === 'written').length;
  log.info(
    { objects: results.length, written, failed, durationMs: Math.round(durationMs) },
    'reconcile cycle finished',
  );
  return { startedAt, durationMs, results };
}
