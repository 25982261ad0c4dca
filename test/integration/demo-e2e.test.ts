// End to end: the demo pipeline (emulated vLLM pods, a real Prometheus scraping them with
// ServiceMonitor-style relabelling, the controller in local mode over examples/manifests reading
// through the cache and the fleet collector), run for about 36 s.
//
// Load: the example fleet (examples/emulator.yaml) with every model made steady at three times its
// configured rate (more requests per window, finer counts), so "configured" is one number.
// Tolerances, on cycles after the warm-up (series older than the 20 s window; at 10 s the staging
// models' 20 requests a window left TTFT read and emitted a scrape apart 5.4 % from each other):
//   - arrival rate: 5% plus one request per pod over the window (counts are whole requests, and
//     Prometheus and the emulator cut the window at slightly different instants), against both
//     the configured rate and what the emulator emitted;
//   - token means: 5% of what was emitted, and of the configured value 5% plus the lengths' spread
//     over the root of the window's count (draws left unpaired at the window's edges); TTFT and ITL
//     (which the simulated engines produce, there is no configured value): 5% of what was emitted.
// Calls: Prometheus' own counter moves by exactly one per cycle (the cache TTL is below the
// interval, so each cycle refreshes once), against 5 per model per cycle for the original.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type DemoCycle, runDemo } from '../../src/demo/index.js';
import { type EmulatedMetrics, loadEmulatorConfig, VllmEmulator } from '../../src/emulator/index.js';
import type { AggregateMetrics } from '../../src/types.js';

const manifests = fileURLToPath(new URL('../../examples/manifests', import.meta.url));
const exampleConfig = loadEmulatorConfig(
  fileURLToPath(new URL('../../examples/emulator.yaml', import.meta.url)),
);
const steadyConfig = {
  ...exampleConfig,
  models: exampleConfig.models.map((m) => ({
    ...m,
    // The example's own rates: within what the simulated pods serve. Beyond it (3x) a model's queue
    // and TTFT grow all through the run, and a read and an emitted window a scrape apart differ by
    // that growth, not by any error of the metrics path.
    load: { pattern: 'steady' as const, rate: 'rate' in m.load ? m.load.rate : 0 },
    // Evenly spaced: a window's count is the rate, not a Poisson draw around it.
    arrivals: 'uniform' as const,
  })),
};

/** The collector's rate window, s. */
const WINDOW_S = 20;

function within(actual: number | undefined, expected: number, tolerance: number, what: string) {
  if (actual === undefined) throw new Error(`${what}: the collector read it as unknown`);
  expect(expected, what).toBeGreaterThan(0);
  expect(Math.abs(actual / expected - 1), `${what}: read ${actual}, expected ${expected}`).toBeLessThan(
    tolerance,
  );
}

describe('demo end to end', () => {
  it('reports the emulated load through the cache with one Prometheus call per cycle', async () => {
    const reference = new VllmEmulator(steadyConfig);
    const cycles: DemoCycle[] = [];
    const { summary } = await runDemo({
      manifests,
      emulator: steadyConfig,
      intervalMs: 4000,
      window: `${WINDOW_S}s`,
      durationMs: 36_000,
      // The metrics path alone: the fleet stays as configured, so the reference matches it.
      closedLoop: false,
      onCycle: (c) => cycles.push(c),
    });

    expect(summary.cycles).toBe(cycles.length);
    expect(cycles.length).toBeGreaterThanOrEqual(5);
    // One call per cycle, measured by Prometheus itself; the original: 5 per model per cycle.
    for (const c of cycles) {
      expect(c.promCalls, `cycle ${c.index}`).toBe(1);
      expect(c.rows).toHaveLength(4);
      expect(c.originalCalls).toBe(20);
      for (const r of c.rows) {
        expect(r.variants).toBe(2);
        // While the window is not yet full of scrapes, a rate may have no samples: unknown
        // (MetricsIncomplete), never a 0 reported as found.
        const who = `cycle ${c.index} ${r.modelId} in ${r.namespace}`;
        if (c.warmingUp && r.reason === 'MetricsIncomplete') {
          // Something is unknown: the rates before any scrape pair, or (requests in flight, none
          // finished yet in the window) the token means.
          const m = r.metrics;
          const stats = [
            m?.load.arrivalRate,
            m?.load.avgInputTokens,
            m?.load.avgOutputTokens,
            m?.ttftAverage,
          ];
          expect(stats, who).toContain(undefined);
        } else {
          expect(r.reason, who).toBe('MetricsFound');
        }
        // Every VariantAutoscaling looked up once: one miss in the cycle starts the fleet query,
        // the rest join it or hit the cache.
        expect(r.hits + r.misses + r.coalesced + r.failureHits).toBe(2);
      }
      expect(c.rows.reduce((a, r) => a + r.misses, 0)).toBe(1);
    }
    expect(summary.promCallsTotal).toBe(cycles.length);
    expect(summary.maxPromCallsPerCycle).toBe(1);
    expect(summary.originalCallsTotal).toBe(20 * cycles.length);
    expect(summary.lookups.miss).toBe(cycles.length);

    const settled = cycles.filter((c) => !c.warmingUp);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    for (const c of settled) {
      for (const r of c.rows) {
        const who = `cycle ${c.index} ${r.modelId} in ${r.namespace}`;
        const read = r.metrics as AggregateMetrics;
        expect(read, who).toBeDefined();
        const m = reference.model(r.modelId, r.namespace)!;
        const configured = {
          load: {
            arrivalRate: m.config.load.pattern === 'steady' ? m.config.load.rate : 0,
            avgInputTokens: m.config.inputTokens,
            avgOutputTokens: m.config.outputTokens,
          },
        };
        const pods = m.pods.length;
        const arrivalTolerance = 0.05 + pods / ((configured.load.arrivalRate / 60) * WINDOW_S);
        within(
          read.load.arrivalRate,
          configured.load.arrivalRate,
          arrivalTolerance,
          `${who} arrival vs configured`,
        );
        // Lengths are drawn in pairs around the mean, but a window's completions are not whole
        // pairs: short requests finish first, so the requests in flight at its edges leave some
        // draws unpaired. Against the configured mean that adds up to the spread over the root of
        // the window's count; against what was emitted (below) it does not apply.
        const perWindow = (configured.load.arrivalRate / 60) * WINDOW_S;
        const tokenTolerance = 0.05 + steadyConfig.jitter / Math.sqrt(perWindow);
        within(
          read.load.avgInputTokens,
          configured.load.avgInputTokens,
          tokenTolerance,
          `${who} input tokens vs configured`,
        );
        within(
          read.load.avgOutputTokens,
          configured.load.avgOutputTokens,
          tokenTolerance,
          `${who} output tokens vs configured`,
        );
        const emitted = r.emulated as EmulatedMetrics;
        // The emulator's count is of completed requests: what the collector reads as completions
        // (arrivals also count the growth of requests in flight while the pods fill up).
        within(
          read.load.completionRate,
          emitted.load.arrivalRate,
          arrivalTolerance,
          `${who} completions vs emitted`,
        );
        within(
          read.load.avgInputTokens,
          emitted.load.avgInputTokens as number,
          0.05,
          `${who} input tokens vs emitted`,
        );
        within(
          read.load.avgOutputTokens,
          emitted.load.avgOutputTokens as number,
          0.05,
          `${who} output tokens vs emitted`,
        );
        within(read.ttftAverage, emitted.ttftAverage, 0.05, `${who} TTFT vs emitted`);
        within(read.itlAverage, emitted.itlAverage, 0.05, `${who} ITL vs emitted`);
      }
    }
    expect(summary.lastCycleError).toBeDefined();
    expect(summary.lastCycleError!.arrivalRate).toBeLessThan(0.1);
  }, 90_000);

  it('the CLI ends on SIGINT with the summary and leaves no Prometheus behind', async () => {
    const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', entry, 'demo', '--interval', '2s', '--window', '10s', '--log-level', 'error'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no cycle printed; stdout: ${out} stderr: ${err}`)),
        45_000,
      );
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (/^cycle 2 /m.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const promUrl = /prometheus: (http:\/\/\S+)/.exec(out)?.[1];
    expect(promUrl).toBeDefined();
    expect((await fetch(`${promUrl}/-/ready`)).ok).toBe(true);
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(err).toContain('SIGINT: stopping');
    expect(out).toMatch(/^summary: \d+ cycles in /m);
    expect(out).toMatch(/Prometheus calls .*: \d+ total, at most 1 per cycle/);
    // The default scenario: the learned one, and its summary compares three fleets.
    expect(out).toMatch(/^scenario: +learned: /m);
    for (const fleet of ['closed loop (ours)', 'static peak fleet', 'saturation V1 alone'])
      expect(out).toContain(fleet);
    // Prometheus is gone: its port no longer answers.
    await expect(fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 60_000);
});
