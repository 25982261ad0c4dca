// Published single-replica vLLM runs that no one here made, as the simulator replays them. Each
// names its source; docs/simulator.md lists them with the simulator's error on each.

import { simulate } from './run.js';
import type { SimulationReport } from './stats.js';
import { engineSetup, type VllmArgs } from './vllm-args.js';
import type { TraceEntry } from './workload.js';

export interface MeasuredRun {
  id: string;
  source: string;
  url: string;
  model: string;
  accelerator: string;
  args: Partial<VllmArgs>;
  /** What the benchmark sent. */
  load:
    | { kind: 'trace'; entries: TraceEntry[] }
    | {
        kind: 'concurrency';
        clients: number;
        requests: number;
        input: number;
        output: number;
        cv: number;
        maxInput: number;
      };
  /** Means the source reports (ms); ITL per token gap. Absent: not published. */
  measured: { ttftMs?: number; itlMs?: number; e2eMs?: number };
  /** How the run differs from what the simulator models. */
  note: string;
}

function burst(inputs: number[], outputs: number[]): TraceEntry[] {
  return inputs.map((input, i) => ({ arrivalMs: 0, inputTokens: input, outputTokens: outputs[i]! }));
}

const SHAREGPT_PROMPTS = [13, 25, 27, 10, 329, 29, 399, 328, 4, 205];
const LAMBDA = 'LambdaLabsML/vllm-benchmark';
const GPUSTACK = 'GPUStack performance lab';

export const MEASURED_RUNS: MeasuredRun[] = [
  {
    id: 'lambda-llama3-8b-h100-burst10',
    source: LAMBDA,
    url: 'https://github.com/LambdaLabsML/vllm-benchmark/blob/main/results/prompt_10/1xH100-80GB-SXM/Meta-Llama-3-8B-Instruct_tp1_len2048.json',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    accelerator: 'H100',
    args: { maxModelLen: 2048, maxNumBatchedTokens: 2048 },
    load: { kind: 'trace', entries: burst(SHAREGPT_PROMPTS, [120, 429, 233, 194, 101, 741, 9, 3, 6, 31]) },
    // ITL: (sum of latencies - sum of TTFTs) / (output tokens - requests) from the file.
    measured: { ttftMs: 62.4, itlMs: 7.37, e2eMs: 1431.8 },
    note: 'vLLM 0.6.0 (V0 engine, multi-step scheduling streams tokens in groups of 10); 10 ShareGPT prompts sent at once',
  },
  {
    id: 'lambda-llama3-8b-a100-burst10',
    source: LAMBDA,
    url: 'https://github.com/LambdaLabsML/vllm-benchmark/blob/main/results/prompt_10/1xA100-80GB-SXM/Meta-Llama-3-8B-Instruct_tp1_len2000.json',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    accelerator: 'A100',
    args: { maxModelLen: 2000, maxNumBatchedTokens: 2048 },
    load: { kind: 'trace', entries: burst(SHAREGPT_PROMPTS, [120, 507, 233, 194, 101, 741, 9, 3, 6, 31]) },
    measured: { ttftMs: 139.2, itlMs: 11.72, e2eMs: 2407.1 },
    note: 'vLLM 0.6.0 (V0 engine, multi-step scheduling); 10 ShareGPT prompts sent at once',
  },
  ...[1, 2, 4, 8].map(
    (clients): MeasuredRun => ({
      id: `gpustack-qwen3-8b-h100-c${clients}`,
      source: GPUSTACK,
      url: 'https://github.com/gpustack/gpustack/blob/main/docs/performance-lab/qwen3-8b/h100-latency.md',
      model: 'Qwen/Qwen3-8B',
      accelerator: 'H100',
      args: {},
      // 100 ShareGPT prompts: 23260 input and 22061 output tokens in all.
      load: {
        kind: 'concurrency',
        clients,
        requests: 100,
        input: 232.6,
        output: 220.6,
        cv: 1,
        maxInput: 1024,
      },
      measured:
        clients === 4
          ? { ttftMs: 64.0, itlMs: 7.78, e2eMs: 1680 }
          : { e2eMs: { 1: 1660, 2: 1680, 8: 1780 }[clients as 1 | 2 | 8] },
      note: 'vLLM 0.11.0 (V1), default arguments, openai-chat endpoint; ShareGPT lengths drawn log-normal with the published means',
    }),
  ),
  {
    id: 'musgrave-llama31-8b-a100-40gb-c1',
    source: 'John Musgrave, "vLLM throughput-latency sweep on NVIDIA A100"',
    url: 'https://johnmusgrave.com/p/vllm-throughput-latency-sweep-on',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    accelerator: 'A100-40GB',
    args: {},
    load: { kind: 'concurrency', clients: 1, requests: 20, input: 1024, output: 128, cv: 0, maxInput: 1024 },
    // "decode at one request per time runs at about 75 tokens/sec".
    measured: { itlMs: 1000 / 75 },
    note: 'vLLM V1, default arguments; random 1024-token prompts, 128 output tokens with --ignore-eos, one client',
  },
];

/** Replays a published run in the simulator (seeded, so the same every time). */
export function replay(run: MeasuredRun, seed = 1): SimulationReport {
  const setup = engineSetup(run.model, run.accelerator, run.args);
  const l = run.load;
  if (l.kind === 'trace')
    return simulate({
      setup,
      replicas: 1,
      durationMs: Number.POSITIVE_INFINITY,
      trace: l.entries,
      input: { mean: 1, cv: 0 },
      output: { mean: 1, cv: 0 },
      seed,
    }).report;
  return simulate({
    setup,
    replicas: 1,
    durationMs: Number.POSITIVE_INFINITY,
    concurrency: l.clients,
    maxRequests: l.requests,
    input: { mean: l.input, cv: l.cv },
    output: { mean: l.output, cv: l.cv },
    maxInput: l.maxInput,
    seed,
  }).report;
}

/** Relative error of the simulated mean against the measured one, per metric. */
export function errors(run: MeasuredRun, r: SimulationReport): { ttft?: number; itl?: number; e2e?: number } {
  const rel = (sim: number, real?: number) => (real === undefined ? undefined : Math.abs(sim - real) / real);
  const out: { ttft?: number; itl?: number; e2e?: number } = {};
  const t = rel(r.ttftMs.mean, run.measured.ttftMs);
  const i = rel(r.itlMs.mean, run.measured.itlMs);
  const e = rel(r.e2eMs.mean, run.measured.e2eMs);
  if (t !== undefined) out.ttft = t;
  if (i !== undefined) out.itl = i;
  if (e !== undefined) out.e2e = e;
  return out;
}
