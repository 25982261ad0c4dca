// The one cycle driver in tests, as in the product: the Manager over a Reconciler, with no elector
// (this process leads) and no resync timer (a cycle runs when the test asks). And the parts the
// controller tests build again and again: the fake API server, a KubeSource synced against it, and a
// FleetCollector on the real Prometheus at the backfilled instant. Each is stopped when its test ends.
// And mapBounded, for a test that sends many requests at once, a bounded number in flight.
import type { KubeConfig } from '@kubernetes/client-node';
import { onTestFinished } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector, type FleetCollectorOptions } from '../../src/collector/fleet-collector.js';
import { KubeSource, type KubeSourceOptions } from '../../src/controller/kube.js';
import { Manager } from '../../src/controller/manager.js';
import type { WorkQueueOptions } from '../../src/controller/queue.js';
import { type CycleResult, Reconciler, type ReconcilerOptions } from '../../src/controller/reconciler.js';
import { PrometheusClient } from '../../src/prometheus/index.js';
import { FakeApiServer } from './fake-apiserver.js';
import { BACKFILL_TIME_S } from './prometheus.js';

export interface CycleDriver {
  readonly reconciler: Reconciler;
  readonly manager: Manager;
  /** One full cycle now, through the manager's work queue; throws if it could not finish. */
  runCycle(signal?: AbortSignal): Promise<CycleResult>;
  stop(): Promise<void>;
}

/** The manager over a reconciler built from `o`, `concurrency` workers (default the product's);
 *  stopped (workers, source) when the test ends. */
export function cycleDriver(
  o: ReconcilerOptions & { concurrency?: number },
  queue?: WorkQueueOptions,
): CycleDriver {
  const reconciler = new Reconciler(o);
  const manager = new Manager({
    source: o.source,
    reconciler,
    collector: o.collector,
    ...(o.concurrency !== undefined ? { workers: o.concurrency } : {}),
    ...(queue ? { queue } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.telemetry ? { telemetry: o.telemetry } : {}),
  });
  onTestFinished(() => manager.stop());
  return {
    reconciler,
    manager,
    async runCycle(signal) {
      const r = await manager.runCycle(signal);
      if (!r) throw new Error('the cycle did not finish: the manager stopped or lost leadership');
      return r;
    },
    stop: () => manager.stop(),
  };
}

/** A fake API server, closed when the test ends (after what was started on it: the hooks run last first). */
export async function fakeApiServer(): Promise<FakeApiServer> {
  const api = await FakeApiServer.start();
  onTestFinished(() => api.close());
  return api;
}

/** A KubeSource on the fake API server, started and synced; stopped when the test ends. */
export async function syncedKubeSource(
  kubeConfig: KubeConfig,
  o: Omit<KubeSourceOptions, 'kubeConfig'> = { backoff: { baseMs: 20, maxMs: 100 } },
): Promise<KubeSource> {
  const source = new KubeSource({ kubeConfig, ...o });
  onTestFinished(() => source.stop());
  source.start();
  await source.waitForSync(10_000);
  return source;
}

/** A FleetCollector on a real Prometheus, evaluated at the backfilled instant; a 30 s cache TTL. */
export function backfilledCollector(
  url: string,
  o: Omit<FleetCollectorOptions, 'prom' | 'cache'> & { cache?: ModelMetricsCache } = {},
): FleetCollector {
  return new FleetCollector({
    prom: new PrometheusClient({ url, timeoutMs: 5000 }),
    evaluationTime: () => new Date(BACKFILL_TIME_S * 1000),
    ...o,
    cache: o.cache ?? new ModelMetricsCache({ ttlMs: 30_000 }),
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order; never rejects. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}
