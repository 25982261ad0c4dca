// A Prometheus whose answer a test sets: every query gets the fleet reply of the models set here
// (the `stat`-tagged series the fleet query returns), evaluated now, or a 503 while `failing`.
// For driving the real CLI through states a real Prometheus reaches only with luck or time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATS } from '../../src/prometheus/promql.js';
import { type Stats, statSeries } from './fleet-reply.js';

export class FakePrometheus {
  /** Queries answered (or refused) so far. */
  calls = 0;
  failing = false;
  private readonly models = new Map<string, { model: string; namespace: string; stats: Stats }>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakePrometheus> {
    let self: FakePrometheus | undefined;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => self?.answer(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    self = new FakePrometheus(server, url);
    return self;
  }

  /** What the model reports from now on (its newest sample is always 5 s old). */
  set(model: string, namespace: string, stats: Stats): void {
    this.models.set(`${model}\0${namespace}`, { model, namespace, stats });
  }

  /** Resolves once `n` more queries have come (each a cycle's snapshot, or a retry). */
  async moreCalls(n: number, ms = 20_000): Promise<void> {
    const target = this.calls + n;
    const end = Date.now() + ms;
    while (this.calls < target) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${n} more Prometheus queries`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private answer(res: import('node:http').ServerResponse): void {
    this.calls++;
    if (this.failing) {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'injected outage' }));
      return;
    }
    const t = Math.floor(Date.now() / 1000);
    const result = [...this.models.values()].flatMap((m) =>
      statSeries(m.model, m.namespace, { ...m.stats, [STATS.newestSample]: t - 5 }, t),
    );
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
