// A loopback proxy in front of a real Prometheus that evaluates every instant query at one fixed
// instant: the backfilled data of a test read by `run` in cluster mode, which refuses `--time`
// (a controller in a cluster must not act on a pinned past instant).
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PinnedPrometheus {
  url: string;
  close(): Promise<void>;
}

/** Forwards to `upstream`, adding `time=<timeS>` to /api/v1/query requests that carry no time. */
export async function startPinnedPrometheus(upstream: string, timeS: number): Promise<PinnedPrometheus> {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body = Buffer.concat(chunks);
      if (url.pathname === '/api/v1/query') {
        if (req.method === 'POST') {
          const form = new URLSearchParams(body.toString('utf8'));
          if (!form.has('time')) form.set('time', String(timeS));
          body = Buffer.from(form.toString());
        } else if (!url.searchParams.has('time')) url.searchParams.set('time', String(timeS));
      }
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const out = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: url.pathname + url.search,
          headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
