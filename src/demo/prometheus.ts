// A real Prometheus for the demo: the `prometheus` binary on 127.0.0.1, a free port, a temporary
// data directory, a config written here. Stopped (SIGTERM, then SIGKILL) by stop(), and killed on
// any process exit even when stop() never ran.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DemoPrometheusOptions {
  /** Whole prometheus.yml text. */
  configYaml: string;
  /** Binary; default `prometheus` on PATH. */
  binary?: string;
  /** Ready within this long, default 30 s. */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface DemoPrometheus {
  url: string;
  port: number;
  /**
   * /api/v1/query requests this server has answered: its own
   * prometheus_http_requests_total{handler="/api/v1/query"}, read from its /metrics page, which is
   * not a query, so reading it adds nothing to the count.
   */
  queryCalls(): Promise<number>;
  /** Targets by health, from /api/v1/targets (not a query either). */
  targetHealth(): Promise<{ up: number; total: number }>;
  /** Last lines Prometheus wrote on stderr. */
  log(): string;
  stop(): Promise<void>;
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
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
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

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

export async function startDemoPrometheus(o: DemoPrometheusOptions): Promise<DemoPrometheus> {
  const binary = o.binary ?? 'prometheus';
  const dir = mkdtempSync(join(tmpdir(), 'wva-demo-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), o.configYaml);
  let child: ChildProcess | undefined;
  let log = '';
  const stop = async () => {
    if (child) await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      log = '';
      const proc = spawn(
        binary,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--storage.tsdb.retention.time=1d',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child = proc;
      killOnExit(proc);
      proc.stderr?.on('data', (d: Buffer) => {
        log = (log + d.toString()).slice(-8000);
      });
      const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
      let ready = false;
      let failure: string | undefined;
      while (!ready && failure === undefined) {
        if (o.signal?.aborted) throw o.signal.reason;
        const err = await Promise.race([spawnError, sleep(100, o.signal).then(() => undefined)]);
        if (err) failure = `cannot run ${binary}: ${err.message}`;
        else if (exited(proc))
          failure = `prometheus exited (${proc.exitCode ?? proc.signalCode}) before ready`;
        else if (Date.now() > deadline)
          failure = `prometheus not ready after ${(o.startTimeoutMs ?? 30_000) / 1000} s`;
        else {
          try {
            const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
            await res.arrayBuffer();
            ready = res.ok;
          } catch {
            // not listening yet
          }
        }
      }
      if (ready) break;
      await terminate(proc);
      if (attempt < 2 && /address already in use/.test(log)) continue;
      const last = log.trim().split('\n').slice(-3).join(' | ');
      throw new Error(`${failure}${last ? `: ${last}` : ''}`);
    }

    const url = `http://127.0.0.1:${port}`;
    const readCalls = async () => {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`GET ${url}/metrics: HTTP ${res.status}`);
      return parseQueryCalls(await res.text());
    };
    return {
      url,
      port,
      async queryCalls() {
        // Prometheus counts a request after writing its reply; a read right after a query can come
        // a moment early. Read until two reads 20 ms apart agree.
        let last = await readCalls();
        for (let i = 0; i < 25; i++) {
          await sleep(20);
          const next = await readCalls();
          if (next === last) return next;
          last = next;
        }
        return last;
      },
      async targetHealth() {
        const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { data?: { activeTargets?: Array<{ health: string }> } };
        const targets = body.data?.activeTargets ?? [];
        return { up: targets.filter((t) => t.health === 'up').length, total: targets.length };
      },
      log: () => log.trim().split('\n').slice(-10).join('\n'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
