import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { emulatorConfigFromOptions } from '../../src/cli/emulate.js';
import { UsageError } from '../../src/cli/errors.js';
import { runCli } from '../support/cli.js';

const example = fileURLToPath(new URL('../../examples/emulator.yaml', import.meta.url));

describe('wva-metrics emulate', () => {
  it('prints a Prometheus config with one target per pod of the example', async () => {
    const r = await runCli(['emulate', '-c', example, '--port', '9100', '--print-scrape-config']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cfg = parseYaml(r.stdout);
    const groups = cfg.scrape_configs[0].static_configs as Array<{
      targets: string[];
      labels: Record<string, string>;
    }>;
    expect(groups).toHaveLength(12);
    expect(new Set(groups.map((g) => g.labels.__meta_kubernetes_namespace))).toEqual(
      new Set(['llm-prod', 'llm-staging']),
    );
    expect(groups.every((g) => g.targets[0] === '127.0.0.1:9100')).toBe(true);
    // And the gateway's own /metrics, where its flow-control queue is.
    expect(cfg.scrape_configs[1]).toMatchObject({
      job_name: 'inference-gateway',
      metrics_path: '/gateway/metrics',
      static_configs: [{ targets: ['127.0.0.1:9100'] }],
    });
  });

  it('refuses a bad config file with one line naming the problem, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-emu-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'models:\n  - model: m\n    namespace: ns\n    load: { pattern: sine, rate: 1 }\n    variants: [{name: v}]\n',
    );
    const r = await runCli(['emulate', '-c', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.yaml: models\[0\]\.load\.pattern/);
  });

  it('refuses bad flags', async () => {
    const r = await runCli(['emulate', '--model', 'm', '--pattern', 'sine']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pattern must be steady, diurnal or spikes/);
    const both = await runCli(['emulate', '-c', example, '--model', 'm']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --config or --model/);
  });

  it('--vllm-metrics chooses the names (current by default); a bad value is a usage error', () => {
    const base = {
      namespace: 'default',
      variants: 1,
      replicas: 1,
      rate: 60,
      pattern: 'steady',
      inputTokens: 10,
      outputTokens: 10,
      host: '127.0.0.1',
      port: 0,
      scrapeInterval: 1,
    };
    expect(emulatorConfigFromOptions(base).vllmMetrics).toBe('current');
    expect(emulatorConfigFromOptions({ ...base, vllmMetrics: 'legacy' }).vllmMetrics).toBe('legacy');
    expect(
      emulatorConfigFromOptions({ ...base, config: example, vllmMetrics: 'transitional' }).vllmMetrics,
    ).toBe('transitional');
    expect(() => emulatorConfigFromOptions({ ...base, vllmMetrics: 'v0' })).toThrow(UsageError);
    expect(() => emulatorConfigFromOptions({ ...base, vllmMetrics: 'v0' })).toThrow(
      /--vllm-metrics must be current, transitional or legacy, got "v0"/,
    );
  });

  it('serves pods until SIGTERM, then stops cleanly', async () => {
    const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        entry,
        'emulate',
        '--model',
        'mistralai/Mistral-7B-Instruct-v0.3',
        '--replicas',
        '1',
        '--port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    // Awaited on the process's own output: the URL line, or its exit without one.
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited (${code}) with no URL in: ${out}`)));
    });
    try {
      const list = await (await fetch(`${url}/`)).text();
      const path = list.split('\t')[0]!;
      expect(path).toMatch(/^\/pods\/default\/mistralai-mistral-7b-instruct-v0-3-v1-/);
      const body = await (await fetch(`${url}${path}`)).text();
      expect(body).toContain(
        'vllm:request_success_total{model_name="mistralai/Mistral-7B-Instruct-v0.3",engine="0",finished_reason="stop"}',
      );
      // Today's vLLM names by default, not the pre-0.11 ones.
      expect(body).toContain('# TYPE vllm:inter_token_latency_seconds histogram');
      expect(body).toContain(
        'vllm:kv_cache_usage_perc{model_name="mistralai/Mistral-7B-Instruct-v0.3",engine="0"}',
      );
      expect(body).not.toContain('vllm:time_per_output_token_seconds');
    } finally {
      const code = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
      expect(out).toContain('emulator stopped');
    }
  });
});
