// Smoke test of the real-Prometheus harness (test/support/prometheus.ts) that every part's tests use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKFILL_TIME_S,
  type PrometheusServer,
  parseQueryCalls,
  prometheusAvailable,
  startPrometheus,
} from '../support/prometheus.js';
import { vllmOpenMetrics } from '../support/vllm-openmetrics.js';

async function instant(url: string, query: string, timeS: number) {
  const body = new URLSearchParams({ query, time: String(timeS) });
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', body });
  return (await res.json()) as {
    status: string;
    data: { result: Array<{ metric: object; value: [number, string] }> };
  };
}

describe('real Prometheus harness', () => {
  let prom: PrometheusServer;

  beforeAll(async () => {
    // Fails (does not skip) when the binary is missing: CI installs it.
    expect(prometheusAvailable()).toBe(true);
    prom = await startPrometheus({
      openmetrics: vllmOpenMetrics([
        { labels: { model_name: 'm "x"', namespace: 'ns', pod: 'p1' }, requestsPerSecond: 2 },
      ]),
    });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('serves backfilled series at the fixed time and counts query calls', async () => {
    const before = await prom.queryCalls();
    const r = await instant(prom.url, 'sum(rate(vllm:request_success_total[1m])) * 60', BACKFILL_TIME_S);
    expect(r.status).toBe('success');
    expect(Number(r.data.result[0]?.value[1])).toBeCloseTo(120, 9);
    const labels = await instant(prom.url, 'vllm:request_success_total', BACKFILL_TIME_S);
    expect(labels.data.result[0]?.metric).toMatchObject({ model_name: 'm "x"', finished_reason: 'stop' });
    expect(await prom.queryCalls()).toBe(before + 2);
    // Reading the count is no query itself.
    expect(await prom.queryCalls()).toBe(before + 2);
  });

  it('keeps its data and port across a crash and restart', async () => {
    await prom.kill();
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
    await prom.restart();
    const r = await instant(prom.url, 'count(vllm:request_success_total)', BACKFILL_TIME_S);
    expect(r.data.result[0]?.value[1]).toBe('1');
  });

  it('scrapes targets with the labels given', async () => {
    const scraper = await startPrometheus({
      scrapeTargets: [{ target: `127.0.0.1:${prom.port}`, labels: { namespace: 'team-a' } }],
    });
    try {
      let found = false;
      for (let i = 0; i < 100 && !found; i++) {
        const r = await instant(scraper.url, 'up{namespace="team-a"}', Date.now() / 1000);
        found = r.data.result.length === 1 && (r.data.result[0]?.value[1] ?? '') === '1';
        if (!found) await new Promise((res) => setTimeout(res, 100));
      }
      expect(found).toBe(true);
    } finally {
      await scraper.stop();
    }
  });

  it('parses the query counter over status codes', () => {
    const text = [
      'prometheus_http_requests_total{code="200",handler="/api/v1/query"} 7',
      'prometheus_http_requests_total{code="400",handler="/api/v1/query"} 2',
      'prometheus_http_requests_total{code="200",handler="/api/v1/query_range"} 5',
    ].join('\n');
    expect(parseQueryCalls(text)).toBe(9);
  });
});
