// A real Prometheus on this machine: the `prometheus` binary on 127.0.0.1, a free port, a temporary
// directory for its config and data. The demo runs one; the test harness (test/support/prometheus.ts)
// runs the same one with backfilled data. Stopped (SIGTERM, then SIGKILL) by stop(), and killed on
// any process exit even when stop() never ran.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalPrometheusOptions {
  /** Whole prometheus.yml text. */
  configYaml: string;
  /** Binary; default `prometheus` on PATH. */
  binary?: string;
  /** Ready within this long, default 30 s. */
  startTimeoutMs?: number;
  /** Aborts the start (not a running server: stop() does that). */
  signal?: AbortSignal;
  /** --storage.tsdb.retention.time, default `1d`. */
  retention?: string;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** How long stop() and restart() wait after SIGTERM before SIGKILL, default 5 s. */
  stopGraceMs?: number;
  /** Runs once before the first start with the directories it will use (e.g. to backfill data). */
  prepare?: (paths: { dir: string; dataDir: string }) => void;
}

export interface LocalPrometheus {
  url: string;
  port: number;
  /** --storage.tsdb.path, inside the temporary directory. */
  dataDir: string;
  /**
   * /api/v1/query requests this server has answered: its own
   * prometheus_http_requests_total{handler="/api/v1/query"}, summed over status codes, read from its
   * /metrics page, which is not a query, so reading it adds nothing to the count.
   */
  queryCalls(): Promise<number>;
  /** Targets by health, from /api/v1/targets (not a query either). */
  targetHealth(): Promise<{ up: number; total: number }>;
  /** Last lines Prometheus wrote on stderr. */
  log(): string;
  /** SIGTERM (SIGKILL after the grace time), wait for the exit, remove the directory. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL (a crash, the OOM killer), wait for the exit; data and port kept for restart(). */
  kill(): Promise<void>;
  /** Stop and start again on the same port with the same data (also after kill()). */
  restart(): Promise<void>;
}

/** Whether `binary --version` runs. */
export function prometheusOnPath(binary = 'prometheus'): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

const children = new Set<ChildProcess>();
let hookInstalled = false;
function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (hookInstalled) return;
  hookInstalled = true;
  // Last resort: whatever path the process takes to exit, no Prometheus outlives it.
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

export function freePort(): Promise<number> {
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    // Drop the listener when the timer fires: the readiness wait sleeps many times on one signal.
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sums prometheus_http_requests_total{handler="/api/v1/query"} over status codes. */
export function parseQueryCalls(metricsText: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('prometheus_http_requests_total{')) continue;
    if (!line.includes('handler="/api/v1/query"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

// A child that could not be spawned at all has exitCode set (the negative errno) too.
function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals, killAfterMs?: number) {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await done;
  clearTimeout(timer);
}

interface Launched {
  child: ChildProcess;
  spawnError?: Error;
  log: string;
}

export async function startLocalPrometheus(o: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const binary = o.binary ?? 'prometheus';
  const startTimeoutMs = o.startTimeoutMs ?? 30_000;
  const stopGraceMs = o.stopGraceMs ?? 5000;
  const dir = mkdtempSync(join(tmpdir(), 'wva-prom-'));
  const dataDir = join(dir, 'data');
  let current: Launched | undefined;
  let stopped = false;
  let port = 0;
  const url = () => `http://127.0.0.1:${port}`;
  const lastLines = (n: number) => (current?.log ?? '').trim().split('\n').slice(-n);

  const launch = (): Launched => {
    const child = spawn(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${dataDir}`,
        `--storage.tsdb.retention.time=${o.retention ?? '1d'}`,
        `--web.listen-address=127.0.0.1:${port}`,
        ...(o.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const launched: Launched = { child, log: '' };
    killOnExit(child);
    child.stderr?.on('data', (d: Buffer) => {
      launched.log = (launched.log + d.toString()).slice(-8000);
    });
    child.once('error', (err) => {
      launched.spawnError = err;
    });
    current = launched;
    return launched;
  };

  // Resolves once /-/ready answers 200; otherwise says why not.
  const waitReady = async (p: Launched, signal?: AbortSignal): Promise<string | undefined> => {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (p.spawnError) return `cannot run ${binary}: ${p.spawnError.message}`;
      if (exited(p.child))
        return `prometheus exited (${p.child.exitCode ?? p.child.signalCode}) before ready`;
      if (Date.now() > deadline) return `prometheus not ready after ${startTimeoutMs / 1000} s`;
      try {
        const res = await fetch(`${url()}/-/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) return undefined;
      } catch {
        // not listening yet
      }
      await sleep(50, signal);
    }
  };
  const failed = (why: string) => {
    const last = lastLines(3).join(' | ');
    return new Error(`${why}${last ? `: ${last}` : ''}`);
  };
  const terminate = async () => {
    if (current) await signalAndWait(current.child, 'SIGTERM', stopGraceMs);
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    writeFileSync(join(dir, 'prometheus.yml'), o.configYaml);
    o.prepare?.({ dir, dataDir });
    // Another process may grab the free port between our probe and Prometheus' bind: retry.
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const p = launch();
      const why = await waitReady(p, o.signal);
      if (why === undefined) break;
      await terminate();
      if (attempt < 2 && /address already in use/.test(p.log)) continue;
      throw failed(why);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const readCalls = async () => {
    const res = await fetch(`${url()}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url()}/metrics: HTTP ${res.status}`);
    return parseQueryCalls(await res.text());
  };
  return {
    url: url(),
    port,
    dataDir,
    async queryCalls() {
      // Prometheus counts a request after writing its reply; a read right after a query can come
      // a moment early. Read until two reads 20 ms apart agree.
      let last = await readCalls();
      for (let i = 0; i < 50; i++) {
        await sleep(20);
        const next = await readCalls();
        if (next === last) return next;
        last = next;
      }
      return last;
    },
    async targetHealth() {
      const res = await fetch(`${url()}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { data?: { activeTargets?: Array<{ health: string }> } };
      const targets = body.data?.activeTargets ?? [];
      return { up: targets.filter((t) => t.health === 'up').length, total: targets.length };
    },
    log: () => lastLines(10).join('\n'),
    stop,
    async kill() {
      if (current) await signalAndWait(current.child, 'SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('prometheus was stopped; start a new one');
      await terminate();
      const why = await waitReady(launch());
      if (why !== undefined) throw failed(why);
    },
  };
}
