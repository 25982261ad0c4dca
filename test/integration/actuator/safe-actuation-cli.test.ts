// What `wva-metrics run --actuator=scale` may do to a Deployment, end to end: the real CLI against
// the fake API server and a Prometheus whose answer each test sets. Each test puts the fleet in a
// state where a careless controller patches a count nobody should act on, lets the controller run
// cycles, and checks every scale patch it sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/demo/prometheus.js';
import { type RunningCli, startCli } from '../../support/cli.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { FakePrometheus } from '../../support/fake-prometheus.js';
import { trafficStats } from '../../support/fleet-reply.js';
import { deployment, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const NS = 'wva-system';
const MODEL = 'org/model';
const A100 = { alpha: '20.58', beta: '0.41', gamma: '5.2', delta: '0.1' };
const H100 = { alpha: '8', beta: '0.2', gamma: '3', delta: '0.05' };

let api: FakeApiServer;
let prom: FakePrometheus;
let dir: string;
let cli: RunningCli | undefined;

beforeEach(async () => {
  api = await FakeApiServer.start();
  prom = await FakePrometheus.start();
  dir = mkdtempSync(join(tmpdir(), 'wva-safe-actuation-'));
  api.put('configmaps', {
    metadata: { name: 'service-classes-config', namespace: NS },
    data: {
      'premium.yaml': `name: Premium\npriority: 1\ndata:\n  - model: ${MODEL}\n    slo-tpot: 40\n    slo-ttft: 1000\n`,
    },
  });
});

afterEach(async () => {
  if (cli) {
    cli.child.kill('SIGTERM');
    await cli.exited;
    cli = undefined;
  }
  await prom.close();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Unit costs per accelerator, and the controller's own settings. */
async function start(costs: Record<string, number>, settings: Record<string, string> = {}) {
  api.put('configmaps', {
    metadata: { name: 'accelerator-unit-costs', namespace: NS },
    data: Object.fromEntries(
      Object.entries(costs).map(([acc, cost]) => [
        acc,
        JSON.stringify({ device: acc, cost: cost.toFixed(2) }),
      ]),
    ),
  });
  api.put('configmaps', {
    metadata: { name: 'variantautoscaling-config', namespace: NS },
    data: {
      PROMETHEUS_BASE_URL: prom.url,
      GLOBAL_OPT_INTERVAL: '1s',
      WVA_CACHE_TTL: '100ms',
      WVA_CACHE_FAILURE_TTL: '100ms',
      WVA_ACTUATOR: 'scale',
      ...settings,
    },
  });
  const kc = join(dir, 'kubeconfig.yaml');
  writeFileSync(kc, api.kubeConfigYaml());
  const port = await freePort();
  cli = startCli(['run', '--kubeconfig', kc, '--no-leader-elect', '--metrics-addr', `127.0.0.1:${port}`], {
    env: { POD_NAME: 'wva-0', POD_NAMESPACE: NS, LOG_LEVEL: 'warn' },
  });
}

/** A variant of MODEL on these accelerators (label: the first, what its Deployment runs). */
function va(
  name: string,
  accs: Array<[string, typeof A100, number]>,
  extra: Partial<Obj['metadata']> = {},
): Obj {
  const v = variant('prod', name, MODEL, { accelerator: accs[0]?.[0] as string });
  return {
    ...v,
    metadata: { ...v.metadata, ...extra },
    spec: {
      modelID: MODEL,
      sloClassRef: { name: 'premium', key: MODEL },
      modelProfile: {
        accelerators: accs.map(([acc, p, maxBatchSize]) => ({
          acc,
          accCount: 1,
          maxBatchSize,
          perfParms: {
            decodeParms: { alpha: p.alpha, beta: p.beta },
            prefillParms: { gamma: p.gamma, delta: p.delta },
          },
        })),
      },
    },
  };
}

const withStatus = (v: Obj, accelerator: string, numReplicas: number): Obj => ({
  ...v,
  status: { desiredOptimizedAlloc: { accelerator, numReplicas, lastRunTime: '2026-01-01T00:00:00Z' } },
});

/** Every scale patch sent, as [Deployment, replicas]. */
const patches = () =>
  api.requests
    .filter((r) => r.subresource === 'scale' && r.method === 'PATCH')
    .map((r) => [r.name, (r.body as { spec: { replicas: number } }).spec.replicas]);
const replicasOf = (name: string) =>
  (api.get('deployments', 'prod', name)?.spec as { replicas?: number } | undefined)?.replicas;
// biome-ignore lint/suspicious/noExplicitAny: status read loosely
const statusOf = (name: string) => api.get('variantautoscalings', 'prod', name)?.status as any;
const actuatedOf = (name: string) =>
  statusOf(name)?.conditions?.find((c: { type: string }) => c.type === 'Actuated') as
    | { status: string; reason: string; message: string }
    | undefined;

describe('run --actuator=scale acts only on counts it can stand behind', () => {
  it('a cheaper variant without a Deployment, or with one being deleted, does not take the load: the working Deployment is never scaled to 0', async () => {
    api.put('variantautoscalings', va('cheap', [['A100', A100, 4]]));
    api.put('variantautoscalings', va('doomed', [['A100', A100, 4]]));
    api.put('deployments', {
      ...deployment('prod', 'doomed', 1),
      metadata: {
        name: 'doomed',
        namespace: 'prod',
        deletionTimestamp: '2026-01-01T00:00:00Z',
        finalizers: ['x'],
      },
    });
    api.put('variantautoscalings', va('real', [['H100', H100, 8]]));
    api.put('deployments', deployment('prod', 'real', 3));
    prom.set(MODEL, 'prod', trafficStats(60));
    // No window: a decision is patched as soon as it is made.
    await start({ A100: 40, H100: 80 }, { WVA_STABILIZATION_WINDOW: '0s' });
    await until(() => actuatedOf('real')?.reason === 'Scaled', 'the real variant to be actuated', 60_000);
    await prom.moreCalls(3);
    expect(patches().filter(([name]) => name === 'real')).toEqual([['real', 1]]);
    expect(replicasOf('real')).toBe(1);
    expect(patches().filter(([name]) => name === 'doomed')).toEqual([]);
  }, 120_000);

  it('Prometheus failing while status writes fail: the Deployment keeps what the controller scaled it to, no older status value is applied', async () => {
    api.put('variantautoscalings', withStatus(va('a', [['A100', A100, 4]]), 'A100', 1));
    api.put('deployments', deployment('prod', 'a', 1));
    api.inject({
      method: 'PATCH',
      plural: 'variantautoscalings',
      subresource: 'status',
      status: 409,
      times: Infinity,
    });
    // 9000 requests/min need 10 replicas of this profile.
    prom.set(MODEL, 'prod', trafficStats(9000));
    await start({ A100: 40 });
    await until(() => replicasOf('a') === 10, 'the Deployment to be scaled up to 10', 60_000);
    prom.failing = true;
    await prom.moreCalls(4);
    expect(replicasOf('a')).toBe(10);
    expect(patches()).toEqual([['a', 10]]);
  }, 120_000);

  it('a desiredOptimizedAlloc of 100 000 in status is not a command: the Deployment stays at what runs', async () => {
    api.put('variantautoscalings', withStatus(va('a', [['A100', A100, 4]]), 'A100', 100_000));
    api.put('deployments', deployment('prod', 'a', 2));
    prom.set(MODEL, 'prod', trafficStats(60));
    await start({ A100: 40 });
    await until(
      () => statusOf('a')?.desiredOptimizedAlloc?.numReplicas === 2,
      'the decision: what runs',
      30_000,
    );
    await prom.moreCalls(3);
    expect(patches()).toEqual([]);
    expect(replicasOf('a')).toBe(2);
  }, 120_000);

  it('currentAlloc.variantCost is the unit cost x accCount x the replicas that run', async () => {
    api.put('variantautoscalings', va('a', [['A100', A100, 4]]));
    api.put('deployments', deployment('prod', 'a', 3));
    prom.set(MODEL, 'prod', trafficStats(60));
    await start({ A100: 40 });
    await until(() => statusOf('a')?.currentAlloc !== undefined, 'currentAlloc', 60_000);
    expect(statusOf('a').currentAlloc).toMatchObject({
      accelerator: 'A100',
      numReplicas: 3,
      variantCost: '120.00',
    });
  }, 120_000);

  it('a billion waiting requests in one sample: at most 10x what runs, then the default maximum, never beyond', async () => {
    api.put('variantautoscalings', va('a', [['A100', A100, 4]]));
    api.put('deployments', deployment('prod', 'a', 1));
    prom.set(MODEL, 'prod', { ...trafficStats(60), requests_waiting: 1e9 });
    await start({ A100: 40 });
    await until(() => patches().length >= 2, 'two scale patches', 60_000);
    await prom.moreCalls(3);
    expect(patches()).toEqual([
      ['a', 10],
      ['a', 1000],
    ]);
    expect(
      statusOf('a')?.conditions?.find((c: { type: string }) => c.type === 'OptimizationReady'),
    ).toMatchObject({
      reason: 'MaxReplicasLimited',
      message: expect.stringContaining(
        'the default maximum is 1000 (set wva.llmd.ai/max-replicas to allow more)',
      ),
    });
  }, 120_000);

  it('a switch of accelerator does not cut what runs before the stabilisation window', async () => {
    // 3 replicas run on A100; for 4000 requests/min the decision moves to 2 of the far cheaper H100.
    api.put(
      'variantautoscalings',
      va('a', [
        ['A100', A100, 4],
        ['H100', H100, 8],
      ]),
    );
    api.put('deployments', deployment('prod', 'a', 3));
    prom.set(MODEL, 'prod', trafficStats(4000));
    await start({ A100: 100, H100: 10 });
    await until(
      () => statusOf('a')?.desiredOptimizedAlloc?.accelerator === 'H100',
      'the decision for H100',
      30_000,
    );
    await prom.moreCalls(3);
    expect(statusOf('a').desiredOptimizedAlloc.numReplicas).toBe(3);
    expect(patches()).toEqual([]);
    expect(replicasOf('a')).toBe(3);
  }, 120_000);
});
