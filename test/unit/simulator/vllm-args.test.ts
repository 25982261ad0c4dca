import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVllmArgs } from '../../../src/simulator/vllm-args.js';

describe('simulator: vLLM command line', () => {
  it('reads the model and engine flags of every launch form and spelling', () => {
    const flags = ['--max-num-seqs', '64', '--max_num_batched_tokens=4096', '-tp', '2', '--enforce-eager'];
    const want = { model: 'm', args: { maxNumSeqs: 64, maxNumBatchedTokens: 4096, tensorParallelSize: 2 } };
    expect(parseVllmArgs(['vllm', 'serve', 'm', ...flags])).toEqual(want);
    expect(parseVllmArgs(['serve', 'm', ...flags])).toEqual(want);
    expect(parseVllmArgs(['m', ...flags])).toEqual(want);
    expect(parseVllmArgs(['--model=m', ...flags])).toEqual(want);
    expect(
      parseVllmArgs(['python', '-m', 'vllm.entrypoints.openai.api_server', '--model', 'm', ...flags]),
    ).toEqual(want);
    expect(parseVllmArgs(['-tp=4', '--gpu-memory-utilization', '0.8', '--block-size=32'])).toEqual({
      args: { tensorParallelSize: 4, gpuMemoryUtilization: 0.8, blockSize: 32 },
    });
  });

  it('skips flags it does not model with their values', () => {
    expect(parseVllmArgs(['--port', '8000', '--served-model-name', 'x', '--max-model-len', '2048'])).toEqual({
      args: { maxModelLen: 2048 },
    });
  });

  it('names the flag and the value when a number is missing or not positive', () => {
    expect(() => parseVllmArgs(['--max-num-seqs', 'lots'])).toThrow(
      '--max-num-seqs needs a positive number, got "lots"',
    );
    expect(() => parseVllmArgs(['--block-size=0'])).toThrow('--block-size needs a positive number, got "0"');
    expect(() => parseVllmArgs(['--max-num-seqs', '--block-size', '16'])).toThrow(
      '--max-num-seqs needs a positive number, got none',
    );
    expect(() => parseVllmArgs(['--max-model-len'])).toThrow(
      '--max-model-len needs a positive number, got none',
    );
  });
});

describe('simulator: dependencies', () => {
  it('imports nothing from the engines or the optimizer, also through the shared tokeniser', () => {
    const src = join(import.meta.dirname, '../../../src');
    const files = [
      ...readdirSync(join(src, 'simulator')).map((f) => join(src, 'simulator', f)),
      join(src, 'vllm-args.ts'),
    ];
    const imports = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!),
    );
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => /engines|optimizer/.test(i))).toEqual([]);
  });
});
