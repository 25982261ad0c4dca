// A small Prometheus HTTP API client for instant queries: form POST to /api/v1/query (fleet queries
// are long), a timeout per request combined with the caller's AbortSignal, bearer token (string or
// a mounted file re-read when it changes), TLS (CA, client certificate, server name), extra headers
// (e.g. a Thanos/Mimir tenant header), and typed errors. It settles every request exactly once:
// no hang past the timeout, no unhandled rejection, no secret in a log line or error message.
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger, PromAPI, PromQueryData, PromQueryOptions } from '../types.js';
import {
  PrometheusError,
  PrometheusNetworkError,
  PrometheusReplyError,
  PrometheusTimeoutError,
} from './errors.js';
import { parseQueryReply } from './parse.js';

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
  logger?: Logger;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Replies larger than this are refused rather than buffered. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/** The URL without user:password, for messages and logs. */
function displayUrl(u: URL): string {
  const copy = new URL(u.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PrometheusError(`cannot read Prometheus ${what} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Replaces `secret` in an error's message, stack and body snippet (in place). */
function redactInError(err: unknown, secret: string): void {
  if (!(err instanceof Error)) return;
  const scrub = (s: string) => s.split(secret).join('[redacted]');
  const e = err as Error & { bodySnippet?: unknown };
  if (e.message.includes(secret)) e.message = scrub(e.message);
  if (typeof e.stack === 'string' && e.stack.includes(secret)) e.stack = scrub(e.stack);
  if (typeof e.bodySnippet === 'string' && e.bodySnippet.includes(secret)) {
    Object.defineProperty(e, 'bodySnippet', { value: scrub(e.bodySnippet) });
  }
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
  private readonly logger: Logger;

  constructor(options: PrometheusClientOptions) {
    this.logger = options.logger ?? silentLogger;
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new PrometheusError(`Prometheus URL ${JSON.stringify(options.url)} is not a valid URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new PrometheusError(`Prometheus URL ${displayUrl(base)} must start with http:// or https://`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.endpoint = new URL('api/v1/query', base);
    this.url = displayUrl(this.endpoint);

    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new PrometheusError(`Prometheus timeout must be a positive number of ms, got ${timeoutMs}`);
    }
    this.timeoutMs = timeoutMs;
    this.headers = { ...options.headers };
    this.bearerToken = options.bearerToken?.trim() || undefined;
    this.tokenPath = this.bearerToken ? undefined : options.tokenPath || undefined;

    const tls = {
      ca: readPem(options.caCertPath, 'CA certificate'),
      cert: readPem(options.clientCertPath, 'client certificate'),
      key: readPem(options.clientKeyPath, 'client key'),
    };
    if (Boolean(tls.cert) !== Boolean(tls.key)) {
      throw new PrometheusError('Prometheus mutual TLS needs both clientCertPath and clientKeyPath');
    }
    if (base.protocol === 'https:') {
      this.transport = https;
      const insecure = options.insecureSkipVerify === true;
      if (insecure) {
        this.logger.warn(
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
        this.logger.warn({ url: this.url }, 'Prometheus URL is plain http: the TLS settings are ignored');
      }
      if (this.bearerToken || this.tokenPath) {
        this.logger.warn(
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
    let data: PromQueryData;
    try {
      data = await this.send(body, headers, signal);
    } catch (err) {
      // A proxy's error page may echo the request headers back; its snippet must not carry the token
      // into an error message, and from there into a VariantAutoscaling condition.
      if (token) redactInError(err, token);
      throw err;
    }
    if (data.warnings?.length) {
      this.logger.warn(
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
      const value = (await readFile(path, 'utf8')).trim();
      this.tokenCache = { mtimeMs: st.mtimeMs, size: st.size, value };
      if (cached) this.logger.info({ tokenPath: path }, 'Prometheus token file changed; using the new token');
      return value || undefined;
    } catch (err) {
      throw new PrometheusError(`cannot read Prometheus token file ${path}: ${(err as Error).message}`, {
        url: this.url,
        cause: err,
      });
    }
  }

  private send(body: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<PromQueryData> {
    const url = this.url;
    // The signal may have fired while the token was read: an 'abort' listener added now never runs.
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<PromQueryData>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: unknown, data?: PromQueryData) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
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
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) {
              finish(new PrometheusReplyError(url, `reply larger than ${MAX_REPLY_BYTES} bytes`));
              req.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err) => finish(new PrometheusNetworkError(url, err)));
          res.on('aborted', () =>
            finish(new PrometheusNetworkError(url, new Error('connection closed mid-reply'))),
          );
          res.on('end', () => {
            if (settled) return;
            try {
              const text = Buffer.concat(chunks).toString('utf8');
              const data = parseQueryReply(
                url,
                res.statusCode ?? 0,
                res.statusMessage ?? '',
                text,
                String(res.headers['content-type'] ?? ''),
              );
              finish(undefined, data);
            } catch (err) {
              finish(err);
            }
          });
        },
      );
      req.on('error', (err) => finish(new PrometheusNetworkError(url, err)));
      timer = setTimeout(() => {
        finish(new PrometheusTimeoutError(url, this.timeoutMs));
        req.destroy();
      }, this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }
}
