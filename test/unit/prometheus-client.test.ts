// PrometheusClient against small local HTTP servers on real sockets: every failure path ends in a
// typed error with a clear message, within the timeout.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { PrometheusClient, type PrometheusClientOptions } from '../../src/prometheus/client.js';
import {
  PrometheusApiError,
  PrometheusError,
  PrometheusHttpError,
  PrometheusNetworkError,
  PrometheusReplyError,
  PrometheusTimeoutError,
} from '../../src/prometheus/errors.js';
import { captureLogger } from '../support/capture-logger.js';
import { useLocalServers } from '../support/local-servers.js';
import { manualTimers, neverTimers } from '../support/manual-timers.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const local = useLocalServers();

function serve(handler: Handler): Promise<string> {
  return local.listen(
    createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d;
      });
      req.on('end', () => handler(req, body, res));
    }),
  );
}

const client = (url: string, o: Partial<PrometheusClientOptions> = {}) => local.client({ url, ...o });

const okVector = (result: unknown[] = [], extra: object = {}) =>
  JSON.stringify({ status: 'success', data: { resultType: 'vector', result }, ...extra });

describe('PrometheusClient', () => {
  it('POSTs the query and time as a form and returns the data member', async () => {
    let seen: { method?: string; url?: string; type?: string; form?: URLSearchParams } = {};
    const url = await serve((req, body, res) => {
      seen = {
        method: req.method,
        url: req.url,
        type: req.headers['content-type'],
        form: new URLSearchParams(body),
      };
      res.setHeader('Content-Type', 'application/json');
      res.end(okVector([{ metric: { model_name: 'm' }, value: [1700000000, '42'] }]));
    });
    const data = await client(`${url}/prefix`).query('up{a="}"}', new Date(1_700_000_000_500));
    expect(data).toEqual({
      resultType: 'vector',
      result: [{ metric: { model_name: 'm' }, value: [1700000000, '42'] }],
    });
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/prefix/api/v1/query');
    expect(seen.type).toBe('application/x-www-form-urlencoded');
    expect(seen.form?.get('query')).toBe('up{a="}"}');
    expect(seen.form?.get('time')).toBe('1700000000.5');
  });

  it('refuses at construction a header node:http would refuse on every request', () => {
    const make = (headers: Record<string, string>) => () =>
      new PrometheusClient({ url: 'http://127.0.0.1:9', headers });
    expect(make({ 'X-Tenant': 'a\nb' })).toThrow(
      'Prometheus header: the value of "X-Tenant" holds a character an HTTP header cannot carry',
    );
    expect(make({ 'Bad Name': 'x' })).toThrow('Prometheus header: "Bad Name" is not a header name');
    expect(make({ 'X-Tenant': 'team-a' })).not.toThrow();
  });

  it('omits time when none is given', async () => {
    let form = new URLSearchParams();
    const url = await serve((_req, body, res) => {
      form = new URLSearchParams(body);
      res.end(okVector());
    });
    await client(url).query('up');
    expect(form.has('time')).toBe(false);
  });

  it('names the URL when the port is closed', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await client(`http://127.0.0.1:${port}`)
      .query('up')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusNetworkError);
    expect((err as PrometheusNetworkError).code).toBe('ECONNREFUSED');
    expect((err as Error).message).toBe(
      `cannot reach Prometheus at http://127.0.0.1:${port}/api/v1/query: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('reports an HTTP 502 HTML page with its status and a snippet', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>');
    });
    const err = await client(url)
      .query('up')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusHttpError);
    expect((err as PrometheusHttpError).status).toBe(502);
    expect((err as Error).message).toMatch(
      /answered HTTP 502 Bad Gateway: <html><head><title>502 Bad Gateway/,
    );
  });

  it('reports a Prometheus error reply with its errorType and error', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected "}"' }),
      );
    });
    const err = await client(url)
      .query('up{')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusApiError);
    expect((err as PrometheusApiError).errorType).toBe('bad_data');
    expect((err as Error).message).toBe(
      `Prometheus at ${url}/api/v1/query rejected the query (bad_data, HTTP 400): 1:5: parse error: unexpected "}"`,
    );
  });

  it('reports a malformed 200 reply', async () => {
    const url = await serve((_req, _body, res) =>
      res.end('{"status":"success","data":{"resultType":"vector"}}'),
    );
    await expect(client(url).query('up')).rejects.toBeInstanceOf(PrometheusReplyError);
  });

  it('times out a server that never answers, naming the limit', async () => {
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((r) => {
      arrived = r;
    });
    const url = await serve(() => arrived()); // never answers
    const timers = manualTimers();
    let settled = false;
    const query = client(url, { timeoutMs: 150, timers })
      .query('up')
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    await arrival;
    // Sent and unanswered: the query waits on its one 150 ms timer, and ends when that fires.
    expect(settled).toBe(false);
    expect(timers.pending.map((t) => t.ms)).toEqual([150]);
    timers.fire();
    const err = await query;
    expect(err).toBeInstanceOf(PrometheusTimeoutError);
    expect((err as Error).message).toBe(`Prometheus at ${url}/api/v1/query did not answer within 150 ms`);
  });

  it('without injected timers, times out on the global timers of the moment (faked after construction too)', async () => {
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((r) => {
      arrived = r;
    });
    const url = await serve(() => arrived()); // never answers
    const c = client(url, { timeoutMs: 150 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const query = c
        .query('up')
        .catch((e: unknown) => e)
        .finally(() => {
          settled = true;
        });
      await arrival;
      await vi.advanceTimersByTimeAsync(149);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await query).toBeInstanceOf(PrometheusTimeoutError);
    } finally {
      vi.useRealTimers();
    }
  });

  it('times out a reply that starts but never ends', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"succ');
    });
    await expect(client(url, { timeoutMs: 150 }).query('up')).rejects.toBeInstanceOf(PrometheusTimeoutError);
  });

  it('reports a connection dropped mid-reply as a network error', async () => {
    const url = await serve((req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"status":');
      setTimeout(() => req.socket.destroy(), 20);
    });
    await expect(client(url).query('up')).rejects.toBeInstanceOf(PrometheusNetworkError);
  });

  it('rejects with the abort reason when the caller aborts, and at once when already aborted', async () => {
    const ac = new AbortController();
    // The caller gives up once the request is at the server, which never answers.
    const url = await serve(() => ac.abort());
    const p = client(url, { timers: neverTimers }).query('up', undefined, { signal: ac.signal });
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    const already = AbortSignal.abort(new Error('cycle cancelled'));
    await expect(client(url).query('up', undefined, { signal: already })).rejects.toThrow('cycle cancelled');
  });

  it('honours an abort that comes while the token is being read (before the request is sent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-abort-token-'));
    try {
      const tokenPath = join(dir, 'token');
      writeFileSync(tokenPath, 'file-token\n');
      const url = await serve(() => {
        // never answers
      });
      const ac = new AbortController();
      // The timeout never fires: only the abort can end the query.
      const p = client(url, { timeoutMs: 3000, tokenPath, timers: neverTimers }).query('up', undefined, {
        signal: ac.signal,
      });
      ac.abort(new Error('caller gave up'));
      const err = await p.catch((e: unknown) => e);
      expect((err as Error).message).toBe('caller gave up');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends a bearer token and extra headers', async () => {
    let headers: IncomingMessage['headers'] = {};
    const url = await serve((req, _body, res) => {
      headers = req.headers;
      res.end(okVector());
    });
    await client(url, { bearerToken: 's3cret\n', headers: { 'X-Scope-OrgID': 'tenant-a' } }).query('up');
    expect(headers.authorization).toBe('Bearer s3cret');
    expect(headers['x-scope-orgid']).toBe('tenant-a');
  });

  it('re-reads the token file when it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-token-'));
    try {
      const tokenPath = join(dir, 'token');
      writeFileSync(tokenPath, 'first\n');
      utimesSync(tokenPath, 1000, 1000);
      const seen: Array<string | undefined> = [];
      const url = await serve((req, _body, res) => {
        seen.push(req.headers.authorization);
        res.end(okVector());
      });
      const { logger, lines } = captureLogger();
      const c = client(url, { tokenPath, logger });
      await c.query('up');
      await c.query('up');
      writeFileSync(tokenPath, 'second\n');
      utimesSync(tokenPath, 2000, 2000);
      await c.query('up');
      expect(seen).toEqual(['Bearer first', 'Bearer first', 'Bearer second']);
      expect(JSON.stringify(lines)).not.toMatch(/first|second/);
      rmSync(tokenPath);
      const err = await c.query('up').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PrometheusError);
      expect((err as Error).message).toContain(`cannot read Prometheus token file ${tokenPath}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs warnings of the reply and still returns the data', async () => {
    const url = await serve((_req, _body, res) =>
      res.end(okVector([], { warnings: ['PromQL info: maybe slow'] })),
    );
    const { logger, lines } = captureLogger();
    const data = await client(url, { logger }).query('up');
    expect(data.warnings).toEqual(['PromQL info: maybe slow']);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'Prometheus query returned warnings' }),
    );
  });

  it('never puts URL credentials in messages', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await client(`http://user:pa55@127.0.0.1:${port}`)
      .query('up')
      .catch((e: unknown) => e);
    expect((err as Error).message).not.toContain('pa55');
  });

  it('refuses bad options with a clear message', () => {
    expect(() => new PrometheusClient({ url: 'prometheus:9090' })).toThrow(/must start with http/);
    expect(() => new PrometheusClient({ url: 'not a url' })).toThrow(/not a valid URL/);
    expect(() => new PrometheusClient({ url: 'http://p', timeoutMs: 0 })).toThrow(/positive/);
    expect(() => new PrometheusClient({ url: 'https://p', caCertPath: '/nonexistent/ca.crt' })).toThrow(
      'cannot read Prometheus CA certificate /nonexistent/ca.crt',
    );
  });

  it('warns loudly when TLS verification is off', () => {
    const { logger, lines } = captureLogger();
    client('https://prometheus:9090', { insecureSkipVerify: true, logger });
    expect(lines.some((l) => l.level === 'warn' && /INSECURE/.test(l.msg ?? ''))).toBe(true);
  });
});
