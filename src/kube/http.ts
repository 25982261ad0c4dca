// The one HTTP path to the API server: every call the controller makes (lists, watches, status
// patches, the Lease, the ConfigMap) goes over node:http(s) with a kept-alive agent and a deadline
// for the WHOLE request (authentication, connect, send, headers and body), not just socket
// idleness: an API server that accepts connections and never answers cannot hold anything up.
// Authentication, TLS material and proxies come from the KubeConfig itself
// (`applyToHTTPSOptions`, public), so tokens, client certificates and exec/OIDC providers work as
// they do for client-node. Why not client-node's generated API: it goes through undici's fetch,
// whose per-request state is only freed by a full GC (a FinalizationRegistry holding each body
// stream), and builds a new connection pool per call.
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

/** Deadline of one request (and of a watch's response headers); default of `timeoutMs`. */
export const DEFAULT_KUBE_TIMEOUT_MS = 30_000;
/** A watch asks the server to end it after this long; the informer then re-watches from its version. */
export const WATCH_TIMEOUT_S = 300;
/** Answers longer than this are refused (a page of a list is a few MB at most). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

// client-node's cached agent (`new http(s).Agent()`) does not keep connections alive, so each
// request would open (and for HTTPS, handshake) a new one. Ours does; TLS material still comes
// per request from the KubeConfig, so a rotated certificate is used for new connections.
const agents = new WeakMap<KubeConfig, { http: http.Agent; https: https.Agent }>();

function keepAliveAgent(kc: KubeConfig, protocol: string): http.Agent {
  let a = agents.get(kc);
  if (!a) {
    const o = { keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 32 };
    a = { http: new http.Agent(o), https: new https.Agent(o) };
    agents.set(kc, a);
  }
  return protocol === 'http:' ? a.http : a.https;
}

export interface KubeRequest {
  method: 'GET' | 'PATCH' | 'POST' | 'PUT';
  /** API path, e.g. /apis/g/v1/namespaces/ns/plural/name/status (query string allowed). */
  path: string;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Deadline of the whole request, from the call to the last byte; default 30 s. */
  timeoutMs?: number;
}

/** No full answer within the deadline. `name` is TimeoutError, as for AbortSignal.timeout(). */
export class KubeTimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the API server within ${ms} ms`);
  }
}

interface Exchange<T> {
  what: string;
  /** Deadline until the response headers arrive. */
  headersMs: number;
  /** Deadline of everything, headers included. */
  totalMs: number;
  signal?: AbortSignal;
  /** Consumes the response: calls ok or fail exactly once. */
  handle(res: http.IncomingMessage, ok: (v: T) => void, fail: (err: unknown) => void): void;
}

/** Sends one request and settles once: with the handler's result, an error, the deadline or the abort. */
function exchange<T>(kc: KubeConfig, r: KubeRequest, x: Exchange<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let req: http.ClientRequest | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (err: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(total);
      x.signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(value as T);
      else {
        reject(err);
        req?.destroy();
      }
    };
    const onAbort = () =>
      settle(x.signal?.reason ?? new DOMException('This operation was aborted', 'AbortError'));
    const total = setTimeout(() => settle(new KubeTimeoutError(x.what, x.totalMs)), x.totalMs);
    if (x.headersMs < x.totalMs) {
      timer = setTimeout(() => settle(new KubeTimeoutError(x.what, x.headersMs)), x.headersMs);
    }
    if (x.signal?.aborted) return onAbort();
    x.signal?.addEventListener('abort', onAbort, { once: true });
    requestOptions(kc, r).then(
      ({ options, payload, request }) => {
        if (settled) return;
        req = request(options);
        req.on('error', (err) => settle(err));
        req.on('response', (res) => {
          clearTimeout(timer);
          res.on('error', (err) => settle(err));
          res.on('aborted', () => settle(new Error(`${x.what}: connection closed mid-answer`)));
          x.handle(
            res,
            (v) => settle(undefined, v),
            (err) => settle(err),
          );
        });
        req.end(payload);
      },
      (err: unknown) => settle(err),
    );
  });
}

async function requestOptions(kc: KubeConfig, r: KubeRequest) {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const base = new URL(cluster.server);
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  // A proxy needs client-node's proxy agent; otherwise our kept-alive one.
  if (!cluster.proxyUrl) opts.agent = keepAliveAgent(kc, base.protocol);
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  const headers: http.OutgoingHttpHeaders = {
    ...(opts.headers as http.OutgoingHttpHeaders),
    accept: 'application/json',
    'user-agent': 'wva-metrics',
  };
  if (payload !== undefined) {
    headers['content-type'] = r.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  const prefix = base.pathname.replace(/\/$/, '');
  const options: https.RequestOptions = {
    ...opts,
    protocol: base.protocol,
    hostname: base.hostname.replace(/^\[|\]$/g, ''),
    port: base.port || undefined,
    method: r.method,
    path: prefix + r.path,
    headers,
  };
  return { options, payload, request: base.protocol === 'http:' ? http.request : https.request };
}

/** Reads a whole (bounded) body. */
function readBody(
  res: http.IncomingMessage,
  what: string,
  done: (err: unknown, text?: string) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY_BYTES) {
      res.destroy();
      done(new Error(`${what}: answer larger than ${MAX_BODY_BYTES} bytes`));
      return;
    }
    chunks.push(c);
  });
  res.on('end', () => done(undefined, Buffer.concat(chunks).toString('utf8')));
}

/** client-node's error type for a non-2xx answer, so callers handle errors as for its generated API. */
function apiException(res: http.IncomingMessage, text: string): ApiException<string> {
  const code = res.statusCode ?? 0;
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v;
  return new ApiException<string>(code, `HTTP ${code}`, text, h);
}

/**
 * Sends one request; resolves with the parsed JSON body of a 2xx answer, rejects with client-node's
 * ApiException (code, body) otherwise, with KubeTimeoutError past the deadline, or with the abort
 * reason.
 */
export function kubeRequest<T>(kc: KubeConfig, r: KubeRequest): Promise<T> {
  const what = `${r.method} ${r.path.split('?')[0]}`;
  const ms = r.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
  return exchange<T>(kc, r, {
    what,
    headersMs: ms,
    totalMs: ms,
    signal: r.signal,
    handle: (res, ok, fail) =>
      readBody(res, what, (err, text = '') => {
        if (err) return fail(err);
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) return fail(apiException(res, text));
        try {
          ok(JSON.parse(text) as T);
        } catch (e) {
          fail(new Error(`${what}: answer is not JSON: ${(e as Error).message}`));
        }
      }),
  });
}

/** A ConfigMap's data; undefined when there is no such ConfigMap (404). Other failures reject. */
export async function getConfigMap(
  kc: KubeConfig,
  namespace: string,
  name: string,
  o: Pick<KubeRequest, 'signal' | 'timeoutMs'> = {},
): Promise<Record<string, string> | undefined> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
  try {
    const cm = await kubeRequest<{ data?: Record<string, string> }>(kc, { method: 'GET', path, ...o });
    return cm.data ?? {};
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

export type WatchCallback = (type: string, object: unknown, raw: unknown) => void;

/**
 * A watch stream: one callback per event line. Resolves when the server ends the stream (after
 * `timeoutSeconds`, WATCH_TIMEOUT_S by default), rejects with ApiException for a non-200 answer
 * (410 Gone included), with KubeTimeoutError when the headers take longer than `timeoutMs` or the
 * stream outlives the time asked for by 30 s, or with the abort reason.
 */
export function kubeWatch(
  kc: KubeConfig,
  path: string,
  params: Record<string, string | number | boolean | undefined>,
  onEvent: WatchCallback,
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  q.set('watch', 'true');
  if (!q.has('timeoutSeconds')) q.set('timeoutSeconds', String(WATCH_TIMEOUT_S));
  const what = `watch ${path}`;
  return exchange<void>(
    kc,
    { method: 'GET', path: `${path}?${q}` },
    {
      what,
      headersMs: o.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS,
      totalMs: (Number(q.get('timeoutSeconds')) + 30) * 1000,
      signal: o.signal,
      handle: (res, ok, fail) => {
        if (res.statusCode !== 200) {
          readBody(res, what, (err, text = '') => fail(err ?? apiException(res, text)));
          return;
        }
        const decoder = new StringDecoder('utf8');
        let pending = '';
        const lines = (text: string) => {
          pending += text;
          let nl = pending.indexOf('\n');
          while (nl >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line) {
              let event: { type?: unknown; object?: unknown } | undefined;
              try {
                event = JSON.parse(line) as { type?: unknown; object?: unknown };
              } catch {
                // A line that is not JSON carries no event; the next ones may.
              }
              if (event && typeof event.type === 'string') onEvent(event.type, event.object, event);
            }
            nl = pending.indexOf('\n');
          }
          if (pending.length > MAX_BODY_BYTES) {
            res.destroy();
            fail(new Error(`${what}: event larger than ${MAX_BODY_BYTES} bytes`));
          }
        };
        res.on('data', (c: Buffer) => lines(decoder.write(c)));
        res.on('end', () => {
          lines(`${decoder.end()}\n`);
          ok();
        });
      },
    },
  );
}

/**
 * What client-node's informer (ListWatch) needs of a Watch, over kubeWatch: `done` is called once,
 * with null when the stream ended or was stopped, with the error otherwise (a TimeoutError makes the
 * informer re-watch at once from its resource version; a 410 makes it list again).
 */
export class HttpWatch {
  constructor(readonly kubeConfig: KubeConfig) {}

  async watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    let called = false;
    const finish = (err: unknown) => {
      if (called) return;
      called = true;
      done(err);
    };
    kubeWatch(this.kubeConfig, path, params, callback, { signal: controller.signal }).then(
      () => finish(null),
      (err: unknown) => finish(controller.signal.aborted ? null : err),
    );
    return controller;
  }
}

/** The HTTP status of a failed API call, if it has one. */
export function apiErrorCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const c = (err as { code?: unknown; statusCode?: unknown } | undefined)?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

/** The Kubernetes Status message of an ApiException, on one line. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* plain text */
      }
    }
    const msg = (body as { message?: string } | undefined)?.message ?? String(err.body ?? '');
    // Bounded: an error page (a proxy's, say) can be any length.
    const line = `HTTP ${err.code}: ${msg}`.split('\n')[0] ?? '';
    return line.length > 500 ? `${line.slice(0, 500)}…` : line;
  }
  return err instanceof Error ? err.message : String(err);
}
