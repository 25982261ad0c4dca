// The work queue and the Manager around it, on fake timers: dedup, one key at a time, the per-key
// exponential requeue after a failed reconcile, and what leadership does to the workers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Manager } from '../../../src/controller/manager.js';
import { WorkQueue } from '../../../src/controller/queue.js';
import type { ReconcileResult, Reconciler } from '../../../src/controller/reconciler.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { variant } from '../../support/variants.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added, in the order first added', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.length).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a', 'b', 'c']);
  });

  it('hands a key to one worker at a time: added while processed, it comes back after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a'); // an event while a worker holds it
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined(); // not handed to another worker meanwhile
    q.done(key as string);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('requeues a failing key after 100 ms, 200 ms, 400 ms ... up to the cap; forget resets it', async () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 500 });
    const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited('a'));
    expect(delays).toEqual([100, 200, 400, 500, 500]);
    expect(q.failures('a')).toBe(5);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
    expect(q.addRateLimited('b')).toBe(100);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(99);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.length).toBe(2); // a's first (earliest) delay stood; b's ran out too
  });

  it('shutDown drops queued and delayed keys and releases waiting workers', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('a');
    q.addAfter('b', 10);
    vi.advanceTimersByTime(20);
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});

/** A reconciler whose outcome per key the test sets; it records every call. */
function fakeReconciler(keys: string[]) {
  const calls: string[] = [];
  const failing = new Set<string>();
  const r = {
    calls,
    failing,
    beginCycle: () => keys,
    endCycle() {},
    async reconcile(key: string): Promise<ReconcileResult> {
      calls.push(key);
      const [namespace = '', name = ''] = key.split('/');
      return { key, namespace, name, outcome: failing.has(key) ? 'error' : 'written' };
    },
  };
  return r;
}

function manager(
  keys: string[],
  o: { elector?: { isLeader: boolean; start(): void; stop(): Promise<void> } } = {},
) {
  const reconciler = fakeReconciler(keys);
  const vas = keys.map(
    (k) => variant(k.split('/')[0]!, k.split('/')[1]!, 'm') as unknown as VariantAutoscaling,
  );
  const m = new Manager({
    source: {
      listVariants: () => vas,
      getVariant: () => undefined,
      getDeployment: () => undefined,
    },
    reconciler: reconciler as unknown as Reconciler,
    collector: {
      read: async () => ({ availability: { available: false, reason: 'MetricsMissing', message: '' } }),
    },
    intervalMs: 60_000,
    workers: 2,
    queue: { baseDelayMs: 100, maxDelayMs: 1000 },
    ...(o.elector ? { elector: o.elector } : {}),
  });
  return { m, reconciler };
}

describe('Manager', () => {
  it('a cycle reconciles every key once; a failed key is retried after its backoff, not an interval later', async () => {
    const { m, reconciler } = manager(['ns/a', 'ns/b']);
    reconciler.failing.add('ns/b');
    const cycle = await m.runCycle();
    expect(cycle?.results.map((r) => r.outcome)).toEqual(['written', 'error']);
    expect(reconciler.calls.sort()).toEqual(['ns/a', 'ns/b']);
    await vi.advanceTimersByTimeAsync(99);
    expect(reconciler.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // 100 ms: first retry
    expect(reconciler.calls.filter((k) => k === 'ns/b')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200); // 200 ms more: second retry
    expect(reconciler.calls.filter((k) => k === 'ns/b')).toHaveLength(3);
    reconciler.failing.clear();
    await vi.advanceTimersByTimeAsync(400); // third retry succeeds, and then nothing more
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reconciler.calls.filter((k) => k === 'ns/b')).toHaveLength(4);
    expect(reconciler.calls.filter((k) => k === 'ns/a')).toHaveLength(1);
    await m.stop();
  });

  it('resync only enqueues: a cycle now, then one every interval; events between cycles reconcile one key', async () => {
    const { m, reconciler } = manager(['ns/a', 'ns/b']);
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(m.cycles).toBe(1);
    m.enqueue('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(reconciler.calls).toEqual(['ns/a', 'ns/b', 'ns/a']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(m.cycles).toBe(2);
    expect(reconciler.calls).toHaveLength(5);
    await m.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(m.cycles).toBe(2); // stopped: nothing more
  });

  it('leadership starts and stops the workers; events while not leading are dropped', async () => {
    const elector = { isLeader: false, start() {}, stop: async () => {} };
    const { m, reconciler } = manager(['ns/a'], { elector });
    m.start();
    await vi.advanceTimersByTimeAsync(60_000);
    m.enqueue('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(reconciler.calls).toEqual([]); // a standby does nothing
    elector.isLeader = true;
    m.startedLeading();
    await vi.advanceTimersByTimeAsync(0);
    expect(reconciler.calls).toEqual(['ns/a']);
    elector.isLeader = false;
    m.stoppedLeading();
    m.enqueue('ns/a');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reconciler.calls).toEqual(['ns/a']);
    expect(await m.runCycle()).toBeUndefined();
    await m.stop();
  });
});
