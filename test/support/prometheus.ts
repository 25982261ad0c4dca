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
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    available = ['prometheus', 'promtool'].every(
      (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0,
    );
  }
  return available;
}

/** Escapes a label value for OpenMetrics text (backslash, double quote, newline). */
export function openMetricsEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}) before ready:\n${log()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`prometheus at ${url} not ready after 30 s:\n${log()}`);
}

function launch(port: number, dir: string, dataDir: string, extraArgs: string[]) {
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      `--storage.tsdb.retention.time=100y`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-8000);
  });
  child.on('error', (err) => {
    log += `\nspawn error: ${err.message}`;
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  return { child, log: () => log.split('\n').slice(-10).join('\n') };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

/** Sums prometheus_http_requests_total{handler="/api/v1/query"} in a /metrics page. */
export function parseQueryCalls(metricsText: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('prometheus_http_requests_total{')) continue;
    if (!line.includes('handler="/api/v1/query"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export async function startPrometheus(o: PrometheusOptions = {}): Promise<PrometheusServer> {
  if (!prometheusAvailable()) {
    throw new Error('prometheus/promtool not on PATH: install the Debian package `prometheus` (see .ci/run)');
  }
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'wva-prom-'));
  const dataDir = join(dir, 'data');
  try {
    writeFileSync(join(dir, 'prometheus.yml'), configYaml(o));
    if (o.openmetrics) backfill(o.openmetrics, dir, dataDir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const extraArgs = o.extraArgs ?? [];

  let port = 0;
  let proc: ReturnType<typeof launch> | undefined;
  // Another process may grab the free port between our probe and prometheus' bind: retry.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    proc = launch(port, dir, dataDir, extraArgs);
    try {
      await waitReady(`http://127.0.0.1:${port}`, proc.child, proc.log);
      break;
    } catch (err) {
      await terminate(proc.child);
      if (attempt < 2 && /address already in use/.test(proc.log())) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;

  const readCalls = async (): Promise<number> => {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url}/metrics: HTTP ${res.status}`);
    return parseQueryCalls(await res.text());
  };

  return {
    url,
    port,
    dataDir,
    async queryCalls() {
      // The counter is bumped after the handler has written its reply, so a client can get here a
      // moment before the last call is counted: read until two reads 20 ms apart agree.
      let last = await readCalls();
      for (let i = 0; i < 50; i++) {
        await sleep(20);
        const next = await readCalls();
        if (next === last) return next;
        last = next;
      }
      return last;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (proc) await terminate(proc.child);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
      const done = exited(proc.child);
      proc.child.kill('SIGKILL');
      await done;
    },
    async restart() {
      if (stopped) throw new Error('prometheus was stopped; start a new one');
      if (proc) await terminate(proc.child);
      proc = launch(port, dir, dataDir, extraArgs);
      await waitReady(url, proc.child, proc.log);
    },
  };
}
