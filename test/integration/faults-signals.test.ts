// Signals at every moment of `run` (the real CLI through tsx): during the warm-up query, during a
// --once cycle, and while cluster mode waits for an API server that never answers. Each time there
// is a shutdown line and a prompt, graceful exit; startup says what it is waiting for.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startSilentApiServer } from '../support/silent-apiserver.js';
import { variant } from '../support/variants.js';
import { until } from '../support/wait.js';

const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let dir: string;
const closers: Array<() => void> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wva-signals-'));
  writeFileSync(join(dir, 'va.yaml'), stringify(variant('prod', 'va', 'm')));
});

afterAll(() => {
  for (const c of closers) c();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An HTTP server that takes requests and never answers them; counts them. */
async function silentPrometheus(): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const held: IncomingMessage[] = [];
  const srv = createHttpServer((req) => {
    n++;
    held.push(req);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, requests: () => n };
}

/** A hung API server (accepts, never answers) and a kubeconfig file for it. */
async function silentApiServer(): Promise<string> {
  const api = await startSilentApiServer();
  closers.push(() => void api.close());
  const kc = join(dir, `kubeconfig-${closers.length}.yaml`);
  writeFileSync(kc, api.kubeConfigYaml());
  return kc;
}

function start(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  closers.push(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const localArgs = (url: string) => [
  'run',
  '--manifests',
  join(dir, 'va.yaml'),
  '--prometheus-url',
  url,
  '--prometheus-timeout',
  '60s',
  '--metrics-addr',
  '127.0.0.1:0',
];

describe('signals before the first cycle', () => {
  it('SIGTERM during a --once cycle: a shutdown line, no table, exit 143', async () => {
    const prom = await silentPrometheus();
    const run = start([...localArgs(prom.url), '--once']);
    await until(() => prom.requests() > 0, 'the cycle query', 40_000);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(run.stderr()).toMatch(/"msg":"shutting down"/);
    expect(run.stdout()).toBe('');
  }, 90_000);

  it('SIGINT during the warm-up query: a shutdown line, exit 0', async () => {
    const prom = await silentPrometheus();
    const run = start(localArgs(prom.url));
    await until(() => prom.requests() > 0, 'the warm-up query', 40_000);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toMatch(/"msg":"warming the cache: one fleet query to Prometheus"/);
    expect(run.stderr()).toMatch(/"signal":"SIGINT".*"msg":"shutting down"/);
  }, 90_000);

  it('cluster mode says what it waits for, and a SIGTERM while it waits exits 0 at once', async () => {
    const kc = await silentApiServer();
    const run = start(['run', '--kubeconfig', kc, '--metrics-addr', '127.0.0.1:0']);
    await until(() => /reading ConfigMap/.test(run.stderr()), 'the startup line', 40_000);
    expect(run.stderr()).toMatch(
      /"timeoutMs":10000.*"msg":"reading ConfigMap workload-variant-autoscaler-system\/wva-variantautoscaling-config from the API server"/,
    );
    run.child.kill('SIGTERM');
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/"msg":"shutting down"/);
  }, 90_000);
});
