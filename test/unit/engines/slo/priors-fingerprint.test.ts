import { describe, expect, it } from 'vitest';
import {
  acceleratorTimeFactor,
  maxBatchSizeFromArgs,
  modelParamsBillions,
  modelSizeClass,
  NEUTRAL_PRIOR_TABLE,
  neutralPrior,
  VLLM_DEFAULT_MAX_NUM_SEQS,
  vllmArgsFingerprint,
} from '../../../../src/engines/slo/learn/index.js';

describe('neutral priors', () => {
  it('reads the parameter count from the model name, dense or mixture of experts', () => {
    expect(modelParamsBillions('meta-llama/Llama-3.1-8B-Instruct')).toBe(8);
    expect(modelParamsBillions('Qwen/Qwen2.5-0.5B')).toBe(0.5);
    expect(modelParamsBillions('mistralai/Mixtral-8x7B-v0.1')).toBe(56);
    expect(modelParamsBillions('ibm-granite/granite-3.3-2b-instruct')).toBe(2);
    expect(modelParamsBillions('some/model')).toBeNull();
  });

  it('classes models by size, medium when the name does not say', () => {
    expect(modelSizeClass('Llama-3.1-8B')).toBe('small');
    expect(modelSizeClass('Qwen2.5-32B')).toBe('medium');
    expect(modelSizeClass('Llama-3.3-70B')).toBe('large');
    expect(modelSizeClass('Llama-3.1-405B')).toBe('xlarge');
    expect(modelSizeClass('unnamed')).toBe('medium');
    expect(modelSizeClass('unnamed', 3)).toBe('small');
  });

  it('scales the H100 table by the accelerator, L40S not read as L4', () => {
    expect(acceleratorTimeFactor('nvidia-h100-80gb')).toBe(1);
    expect(acceleratorTimeFactor('L40S')).toBe(2.2);
    expect(acceleratorTimeFactor('nvidia-l4')).toBe(4);
    expect(acceleratorTimeFactor('tpu-v5e')).toBe(1.5);
    expect(neutralPrior('Llama-3.1-8B', 'H100')).toEqual(NEUTRAL_PRIOR_TABLE.small);
    expect(neutralPrior('Llama-3.1-8B', 'A100').alpha).toBeCloseTo(NEUTRAL_PRIOR_TABLE.small.alpha * 1.6);
  });

  it('is physically plausible for every class: positive intercepts, slopes, latencies that grow with size', () => {
    const classes = ['small', 'medium', 'large', 'xlarge'] as const;
    for (const c of classes) {
      const p = NEUTRAL_PRIOR_TABLE[c];
      expect(p.alpha).toBeGreaterThan(0);
      expect(p.gamma).toBeGreaterThan(0);
      expect(p.beta).toBeGreaterThan(0);
      expect(p.delta).toBeGreaterThan(0);
    }
    for (let i = 1; i < classes.length; i++)
      expect(NEUTRAL_PRIOR_TABLE[classes[i]!].alpha).toBeGreaterThan(
        NEUTRAL_PRIOR_TABLE[classes[i - 1]!].alpha,
      );
  });
});

describe('vLLM argument fingerprint', () => {
  const base = ['--model', 'm', '--max-num-seqs', '64', '--tensor-parallel-size=2', '--enforce-eager'];

  it('ignores the order of flags, dash or underscore spelling, and flags that do not change speed', () => {
    const fp = vllmArgsFingerprint(base);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(
      vllmArgsFingerprint([
        '--enforce-eager',
        '--tensor_parallel_size',
        '2',
        '--max-num-seqs=64',
        '--model',
        'm',
      ]),
    ).toBe(fp);
    expect(vllmArgsFingerprint([...base, '--port', '8001', '--served-model-name', 'x'])).toBe(fp);
  });

  it('changes with any flag that can change latency', () => {
    const fp = vllmArgsFingerprint(base);
    expect(vllmArgsFingerprint(base.map((a) => (a === '64' ? '128' : a)))).not.toBe(fp);
    expect(vllmArgsFingerprint([...base, '--quantization', 'fp8'])).not.toBe(fp);
    expect(vllmArgsFingerprint(base.filter((a) => a !== '--enforce-eager'))).not.toBe(fp);
  });

  it('reads max_num_seqs, vLLM default when absent or not a positive integer', () => {
    expect(maxBatchSizeFromArgs(base)).toBe(64);
    expect(maxBatchSizeFromArgs(['--max_num_seqs=32'])).toBe(32);
    expect(maxBatchSizeFromArgs([])).toBe(VLLM_DEFAULT_MAX_NUM_SEQS);
    expect(maxBatchSizeFromArgs(['--max-num-seqs', 'lots'])).toBe(256);
    expect(maxBatchSizeFromArgs(['--max-num-seqs', '0'])).toBe(256);
  });
});
