// A loopback HTTP proxy that misbehaves on demand, for fault tests: it forwards to an upstream
// (a real Prometheus) or, depending on `mode`, delays, never answers, refuses connections, resets
// the connection in the middle of a reply, or answers with whatever bytes a test gives it.
// The mode can change between requests; it is read when a request arrives.
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultMode =
  /** Forward to the upstream. */
  | { kind: 'pass' }
  /** Forward to the upstream after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Read the request, then never answer (the socket stays open until the client gives up). */
  | { kind: 'silent' }
  /** Destroy every connection as soon as it is accepted (like a process that just died). */
  | { kind: 'refuse' }
  /** Send a 200 with a JSON content-length, part of the body, then reset the TCP connection. */
  | { kind: 'reset-mid-body' }
  /** Answer with this status, body and content type (garbage, error pages, odd JSON). */
  | { kind: 'reply'; status: number; body: string; contentType?: string };

export interface FaultProxy {
  url: string;
  port: number;
  mode: FaultMode;
  /** Requests received (all modes). */
  requests: number;
  /** Requests whose client has not gone away yet. */
  readonly inFlight: number;
  /** Most requests ever in flight at once. */
  maxInFlight: number;
  /** Bodies of the requests received, in order (form-encoded PromQL for Prometheus). */
  readonly bodies: string[];
  /** Resolves when the next request arrives. */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFaultProxy(o: { upstream?: string; mode?: FaultMode } = {}): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  let inFlight = 0;
  const timers = new Set<NodeJS.Timeout>();
  const upstream = o.upstream ? new URL(o.upstream) : undefined;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (!upstream) {
      res.writeHead(502).end('no upstream');
      return;
    }
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  };

  const proxy: FaultProxy = {
    url: '',
    port: 0,
    mode: o.mode ?? { kind: 'pass' },
    requests: 0,
    get inFlight() {
      return inFlight;
    },
    maxInFlight: 0,
    bodies: [],
    nextRequest() {
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer(async (req, res) => {
    const mode = proxy.mode;
    proxy.requests++;
    inFlight++;
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight);
    res.on('close', () => {
      inFlight--;
    });
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return;
    }
    proxy.bodies.push(body.toString('utf8'));
    for (const w of waiters.splice(0)) w();
    switch (mode.kind) {
      case 'pass':
        forward(req, res, body);
        return;
      case 'delay': {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) forward(req, res, body);
        }, mode.ms);
        timers.add(t);
        return;
      }
      case 'silent':
        return;
      case 'refuse':
        req.socket.destroy();
        return;
      case 'reset-mid-body': {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        res.write('{"status":"success","data":{"resultType":"vector","result":[{"metric":{"model_name":"m');
        // Let the partial body reach the client before the RST.
        const t = setTimeout(() => {
          timers.delete(t);
          req.socket.resetAndDestroy();
        }, 20);
        timers.add(t);
        return;
      }
      case 'reply':
        res.writeHead(mode.status, { 'content-type': mode.contentType ?? 'application/json' });
        res.end(mode.body);
        return;
    }
  });
  server.on('connection', (s: Socket) => {
    if (proxy.mode.kind === 'refuse') {
      proxy.requests++;
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
