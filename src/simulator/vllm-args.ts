// The engine as an operator configures vLLM: the arguments of the Deployment's container, with
// vLLM's spelling and V1's defaults, and the KV-cache size vLLM would compute from them.

import { snakeFlagName, vllmFlagList, vllmLauncher } from '../vllm-args.js';
import {
  findGpu,
  findModel,
  type GpuSpec,
  kvBytesPerToken,
  type ModelSpec,
  weightBytes,
} from './hardware.js';

export interface VllmArgs {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  gpuMemoryUtilization: number;
  blockSize: number;
  /** Undefined: the model's own context length. */
  maxModelLen?: number;
  tensorParallelSize: number;
}

/** vLLM V1's defaults for an online server on a data-centre GPU. */
export const VLLM_DEFAULTS: VllmArgs = {
  maxNumSeqs: 256,
  maxNumBatchedTokens: 8192,
  gpuMemoryUtilization: 0.9,
  blockSize: 16,
  tensorParallelSize: 1,
};

const FLAGS: Record<string, keyof VllmArgs> = {
  max_num_seqs: 'maxNumSeqs',
  max_num_batched_tokens: 'maxNumBatchedTokens',
  gpu_memory_utilization: 'gpuMemoryUtilization',
  block_size: 'blockSize',
  max_model_len: 'maxModelLen',
  tensor_parallel_size: 'tensorParallelSize',
};

// vLLM's one short alias among these flags; the shared tokeniser reads only `--` flags.
function expandShort(token: string): string {
  if (token === '-tp') return '--tensor-parallel-size';
  return token.startsWith('-tp=') ? `--tensor-parallel-size${token.slice(3)}` : token;
}

/** What a container's args say: the model and the engine arguments (others are ignored). */
export interface ParsedArgs {
  model?: string;
  args: Partial<VllmArgs>;
}

/**
 * Reads vLLM's command line as a Deployment lists it (`["--model", "x", "--max-num-seqs=64"]`,
 * `vllm serve x ...` or `python -m vllm.entrypoints.openai.api_server ...`). Unlike the
 * engines' readers, which keep a default, it throws on a value that is not a positive number:
 * a simulation of a misconfigured server would mislead.
 */
export function parseVllmArgs(argv: readonly string[]): ParsedArgs {
  const { model, rest } = vllmLauncher(argv.map(expandShort));
  const out: ParsedArgs = { args: {} };
  if (model !== undefined) out.model = model;
  for (const { name, value } of vllmFlagList(rest)) {
    const flag = snakeFlagName(name);
    if (flag === 'model') {
      if (value !== '') out.model = value;
      continue;
    }
    const key = FLAGS[flag];
    if (!key) continue;
    const n = Number(value);
    if (value === '' || !Number.isFinite(n) || n <= 0)
      throw new Error(`--${name} needs a positive number, got ${value === '' ? 'none' : `"${value}"`}`);
    out.args[key] = n;
  }
  return out;
}

/** A model that does not fit the GPU memory vLLM may use. */
export class DoesNotFitError extends Error {
  override name = 'DoesNotFitError';
}

/** One engine's hardware and arguments, with the KV-cache size that follows from them. */
export interface EngineSetup {
  model: ModelSpec;
  gpu: GpuSpec;
  /** GPUs of one replica (= tensor parallel size). */
  gpus: number;
  args: VllmArgs;
  maxModelLen: number;
  numGpuBlocks: number;
}

/**
 * GPU memory vLLM keeps back besides the weights: the profiling run's peak activations (grows
 * with the step's token budget) plus CUDA graphs and the non-torch allocations.
 */
export function activationReserveBytes(model: ModelSpec, maxBatchedTokens: number, tp: number): number {
  const fixed = 1.0 * 1024 ** 3;
  const perToken = (2 * model.hidden + 2 * model.intermediate) * model.bytesPerParam;
  const logits = 256 * model.vocab * 4;
  return fixed + (maxBatchedTokens * perToken) / tp + logits;
}

export function engineSetup(
  modelId: string,
  accelerator: string,
  args: Partial<VllmArgs> = {},
  custom: Record<string, ModelSpec> = {},
): EngineSetup {
  const model = findModel(modelId, custom);
  const gpu = findGpu(accelerator);
  const a: VllmArgs = { ...VLLM_DEFAULTS, ...args };
  for (const k of ['maxNumSeqs', 'maxNumBatchedTokens', 'blockSize', 'tensorParallelSize'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1) throw new Error(`${k} must be a positive integer, got ${a[k]}`);
  }
  if (!(a.gpuMemoryUtilization > 0 && a.gpuMemoryUtilization <= 1))
    throw new Error(`--gpu-memory-utilization must be in (0, 1], got ${a.gpuMemoryUtilization}`);
  const tp = a.tensorParallelSize;
  const maxModelLen = Math.min(a.maxModelLen ?? model.maxPositionEmbeddings, model.maxPositionEmbeddings);
  const usable = gpu.memoryBytes * a.gpuMemoryUtilization;
  const weights = weightBytes(model) / tp;
  const reserve = activationReserveBytes(model, a.maxNumBatchedTokens, tp);
  const kvPerBlock = (a.blockSize * kvBytesPerToken(model)) / tp;
  const numGpuBlocks = Math.floor((usable - weights - reserve) / kvPerBlock);
  const GiB = 1024 ** 3;
  const g = (x: number) => (x / GiB).toFixed(1);
  if (numGpuBlocks < Math.ceil(maxModelLen / a.blockSize)) {
    const kvNeed = Math.ceil(maxModelLen / a.blockSize) * kvPerBlock;
    throw new DoesNotFitError(
      `${model.name} does not fit ${tp} x ${gpu.name}: per GPU ${g(weights)} GiB weights + ${g(reserve)} GiB activations + ${g(kvNeed)} GiB KV for one ${maxModelLen}-token sequence > ${g(usable)} GiB (${g(gpu.memoryBytes)} GiB x ${a.gpuMemoryUtilization}); use more GPUs (--tensor-parallel-size), a shorter --max-model-len or a larger accelerator`,
    );
  }
  return { model, gpu, gpus: tp, args: a, maxModelLen, numGpuBlocks };
}
