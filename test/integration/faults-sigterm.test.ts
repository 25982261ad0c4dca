// SIGTERM in the middle of a reconcile cycle (issue 7): `wva-metrics run` in cluster mode against
// the fake API server, reading a real Prometheus through a proxy that goes silent, so a fleet query
// is hanging when the signal arrives. The process must exit 0 within a few seconds, close the
// hanging request, stop its watches and release the Lease.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { type PinnedPrometheus, startPinnedPrometheus } from '../support/pinned-prometheus.js';
import { BACKFILL_TIME_S, type PrometheusServer, startPrometheus } from '../support/prometheus.js';
import { deployment, variant } from '../support/variants.js';
import { vllmOpenMetrics } from '../support/vllm-openmetrics.js';

let prom: PrometheusServer;
let pinned: PinnedPrometheus;
let dir: string;

beforeAll(async () => {
  prom = await startPrometheus({
    openmetrics: vllmOpenMetrics([
      { labels: { model_name: 'meta/llama-8b', namespace: 'prod', pod: 'p1' }, requestsPerSecond: 3 },
    ]),
  });
  // The backfilled instant for `run` in cluster mode (which refuses --time).
  pinned = await startPinnedPrometheus(prom.url, BACKFILL_TIME_S);
  dir = mkdtempSync(join(tmpdir(), 'wva-sigterm-'));
}, 120_000);

afterAll(async () => {
  await pinned?.close();
  await prom?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function holder(api: FakeApiServer): string | undefined {
  const spec = api.get('leases', 'wva-system', 'wva-metrics-controller')?.spec as
    | { holderIdentity?: string }
    | undefined;
  return spec?.holderIdentity;
}

describe('SIGTERM during a cycle', () => {
  it('wva-metrics run exits 0 within seconds while a query hangs, and releases the Lease', async () => {
    const api = await FakeApiServer.start();
    const proxy = await startFaultProxy({ upstream: pinned.url });
    const kcFile = join(dir, 'kubeconfig.yaml');
    writeFileSync(kcFile, api.kubeConfigYaml());
    for (let i = 0; i < 20; i++) {
      api.put('variantautoscalings', variant('prod', `va-${i}`, 'meta/llama-8b'));
      api.put('deployments', deployment('prod', `va-${i}`, 1));
    }
    const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        entry,
        'run',
        '--kubeconfig',
        kcFile,
        '--lease-namespace',
        'wva-system',
        '--no-configmap',
        '--metrics-addr',
        '127.0.0.1:0',
        '--prometheus-url',
        proxy.url,
        '--prometheus-timeout',
        '60s',
        '--interval',
        '1s',
        '--cache-ttl',
        '500ms',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, POD_NAME: 'wva-0', LOG_LEVEL: 'info' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const end = Date.now() + 30_000;
      const written = () =>
        (api.get('variantautoscalings', 'prod', 'va-19')?.status as { currentAlloc?: unknown } | undefined)
          ?.currentAlloc !== undefined;
      while (!written()) {
        if (Date.now() > end) throw new Error(`no status written; stderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // From now on Prometheus hangs: the next cycle's fleet refresh never gets an answer.
      proxy.mode = { kind: 'silent' };
      const hung = proxy.nextRequest();
      await Promise.race([
        hung,
        new Promise((_, rej) => setTimeout(() => rej(new Error(`no query after 10 s:\n${stderr}`)), 10_000)),
      ]);
      await new Promise((r) => setTimeout(r, 100));
      expect(proxy.inFlight).toBe(1);
      expect(holder(api)).toBe('wva-0');

      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      const ms = Date.now() - t0;
      console.log(`SIGTERM during a hanging query: exited ${code} after ${ms} ms`);
      expect(ms).toBeLessThan(5000);
      expect(code).toBe(0);
      expect(proxy.inFlight).toBe(0);
      expect(api.openWatches).toBe(0);
      expect(holder(api)).toBeUndefined();
      expect(stderr).toContain('shutting down');
      expect(stderr).not.toMatch(/unhandled|Unhandled|TypeError/);
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
      await api.close();
    }
  }, 60_000);
});
