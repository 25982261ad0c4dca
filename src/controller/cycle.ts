// Running a cycle's keys with bounded concurrency, and counting and logging its result.
import type { Logger } from '../types.js';
import type { ControllerTelemetry, CycleResult, ReconcileResult } from './reconcile-result.js';

/** Runs `fn` over `items` with at most `limit` in flight; results in input order; never rejects. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

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
