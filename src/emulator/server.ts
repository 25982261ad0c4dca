// HTTP listener of the emulator: every pod on one port, a path per pod, plus a service-discovery
// endpoint so one Prometheus job can find them all.
//   GET /pods/<namespace>/<pod>/metrics   that pod's vLLM metrics
//   GET /gateway/metrics                  the gateway's flow-control queue metrics
//   GET /targets                          HTTP SD JSON (for http_sd_configs), with meta labels
//   GET /variants                         JSON: each variant's pods and how many serve
//   PUT /variants/<namespace>/<name>/replicas  body {"replicas": n}: scales that variant
//   GET /healthz                          ok
//   GET /                                 plain-text list of the pods' paths
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../types.js';
import { GATEWAY_PATH, type VllmEmulator } from './emulator.js';
import { targetGroups } from './scrape-config.js';

export interface EmulatorServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Step the simulation on a timer every `config.tick` (default true); scrapes also step it. */
  live?: boolean;
  logger?: Logger;
}

export interface EmulatorServer {
  host: string;
  port: number;
  /** host:port, for scrape configs. */
  address: string;
  url: string;
  close(): Promise<void>;
}

export async function startEmulatorServer(
  emulator: VllmEmulator,
  options: EmulatorServerOptions = {},
): Promise<EmulatorServer> {
  const host = options.host ?? '127.0.0.1';
  let address = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const scale = /^\/variants\/([^/]+)\/([^/]+)\/replicas$/.exec(path);
    if (scale && req.method === 'PUT') {
      await setReplicas(emulator, decodeURIComponent(scale[1]!), decodeURIComponent(scale[2]!), req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    emulator.sync();
    if (path === GATEWAY_PATH) {
      const body = await emulator.gateway.metrics();
      res.writeHead(200, { 'content-type': emulator.gateway.registry.contentType }).end(body);
      return;
    }
    const pod = emulator.podAt(path);
    if (pod) {
      const body = await pod.metrics();
      res.writeHead(200, { 'content-type': pod.registry.contentType }).end(body);
      return;
    }
    if (path === '/targets') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(targetGroups(address, emulator.targets())));
      return;
    }
    if (path === '/variants') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(emulator.variants()));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/') {
      const lines = emulator.targets().map((t) => `${t.metricsPath}\t${t.model}\t${t.variant}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${lines.join('\n')}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger?.error({ err }, 'emulator request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const timer = options.live === false ? undefined : setInterval(() => emulator.sync(), emulator.config.tick);
  timer?.unref();
  return {
    host,
    port,
    address,
    url: `http://${address}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const MAX_BODY = 4096;

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

/** PUT /variants/<namespace>/<name>/replicas with {"replicas": n}. */
async function setReplicas(
  emulator: VllmEmulator,
  namespace: string,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) return reply(res, 413, { error: `body over ${MAX_BODY} bytes` });
  }
  let replicas: unknown;
  try {
    replicas = (JSON.parse(text) as { replicas?: unknown }).replicas;
  } catch {
    return reply(res, 400, { error: 'body must be JSON like {"replicas": 3}' });
  }
  if (typeof replicas !== 'number')
    return reply(res, 400, {
      error: 'body must be JSON like {"replicas": 3}: replicas is missing or not a number',
    });
  try {
    const now = emulator.setReplicas(namespace, name, replicas);
    reply(res, 200, { namespace, name, replicas: now });
  } catch (err) {
    reply(res, err instanceof RangeError ? 400 : 404, { error: (err as Error).message });
  }
}
