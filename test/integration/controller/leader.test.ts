// Lease election and hand-over between two controller instances, against the fake API server
// through the real @kubernetes/client-node. Short lease timings keep this under a few seconds.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { LeaderElector } from '../../../src/controller/leader.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { useFakeApiServer } from '../../support/api-harness.js';
import type { Obj } from '../../support/fake-apiserver.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { deployment, foundReading, variant } from '../../support/variants.js';
import { until, untilIo } from '../../support/wait.js';

const timings = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

let arrival = 60;
const reader = {
  async read(model: string, ns: string): Promise<MetricsRead> {
    return foundReading(model, ns, arrival);
  },
};

const fake = useFakeApiServer();

beforeEach(() => {
  arrival = 60;
});

describe('LeaderElector', () => {
  it('one of two candidates leads; the other takes over after release, with MicroTime timestamps', async () => {
    // b's clock never moves, so for b a lease held by a never runs out: b leading proves the
    // release.
    const long = { ...timings, leaseDurationMs: 20_000 };
    const a = new LeaderElector({
      kubeConfig: fake.api.kubeConfig(),
      namespace: 'wva',
      identity: 'a',
      ...long,
    });
    const b = new LeaderElector({
      kubeConfig: fake.api.kubeConfig(),
      namespace: 'wva',
      identity: 'b',
      ...long,
      now: () => 0,
    });
    fake.stopAfter(a);
    fake.stopAfter(b);
    a.start();
    await until(() => a.isLeader, 'a leads');
    b.start();
    await until(() => b.attempts >= 3, 'b tried three times');
    expect(b.isLeader).toBe(false);
    const lease = fake.api.get('leases', 'wva', 'wva-metrics-controller') as Obj & {
      spec: Record<string, unknown>;
    };
    expect(lease.spec.holderIdentity).toBe('a');
    expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/);
    await a.stop();
    expect(a.isLeader).toBe(false);
    await until(() => b.isLeader, 'b takes over');
    const after = fake.api.get('leases', 'wva', 'wva-metrics-controller') as Obj & {
      spec: Record<string, unknown>;
    };
    expect(after.spec.holderIdentity).toBe('b');
    expect(after.spec.leaseTransitions).toBe(1);
  });

  it('a leader that cannot renew steps down at its renew deadline', async () => {
    let lost = 0;
    // a's own clock: it moves only when the test moves it.
    let clock = 0;
    const a = new LeaderElector({
      kubeConfig: fake.api.kubeConfig(),
      namespace: 'wva',
      identity: 'a',
      ...timings,
      now: () => clock,
      onStoppedLeading: () => lost++,
    });
    fake.stopAfter(a);
    a.start();
    await until(() => a.isLeader, 'a leads');
    // a's renewals now fail (the API server is unreachable for a).
    fake.api.inject({ method: 'GET', plural: 'leases', status: 503, times: Number.POSITIVE_INFINITY });
    const failing = a.attempts;
    await until(() => a.attempts >= failing + 3, 'three failed renewals');
    // Within the deadline (no time has passed for a), failed renewals alone keep it leading.
    expect(a.isLeader).toBe(true);
    expect(lost).toBe(0);
    clock = timings.renewDeadlineMs + 1;
    const late = a.attempts;
    await until(() => !a.isLeader, 'a steps down');
    expect(lost).toBe(1);
    // The first attempt to end past the deadline gave leadership up.
    expect(a.attempts).toBe(late + 1);
    fake.api.clearFaults();
    await a.stop();
  });

  it('a leader whose renewal gets no answer at all steps down at its renew deadline', async () => {
    // An API server (or network path) that accepts the request and never replies: the HTTP
    // client's own timeouts are minutes, far past the lease duration, after which another
    // replica may take the Lease. The leader must give up by its renew deadline regardless.
    const proxy = await startFaultProxy({ upstream: fake.api.url });
    const kc = fake.api.kubeConfig();
    kc.clusters = kc.clusters.map((c) => ({ ...c, server: proxy.url }));
    let lost = 0;
    // Fake time drives a's retries, its attempt deadline and its clock; the requests are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const a = new LeaderElector({
      kubeConfig: kc,
      namespace: 'wva',
      identity: 'a',
      ...timings,
      onStoppedLeading: () => lost++,
    });
    try {
      const renewedAt = performance.now();
      a.start();
      await untilIo(() => a.isLeader && a.attempts === 1, 'a leads');
      proxy.mode = { kind: 'silent' };
      const asked = proxy.nextRequest();
      await vi.advanceTimersByTimeAsync(timings.retryPeriodMs); // the next renewal goes out
      await asked;
      // Unanswered up to the last ms of the renew deadline: still leading.
      const left = renewedAt + timings.renewDeadlineMs - performance.now();
      await vi.advanceTimersByTimeAsync(left - 1);
      expect(a.isLeader).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      await untilIo(() => !a.isLeader, 'a steps down');
      expect(lost).toBe(1);
      // That one unanswered attempt, cut at the deadline, ended it.
      expect(a.attempts).toBe(2);
    } finally {
      vi.useRealTimers();
      proxy.mode = { kind: 'pass' };
      await a.stop();
      await proxy.close();
    }
  });

  it('a leader stopped while a renewal hangs still releases the Lease', async () => {
    // The stop aborts the hanging renewal; that abort is not a lost lease, so the release runs.
    const proxy = await startFaultProxy({ upstream: fake.api.url });
    const kc = fake.api.kubeConfig();
    kc.clusters = kc.clusters.map((c) => ({ ...c, server: proxy.url }));
    const a = new LeaderElector({
      kubeConfig: kc,
      namespace: 'wva',
      identity: 'a',
      ...timings,
      leaseDurationMs: 20_000,
      renewDeadlineMs: 10_000,
    });
    try {
      a.start();
      await until(() => a.isLeader, 'a leads');
      proxy.mode = { kind: 'silent' };
      await proxy.nextRequest();
      proxy.mode = { kind: 'pass' };
      expect(a.isLeader).toBe(true);
      await a.stop();
      const lease = fake.api.get('leases', 'wva', 'wva-metrics-controller') as Obj & {
        spec: Record<string, unknown>;
      };
      expect(lease.spec.holderIdentity ?? '').toBe('');
      expect(lease.spec.leaseDurationSeconds).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('Controller hand-over', () => {
  it('only the leader writes; after it stops, the standby writes the next change', async () => {
    fake.api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    fake.api.put('deployments', deployment('ns', 'v1', 1));
    const mk = (identity: string) =>
      new Controller({
        kubeConfig: fake.api.kubeConfig(),
        collector: reader,
        intervalMs: 150,
        debounceMs: 10,
        leaderElection: { namespace: 'wva', identity, ...timings },
        backoff: { baseMs: 20, maxMs: 100 },
      });
    const a = mk('a');
    const b = mk('b');
    fake.stopAfter(a);
    fake.stopAfter(b);
    await a.start();
    await until(() => a.isLeader && a.cycles > 0, 'a leads and cycles');
    await b.start();
    await until(() => b.source.synced, 'b synced');
    expect(fake.api.get('variantautoscalings', 'ns', 'v1')?.status).toBeDefined();
    // Several intervals: a keeps cycling, b never writes (no second writer → no 409s ever).
    const aCycles = a.cycles;
    const bElector = b.elector as LeaderElector;
    const tried = bElector.attempts;
    await until(() => bElector.attempts >= tried + 5 && a.cycles > aCycles, 'b tried five more times');
    expect(a.cycles).toBeGreaterThan(aCycles);
    expect(b.isLeader).toBe(false);
    expect(b.cycles).toBe(0);
    expect(b.writer.patches).toBe(0);
    expect(fake.api.count({ method: 'PATCH', status: 409 })).toBe(0);

    await a.stop();
    await until(() => b.isLeader && b.cycles > 0, 'b leads and cycles');
    const aPatches = a.writer.patches;
    arrival = 90;
    await until(
      () =>
        (
          fake.api.get('variantautoscalings', 'ns', 'v1')?.status as {
            currentAlloc?: { load: { arrivalRate: string } };
          }
        )?.currentAlloc?.load.arrivalRate === '90.00',
      'b writes the new load',
    );
    expect(b.writer.patches).toBeGreaterThan(0);
    expect(a.writer.patches).toBe(aPatches);
    // Every status patch the server saw came from one of the two writers, one at a time.
    expect(fake.api.count({ method: 'PATCH', subresource: 'status' })).toBe(
      a.writer.patches + b.writer.patches,
    );
  });

  it('a replica that loses the lease stops reconciling at once', async () => {
    fake.api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    fake.api.put('deployments', deployment('ns', 'v1', 1));
    const a = new Controller({
      kubeConfig: fake.api.kubeConfig(),
      collector: reader,
      intervalMs: 50,
      leaderElection: { namespace: 'wva', identity: 'a', ...timings },
    });
    fake.stopAfter(a);
    await a.start();
    await until(() => a.cycles > 0, 'a cycles');
    // Another replica grabs the lease (as if a's renewals had been lost): a sees it and stops.
    const lease = fake.api.get('leases', 'wva', 'wva-metrics-controller')!;
    fake.api.put('leases', { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'intruder' } });
    await until(() => !a.isLeader, 'a notices', 2000);
    const cycles = a.cycles;
    const patches = a.writer.patches;
    arrival = 120;
    // Three more lease attempts: with a 50 ms interval, a still reconciling would have cycled by then.
    const elector = a.elector as LeaderElector;
    const tried = elector.attempts;
    await until(() => elector.attempts >= tried + 3, 'a tried the lease three more times');
    expect(a.cycles).toBe(cycles);
    expect(a.writer.patches).toBe(patches);
  });
});
