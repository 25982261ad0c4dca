// Typed failures of a Prometheus query. Every message is one line that says what happened and
// where (the URL, without credentials), so it can go straight into a log, a CLI error or a
// VariantAutoscaling condition.

/** Base class: any failure to get an answer from Prometheus. */
export class PrometheusError extends Error {
  override name = 'PrometheusError';
  /** The endpoint asked (credentials removed), when known. */
  readonly url: string | undefined;
  constructor(message: string, options?: { url?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.url = options?.url;
  }
}

/** A non-2xx HTTP answer that is not a Prometheus error reply (a proxy's HTML page, say). */
export class PrometheusHttpError extends PrometheusError {
  override name = 'PrometheusHttpError';
  readonly status: number;
  /** The start of the body, whitespace collapsed. */
  readonly bodySnippet: string;
  constructor(url: string, status: number, statusText: string, body: string) {
    const snippet = snippetOf(body);
    super(
      `Prometheus at ${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}${snippet ? `: ${snippet}` : ''}`,
      { url },
    );
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
    super(`Prometheus at ${url} rejected the query (${errorType}, HTTP ${status}): ${oneLine(error)}`, {
      url,
    });
    this.errorType = errorType;
    this.status = status;
  }
}

/** The request never got an answer: refused, reset, DNS failure, TLS failure, ... */
export class PrometheusNetworkError extends PrometheusError {
  override name = 'PrometheusNetworkError';
  /** Node's error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...), when there is one. */
  readonly code: string | undefined;
  constructor(url: string, cause: Error & { code?: string }) {
    super(`cannot reach Prometheus at ${url}: ${oneLine(cause.message || cause.code || 'network error')}`, {
      url,
      cause,
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
  constructor(url: string, problem: string, body?: string) {
    const snippet = body === undefined ? '' : snippetOf(body);
    super(`malformed reply from Prometheus at ${url}: ${problem}${snippet ? ` (body: ${snippet})` : ''}`, {
      url,
    });
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** First 200 characters of a body, whitespace collapsed. */
export function snippetOf(body: string, max = 200): string {
  const s = oneLine(body);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
