// Soak (issue 7): the demo pipeline -- emulated vLLM pods, a real Prometheus scraping them, the
// controller in local mode over examples/manifests through FleetCollector + cache + janitor, and
// the telemetry server scraped as Prometheus would -- for WVA_SOAK_MINUTES (default 2; the figures
// in docs/reliability.md are from 10), SIGKILLing Prometheus every WVA_SOAK_RESTART_S seconds
// (default 30) and restarting it a few seconds later. Checks: every outage shows as
// PrometheusError within one cycle and MetricsFound returns after it; RSS flat within 10 %; no
// timer, socket or server left once everything is stopped; no unhandled rejection.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/index.js';
import { startCacheJanitor } from '../../src/cache/janitor.js';
import { FleetCollector } from '../../src/collector/index.js';
import { type CycleReport, LocalController } from '../../src/controller/local.js';
import {
  loadEmulatorConfig,
  scrapeJob,
  startEmulatorServer,
  VllmEmulator,
} from '../../src/emulator/index.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import { startTelemetryServer } from '../../src/telemetry/server.js';
import { killPrometheus } from '../support/prom-kill.js';
import { startPrometheus } from '../support/prometheus.js';

const MINUTES = Number(process.env.WVA_SOAK_MINUTES ?? 2);
const RESTART_S = Number(process.env.WVA_SOAK_RESTART_S ?? 30);
const DOWN_S = 4;
const INTERVAL_MS = 2000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function countTypes(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

describe(`soak: demo pipeline for ${MINUTES} min, Prometheus killed every ${RESTART_S} s`, () => {
  it('keeps working through every restart; RSS flat; nothing leaked', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    gc();
    const resourcesBefore = process.getActiveResourcesInfo();

    const emulator = new VllmEmulator(loadEmulatorConfig('examples/emulator.yaml'));
    const emu = await startEmulatorServer(emulator);
    const job = scrapeJob({ address: emu.address, targets: emulator.targets(), scrapeIntervalSeconds: 1 });
    const prom = await startPrometheus({ extraConfigYaml: `scrape_configs:\n  - ${JSON.stringify(job)}` });
    const telemetry = new Telemetry({ collectDefaultMetrics: true });
    const cache = new ModelMetricsCache({ ttlMs: INTERVAL_MS / 2, failureTtlMs: INTERVAL_MS / 2 });
    telemetry.bindCache(cache);
    const client = new PrometheusClient({ url: prom.url, timeoutMs: 3000 });
    const collector = new FleetCollector({ prom: client, cache, window: '30s', observer: telemetry });
    const janitor = startCacheJanitor(cache, {});
    const server = await startTelemetryServer({
      address: '127.0.0.1:0',
      registry: telemetry.registry,
      ready: () => ({ ready: true }),
    });
    const local = new LocalController({
      manifests: 'examples/manifests',
      collector,
      intervalMs: INTERVAL_MS,
      telemetry,
    });

    type Phase = 'up' | 'down';
    let phase: Phase = 'up';
    const timeline: Array<{ phase: Phase; at: number; reasons: string[] }> = [];
    let cycles = 0;
    local.start((r: CycleReport) => {
      cycles++;
      timeline.push({
        phase,
        at: Date.now(),
        reasons: r.rows.map(
          (row) => row.conditions.find((c) => c.type === 'MetricsAvailable')?.reason ?? '-',
        ),
      });
    });

    const rss: Array<{ t: number; rssMiB: number; heapMiB: number }> = [];
    const t0 = Date.now();
    const end = t0 + MINUTES * 60_000;
    let nextRestart = t0 + RESTART_S * 1000;
    let restarts = 0;
    const outages: Array<{ killedAt: number; backAt: number }> = [];
    let scrapes = 0;
    try {
      while (Date.now() < end) {
        await sleep(1000);
        // Scrape our own /metrics as Prometheus would.
        const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
        await res.text();
        scrapes++;
        if ((Date.now() - t0) % 5000 < 1000) {
          gc();
          const m = process.memoryUsage();
          rss.push({ t: Date.now() - t0, rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20 });
        }
        if (Date.now() >= nextRestart && Date.now() + (DOWN_S + 10) * 1000 < end) {
          const killedAt = Date.now();
          await killPrometheus(prom);
          phase = 'down';
          await sleep(DOWN_S * 1000);
          await prom.restart();
          phase = 'up';
          outages.push({ killedAt, backAt: Date.now() });
          restarts++;
          nextRestart = Date.now() + RESTART_S * 1000;
        }
      }
    } finally {
      await local.stop();
      janitor.stop();
      await server.close();
      client.close();
      await prom.stop();
      await emu.close();
      process.off('unhandledRejection', onUnhandled);
    }
    await sleep(300);
    gc();

    // Every outage: some cycle while down saw PrometheusError for every row; after it, a cycle
    // with MetricsFound for every row.
    const outageResults = outages.map((o, i) => {
      const during = timeline.filter((c) => c.at > o.killedAt && c.at <= o.backAt);
      const next = outages[i + 1]?.killedAt ?? Number.POSITIVE_INFINITY;
      const after = timeline.filter((c) => c.at > o.backAt && c.at < next);
      const firstFound = after.findIndex((c) => c.reasons.every((x) => x === 'MetricsFound'));
      return {
        sawError: during.some((c) => c.reasons.every((x) => x === 'PrometheusError')),
        firstErrorCycle: during.findIndex((c) => c.reasons.every((x) => x === 'PrometheusError')),
        cyclesUntilFound: firstFound,
        msUntilFound: firstFound >= 0 ? (after[firstFound]?.at ?? 0) - o.backAt : -1,
      };
    });
    const warm = rss.filter((s) => s.t >= 0.25 * MINUTES * 60_000);
    const half = Math.floor(warm.length / 2);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const earlyRss = mean(warm.slice(0, half).map((s) => s.rssMiB));
    const lateRss = mean(warm.slice(half).map((s) => s.rssMiB));
    const earlyHeap = mean(warm.slice(0, half).map((s) => s.heapMiB));
    const lateHeap = mean(warm.slice(half).map((s) => s.heapMiB));
    const after = countTypes(process.getActiveResourcesInfo());
    const before = countTypes(resourcesBefore);
    const leaked = [...after].filter(([type, n]) => n > (before.get(type) ?? 0));
    const report = {
      minutes: MINUTES,
      cycles,
      scrapes,
      restarts,
      outages: outageResults,
      rssMiB: {
        early: +earlyRss.toFixed(1),
        late: +lateRss.toFixed(1),
        max: +Math.max(...rss.map((s) => s.rssMiB)).toFixed(1),
      },
      heapMiB: { early: +earlyHeap.toFixed(1), late: +lateHeap.toFixed(1) },
      leaked,
    };
    console.log(`SOAK ${JSON.stringify(report)}`);

    expect(unhandled).toEqual([]);
    expect(restarts).toBeGreaterThanOrEqual(
      Math.max(1, Math.floor((MINUTES * 60) / (RESTART_S + DOWN_S + 2)) - 1),
    );
    for (const o of outageResults) {
      expect(o.sawError).toBe(true);
      // Within one cycle: the first cycle after the kill may still answer from a snapshot younger than the TTL.
      expect(o.firstErrorCycle).toBeGreaterThanOrEqual(0);
      expect(o.firstErrorCycle).toBeLessThanOrEqual(1);
      expect(o.cyclesUntilFound).toBeGreaterThanOrEqual(0);
    }
    expect(Math.abs(lateRss - earlyRss) / earlyRss).toBeLessThan(0.1);
    expect(leaked).toEqual([]);
  });
});
