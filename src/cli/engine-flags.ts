// The flags that configure a simulated vLLM engine, spelt as vLLM spells them, shared by
// `simulate` and `emulate`.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  DoesNotFitError,
  type EngineSetup,
  engineSetup,
  type ModelSpec,
  modelFromConfig,
  UnknownHardwareError,
  type VllmArgs,
} from '../simulator/index.js';
import { UsageError } from './errors.js';

export interface EngineOptions {
  accelerator?: string;
  gpus?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  gpuMemoryUtilization?: number;
  blockSize?: number;
  maxModelLen?: number;
  tensorParallelSize?: number;
  modelConfig?: string;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be an integer >= 1, got "${v}"`);
    return n;
  };
}

function share(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new UsageError(`--${name} must be a number in (0, 1], got "${v}"`);
    return n;
  };
}

export function addEngineFlags(cmd: Command, acceleratorDefault?: string): Command {
  return cmd
    .option(
      '--accelerator <gpu>',
      'GPU of each replica: H100, A100, A100-40GB, L40S or L4',
      acceleratorDefault,
    )
    .option('--gpus <n>', 'GPUs per replica (the tensor parallel size unless given)', positiveInt('gpus'))
    .option('--max-num-seqs <n>', "vLLM's seat limit (default 256)", positiveInt('max-num-seqs'))
    .option(
      '--max-num-batched-tokens <n>',
      "vLLM's token budget per step (default 8192)",
      positiveInt('max-num-batched-tokens'),
    )
    .option(
      '--gpu-memory-utilization <share>',
      'share of GPU memory vLLM may use (default 0.9)',
      share('gpu-memory-utilization'),
    )
    .option('--block-size <tokens>', 'KV-cache block size (default 16)', positiveInt('block-size'))
    .option(
      '--max-model-len <tokens>',
      "longest sequence (default: the model's)",
      positiveInt('max-model-len'),
    )
    .option('--tensor-parallel-size <n>', 'GPUs one replica spans', positiveInt('tensor-parallel-size'))
    .option('--model-config <file>', 'HuggingFace config.json for a model not in the table');
}

/** The vLLM arguments the flags give (only those given). */
export function vllmArgsFromOptions(o: EngineOptions): Partial<VllmArgs> {
  const args: Partial<VllmArgs> = {};
  if (o.maxNumSeqs !== undefined) args.maxNumSeqs = o.maxNumSeqs;
  if (o.maxNumBatchedTokens !== undefined) args.maxNumBatchedTokens = o.maxNumBatchedTokens;
  if (o.gpuMemoryUtilization !== undefined) args.gpuMemoryUtilization = o.gpuMemoryUtilization;
  if (o.blockSize !== undefined) args.blockSize = o.blockSize;
  if (o.maxModelLen !== undefined) args.maxModelLen = o.maxModelLen;
  const tp = o.tensorParallelSize ?? o.gpus;
  if (tp !== undefined) args.tensorParallelSize = tp;
  if (o.gpus !== undefined && o.tensorParallelSize !== undefined && o.tensorParallelSize > o.gpus)
    throw new UsageError(
      `--tensor-parallel-size ${o.tensorParallelSize} needs at least that many --gpus, got ${o.gpus}`,
    );
  return args;
}

/** A custom model from --model-config, keyed by the model id it serves. */
export function customModels(modelId: string, file: string | undefined): Record<string, ModelSpec> {
  if (!file) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--model-config ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return { [modelId]: modelFromConfig(modelId, json) };
  } catch (err) {
    throw new UsageError(`--model-config ${file}: ${(err as Error).message}`);
  }
}

/** The engine set-up, with unknown hardware and a model too large for it as usage errors. */
export function engineFromOptions(modelId: string, o: EngineOptions, accelerator: string): EngineSetup {
  try {
    return engineSetup(modelId, accelerator, vllmArgsFromOptions(o), customModels(modelId, o.modelConfig));
  } catch (err) {
    if (err instanceof UnknownHardwareError || err instanceof DoesNotFitError)
      throw new UsageError(err.message);
    throw err;
  }
}
