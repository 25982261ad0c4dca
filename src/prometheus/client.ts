// A small Prometheus HTTP API client for instant queries: form POST to /api/v1/query (fleet queries
// are long), a timeout per request combined with the caller's AbortSignal, bearer token (string or
// a mounted file re-read when it changes), TLS (CA, client certificate, server name), extra headers
// (e.g. a Thanos/Mimir tenant header), and typed errors. It settles every request exactly once:
// no hang past the timeout, no unhandled rejection, no secret in a log line or error message:
// every credential it sends (the token, the URL's user:password and its Basic encoding, every
// extra header value) is taken out of reply text before any of it is shortened or kept.
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Logger, PromAPI, PromQueryData, PromQueryOptions } from '../types.js';
import { credentialsOf, redactInError, redactorOf } from './credentials.js';
import {
  PrometheusConfigError,
  PrometheusError,
  PrometheusNetworkError,
  PrometheusReplyTooLargeError,
  PrometheusTimeoutError,
} from './errors.js';
import { parseQueryReply, type Redact } from './parse.js';
import { checkCaBundle, checkClientPair, readPem } from './tls-files.js';

export interface PrometheusClientOptions {
  /** Base URL, e.g. https://prometheus:9090 or https://thanos-querier:9091/some/prefix. */
  url: string;
  /** Per request, covering connect, send and the whole reply. Default 10000. */
  timeoutMs?: number;
  /** A bearer token; wins over tokenPath. */
  bearerToken?: string;
  /** A file holding the bearer token (a mounted Secret); re-read whenever its mtime changes. */
  tokenPath?: string;
  /** PEM CA bundle to verify the server with (instead of the system roots). */
  caCertPath?: string;
  /** PEM client certificate and key for mutual TLS. */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** Name to verify the server certificate against (SNI), when it differs from the URL host. */
  serverName?: string;
  /** Skip server certificate verification. Default false; logs a warning when true. */
  insecureSkipVerify?: boolean;
  /** Extra request headers, e.g. { 'X-Scope-OrgID': 'tenant-a' }. */
  headers?: Record<string, string>;
  /** Replies longer than this are refused as soon as that is known. Default DEFAULT_MAX_REPLY_BYTES. */
  maxReplyBytes?: number;
  logger?: Logger;
  /** Schedules the per-request timeout; tests inject their own. Default the global timers. */
  timers?: PrometheusTimers;
}

/** The timer the request timeout runs on. */
export interface PrometheusTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Looked up at each call, so timers faked after construction apply too.
const globalTimers: PrometheusTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * A parsed reply takes several times its size in memory; this cap keeps the controller's peak
 * within its Deployment's memory limit (docs/reliability.md has the measurement).
 */
export const DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024;

/** The URL without user:password, for messages and logs. */
function displayUrl(u: URL): string {
  const copy = new URL(u.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export class PrometheusClient implements PromAPI {
  /** The query endpoint, without credentials. */
  readonly url: string;
  readonly timeoutMs: number;
  private readonly endpoint: URL;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly bearerToken: string | undefined;
  private readonly tokenPath: string | undefined;
  private tokenCache: { mtimeMs: number; size: number; value: string } | undefined;
  private readonly logger: Logger | undefined;
  private readonly maxReplyBytes: number;
  private readonly timers: PrometheusTimers;
  /** Credentials fixed at construction: the URL's userinfo and the extra headers. */
  private readonly fixedSecrets: string[];

  constructor(options: PrometheusClientOptions) {
    this.logger = options.logger;
    this.timers = options.timers ?? globalTimers;
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new PrometheusConfigError(`Prometheus URL ${JSON.stringify(options.url)} is not a valid URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new PrometheusConfigError(
        `Prometheus URL ${displayUrl(base)} must start with http:// or https://`,
      );
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.endpoint = new URL('api/v1/query', base);
    this.url = displayUrl(this.endpoint);

    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new PrometheusConfigError(`Prometheus timeout must be a positive number of ms, got ${timeoutMs}`);
    }
    this.timeoutMs = timeoutMs;
    const maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    if (!Number.isInteger(maxReplyBytes) || maxReplyBytes <= 0) {
      throw new PrometheusConfigError(
        `Prometheus maxReplyBytes must be a positive integer, got ${maxReplyBytes}`,
      );
    }
    this.maxReplyBytes = maxReplyBytes;
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const problem = headerProblem(name, value);
      if (problem) throw new PrometheusConfigError(`Prometheus header: ${problem}`);
    }
    this.headers = { ...options.headers };
    this.bearerToken = options.bearerToken?.trim() || undefined;
    this.tokenPath = this.bearerToken ? undefined : options.tokenPath || undefined;
    this.fixedSecrets = credentialsOf(base, this.headers);
    if (this.bearerToken) this.fixedSecrets.push(this.bearerToken);

    const tls = {
      ca: readPem(options.caCertPath, 'CA certificate'),
      cert: readPem(options.clientCertPath, 'client certificate'),
      key: readPem(options.clientKeyPath, 'client key'),
    };
    if (Boolean(tls.cert) !== Boolean(tls.key)) {
      throw new PrometheusConfigError('Prometheus mutual TLS needs both clientCertPath and clientKeyPath');
    }
    if (tls.ca) checkCaBundle(tls.ca, options.caCertPath as string);
    if (tls.cert && tls.key) {
      checkClientPair(tls.cert, tls.key, options.clientCertPath as string, options.clientKeyPath as string);
    }
    if (base.protocol === 'https:') {
      this.transport = https;
      const insecure = options.insecureSkipVerify === true;
      if (insecure) {
        this.logger?.warn(
          { url: this.url },
          'INSECURE: Prometheus TLS certificate verification is disabled (insecureSkipVerify); anyone on the network path can read and forge the metrics this controller scales on. Set caCertPath instead.',
        );
      }
      this.agent = new https.Agent({
        keepAlive: true,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        ...(options.serverName ? { servername: options.serverName } : {}),
        rejectUnauthorized: !insecure,
      });
    } else {
      this.transport = http;
      this.agent = new http.Agent({ keepAlive: true });
      if (tls.ca || tls.cert || options.serverName || options.insecureSkipVerify) {
        this.logger?.warn({ url: this.url }, 'Prometheus URL is plain http: the TLS settings are ignored');
      }
      if (this.bearerToken || this.tokenPath) {
        this.logger?.warn(
          { url: this.url },
          'Prometheus URL is plain http: the token in the Authorization header travels unencrypted',
        );
      }
    }
  }

  async query(promql: string, time?: Date, options: PromQueryOptions = {}): Promise<PromQueryData> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const form = new URLSearchParams({ query: promql });
    if (time) {
      const ms = time.getTime();
      if (!Number.isFinite(ms)) throw new PrometheusError('query time is an invalid Date');
      form.set('time', (ms / 1000).toString());
    }
    const body = Buffer.from(form.toString());
    const headers: Record<string, string> = {
      ...this.headers,
      'Content-Type': 'application/x-www-form-urlencoded',
      'Content-Length': String(body.length),
      Accept: 'application/json',
      'User-Agent': 'wva-metrics',
    };
    const token = await this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    // A proxy's error page may echo the request headers back: no credential may go from it into an
    // error message, and from there into a log line or a VariantAutoscaling condition.
    const redact = redactorOf(token ? [...this.fixedSecrets, token] : this.fixedSecrets);
    let data: PromQueryData;
    try {
      data = await this.send(body, headers, redact, signal);
    } catch (err) {
      redactInError(err, redact);
      throw err;
    }
    if (data.warnings?.length) {
      this.logger?.warn(
        {
          url: this.url,
          warnings: data.warnings,
          query: promql.length > 200 ? `${promql.slice(0, 200)}…` : promql,
        },
        'Prometheus query returned warnings',
      );
    }
    return data;
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** The bearer token: the string given, or the file's content, re-read when the file changes. */
  private async token(): Promise<string | undefined> {
    if (this.bearerToken) return this.bearerToken;
    const path = this.tokenPath;
    if (!path) return undefined;
    try {
      const st = await stat(path);
      const cached = this.tokenCache;
      if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.value;
      // Secrets are often written with a trailing newline (echo, kubectl create secret --from-file).
      const value = (await readFile(path, 'utf8')).trim();
      if (value === '') {
        throw new PrometheusError(
          `Prometheus token file ${path} is empty: write the bearer token into it, or unset the token path`,
          { url: this.url },
        );
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      if (/[\u0000-\u001f\u007f]/.test(value)) {
        throw new PrometheusError(
          `Prometheus token file ${path} holds a line break or control character inside the token: it must hold the token alone`,
          { url: this.url },
        );
      }
      this.tokenCache = { mtimeMs: st.mtimeMs, size: st.size, value };
      if (cached)
        this.logger?.info({ tokenPath: path }, 'Prometheus token file changed; using the new token');
      return value;
    } catch (err) {
      if (err instanceof PrometheusError) throw err;
      throw new PrometheusError(`cannot read Prometheus token file ${path}: ${(err as Error).message}`, {
        url: this.url,
        cause: err,
      });
    }
  }

  private send(
    body: Buffer,
    headers: Record<string, string>,
    redact: Redact,
    signal?: AbortSignal,
  ): Promise<PromQueryData> {
    const limit = this.maxReplyBytes;
    const url = this.url;
    // The signal may have fired while the token was read: an 'abort' listener added now never runs.
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<PromQueryData>((resolve, reject) => {
      let settled = false;
      let timer: unknown;
      const finish = (err: unknown, data?: PromQueryData) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) this.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined && data) resolve(data);
        else reject(err);
      };
      const onAbort = () => {
        finish(abortReason(signal as AbortSignal));
        req.destroy();
      };

      const req = this.transport.request(
        this.endpoint,
        { method: 'POST', agent: this.agent, headers },
        (res) => {
          let chunks: Buffer[] = [];
          let size = 0;
          const tooLarge = () => {
            chunks = [];
            finish(new PrometheusReplyTooLargeError(url, limit));
            req.destroy();
          };
          if (Number(res.headers['content-length']) > limit) return tooLarge();
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            size += chunk.length;
            if (size > limit) return tooLarge();
            chunks.push(chunk);
          });
          res.on('error', (err) => finish(new PrometheusNetworkError(url, err)));
          res.on('aborted', () =>
            finish(new PrometheusNetworkError(url, new Error('connection closed mid-reply'))),
          );
          res.on('end', () => {
            if (settled) return;
            try {
              // The chunks and their concatenation go before the parse, which needs the memory most.
              const text = Buffer.concat(chunks, size).toString('utf8');
              chunks = [];
              const data = parseQueryReply(
                url,
                res.statusCode ?? 0,
                res.statusMessage ?? '',
                text,
                String(res.headers['content-type'] ?? ''),
                redact,
              );
              finish(undefined, data);
            } catch (err) {
              finish(err);
            }
          });
        },
      );
      req.on('error', (err) => finish(new PrometheusNetworkError(url, err)));
      timer = this.timers.setTimeout(() => {
        finish(new PrometheusTimeoutError(url, this.timeoutMs));
        req.destroy();
      }, this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http accepts in a header value: tab, visible ASCII, space, and Latin-1. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why node:http would refuse this header on every request (a TypeError per query), or undefined. */
export function headerProblem(name: string, value: unknown): string | undefined {
  if (!HEADER_NAME.test(name)) return `${JSON.stringify(name)} is not a header name`;
  if (typeof value !== 'string') return `the value of ${JSON.stringify(name)} must be a string`;
  if (!HEADER_VALUE.test(value)) {
    return `the value of ${JSON.stringify(name)} holds a character an HTTP header cannot carry (a control character such as a line break, or one above U+00FF)`;
  }
  return undefined;
}
