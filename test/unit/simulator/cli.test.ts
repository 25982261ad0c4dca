import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../../src/cli/simulate.js';
import { engineSetup, simulate } from '../../../src/simulator/index.js';
import { runCli } from '../../support/cli.js';

const base = {
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  accelerator: 'H100',
  pattern: 'steady',
  duration: '1m',
  replicas: 2,
  rate: 600,
  arrivals: 'poisson',
  arrivalCv: 2,
  inputTokens: 512,
  outputTokens: 128,
  inputCv: 0.5,
  outputCv: 0.5,
  seed: 7,
  output: 'json',
};

describe('wva-metrics simulate', () => {
  it('prints one JSON document of the documented shape', async () => {
    const r = await runCli([
      'simulate',
      '--duration',
      '20s',
      '--rate',
      '300',
      '--output',
      'json',
      '--seed',
      '3',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc).sort()).toEqual(
      [
        'completed',
        'e2eMs',
        'itlMs',
        'kvUsage',
        'outputTokensPerSecond',
        'preemptions',
        'queueMs',
        'requestsPerSecond',
        'ttftMs',
      ].sort(),
    );
    for (const k of ['ttftMs', 'itlMs', 'e2eMs', 'queueMs'])
      expect(Object.keys(doc[k]).sort()).toEqual(['mean', 'p50', 'p90', 'p99']);
    expect(Object.keys(doc.kvUsage).sort()).toEqual(['max', 'mean']);
    expect(doc.completed).toBeGreaterThan(80);
  });

  it('exits 2 with one line listing the known models for an unknown model', async () => {
    const m = await runCli(['simulate', '--model', 'acme/unknown-7b']);
    expect(m.code).toBe(2);
    expect(m.stderr.trim().split('\n')).toHaveLength(1);
    expect(m.stderr).toMatch(/known models are .*Llama-3\.1-8B.*Qwen3-8B/);
  });

  it('exits 2 with one line listing the known accelerators for an unknown one', async () => {
    const g = await runCli(['simulate', '--accelerator', 'TPUv5']);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/known accelerators are H100, A100, .*L40S, L4/);
  });

  it('exits 2 with the numbers when the model does not fit the GPU memory', async () => {
    const r = await runCli([
      'simulate',
      '--model',
      'meta-llama/Llama-3.1-70B-Instruct',
      '--accelerator',
      'A100',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/does not fit 1 x A100: per GPU 131\.\d GiB weights .* > 71\.\d GiB/);
  });

  it('gives the same report for the same seed and a different one for another seed', () => {
    const a = runSimulation(base);
    const b = runSimulation(base);
    const c = runSimulation({ ...base, seed: 8 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('takes a custom model from a HuggingFace config.json and a trace file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-sim-'));
    const config = join(dir, 'config.json');
    // Qwen3-14B's published shape.
    writeFileSync(
      config,
      JSON.stringify({
        hidden_size: 5120,
        num_hidden_layers: 40,
        num_attention_heads: 40,
        num_key_value_heads: 8,
        head_dim: 128,
        intermediate_size: 17408,
        vocab_size: 151936,
        max_position_embeddings: 40960,
        torch_dtype: 'bfloat16',
      }),
    );
    const trace = join(dir, 'trace.csv');
    writeFileSync(trace, 'arrival_s,input_tokens,output_tokens\n0,100,10\n0.5,2000,20\n1.0,50,5\n');
    const r = runSimulation({ ...base, model: 'Qwen/Qwen3-14B', modelConfig: config, trace, replicas: 1 });
    expect(r.completed).toBe(3);
    expect(r.outputTokensPerSecond).toBeGreaterThan(0);
  });

  it('follows a moving rate: arrivals track the rate over time', () => {
    const setup = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'H100');
    // 2 requests/s for the first minute, 8 for the second.
    const r = simulate({
      setup,
      replicas: 4,
      durationMs: 120_000,
      rateAt: (t) => (t < 60_000 ? 2 : 8),
      input: { mean: 256, cv: 0 },
      output: { mean: 32, cv: 0 },
      seed: 5,
    });
    const first = r.requests.filter((x) => x.arrivalMs < 60_000).length;
    const second = r.requests.length - first;
    expect(first).toBeGreaterThan(90);
    expect(first).toBeLessThan(150);
    expect(second).toBeGreaterThan(400);
    expect(second).toBeLessThan(560);
    // And the CLI's diurnal pattern runs (mean rate over a whole period).
    const d = runSimulation({ ...base, pattern: 'diurnal', period: '2m', duration: '2m', replicas: 4 });
    expect(d.completed).toBeGreaterThan(1000);
    expect(d.completed).toBeLessThan(1400);
  });
});
