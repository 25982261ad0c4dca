// Change events against a running cycle: the Controller through the real @kubernetes/client-node
// against the fake API server, with a stub metrics reader the test can hold mid-cycle.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { deployment, foundReading, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

// The next periodic cycle is further away than any test run (the longest timer Node takes): a
// status that arrives at all came from the event, with no wall-clock bound to prove it.
const NEVER_MS = 2 ** 31 - 1;

let api: FakeApiServer;
let controller: Controller | undefined;

beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  await api.close();
});

/** Stub reader whose read number `hold` waits until release() is called. */
function heldReader(hold: number) {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  const r = {
    reads: 0,
    release: () => release(),
    async read(model: string, ns: string): Promise<MetricsRead> {
      r.reads++;
      if (r.reads === hold) await held;
      return foundReading(model, ns);
    },
  };
  return r;
}

function start(reader: ReturnType<typeof heldReader>): Controller {
  controller = new Controller({
    kubeConfig: api.kubeConfig(),
    collector: reader,
    intervalMs: NEVER_MS,
    debounceMs: 10,
    leaderElection: false,
    backoff: { baseMs: 20, maxMs: 100 },
  });
  return controller;
}

/** Creates v2 while the cycle is held, lets the cycle end; v2 must get a status from its event. */
async function createDuringCycle(c: Controller, reader: ReturnType<typeof heldReader>, cyclesBefore: number) {
  api.put('variantautoscalings', variant('ns', 'v2', 'm'));
  await until(() => c.source.getVariant('ns', 'v2') !== undefined, 'the informer sees v2');
  // The event reaches a free worker (4 by default) while v1's read is still held: the event is
  // taken during the cycle, not after it.
  const readsHeld = reader.reads;
  await until(() => reader.reads > readsHeld, "v2's event is read while the cycle is held");
  expect(c.cycles).toBe(cyclesBefore);
  reader.release();
  await until(() => c.cycles > cyclesBefore, 'the cycle ends');
  expect(api.get('variantautoscalings', 'ns', 'v1')?.status).toBeDefined();
  await until(() => api.get('variantautoscalings', 'ns', 'v2')?.status !== undefined, 'v2 gets a status');
  // No cycle after the held one: the status came from v2's own event.
  expect(c.cycles).toBe(cyclesBefore + 1);
}

beforeEach(() => {
  api.put('variantautoscalings', variant('ns', 'v1', 'm'));
  api.put('deployments', deployment('ns', 'v1', 1));
  api.put('deployments', deployment('ns', 'v2', 1));
});

it('a VariantAutoscaling created during the first cycle is reconciled soon, not an interval later', async () => {
  const reader = heldReader(1);
  const c = start(reader);
  await c.start();
  await until(() => reader.reads === 1, 'the first cycle reads');
  await createDuringCycle(c, reader, 0);
});

it('a VariantAutoscaling created during a later cycle is reconciled soon, not an interval later', async () => {
  const reader = heldReader(2);
  const c = start(reader);
  await c.start();
  await until(() => c.cycles === 1, 'the first cycle');
  void c.runCycle();
  await until(() => reader.reads === 2, 'the second cycle reads');
  await createDuringCycle(c, reader, 1);
});
