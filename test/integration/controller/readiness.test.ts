// /readyz and the informers: the Controller through the real @kubernetes/client-node against the
// fake API server, with an injected clock deciding how long the informers have been down.
import { beforeEach, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { useFakeApiServer } from '../../support/api-harness.js';
import { deployment, foundReading, variant } from '../../support/variants.js';
import { until as waitUntil } from '../../support/wait.js';

const until = (cond: () => boolean, what: string, ms = 5000) => waitUntil(cond, what, ms);

const fake = useFakeApiServer();
beforeEach(() => {
  fake.api.put('variantautoscalings', variant('ns', 'v1', 'm'));
  fake.api.put('deployments', deployment('ns', 'v1', 1));
});

it('/readyz goes false when the informers are down longer than the bound, and back once they resync', async () => {
  let nowMs = Date.parse('2025-01-01T00:00:00Z');
  const c = fake.stopAfter(
    new Controller({
      kubeConfig: fake.api.kubeConfig(),
      collector: { read: async (m, ns) => foundReading(m, ns) },
      intervalMs: 3_600_000,
      leaderElection: false,
      backoff: { baseMs: 20, maxMs: 50 },
      now: () => new Date(nowMs),
      informerOutageLimitMs: 60_000,
    }),
  );
  await c.start();
  await until(() => c.source.synced && fake.api.openWatches === 2, 'synced and watching');
  expect(c.ready()).toEqual({ ready: true });

  // The API server refuses every list and watch, and the open watches break.
  fake.api.inject({ status: 503, times: Number.POSITIVE_INFINITY });
  fake.api.dropWatches('abrupt');
  await until(() => c.source.outage() !== undefined, 'the informers notice');
  const since = c.source.outage()!.sinceMs;
  expect(since).toBe(nowMs);
  // Down, but not yet for longer than the bound: still ready (a blip must not flap readiness).
  nowMs += 60_000;
  expect(c.ready()).toEqual({ ready: true });
  nowMs += 1_000;
  const down = c.ready();
  expect(down.ready).toBe(false);
  expect(down.reason).toMatch(
    /^cannot list or watch \/apis\/\S+ on the API server for 1m1s \(limit 1m\); check the API server/,
  );

  // The API server answers again: the informers list or watch again, and readiness returns.
  fake.api.clearFaults();
  await until(() => c.source.outage() === undefined, 'the informers resync');
  expect(c.ready()).toEqual({ ready: true });
  await until(() => fake.api.openWatches === 2, 'watching again');
});
