// Input checks: every number the model divides by or loops over is refused here, with the field's
// name, so the maths below can assume finite, in-range values and never produce NaN.
import type { LoadProfile, QueueProfile, SizingInput, SloTargets } from './types.js';

/**
 * Largest batch accepted: vLLM's `--max-num-seqs`, the requests one replica runs at once. vLLM's
 * defaults are 256 and 1024, throughput tuning goes to 2048-4096, and every running request holds
 * KV-cache blocks on the GPU; 8192 leaves room above that. Each evaluation of the model walks the
 * batch sizes, so the bound is also what bounds the time to size one variant.
 */
export const MAX_BATCH_SIZE = 8192;
/** Largest queue accepted: WVA's default queue (10 x the batch) for the largest batch. Near
 *  saturation an evaluation walks the queue's states too. */
export const MAX_QUEUE_SIZE = 10 * MAX_BATCH_SIZE;

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return String(value);
}

function finiteAtLeast(value: unknown, min: number, name: string, hint: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a finite number >= ${min}, got ${describe(value)}; ${hint}`);
  }
  return value;
}

function integerIn(value: unknown, min: number, max: number, name: string, hint: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${describe(value)}; ${hint}`);
  }
  return value;
}

export function checkProfile(p: QueueProfile): void {
  if (p === null || typeof p !== 'object') throw new RangeError('profile must be an object');
  const hint = 'profile parameters are milliseconds from a benchmark of the variant';
  finiteAtLeast(p.alpha, 0, 'profile.alpha', hint);
  finiteAtLeast(p.beta, 0, 'profile.beta', hint);
  finiteAtLeast(p.gamma, 0, 'profile.gamma', hint);
  finiteAtLeast(p.delta, 0, 'profile.delta', hint);
  integerIn(
    p.maxBatchSize,
    1,
    MAX_BATCH_SIZE,
    'profile.maxBatchSize',
    "use the server's --max-num-seqs (vLLM's default is 256 or 1024)",
  );
  if (p.maxQueueSize !== undefined) {
    integerIn(p.maxQueueSize, 0, MAX_QUEUE_SIZE, 'profile.maxQueueSize', 'omit it for 10 x maxBatchSize');
  }
}

export function checkLoad(l: LoadProfile): void {
  if (l === null || typeof l !== 'object') throw new RangeError('load must be an object');
  finiteAtLeast(l.arrivalRate, 0, 'load.arrivalRate', 'requests per minute');
  finiteAtLeast(l.avgInputTokens, 0, 'load.avgInputTokens', 'average prompt tokens per request');
  finiteAtLeast(l.avgOutputTokens, 1, 'load.avgOutputTokens', 'every request generates at least one token');
}

export function checkSlo(s: SloTargets): void {
  if (s === null || typeof s !== 'object') throw new RangeError('slo must be an object');
  const hint = 'milliseconds; 0 or absent means no target';
  if (s.ttftMs !== undefined) finiteAtLeast(s.ttftMs, 0, 'slo.ttftMs', hint);
  if (s.itlMs !== undefined) finiteAtLeast(s.itlMs, 0, 'slo.itlMs', hint);
}

/** Returns [minReplicas, maxReplicas] with the defaults applied. */
export function checkReplicaBounds(input: SizingInput): [number, number] {
  const min = input.minReplicas ?? 1;
  integerIn(min, 0, 2 ** 31 - 1, 'minReplicas', 'the fewest replicas to keep');
  const max = input.maxReplicas ?? 2 ** 31 - 1;
  integerIn(max, Math.max(min, 1), 2 ** 31 - 1, 'maxReplicas', 'it must be at least minReplicas and 1');
  return [min, max];
}

export function checkInput(input: SizingInput): [number, number] {
  if (input === null || typeof input !== 'object') throw new RangeError('sizing input must be an object');
  checkProfile(input.profile);
  checkLoad(input.load);
  checkSlo(input.slo);
  return checkReplicaBounds(input);
}
