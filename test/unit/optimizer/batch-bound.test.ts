// maxBatchSize is vLLM's --max-num-seqs: bounded by what a vLLM deployment runs (MAX_BATCH_SIZE),
// and a model's memory does not grow with it (no per-batch-size arrays), so memory per variant is
// bounded whatever profile a VariantAutoscaling carries.
import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_SIZE,
  MAX_QUEUE_SIZE,
  parseModelProfile,
  ReplicaModel,
  sizeReplicas,
} from '../../../src/optimizer/index.js';

const params = { alpha: 5, beta: 0.02, gamma: 25, delta: 0.0015 };
const load = { arrivalRate: 600, avgInputTokens: 512, avgOutputTokens: 128 };

function profileOf(maxBatchSize: unknown) {
  return {
    accelerators: [
      {
        acc: 'H100',
        accCount: 1,
        maxBatchSize,
        perfParms: {
          decodeParms: { alpha: '5', beta: '0.02' },
          prefillParms: { gamma: '25', delta: '0.0015' },
        },
      },
    ],
  };
}

describe('maxBatchSize bound', () => {
  it('is a few thousand, with room above vLLM practice (4096), and the queue 10 x that', () => {
    expect(MAX_BATCH_SIZE).toBe(8192);
    expect(MAX_QUEUE_SIZE).toBe(81_920);
  });

  it.each([1_000_000, MAX_BATCH_SIZE + 1])(
    'a VA profile with maxBatchSize %d is refused, naming the field, the bound and what to use',
    (n) => {
      const parsed = parseModelProfile(profileOf(n));
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.problems).toEqual([
          `spec.modelProfile.accelerators[0]: maxBatchSize must be an integer in [1, ${MAX_BATCH_SIZE}], got ${n}; use the server's --max-num-seqs (vLLM's default is 256 or 1024)`,
        ]);
      }
    },
  );

  it('MAX_BATCH_SIZE itself is accepted and sized', () => {
    expect(parseModelProfile(profileOf(MAX_BATCH_SIZE)).ok).toBe(true);
    const s = sizeReplicas({
      profile: { ...params, maxBatchSize: MAX_BATCH_SIZE },
      load,
      slo: { itlMs: 200 },
    });
    expect(s.numReplicas).toBeGreaterThanOrEqual(1);
  });

  it('a queue above MAX_QUEUE_SIZE is refused by name', () => {
    expect(() =>
      sizeReplicas({
        profile: { ...params, maxBatchSize: 8, maxQueueSize: MAX_QUEUE_SIZE + 1 },
        load,
        slo: {},
      }),
    ).toThrow(/profile\.maxQueueSize must be an integer in \[0, 81920\]/);
  });
});

describe('memory per model does not grow with the batch size', () => {
  it('a model holds no array: the largest batch holds the same fields as a batch of 1', () => {
    const small = new ReplicaModel({ ...params, maxBatchSize: 1 }, 512, 128);
    const large = new ReplicaModel({ ...params, maxBatchSize: MAX_BATCH_SIZE }, 512, 128);
    const arrays = (m: ReplicaModel) =>
      Object.values(m).filter((v) => ArrayBuffer.isView(v) || Array.isArray(v));
    expect(arrays(large)).toEqual([]);
    expect(Object.keys(large)).toEqual(Object.keys(small));
  });

  it('the service rates are the profile’s at every batch size (no table needed)', () => {
    const m = new ReplicaModel({ ...params, maxBatchSize: 64 }, 512, 128);
    // mu(N) = N / (prefill(N) + 127 decode(N)), per ms: the top of the stable range is 0.999 of it.
    const serviceMs = 25 + 0.0015 * 512 * 64 + 127 * (5 + 0.02 * 64);
    expect(m.lambdaMax).toBeCloseTo((64 / serviceMs) * 0.999, 12);
    expect(m.lambdaMin).toBeCloseTo((1 / (25 + 0.0015 * 512 + 127 * 5.02)) * 0.001, 12);
  });
});
