// Which vLLM configuration an estimate belongs to. Latency depends on the server's arguments
// (batch limits, parallelism, quantisation, chunking), so an estimate is keyed by a fingerprint of
// them and never carried over to another configuration.
import { createHash } from 'node:crypto';
import { snakeFlagName, vllmFlagList } from '../../../vllm-args.js';

/** What identifies one learned performance model. */
export interface VariantKey {
  model: string;
  namespace: string;
  accelerator: string;
  /** `vllmArgsFingerprint` of the server's arguments. */
  argsFingerprint: string;
}

/** vLLM's max_num_seqs when the arguments do not set it. */
export const VLLM_DEFAULT_MAX_NUM_SEQS = 256;

// Flags that name, expose or log the server without changing how fast it computes.
const NEUTRAL_FLAGS = new Set([
  'host',
  'port',
  'served_model_name',
  'api_key',
  'uvicorn_log_level',
  'disable_log_requests',
  'disable_log_stats',
  'enable_log_requests',
  'ssl_keyfile',
  'ssl_certfile',
  'root_path',
  'allowed_origins',
]);

/** The `--flag value` / `--flag=value` pairs of a command line, names normalised to snake_case. */
export function vllmFlags(args: readonly string[]): Map<string, string> {
  return new Map(vllmFlagList(args).map((f) => [snakeFlagName(f.name), f.value]));
}

/**
 * A short, order-insensitive fingerprint of the flags that can change latency: the same servers
 * started with flags in another order, or on another port, share it.
 */
export function vllmArgsFingerprint(args: readonly string[]): string {
  const flags = [...vllmFlags(args)]
    .filter(([k]) => !NEUTRAL_FLAGS.has(k))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = flags.map(([k, v]) => `${k}=${v}`).join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** max_num_seqs from the arguments; vLLM's default when absent or not a positive integer. */
export function maxBatchSizeFromArgs(args: readonly string[]): number {
  const v = vllmFlags(args).get('max_num_seqs');
  if (v === undefined || !/^\d+$/.test(v)) return VLLM_DEFAULT_MAX_NUM_SEQS;
  const n = Number(v);
  return n > 0 && Number.isSafeInteger(n) ? n : VLLM_DEFAULT_MAX_NUM_SEQS;
}

/** A stable string for maps and documents. */
export function variantKeyString(k: VariantKey): string {
  return JSON.stringify([k.model, k.namespace, k.accelerator, k.argsFingerprint]);
}
