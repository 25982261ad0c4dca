// Typed failures of a Prometheus query. Every message is one line that says what happened and
// where (the URL, without credentials), bounded in length whatever the reply held, so it can go
// straight into a log or a CLI error. `summary` is the same without anything taken from the reply
// body: short, and the same while the cause is the same, for VariantAutoscaling conditions (a
// message that changes with a proxy's request id would rewrite every status every cycle).
// Text taken from a reply reaches these classes already redacted (see the client): they only
// shorten it and escape control characters.
import { escapeControls } from '../safe-text.js';

/** The longest piece of reply text (body snippet, error string) a message carries. */
export const MAX_REPLY_TEXT = 200;

/** Base class: any failure to get an answer from Prometheus. */
export class PrometheusError extends Error {
  override name = 'PrometheusError';
  /** The endpoint asked (credentials removed), when known. */
  readonly url: string | undefined;
  /** The message without reply content: stable while the cause is the same. */
  summary: string;
  constructor(message: string, options?: { url?: string; cause?: unknown; summary?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.url = options?.url;
    this.summary = options?.summary ?? message;
  }
}

/** The client's own settings are unusable (bad URL, unreadable or non-PEM TLS file): found at start. */
export class PrometheusConfigError extends PrometheusError {
  override name = 'PrometheusConfigError';
}

/** A non-2xx HTTP answer that is not a Prometheus error reply (a proxy's HTML page, say). */
export class PrometheusHttpError extends PrometheusError {
  override name = 'PrometheusHttpError';
  readonly status: number;
  /** The start of the body, whitespace collapsed, control characters escaped. */
  readonly bodySnippet: string;
  constructor(url: string, status: number, statusText: string, body: string) {
    const snippet = replyText(body);
    const reason = replyText(statusText, 64);
    const summary = `Prometheus at ${url} answered HTTP ${status}`;
    super(`${summary}${reason ? ` ${reason}` : ''}${snippet ? `: ${snippet}` : ''}`, { url, summary });
    this.status = status;
    this.bodySnippet = snippet;
  }
}

/** Prometheus answered with `"status":"error"`: bad query, execution error, timeout, ... */
export class PrometheusApiError extends PrometheusError {
  override name = 'PrometheusApiError';
  /** Prometheus' errorType: bad_data, execution, timeout, canceled, internal, unavailable, ... */
  readonly errorType: string;
  readonly status: number;
  constructor(url: string, status: number, errorType: string, error: string) {
    const type = replyText(errorType, 40);
    const summary = `Prometheus at ${url} rejected the query (${type}, HTTP ${status})`;
    super(`${summary}: ${replyText(error)}`, { url, summary });
    this.errorType = type;
    this.status = status;
  }
}

/** The request never got an answer: refused, reset, DNS failure, TLS failure, ... */
export class PrometheusNetworkError extends PrometheusError {
  override name = 'PrometheusNetworkError';
  /** Node's error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...), when there is one. */
  readonly code: string | undefined;
  constructor(url: string, cause: Error & { code?: string }) {
    const what = replyText(cause.message || cause.code || 'network error', 300);
    const code = typeof cause.code === 'string' ? replyText(cause.code, 40) : undefined;
    super(`cannot reach Prometheus at ${url}: ${what}`, {
      url,
      cause,
      summary: `cannot reach Prometheus at ${url}: ${code ?? what}`,
    });
    this.code = cause.code;
  }
}

/** No full answer within the per-request timeout. */
export class PrometheusTimeoutError extends PrometheusError {
  override name = 'PrometheusTimeoutError';
  readonly timeoutMs: number;
  constructor(url: string, timeoutMs: number) {
    super(`Prometheus at ${url} did not answer within ${timeoutMs} ms`, { url });
    this.timeoutMs = timeoutMs;
  }
}

/** A 2xx answer that is not a well-formed Prometheus query reply. */
export class PrometheusReplyError extends PrometheusError {
  override name = 'PrometheusReplyError';
  /** `problem` is ours (values from the reply in it already shortened with replyText). */
  constructor(url: string, problem: string, body?: string) {
    const snippet = body === undefined ? '' : replyText(body);
    const summary = `malformed reply from Prometheus at ${url}: ${problem}`;
    super(`${summary}${snippet ? ` (body: ${snippet})` : ''}`, { url, summary });
  }
}

/** A reply longer than the client's cap: refused as soon as that is known, never buffered whole. */
export class PrometheusReplyTooLargeError extends PrometheusError {
  override name = 'PrometheusReplyTooLargeError';
  readonly limitBytes: number;
  constructor(url: string, limitBytes: number) {
    super(
      `Prometheus at ${url} sent a reply larger than the ${formatBytes(limitBytes)} limit (maxReplyBytes); refused unread`,
      { url },
    );
    this.limitBytes = limitBytes;
  }
}

/** "64 MiB", "512 KiB", "1000 bytes". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * Reply text made fit for a one-line message: whitespace collapsed, control characters escaped,
 * at most `max` characters (then `…`). Only the first part of a huge text is looked at.
 */
export function replyText(s: string, max = MAX_REPLY_TEXT): string {
  // Whitespace runs collapse, so look a little further than `max` before cutting.
  const head = s.length > max * 8 + 1024 ? s.slice(0, max * 8 + 1024) : s;
  const one = escapeControls(head.replace(/\s+/g, ' ').trim());
  return one.length > max || head.length < s.length ? `${one.slice(0, max)}…` : one;
}

/**
 * What a VariantAutoscaling condition should say about a failure: the summary of the
 * PrometheusError behind it (through `cause`), else the failure's own message, shortened.
 */
export function failureSummary(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    if (e instanceof PrometheusError) return e.summary;
    e = (e as { cause?: unknown }).cause;
  }
  return replyText(err instanceof Error ? err.message : String(err), 300);
}
