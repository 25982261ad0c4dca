// /metrics, /healthz and /readyz on one small node:http listener.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../types.js';
import { silentLogger } from './logger.js';

export interface ListenAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
}

/**
 * `:8080` (every interface), `127.0.0.1:8080`, `[::1]:8080`, `localhost:0` (`0`: any free port).
 * Throws with a one-line reason otherwise.
 */
export function parseListenAddress(address: string): ListenAddress {
  const text = address.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new Error(`"${address}" is not a listen address; use :8080, host:port or [ipv6]:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port ${port} in "${address}" is above 65535`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

export interface Readiness {
  ready: boolean;
  /** Why not ready, in one sentence (served as the 503 body). */
  reason?: string;
}

export interface TelemetryServerOptions {
  address: string;
  registry: Registry;
  /** Answers /readyz. Default: always ready. */
  ready?: () => Readiness;
  logger?: Logger;
}

export interface TelemetryServer {
  /** The port actually bound (useful with `:0`). */
  port: number;
  /** Stops listening, closes idle keep-alive sockets at once and busy ones after a short grace. */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 2000;

export async function startTelemetryServer(options: TelemetryServerOptions): Promise<TelemetryServer> {
  const { host, port } = parseListenAddress(options.address);
  const logger = options.logger ?? silentLogger;
  const ready = options.ready ?? (() => ({ ready: true }));

  const server = createServer((req, res) => {
    handle(req, res, options.registry, ready).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'telemetry request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // A scrape is one small request; don't let slow or stuck clients hold sockets for long.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'telemetry server error'));
  const bound = (server.address() as AddressInfo).port;
  logger.info({ address: options.address, port: bound }, 'telemetry server listening');

  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  ready: () => Readiness,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
    send(res, 404, 'not found; try /metrics, /healthz or /readyz\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'method not allowed\n');
    return;
  }
  if (path === '/healthz') {
    send(res, 200, 'ok\n');
    return;
  }
  if (path === '/readyz') {
    let state: Readiness;
    try {
      state = ready();
    } catch (err) {
      state = { ready: false, reason: `readiness check failed: ${(err as Error).message}` };
    }
    if (state.ready) send(res, 200, 'ok\n');
    else send(res, 503, `not ready: ${state.reason ?? 'starting'}\n`);
    return;
  }
  const body = await registry.metrics();
  send(res, 200, body, registry.contentType);
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8') {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Readiness from named conditions: not ready while any is pending. The controller adds
 * `config` and `first-collection`, marks them done as they happen, and passes `check` as `ready`.
 */
export class ReadinessGate {
  private readonly pending = new Map<string, string>();

  /** A condition that must be met, with the reason served until it is. */
  require(name: string, reason: string): this {
    this.pending.set(name, reason);
    return this;
  }

  done(name: string): void {
    this.pending.delete(name);
  }

  /** Takes readiness away again (e.g. lost leadership, shutting down). */
  fail(name: string, reason: string): void {
    this.pending.set(name, reason);
  }

  readonly check = (): Readiness => {
    if (this.pending.size === 0) return { ready: true };
    return { ready: false, reason: [...this.pending.values()].join('; ') };
  };
}
