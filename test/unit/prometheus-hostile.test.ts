// A Prometheus (or a proxy in front of it) that works against us: echoes the request's credentials
// back in its error pages, varies its error text per request, floods with a 10 MB error string,
// answers more than the reply cap. Every credential we send stays out of every message, messages
// stay short, and the status text stays the same while the cause does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { availabilityFromError } from '../../src/collector/availability.js';
import { collectFleetMetrics } from '../../src/collector/collect.js';
import { PrometheusClient, type PrometheusClientOptions } from '../../src/prometheus/client.js';
import { failureSummary, PrometheusError } from '../../src/prometheus/errors.js';
import { captureLogger } from '../support/capture-logger.js';
import { useLocalServers } from '../support/local-servers.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const local = useLocalServers();
const dir = mkdtempSync(join(tmpdir(), 'wva-hostile-'));

function serve(handler: Handler): Promise<string> {
  return local.listen(
    createServer((req, res) => {
      req.resume();
      req.on('end', () => handler(req, res));
    }),
  );
}

const client = (url: string, o: Partial<PrometheusClientOptions> = {}) =>
  local.client({ url, timeoutMs: 5000, ...o });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A proxy error page that echoes every request header, after `pad` characters of filler. */
function echoHeaders(pad: number, status = 502): Handler {
  return (req, res) => {
    // Credentials first, so that `pad` places them across the 200-character snippet cut.
    const entries = Object.entries(req.headers).sort(
      ([a], [b]) => Number(b === 'authorization') - Number(a === 'authorization'),
    );
    const headers = entries.map(([k, v]) => `${k}: ${String(v)}`).join('\n');
    res.writeHead(status, { 'Content-Type': 'text/html' });
    res.end(`<html><body>${'x'.repeat(pad)}\n${headers}\n</body></html>`);
  };
}

/** Fails when any 6-character piece of `secret` appears in `text`. */
function expectNoPieceOf(text: string, secret: string): void {
  for (let i = 0; i + 6 <= secret.length; i++) {
    const piece = secret.slice(i, i + 6);
    if (text.includes(piece)) throw new Error(`"${piece}" of the secret leaked into: ${text.slice(0, 400)}`);
  }
}

async function failure(c: PrometheusClient): Promise<Error> {
  const err = await c.query('up').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PrometheusError);
  return err as Error;
}

/** Everything an operator could read: the error, its summary, the condition message. */
function allText(err: Error): string {
  const av = availabilityFromError('m', 'ns', err);
  const e = err as Error & { bodySnippet?: string; summary?: string };
  return [err.message, err.stack, e.bodySnippet, e.summary, av.message].join('\n');
}

const TOKEN = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0ZYXWVUTSRQPONMLK'; // 50 characters

describe('credentials echoed back by an error page', () => {
  it('a bearer token that straddles the snippet cut leaves no piece of itself anywhere', async () => {
    // The token starts within the first 200 characters of the collapsed body and ends after them.
    for (const pad of [150, 170, 180, 190]) {
      const url = await serve(echoHeaders(pad));
      const err = await failure(client(url, { bearerToken: TOKEN }));
      expectNoPieceOf(allText(err), TOKEN);
    }
  });

  it('basic credentials from the URL userinfo are redacted, decoded and base64 alike', async () => {
    const url = await serve(echoHeaders(20));
    const password = 'S3cr3t-P4ssw0rd!';
    const withUser = url.replace('http://', `http://alice:${encodeURIComponent(password)}@`);
    const err = await failure(client(withUser));
    const text = allText(err);
    expectNoPieceOf(text, Buffer.from(`alice:${password}`).toString('base64'));
    expectNoPieceOf(text, password);
    expect(text).toContain('authorization: Basic [redacted]');
  });

  it('the value of every extra header is redacted (a tenant key, an Authorization given as a header)', async () => {
    const url = await serve(echoHeaders(20));
    const apiKey = 'ak-7Hq2LmX9pR4tVw8z';
    const err = await failure(
      client(url, { headers: { 'X-Api-Key': apiKey, Authorization: `Basic ${TOKEN}` } }),
    );
    const text = allText(err);
    expectNoPieceOf(text, apiKey);
    expectNoPieceOf(text, TOKEN);
  });

  it('a token read from a file is redacted too, and its trailing newline is not sent', async () => {
    let sent: string | undefined;
    const url = await serve((req, res) => {
      sent = req.headers.authorization;
      echoHeaders(185)(req, res);
    });
    const path = join(dir, 'token');
    writeFileSync(path, `${TOKEN}\n`);
    const err = await failure(client(url, { tokenPath: path }));
    expect(sent).toBe(`Bearer ${TOKEN}`);
    expectNoPieceOf(allText(err), TOKEN);
  });

  it('a token file that is empty, or holds a line break inside the token, is refused naming the file', async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      res.end('{}');
    });
    const empty = join(dir, 'empty-token');
    writeFileSync(empty, '\n');
    await expect(client(url, { tokenPath: empty }).query('up')).rejects.toThrow(
      `Prometheus token file ${empty} is empty`,
    );
    const twoLines = join(dir, 'two-line-token');
    writeFileSync(twoLines, 'abc\ndef\n');
    await expect(client(url, { tokenPath: twoLines }).query('up')).rejects.toThrow(
      `Prometheus token file ${twoLines} holds a line break or control character inside the token`,
    );
    expect(requests).toBe(0);
  });

  it('a sample value that echoes the token is refused with the token redacted', async () => {
    const url = await serve((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, `Bearer ${TOKEN}`] }] },
        }),
      );
    });
    const err = await failure(client(url, { bearerToken: TOKEN }));
    expect(err.message).toMatch(/sample value "Bearer \[redacted\]" is not a number/);
    expectNoPieceOf(allText(err), TOKEN);
  });

  it('Prometheus warnings that echo a credential are logged redacted and bounded', async () => {
    const url = await serve((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [] },
          warnings: [
            `echo Bearer ${TOKEN}`,
            'w'.repeat(1_000_000),
            ...Array.from({ length: 500 }, (_, i) => `w${i}`),
          ],
        }),
      );
    });
    const { logger, lines: logged } = captureLogger();
    await client(url, { bearerToken: TOKEN, logger }).query('up');
    const lines = logged
      .filter((l) => l.level === 'warn' && l.msg?.includes('returned warnings'))
      .map((l) => JSON.stringify(l.obj) + (l.msg ?? ''));
    expect(lines).toHaveLength(1);
    expectNoPieceOf(lines[0] ?? '', TOKEN);
    expect((lines[0] ?? '').length).toBeLessThan(8000);
    expect(lines[0]).toContain('(492 more warnings not shown)');
  });
});

describe('status text is short and stable', () => {
  it('a proxy page that carries a request id gives the same condition message on every failure', async () => {
    let n = 0;
    const url = await serve((_req, res) => {
      n++;
      res.writeHead(503, { 'Content-Type': 'text/html' });
      res.end(`<h1>Service Unavailable</h1><p>request id ${n}-${Math.random()}</p>`);
    });
    const c = client(url);
    const messages = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const err = await collectFleetMetrics(c).catch((e: unknown) => e);
      messages.add(availabilityFromError('m', 'ns', err).message);
    }
    expect(messages.size).toBe(1);
    const [message] = messages;
    expect(message).toBe(
      `cannot read vLLM metrics for model m in namespace ns from Prometheus: Prometheus at ${url}/api/v1/query answered HTTP 503`,
    );
  });

  it('a Prometheus error reply keeps its type in the status, not its changing text', async () => {
    let n = 0;
    const url = await serve((_req, res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'execution', error: `query ${++n} failed` }));
    });
    const c = client(url);
    const a = failureSummary(await failure(c));
    const b = failureSummary(await failure(c));
    expect(a).toBe(b);
    expect(a).toBe(`Prometheus at ${url}/api/v1/query rejected the query (execution, HTTP 422)`);
  });
});

describe('floods', () => {
  it('a 10 MB error string makes a message of at most a few hundred characters', async () => {
    const huge = `boom ${'e'.repeat(10 * 1024 * 1024)}`;
    const url = await serve((_req, res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'x'.repeat(100_000), error: huge }));
    });
    // A cap above the reply, so that the error string itself is what must be bounded.
    const err = await failure(client(url, { maxReplyBytes: 64 * 1024 * 1024 }));
    expect(err.message.length).toBeLessThan(1000);
    expect(err.message).toMatch(/^Prometheus at .* rejected the query \(x+…, HTTP 422\): boom e+…$/);
    expect(failureSummary(err).length).toBeLessThan(300);
  });

  it('a 10 MB non-JSON error page and a 10 MB status line give short messages too', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(500, 'r'.repeat(60_000), { 'Content-Type': 'text/plain' });
      res.end('p'.repeat(10 * 1024 * 1024));
    });
    const err = await failure(client(url, { maxReplyBytes: 64 * 1024 * 1024 }));
    expect(err.message.length).toBeLessThan(1000);
  });

  it('control characters from a reply are escaped in messages, not passed to a terminal', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'a\u001b]0;pwned\u0007b\u009bc' }),
      );
    });
    const err = await failure(client(url));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(err.message).toContain('a\\u001b]0;pwned\\u0007b\\u009bc');
  });

  it('a reply over the cap is refused with one line naming the limit, before it is all read', async () => {
    const url = await serve((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.write('{"status":"success","data":{"resultType":"vector","result":[');
      const series = '{"metric":{"model_name":"m","namespace":"n","stat":"x"},"value":[1,"1"]},';
      const chunk = series.repeat(1000);
      let sent = 0;
      const more = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('{"metric":{},"value":[1,"1"]}]}}');
      };
      more();
    });
    const err = await failure(client(url, { maxReplyBytes: 1024 * 1024 }));
    expect(err.message).toBe(
      `Prometheus at ${url}/api/v1/query sent a reply larger than the 1 MiB limit (maxReplyBytes); refused unread`,
    );
  });

  it('a reply whose Content-Length is over the cap is refused without reading it', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(64 * 1024 * 1024) });
      res.write('{');
    });
    const err = await failure(client(url, { maxReplyBytes: 1024 * 1024 }));
    expect(err.message).toMatch(/larger than the 1 MiB limit/);
  });
});

describe('TLS files are checked at start', () => {
  it('a CA file that is not PEM is refused when the client is built, naming the file', () => {
    const path = join(dir, 'ca.crt');
    writeFileSync(path, 'this is not a certificate\n');
    expect(() => new PrometheusClient({ url: 'https://prometheus:9090', caCertPath: path })).toThrow(
      `Prometheus CA certificate ${path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
    );
  });

  it('a PEM block that does not parse is refused, naming the file', () => {
    const path = join(dir, 'bad.crt');
    writeFileSync(path, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => new PrometheusClient({ url: 'https://prometheus:9090', caCertPath: path })).toThrow(
      new RegExp(`^Prometheus CA certificate ${path}: certificate 1 does not parse`),
    );
  });

  it('a client key that does not match its certificate file is refused at start', () => {
    const cert = join(dir, 'c.crt');
    const key = join(dir, 'c.key');
    writeFileSync(cert, 'nope');
    writeFileSync(key, 'nope');
    expect(
      () =>
        new PrometheusClient({ url: 'https://prometheus:9090', clientCertPath: cert, clientKeyPath: key }),
    ).toThrow(new RegExp(`Prometheus client certificate ${cert} / key ${key}`));
  });
});
