// Small HTTP(S) servers on loopback for client tests, and the Prometheus clients made against them:
// both closed after each test (open keep-alive connections too), so no test leaks a socket.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { PrometheusClient, type PrometheusClientOptions } from '../../src/prometheus/client.js';

export interface LocalServers {
  /** Listens `server` on 127.0.0.1 (a free port); returns its base URL. */
  listen(server: HttpServer | HttpsServer, scheme?: 'http' | 'https'): Promise<string>;
  /** A PrometheusClient, closed after the test. */
  client(options: PrometheusClientOptions): PrometheusClient;
}

/** Registers the cleanup in the calling file (or describe block). */
export function useLocalServers(): LocalServers {
  const servers: Array<HttpServer | HttpsServer> = [];
  const clients: PrometheusClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  return {
    async listen(server, scheme = 'http') {
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    client(options) {
      const c = new PrometheusClient(options);
      clients.push(c);
      return c;
    },
  };
}
