// The built CLI against a hostile Prometheus and hostile manifests (the real entry point through
// tsx, a local HTTP server playing Prometheus): every failure is one bounded line, bad TLS files are
// refused at start naming the file, and no table lets a name write to the terminal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wva-hostile-cli-'));
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function fakePrometheus(answer: (res: ServerResponse) => void): Promise<string> {
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

describe('CLI failures are one bounded line', () => {
  it('collect --namespace refuses what is not a namespace name, exit 2', async () => {
    const r = await runCli([
      'collect',
      '--model',
      'm',
      '--namespace',
      'prod/x',
      '--prometheus-url',
      'http://127.0.0.1:1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^wva-metrics: --namespace: "prod\/x" is not a DNS-1123 label/);
  });

  it('a 10 MB error string from Prometheus: collect prints one line of at most 1000 characters, exit 1', async () => {
    const url = await fakePrometheus((res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'error', errorType: 'execution', error: 'e'.repeat(10 * 1024 * 1024) }),
      );
    });
    const r = await runCli(['collect', '--prometheus-url', url, '--prometheus-max-reply-bytes', '33554432']);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(1000);
    expect(lines[0]).toMatch(
      /^wva-metrics: collecting fleet metrics failed: Prometheus at .* rejected the query \(execution, HTTP 422\): e+…$/,
    );
  });

  it('a CA file that is not PEM: collect and run refuse it at start, naming the file, exit 2', async () => {
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, 'not a certificate');
    const manifests = join(dir, 'va.yaml');
    writeFileSync(manifests, '');
    const common = ['--prometheus-url', 'https://127.0.0.1:1', '--prometheus-ca-cert', ca];
    for (const args of [
      ['collect', ...common],
      ['run', '--manifests', manifests, '--once', ...common],
    ]) {
      const r = await runCli(args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toBe(
        `wva-metrics: Prometheus CA certificate ${ca} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)\n`,
      );
    }
  });
});
