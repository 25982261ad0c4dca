// The models and GPUs the simulator knows: architecture figures from each model's public
// config.json and datasheet figures for each GPU. Sources are listed in docs/simulator.md.

/** A dense decoder-only transformer, as its HuggingFace config.json describes it. */
export interface ModelSpec {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  /** Input embedding and LM head share one matrix. */
  tiedEmbeddings: boolean;
  /** Bytes per weight and per KV element (2 for BF16/FP16). */
  bytesPerParam: number;
  /** Context length the model was trained for (vLLM's default --max-model-len). */
  maxPositionEmbeddings: number;
}

export interface GpuSpec {
  name: string;
  /** Memory the driver reports as total (what vLLM multiplies by --gpu-memory-utilization), bytes. */
  memoryBytes: number;
  /** Dense BF16 tensor-core peak, FLOP/s. */
  flops: number;
  /** HBM/GDDR bandwidth, bytes/s. */
  bandwidth: number;
  /** Per-GPU bandwidth of the link tensor parallelism all-reduces over, bytes/s. */
  linkBandwidth: number;
}

const GiB = 1024 ** 3;

function llamaLike(
  name: string,
  layers: number,
  hidden: number,
  intermediate: number,
  vocab: number,
  extra: Partial<ModelSpec> = {},
): ModelSpec {
  return {
    name,
    layers,
    hidden,
    heads: hidden / 128,
    kvHeads: 8,
    headDim: 128,
    intermediate,
    vocab,
    tiedEmbeddings: false,
    bytesPerParam: 2,
    maxPositionEmbeddings: 131_072,
    ...extra,
  };
}

/** Known models, keyed by a lower-case name without organisation and -Instruct suffix. */
export const MODELS: Record<string, ModelSpec> = {
  // meta-llama/Llama-3.1-8B config.json
  'llama-3.1-8b': llamaLike('Llama-3.1-8B', 32, 4096, 14_336, 128_256),
  // meta-llama/Meta-Llama-3-8B config.json: Llama-3.1-8B's shape with an 8k context.
  'llama-3-8b': llamaLike('Llama-3-8B', 32, 4096, 14_336, 128_256, { maxPositionEmbeddings: 8192 }),
  // meta-llama/Llama-3.1-70B config.json
  'llama-3.1-70b': llamaLike('Llama-3.1-70B', 80, 8192, 28_672, 128_256),
  // ibm-granite/granite-3.3-8b-instruct config.json
  'granite-3.3-8b': llamaLike('Granite-3.3-8B', 40, 4096, 12_800, 49_159, { tiedEmbeddings: true }),
  // mistralai/Mistral-7B-Instruct-v0.3 config.json
  'mistral-7b-v0.3': llamaLike('Mistral-7B-v0.3', 32, 4096, 14_336, 32_768, {
    maxPositionEmbeddings: 32_768,
  }),
  // Qwen/Qwen3-8B config.json
  'qwen3-8b': llamaLike('Qwen3-8B', 36, 4096, 12_288, 151_936, { maxPositionEmbeddings: 40_960 }),
};

/** Known GPUs. Memory is what torch reports as total on the 80/48/24 GB boards. */
export const GPUS: Record<string, GpuSpec> = {
  // H100 SXM5 80 GB: 989.5 TFLOP/s BF16 dense, 3.35 TB/s HBM3, NVLink 4 (450 GB/s each way).
  H100: { name: 'H100', memoryBytes: 79.2 * GiB, flops: 989.5e12, bandwidth: 3.35e12, linkBandwidth: 450e9 },
  // A100 SXM4 80 GB: 312 TFLOP/s BF16 dense, 2.039 TB/s HBM2e, NVLink 3 (300 GB/s each way).
  A100: { name: 'A100', memoryBytes: 79.2 * GiB, flops: 312e12, bandwidth: 2.039e12, linkBandwidth: 300e9 },
  // A100 40 GB: the same compute, 1.555 TB/s HBM2.
  'A100-40GB': {
    name: 'A100-40GB',
    memoryBytes: 39.4 * GiB,
    flops: 312e12,
    bandwidth: 1.555e12,
    linkBandwidth: 300e9,
  },
  // L40S 48 GB: 362 TFLOP/s BF16 dense, 864 GB/s GDDR6, PCIe Gen4 x16.
  L40S: { name: 'L40S', memoryBytes: 44.5 * GiB, flops: 362e12, bandwidth: 864e9, linkBandwidth: 25e9 },
  // L4 24 GB: 121 TFLOP/s BF16 dense, 300 GB/s GDDR6, PCIe Gen4 x16.
  L4: { name: 'L4', memoryBytes: 22.0 * GiB, flops: 121e12, bandwidth: 300e9, linkBandwidth: 25e9 },
};

/** Unknown model or accelerator: the message lists the known ones. */
export class UnknownHardwareError extends Error {
  override name = 'UnknownHardwareError';
}

/** `meta-llama/Llama-3.1-8B-Instruct` -> `llama-3.1-8b`. */
export function modelKey(id: string): string {
  return (id.split('/').pop() ?? id)
    .toLowerCase()
    .replace(/^meta-(?=llama)/, '')
    .replace(/-(instruct|chat|it|base)$/, '')
    .replace(/-instruct-/, '-');
}

export function findModel(id: string, custom: Record<string, ModelSpec> = {}): ModelSpec {
  const m = custom[id] ?? custom[modelKey(id)] ?? MODELS[modelKey(id)];
  if (m) return m;
  const known = [...Object.values(MODELS).map((x) => x.name), ...Object.keys(custom)].join(', ');
  throw new UnknownHardwareError(
    `unknown model "${id}": known models are ${known} (or give a config.json with --model-config)`,
  );
}

/**
 * An accelerator by name as clusters label it (`H100`, `NVIDIA-H100-80GB-HBM3`,
 * `nvidia-a100-sxm4-40gb`, `L40S`): the longest known name it contains wins.
 */
export function findGpu(name: string): GpuSpec {
  const n = name.toUpperCase();
  if (/A100/.test(n) && /40\s*G/.test(n)) return GPUS['A100-40GB']!;
  for (const key of ['L40S', 'H100', 'A100', 'L4']) if (n === key || n.includes(key)) return GPUS[key]!;
  throw new UnknownHardwareError(
    `unknown accelerator "${name}": known accelerators are ${Object.keys(GPUS).join(', ')}`,
  );
}

/** Parameters of the model (embeddings and LM head included). */
export function parameterCount(m: ModelSpec): number {
  const q = m.heads * m.headDim;
  const kv = m.kvHeads * m.headDim;
  const perLayer =
    m.hidden * q + 2 * m.hidden * kv + q * m.hidden + 3 * m.hidden * m.intermediate + 2 * m.hidden;
  const embeddings = m.vocab * m.hidden * (m.tiedEmbeddings ? 1 : 2);
  return m.layers * perLayer + embeddings + m.hidden;
}

/** Parameters every token multiplies through (the layers; not the embedding lookup or LM head). */
export function layerParameterCount(m: ModelSpec): number {
  return parameterCount(m) - m.vocab * m.hidden * (m.tiedEmbeddings ? 1 : 2) - m.hidden;
}

export function weightBytes(m: ModelSpec): number {
  return parameterCount(m) * m.bytesPerParam;
}

/** KV-cache bytes one token holds over all layers (keys and values), all GPUs together. */
export function kvBytesPerToken(m: ModelSpec): number {
  return 2 * m.layers * m.kvHeads * m.headDim * m.bytesPerParam;
}

/** A model from a HuggingFace-style config.json (a dense Llama/Mistral/Qwen/Granite shape). */
export function modelFromConfig(name: string, json: unknown): ModelSpec {
  if (typeof json !== 'object' || json === null) throw new Error(`${name}: config.json is not an object`);
  const c = json as Record<string, unknown>;
  const num = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`${name}: config.json needs a positive ${key}`);
    return v;
  };
  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  const dtype = String(c.torch_dtype ?? 'bfloat16');
  return {
    name,
    layers: num('num_hidden_layers'),
    hidden,
    heads,
    kvHeads: num('num_key_value_heads', heads),
    headDim: num('head_dim', hidden / heads),
    intermediate: num('intermediate_size'),
    vocab: num('vocab_size'),
    tiedEmbeddings: c.tie_word_embeddings === true,
    bytesPerParam: dtype === 'float32' ? 4 : 2,
    maxPositionEmbeddings: num('max_position_embeddings', 4096),
  };
}
