// A real Prometheus server for tests and benchmarks: started on 127.0.0.1 with a free port and a
// temporary data directory, optionally backfilled with known series (promtool) and/or scraping
// live targets.
//
// Backfilled data and the fixed query time: promtool writes blocks holding exactly the samples in
// the OpenMetrics text, at their own timestamps. Instant queries then have to be evaluated *near
// those timestamps* (the 5 m lookback and the rate() window look back from the query time), so
// tests write series around a fixed instant and query at that instant, e.g.
//
//   const t = BACKFILL_TIME_S;                       // 2023-11-14T22:13:20Z, far from "now"
//   const prom = await startPrometheus({ openmetrics: text with samples at t-600 .. t });
//   await client.query('...', new Date(t * 1000));   // exact, repeatable numbers
//
// Retention is set far out (100y) so Prometheus never deletes the old blocks; blocks are judged
// against each other, not the wall clock, but the long retention removes any doubt.
// OpenMetrics rules promtool enforces: `# TYPE` per family (a counter family is named without
// `_total`), a family's samples contiguous, timestamps in SECONDS, and a final `# EOF` (added here
// when missing). `openMetricsEscape` escapes label values.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusOnPath, startLocalPrometheus } from '../../src/demo/prometheus.js';

// The launcher itself (free port, readiness, queryCalls, stop/kill/restart, kill on exit) is the
// demo's, in src/demo/prometheus.ts; this file adds the test-side config, backfill and checks.
export { parseQueryCalls } from '../../src/demo/prometheus.js';

/** A fixed instant (unix seconds) to write backfilled samples around and to query at. */
export const BACKFILL_TIME_S = 1_700_000_000;

export interface ScrapeTarget {
  /** host:port */
  target: string;
  /** Labels Prometheus adds to every series of this target (e.g. `{ namespace: 'prod' }`). */
  labels?: Record<string, string>;
  /** Default /metrics. */
  metricsPath?: string;
  /** Keep labels the target exposes when they clash with target labels (default false). */
  honorLabels?: boolean;
}

export interface PrometheusOptions {
  /** OpenMetrics text backfilled with `promtool tsdb create-blocks-from openmetrics` before start. */
  openmetrics?: string;
  /** Live targets. Prometheus' scrape manager applies targets every 5 s, so the first samples
   *  arrive about 5 s after start. */
  scrapeTargets?: ScrapeTarget[];
  /** Scrape (and evaluation) interval, default 1 s. */
  scrapeIntervalSeconds?: number;
  /** Top-level YAML appended to the generated config (e.g. `rule_files`; not `scrape_configs` when
   *  scrapeTargets is given). */
  extraConfigYaml?: string;
  /** Extra command-line flags for prometheus. */
  extraArgs?: string[];
}

export interface PrometheusServer {
  url: string;
  port: number;
  dataDir: string;
  /**
   * How many /api/v1/query requests this server has served: its own
   * prometheus_http_requests_total{handler="/api/v1/query"}, summed over status codes, read from
   * its /metrics page (which is not a query, so reading adds nothing to the count).
   */
  queryCalls(): Promise<number>;
  /** SIGTERM, wait for exit, remove the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Stop and start again on the same port with the same data (also after kill()). */
  restart(): Promise<void>;
  /** SIGKILL (a crash, the OOM killer), wait for the exit; data and port kept for restart(). */
  kill(): Promise<void>;
}

let available: boolean | undefined;
/** Whether the `prometheus` and `promtool` binaries are on PATH. Tests should fail, not skip, without. */
export function prometheusAvailable(): boolean {
  if (available === undefined) {
    available = prometheusOnPath('prometheus') && prometheusOnPath('promtool');
  }
  return available;
}

/** Escapes a label value for OpenMetrics text (backslash, double quote, newline). */
export function openMetricsEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function configYaml(o: PrometheusOptions): string {
  const interval = `${o.scrapeIntervalSeconds ?? 1}s`;
  const lines = ['global:', `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`];
  const targets = o.scrapeTargets ?? [];
  if (targets.length > 0) {
    lines.push('scrape_configs:');
    targets.forEach((t, i) => {
      // JSON is valid YAML flow style, so strings need no YAML-specific quoting.
      lines.push(`  - job_name: ${JSON.stringify(`target-${i}`)}`);
      lines.push(`    metrics_path: ${JSON.stringify(t.metricsPath ?? '/metrics')}`);
      lines.push(`    honor_labels: ${t.honorLabels ? 'true' : 'false'}`);
      lines.push(`    static_configs:`);
      lines.push(`      - targets: [${JSON.stringify(t.target)}]`);
      lines.push(`        labels: ${JSON.stringify(t.labels ?? {})}`);
    });
  }
  if (o.extraConfigYaml) lines.push(o.extraConfigYaml);
  return `${lines.join('\n')}\n`;
}

function backfill(openmetrics: string, dir: string, dataDir: string): void {
  const text = /#\s*EOF\s*$/.test(openmetrics) ? openmetrics : `${openmetrics.replace(/\n?$/, '\n')}# EOF\n`;
  const file = join(dir, 'backfill.om');
  writeFileSync(file, text);
  const r = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`promtool backfill failed (exit ${r.status ?? r.signal}): ${out || r.error?.message}`);
  }
}

export async function startPrometheus(o: PrometheusOptions = {}): Promise<PrometheusServer> {
  if (!prometheusAvailable()) {
    throw new Error('prometheus/promtool not on PATH: install the Debian package `prometheus` (see .ci/run)');
  }
  const { openmetrics } = o;
  return startLocalPrometheus({
    configYaml: configYaml(o),
    // Far out, so Prometheus never deletes backfilled blocks (see the top of this file).
    retention: '100y',
    extraArgs: o.extraArgs ?? [],
    stopGraceMs: 10_000,
    ...(openmetrics ? { prepare: ({ dir, dataDir }) => backfill(openmetrics, dir, dataDir) } : {}),
  });
}
