// `wva-metrics size` through the real CLI entry point.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sizeReplicas } from '../../src/optimizer/index.js';
import { runCli } from '../support/cli.js';

const profileFlag = 'alpha=20.58,beta=0.41,gamma=5.2,delta=0.1,maxBatchSize=4';
const profile = { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 };

describe('wva-metrics size', () => {
  it('from flags: a table with the replicas and the predicted latencies', async () => {
    const r = await runCli([
      'size',
      '--profile',
      profileFlag,
      '--rate',
      '120',
      '--in',
      '128',
      '--out',
      '256',
      '--slo-ttft',
      '500',
      '--slo-itl',
      '24',
    ]);
    expect(r.code).toBe(0);
    const want = sizeReplicas({
      profile,
      load: { arrivalRate: 120, avgInputTokens: 128, avgOutputTokens: 256 },
      slo: { ttftMs: 500, itlMs: 24 },
    });
    const [header, row] = r.stdout.trim().split('\n');
    expect(header).toMatch(
      /^NAME\s+REPLICAS\s+RATE\/REPLICA \(REQ\/S\)\s+TTFT MS\s+ITL MS\s+UTILIZATION\s+SLO$/,
    );
    const cells = row!.split(/\s{2,}/);
    expect(cells[1]).toBe(String(want.numReplicas));
    expect(cells[3]).toBe(want.predicted.ttftMs.toFixed(2));
    expect(cells[4]).toBe(want.predicted.itlMs.toFixed(2));
    expect(cells[6]).toBe('met');
  });

  it('from the example YAML file, as JSON; the cap that makes the SLO unreachable is said', async () => {
    const r = await runCli(['size', '--file', 'examples/sizing.yaml', '--output', 'json']);
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout) as Array<{
      name: string;
      sizing: { numReplicas: number; sloMet: boolean };
    }>;
    expect(rows.map((x) => x.name)).toEqual(['llama-8b-on-A100', 'llama-8b-on-H100']);
    expect(rows[0]!.sizing.numReplicas).toBe(6);
    expect(rows[0]!.sizing.sloMet).toBe(true);
    expect(r.code).toBe(0);
  });

  it('an unreachable target: the row says why and the exit code is 1', async () => {
    const r = await runCli([
      'size',
      '--profile',
      profileFlag,
      '--rate',
      '60',
      '--in',
      '128',
      '--out',
      '256',
      '--slo-itl',
      '5',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/unreachable: itl target 5 ms cannot be met/);
  });

  it.each([
    [
      ['--profile', 'alpha=x,beta=1,gamma=1,delta=1,maxBatchSize=4', '--rate', '1'],
      /--profile alpha must be a number/,
    ],
    [['--profile', 'alpha=1,beta=1,gamma=1,delta=1', '--rate', '1'], /--profile lacks maxBatchSize/],
    [
      ['--profile', 'alpha=1,beta=1,gamma=1,delta=1,maxBatchSize=4,bogus=1', '--rate', '1'],
      /unknown key "bogus"/,
    ],
    [['--profile', profileFlag], /needs --rate/],
    [['--profile', profileFlag, '--rate', '10', '--out', '0'], /load\.avgOutputTokens must be/],
    [['--profile', profileFlag, '--rate', '10', '--output', 'xml'], /--output must be table or json/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await runCli(['size', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a bad entry in a file is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'size-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `- name: ok\n  profile: { alpha: 1, beta: 0.1, gamma: 1, delta: 0.01, maxBatchSize: 8 }\n  load: { arrivalRate: 60, avgInputTokens: 10, avgOutputTokens: 10 }\n- name: broken\n  profile: { alpha: "fast", beta: 0.1, gamma: 1, delta: 0.01, maxBatchSize: 8 }\n  load: { arrivalRate: 60, avgInputTokens: 10, avgOutputTokens: 10 }\n`,
    );
    const r = await runCli(['size', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken: profile\.alpha must be a finite number >= 0, got the string "fast"/);
  });
});
