// An API server that accepts TCP connections and never answers: `wva-metrics run` (the real CLI)
// says what it waits for at once, and gives up on the ConfigMap at its deadline with one line and
// exit code 1 (the pod then restarts with backoff), instead of hanging silently. With
// --no-configmap it serves /healthz, reports /readyz not ready with the reason, and keeps retrying.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli.js';
import { type SilentApiServer, startSilentApiServer } from '../support/silent-apiserver.js';
import { until } from '../support/wait.js';

let api: SilentApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  api = await startSilentApiServer();
  dir = mkdtempSync(join(tmpdir(), 'wva-apiserver-hang-'));
  kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, api.kubeConfigYaml());
});

afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an API server that never answers', () => {
  it('run gives up on the ConfigMap at its 10 s deadline: one line, exit 1', async () => {
    const t0 = Date.now();
    const r = await runCli(['run', '--kubeconfig', kubeconfig, '--metrics-addr', '127.0.0.1:0'], {
      timeoutMs: 60_000,
    });
    const seconds = (Date.now() - t0) / 1000;
    console.log(`hung API server: run exited ${r.code} after ${seconds.toFixed(1)} s`);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(JSON.parse(lines[0] ?? '{}').msg).toMatch(/^reading ConfigMap .* from the API server$/);
    expect(lines.slice(1)).toEqual([
      'wva-metrics: cannot read ConfigMap workload-variant-autoscaler-system/wva-variantautoscaling-config: GET /api/v1/namespaces/workload-variant-autoscaler-system/configmaps/wva-variantautoscaling-config: no answer from the API server within 10000 ms (check that the API server is reachable and the service account may get it, or pass --no-configmap)',
    ]);
  }, 90_000);

  it('with --no-configmap: /healthz answers, /readyz says why not ready, the informers keep retrying', async () => {
    const run = startCli(
      [
        'run',
        '--kubeconfig',
        kubeconfig,
        '--no-configmap',
        '--no-leader-elect',
        '--metrics-addr',
        '127.0.0.1:0',
      ],
      {
        env: { LOG_LEVEL: 'info' },
      },
    );
    try {
      await until(() => /"telemetryPort":\d+/.test(run.stderr()), 'controller started', 20_000);
      expect(run.stderr()).toMatch(/"waitingFor":"the informers to list VariantAutoscalings and Deployments/);
      const port = /"telemetryPort":(\d+)/.exec(run.stderr())?.[1];
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toContain('informers not synced yet');
      // A list that gets no answer ends at the 30 s deadline and the informer restarts.
      await until(
        () => /no answer from the API server within 30000 ms/.test(run.stderr()),
        'list deadline',
        60_000,
      );
      expect(run.stderr()).toMatch(/"msg":"watch stopped; restarting"/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 120_000);
});
