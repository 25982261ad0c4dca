import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('wva-metrics CLI', () => {
  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('prints help that names the command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: wva-metrics');
  });

  it('demo --help shows duration defaults as durations', async () => {
    const r = await runCli(['demo', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--interval <duration>\s+reconcile interval \(default: 5s\)/);
    expect(r.stdout).toMatch(/--window <duration>\s+PromQL rate\(\) window \(default: 30s\)/);
    expect(r.stdout).not.toContain('5000');
  });

  it('rejects an unknown option with one line on stderr and exit code 2', async () => {
    const r = await runCli(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("wva-metrics: unknown option '--no-such-flag' (run with --help for usage)\n");
    const sub = await runCli(['collect', '--bogus']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe("wva-metrics: unknown option '--bogus' (run with --help for usage)\n");
  });
});
