import { describe, expect, it } from 'vitest';
import { engineSetup, fitProfile } from '../../../src/simulator/index.js';

describe('fitProfile', () => {
  it('fits a profile whose ITL and prefill grow with the batch, slower on an A100 than an H100', () => {
    const a100 = fitProfile(
      engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'A100', { maxNumSeqs: 32 }),
      512,
      64,
    );
    const h100 = fitProfile(
      engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'H100', { maxNumSeqs: 32 }),
      512,
      64,
    );
    for (const p of [a100, h100]) {
      expect(p.beta).toBeGreaterThan(0);
      expect(p.delta).toBeGreaterThan(0);
      expect(p.gamma).toBeGreaterThan(0);
    }
    // Batch-1 decode is bandwidth-bound: alpha about the weights over the bandwidth.
    expect(h100.alpha).toBeGreaterThan(6);
    expect(h100.alpha).toBeLessThan(9);
    expect(a100.alpha / h100.alpha).toBeGreaterThan(1.3);
  });
});
