import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DeploymentLike,
  estimateCapacityFromParams,
  isCapacityCompatible,
  parseVllmArgs,
  type VllmEngineParams,
} from '../../../../src/engines/saturation/index.js';

type Container = NonNullable<
  NonNullable<NonNullable<DeploymentLike['spec']>['template']>['spec']
>['containers'];

function deployment(containers: Container): DeploymentLike {
  return { spec: { template: { spec: { containers } } } };
}

const DEFAULTS: VllmEngineParams = {
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
  effectiveMaxBatchedTokens: 8192,
};

describe('parseVllmArgs', () => {
  it('gives the defaults (V1 engine, 8192-token budget) without a deployment or containers', () => {
    expect(parseVllmArgs(null)).toEqual(DEFAULTS);
    expect(parseVllmArgs({})).toEqual(DEFAULTS);
    expect(parseVllmArgs(deployment([]))).toEqual(DEFAULTS);
    expect(parseVllmArgs(deployment([{}]))).toEqual(DEFAULTS);
  });

  it('reads every recognised flag, in --key value and --key=value forms', () => {
    const p = parseVllmArgs(
      deployment([
        {
          command: ['vllm', 'serve', 'meta/llama'],
          args: [
            '--gpu-memory-utilization',
            '0.95',
            '--block-size=32',
            '--kv-cache-dtype',
            'fp8',
            '--tensor-parallel-size=2',
            '--num-gpu-blocks-override',
            '4000',
            '--max-num-batched-tokens',
            '4096',
            '--max_num_seqs',
            '128',
            '--max-model-len=8192',
            '--enforce-eager',
          ],
        },
      ]),
    );
    expect(p).toEqual({
      ...DEFAULTS,
      gpuMemoryUtilization: 0.95,
      blockSize: 32,
      kvCacheDtype: 'fp8',
      tensorParallelSize: 2,
      numGpuBlocksOverride: 4000,
      maxNumBatchedTokens: 4096,
      maxNumSeqs: 128,
      maxModelLen: 8192,
      enforceEager: true,
      effectiveMaxBatchedTokens: 4096,
    });
  });

  it('takes the V0 engine from VLLM_USE_V1=0 exactly, with its budget rules', () => {
    const v0 = (args: string[]) =>
      parseVllmArgs(deployment([{ args, env: [{ name: 'VLLM_USE_V1', value: '0' }] }]));
    expect(v0([])).toMatchObject({
      isV1Engine: false,
      chunkedPrefillEnabled: false,
      effectiveMaxBatchedTokens: 2048,
    });
    expect(v0(['--max-model-len', '16384']).effectiveMaxBatchedTokens).toBe(16384);
    expect(v0(['--max-model-len', '1024']).effectiveMaxBatchedTokens).toBe(2048);
    expect(v0(['--enable-chunked-prefill'])).toMatchObject({
      chunkedPrefillEnabled: true,
      effectiveMaxBatchedTokens: 2048,
    });
    for (const value of ['false', '', '00', undefined]) {
      const p = parseVllmArgs(deployment([{ env: [{ name: 'VLLM_USE_V1', value }] }]));
      expect(p.isV1Engine).toBe(true);
    }
  });

  it('reads the flags of a sh -c script, honouring quotes', () => {
    const p = parseVllmArgs(
      deployment([
        {
          command: ['/bin/sh', '-c'],
          args: [`exec vllm serve m --max-num-seqs "64" --kv-cache-dtype 'fp8 e5m2'  --block-size=8`],
        },
      ]),
    );
    expect(p).toMatchObject({ maxNumSeqs: 64, kvCacheDtype: 'fp8 e5m2', blockSize: 8 });
    const bash = parseVllmArgs(
      deployment([{ command: ['bash'], args: ['-c', `vllm --max-num-seqs '3"2'`] }]),
    );
    expect(bash.maxNumSeqs).toBe(256); // the token is 3"2: not a number
    const noScript = parseVllmArgs(deployment([{ command: ['sh', '-c'], args: [] }]));
    expect(noScript).toEqual(DEFAULTS);
  });

  it('keeps the previous value for numbers it cannot read', () => {
    const p = parseVllmArgs(
      deployment([
        {
          args: [
            '--block-size',
            'abc',
            '--max-num-seqs',
            '1e3',
            '--gpu-memory-utilization',
            '9e-1',
            '--max-model-len',
            '4k',
          ],
        },
      ]),
    );
    expect(p).toMatchObject({ blockSize: 16, maxNumSeqs: 256, gpuMemoryUtilization: 0.9, maxModelLen: 0 });
    expect(
      parseVllmArgs(deployment([{ args: ['--gpu-memory-utilization', 'x'] }])).gpuMemoryUtilization,
    ).toBe(0.9);
    expect(parseVllmArgs(deployment([{ args: ['--max-num-seqs', '+12'] }])).maxNumSeqs).toBe(12);
  });

  it('gives a flag followed by another flag an empty value, and a presence flag consumes a plain value', () => {
    const p = parseVllmArgs(
      deployment([{ args: ['--kv-cache-dtype', '--enforce-eager', 'false', '--block-size', '64'] }]),
    );
    expect(p).toMatchObject({ kvCacheDtype: '', enforceEager: true, blockSize: 64 });
  });

  it('ignores single-dash flags and positional tokens; later containers override earlier ones', () => {
    const p = parseVllmArgs(
      deployment([
        { args: ['-tp', '4', 'model', '--max-num-seqs', '10'] },
        { command: ['sidecar'], args: ['--max-num-seqs=20'] },
      ]),
    );
    expect(p).toMatchObject({ tensorParallelSize: 1, maxNumSeqs: 20 });
  });

  it('strips every leading dash of a flag, as upstream does (the shared tokeniser keeps the third)', () => {
    const p = parseVllmArgs(deployment([{ args: ['---block-size', '64', '----max-num-seqs=8'] }]));
    expect(p).toMatchObject({ blockSize: 64, maxNumSeqs: 8 });
  });

  it('never throws and never mutates the deployment', () => {
    const token = fc.oneof(
      fc.constantFrom(
        '--block-size',
        '--max-num-seqs',
        '--kv-cache-dtype',
        '--enforce-eager',
        'sh',
        '-c',
        '=',
        '--',
      ),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 10 }), fc.array(token, { maxLength: 4 }), (args, command) => {
        const d = deployment([{ command, args }]);
        const before = structuredClone(d);
        const p = parseVllmArgs(d);
        expect(d).toEqual(before);
        expect(p.effectiveMaxBatchedTokens).toBeGreaterThan(0);
        expect(parseVllmArgs(d)).toEqual(p);
      }),
    );
  });
});

describe('isCapacityCompatible', () => {
  it('is false when either side is unknown', () => {
    expect(isCapacityCompatible(null, DEFAULTS)).toBe(false);
    expect(isCapacityCompatible(DEFAULTS, null)).toBe(false);
    expect(isCapacityCompatible(null, null)).toBe(false);
  });

  it('compares memory, cache and batch setup, ignoring sequence limits and engine flags', () => {
    expect(isCapacityCompatible(DEFAULTS, { ...DEFAULTS })).toBe(true);
    const ignored = {
      ...DEFAULTS,
      maxNumSeqs: 1,
      maxModelLen: 99,
      enforceEager: true,
      isV1Engine: false,
      chunkedPrefillEnabled: false,
    };
    expect(isCapacityCompatible(DEFAULTS, ignored)).toBe(true);
    for (const over of [
      { gpuMemoryUtilization: 0.8 },
      { blockSize: 32 },
      { kvCacheDtype: 'fp8' },
      { tensorParallelSize: 2 },
      { numGpuBlocksOverride: 10 },
      { effectiveMaxBatchedTokens: 4096 },
    ]) {
      expect(isCapacityCompatible(DEFAULTS, { ...DEFAULTS, ...over })).toBe(false);
    }
  });
});

describe('estimateCapacityFromParams', () => {
  it('is the concurrent sequences times the mean tokens each holds, truncated', () => {
    // n = min(8192*200/1200, 256) = 256; 256 * (1000 + 100).
    expect(estimateCapacityFromParams(DEFAULTS, 1000, 200)).toBe(281_600);
    // n = 2048*100/3100 = 66.06 (under 1024 seqs); trunc(66.06 * 3050).
    const small = { ...DEFAULTS, effectiveMaxBatchedTokens: 2048, maxNumSeqs: 1024 };
    expect(estimateCapacityFromParams(small, 3000, 100)).toBe(201_496);
  });

  it('is 0 without params, budget or output tokens', () => {
    expect(estimateCapacityFromParams(null, 100, 100)).toBe(0);
    expect(estimateCapacityFromParams({ ...DEFAULTS, effectiveMaxBatchedTokens: 0 }, 100, 100)).toBe(0);
    expect(estimateCapacityFromParams(DEFAULTS, 100, 0)).toBe(0);
    expect(estimateCapacityFromParams(DEFAULTS, 100, -5)).toBe(0);
    expect(estimateCapacityFromParams({ ...DEFAULTS, maxNumSeqs: 0 }, 100, 100)).toBe(0);
  });

  it('is never negative and never above budget-limited sequences times their tokens', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 }), (i, o) => {
        const k = estimateCapacityFromParams(DEFAULTS, i, o);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(k)).toBe(true);
        expect(k).toBeLessThanOrEqual(256 * (i + o / 2));
      }),
    );
  });
});
