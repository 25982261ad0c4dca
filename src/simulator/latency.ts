// How long one engine step takes, from the batch the scheduler formed. The engine only asks this
// interface, so a better model (a trained one, a measured table) drops in without touching it.
import {
  type GpuSpec,
  kvBytesPerToken,
  layerParameterCount,
  type ModelSpec,
  weightBytes,
} from './hardware.js';

/** What one step computes. */
export interface StepBatch {
  /** Prompt (or recompute) chunks: tokens computed this step and the context already in the cache. */
  prefills: ReadonlyArray<{ tokens: number; context: number }>;
  /** Requests decoding one token each. */
  decodes: number;
  /** Tokens already in the cache of those decoding requests, summed. */
  decodeContext: number;
}

export interface LatencyModel {
  /** Milliseconds the step takes. */
  stepMs(batch: StepBatch): number;
  /** Milliseconds between a request reaching the server and the scheduler seeing it. */
  frontendMs?(promptTokens: number): number;
}

/**
 * Efficiencies and overheads of a vLLM V1 engine, fitted to the published runs in
 * docs/simulator.md (BLIS's step model has the same shape: a roofline plus per-step and
 * per-request terms).
 */
export interface RooflineCoefficients {
  /** Share of peak FLOP/s the GEMMs reach on large token counts (prefill). */
  mfu: number;
  /** Share of peak bandwidth reached streaming weights and KV. */
  bandwidthEfficiency: number;
  /** Per step: scheduling, input preparation, sampling, output processing, ms. */
  stepOverheadMs: number;
  /** Per layer per step: kernel launches outside CUDA graphs, ms. */
  layerOverheadMs: number;
  /** Per request in the batch (decode or chunk): bookkeeping, detokenisation, ms. */
  requestOverheadMs: number;
  /** Fixed cost of one all-reduce (tensor parallelism), ms. */
  allReduceLatencyMs: number;
  /** API server per request before scheduling (HTTP, chat template, tokenisation), ms. */
  frontendBaseMs: number;
  /** ... and per prompt token (tokenisation), ms. */
  frontendPerTokenMs: number;
}

export const DEFAULT_COEFFICIENTS: RooflineCoefficients = {
  mfu: 0.55,
  bandwidthEfficiency: 0.8,
  stepOverheadMs: 1.2,
  layerOverheadMs: 0.004,
  requestOverheadMs: 0.012,
  allReduceLatencyMs: 0.012,
  frontendBaseMs: 25,
  frontendPerTokenMs: 0.002,
};

/**
 * Step time as a roofline: the step streams the weights once and every sequence's KV, and computes
 * the GEMMs of every token plus attention over each token's context; it takes the longer of the
 * compute and the memory time, plus overheads. Tensor parallelism splits both over the GPUs and
 * adds two all-reduces per layer of the step's activations.
 */
export class RooflineLatencyModel implements LatencyModel {
  private readonly layerParams: number;
  private readonly weights: number;
  private readonly kvPerToken: number;
  private readonly attnFlopsPerPair: number;

  constructor(
    readonly model: ModelSpec,
    readonly gpu: GpuSpec,
    readonly tensorParallel = 1,
    readonly k: RooflineCoefficients = DEFAULT_COEFFICIENTS,
  ) {
    this.layerParams = layerParameterCount(model);
    this.weights = weightBytes(model);
    this.kvPerToken = kvBytesPerToken(model);
    // QK^T and AV: 2 FLOPs per multiply-add, twice, per head dimension, per head, per layer.
    this.attnFlopsPerPair = 4 * model.layers * model.heads * model.headDim;
  }

  frontendMs(promptTokens: number): number {
    return this.k.frontendBaseMs + this.k.frontendPerTokenMs * promptTokens;
  }

  stepMs(b: StepBatch): number {
    const m = this.model;
    let prefillTokens = 0;
    let attnPairs = 0;
    let kvRead = b.decodeContext;
    for (const c of b.prefills) {
      prefillTokens += c.tokens;
      // Causal attention of a chunk over its earlier context and itself.
      attnPairs += c.tokens * (c.context + (c.tokens + 1) / 2);
      kvRead += c.context;
    }
    const tokens = prefillTokens + b.decodes;
    if (tokens === 0) return 0;
    attnPairs += b.decodeContext + b.decodes;
    // Logits only for sequences that sample this step: the decodes and (at most) each chunk.
    const sampled = b.decodes + b.prefills.length;
    const flops =
      2 * this.layerParams * tokens + this.attnFlopsPerPair * attnPairs + 2 * m.hidden * m.vocab * sampled;
    const bytes = this.weights + (kvRead + tokens) * this.kvPerToken;
    const tp = this.tensorParallel;
    const computeMs = (flops / tp / (this.gpu.flops * this.k.mfu)) * 1000;
    const memoryMs = (bytes / tp / (this.gpu.bandwidth * this.k.bandwidthEfficiency)) * 1000;
    let commMs = 0;
    if (tp > 1) {
      // Ring all-reduce of tokens x hidden activations, after attention and after the MLP.
      const arBytes = tokens * m.hidden * m.bytesPerParam;
      const perAllReduce = (2 * (tp - 1) * arBytes) / tp / this.gpu.linkBandwidth;
      commMs = 2 * m.layers * (perAllReduce * 1000 + this.k.allReduceLatencyMs);
    }
    const overheadMs =
      this.k.stepOverheadMs + this.k.layerOverheadMs * m.layers + this.k.requestOverheadMs * sampled;
    return Math.max(computeMs, memoryMs) + commMs + overheadMs;
  }
}
