// What a vLLM server's command line says about its token capacity, read the way upstream WVA
// v0.5 reads a Deployment: `--key value` / `--key=value` flags of every container, also inside a
// `sh -c "..."` script, and the VLLM_USE_V1 switch.
import { snakeFlagName, vllmFlagList } from '../../../vllm-args.js';
import { trunc } from '../format.js';
import type { DeploymentLike, VllmEngineParams } from '../types.js';

const SHELLS = new Set(['/bin/sh', '/bin/bash', 'sh', 'bash']);
// vLLM's scheduler budget when --max-num-batched-tokens is not given.
const V1_CHUNKED_BUDGET = 8192;
const V0_BUDGET = 2048;

function defaults(): VllmEngineParams {
  return {
    gpuMemoryUtilization: 0.9,
    blockSize: 16,
    kvCacheDtype: 'auto',
    tensorParallelSize: 1,
    numGpuBlocksOverride: 0,
    maxNumBatchedTokens: 0,
    maxNumSeqs: 256,
    maxModelLen: 0,
    enforceEager: false,
    isV1Engine: true,
    chunkedPrefillEnabled: true,
    effectiveMaxBatchedTokens: 0,
  };
}

/** Splits a shell script on spaces outside quotes; quotes are dropped, no escapes. */
function splitScript(script: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  for (const ch of script) {
    if ((ch === '"' || ch === "'") && (quote === null || quote === ch)) {
      quote = quote === null ? ch : null;
    } else if (ch === ' ' && quote === null) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

function tokensOf(command: string[], args: string[]): string[] {
  const tokens = [...command, ...args];
  for (let i = 0; i + 2 < tokens.length; i++) {
    if (SHELLS.has(tokens[i]!) && tokens[i + 1] === '-c') return splitScript(tokens[i + 2]!);
  }
  return tokens;
}

// Go's strconv.Atoi and ParseFloat accept these forms; anything else keeps the previous value.
const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

function parseIntOr(v: string, previous: number): number {
  if (!INT.test(v)) return previous;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : previous;
}

function parseFloatOr(v: string, previous: number): number {
  if (SPECIAL.test(v)) {
    const body = v.replace(/^[+-]/, '').toLowerCase();
    if (body === 'nan') return Number.NaN;
    return v.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return FLOAT.test(v) ? Number(v) : previous;
}

// The integer flags upstream reads, each into its field.
const INT_FLAGS = {
  block_size: 'blockSize',
  num_gpu_blocks_override: 'numGpuBlocksOverride',
  max_num_batched_tokens: 'maxNumBatchedTokens',
  max_num_seqs: 'maxNumSeqs',
  max_model_len: 'maxModelLen',
  tensor_parallel_size: 'tensorParallelSize',
} as const satisfies Record<string, keyof VllmEngineParams>;

function applyFlag(p: VllmEngineParams, key: string, value: string): void {
  if (Object.hasOwn(INT_FLAGS, key)) {
    const field = INT_FLAGS[key as keyof typeof INT_FLAGS];
    p[field] = parseIntOr(value, p[field]);
    return;
  }
  switch (key) {
    case 'gpu_memory_utilization':
      p.gpuMemoryUtilization = parseFloatOr(value, p.gpuMemoryUtilization);
      break;
    case 'kv_cache_dtype':
      p.kvCacheDtype = value;
      break;
    case 'enforce_eager':
      p.enforceEager = true;
      break;
    case 'enable_chunked_prefill':
      p.chunkedPrefillEnabled = true;
      break;
  }
}

// Upstream strips every leading dash (`---x` reads as `x`), where the shared snake_case spelling
// keeps the extra dash; this engine keeps upstream's reading.
function readTokens(p: VllmEngineParams, tokens: string[]): void {
  for (const f of vllmFlagList(tokens)) applyFlag(p, snakeFlagName(f.name.replace(/^-+/, '')), f.value);
}

/** The engine parameters of a vLLM Deployment; defaults for anything it does not say. */
export function parseVllmArgs(deployment: DeploymentLike | null): VllmEngineParams {
  const p = defaults();
  for (const c of deployment?.spec?.template?.spec?.containers ?? []) {
    for (const e of c.env ?? []) {
      if (e.name === 'VLLM_USE_V1' && e.value === '0') {
        p.isV1Engine = false;
        p.chunkedPrefillEnabled = false;
      }
    }
    readTokens(p, tokensOf(c.command ?? [], c.args ?? []));
  }
  // The V1 engine always chunks prefill.
  if (p.isV1Engine) p.chunkedPrefillEnabled = true;
  if (p.maxNumBatchedTokens > 0) p.effectiveMaxBatchedTokens = p.maxNumBatchedTokens;
  else if (p.chunkedPrefillEnabled)
    p.effectiveMaxBatchedTokens = p.isV1Engine ? V1_CHUNKED_BUDGET : V0_BUDGET;
  else p.effectiveMaxBatchedTokens = p.maxModelLen > V0_BUDGET ? p.maxModelLen : V0_BUDGET;
  return p;
}

/** Whether two servers' capacities can stand for each other: same memory, cache and batch setup. */
export function isCapacityCompatible(a: VllmEngineParams | null, b: VllmEngineParams | null): boolean {
  if (!a || !b) return false;
  return (
    a.gpuMemoryUtilization === b.gpuMemoryUtilization &&
    a.blockSize === b.blockSize &&
    a.kvCacheDtype === b.kvCacheDtype &&
    a.tensorParallelSize === b.tensorParallelSize &&
    a.numGpuBlocksOverride === b.numGpuBlocksOverride &&
    a.effectiveMaxBatchedTokens === b.effectiveMaxBatchedTokens
  );
}

/**
 * Tokens a replica holds at its batch limit for requests of `avgIn` input and `avgOut` output
 * tokens: concurrent sequences n = min(B·O/(I+O), maxNumSeqs), each holding I + O/2 on average.
 * 0 when unknown.
 */
export function estimateCapacityFromParams(
  p: VllmEngineParams | null,
  avgIn: number,
  avgOut: number,
): number {
  if (!p || p.effectiveMaxBatchedTokens <= 0 || avgOut <= 0) return 0;
  const n = Math.min((p.effectiveMaxBatchedTokens * avgOut) / (avgIn + avgOut), p.maxNumSeqs);
  const k = trunc(n * (avgIn + avgOut / 2));
  return k > 0 ? k : 0;
}
