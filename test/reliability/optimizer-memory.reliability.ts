// Memory per VariantAutoscaling in the optimizer: one cycle's SizingMemo keeps a plan (its queueing
// model and the analysis at rate*) per distinct profile and request shape. At the largest batch
// accepted (MAX_BATCH_SIZE) and one shape per variant, the heap a cycle retains per variant stays
// a few hundred bytes: nothing in a model grows with maxBatchSize.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE, SizingMemo } from '../../src/optimizer/index.js';

const VARIANTS = Number(process.env.WVA_OPTIMIZER_VARIANTS ?? 2_000);
/** Retained heap per variant allowed: a model, a plan and one analysis, with room. */
const BYTES_PER_VARIANT = 4096;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The JS heap and the typed arrays' backing stores (held outside it). */
function heapAfterGc(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe(`optimizer memory: ${VARIANTS} variants at maxBatchSize ${MAX_BATCH_SIZE}`, () => {
  it(`a cycle retains under ${BYTES_PER_VARIANT} bytes per variant`, () => {
    const memo = new SizingMemo();
    const profile = { alpha: 5, beta: 0.02, gamma: 25, delta: 0.0015, maxBatchSize: MAX_BATCH_SIZE };
    const base = heapAfterGc();
    const t0 = performance.now();
    for (let i = 0; i < VARIANTS; i++) {
      // A distinct request shape per variant: nothing is shared through the memo.
      memo.size({
        profile,
        load: { arrivalRate: 600, avgInputTokens: 256 + i, avgOutputTokens: 128 },
        slo: { itlMs: 200 },
      });
    }
    const ms = performance.now() - t0;
    const perVariant = (heapAfterGc() - base) / VARIANTS;
    expect(memo.planCount).toBe(VARIANTS);
    console.log(
      `optimizer memory: ${VARIANTS} variants at maxBatchSize ${MAX_BATCH_SIZE}: ${perVariant.toFixed(0)} bytes retained per variant, ${(ms / VARIANTS).toFixed(2)} ms per sizing`,
    );
    expect(perVariant).toBeLessThan(BYTES_PER_VARIANT);
  });
});
