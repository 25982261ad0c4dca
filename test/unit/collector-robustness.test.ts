// Review findings in the collector: one odd series must not fail the whole fleet.
import { describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { FleetCollector } from '../../src/collector/fleet-collector.js';
import type { PromAPI, PromQueryData } from '../../src/types.js';
import { statSeries, trafficStats } from '../support/fleet-reply.js';

describe('FleetCollector with series lacking model_name', () => {
  it('answers the other models; a vLLM series without model_name does not fail the refresh', async () => {
    const prom: PromAPI = {
      async query(): Promise<PromQueryData> {
        return {
          resultType: 'vector',
          // `sum by (model_name, namespace)` gives model_name="" (absent) for such a series.
          result: [...statSeries('a', 'x', trafficStats(60)), ...statSeries(undefined, 'x', trafficStats(7))],
        };
      },
    };
    const cache = new ModelMetricsCache({ ttlMs: 1000 });
    const fc = new FleetCollector({ prom, cache });
    const read = await fc.read('a', 'x');
    expect(read.availability.reason).toBe('MetricsFound');
    expect(read.metrics?.load.arrivalRate).toBe(60);
    expect(cache.get('a', 'x')?.load.arrivalRate).toBe(60);
  });
});

describe('FleetCollector reconfigured while a refresh runs', () => {
  it('answers from a refresh under the new window, not a made-up PrometheusError', async () => {
    const windows: string[] = [];
    let release: () => void = () => {};
    const prom: PromAPI = {
      async query(promql: string): Promise<PromQueryData> {
        windows.push(/\[(\w+)\]/.exec(promql)?.[1] ?? '?');
        if (windows.length === 1) await new Promise<void>((r) => (release = r));
        return { resultType: 'vector', result: statSeries('a', 'x', trafficStats(60)) };
      },
    };
    const fc = new FleetCollector({ prom, cache: new ModelMetricsCache({ ttlMs: 1000 }) });
    const pending = fc.read('a', 'x');
    await new Promise((r) => setImmediate(r));
    fc.configure({ window: '2m' }); // live reload while the first refresh is in flight
    release();
    const read = await pending;
    expect(read.availability.reason).toBe('MetricsFound');
    expect(read.metrics?.load.arrivalRate).toBe(60);
    expect(windows).toEqual(['1m', '2m']);
  });
});
