// The credentials a Prometheus request carries, and their removal from whatever text comes back: a
// proxy's error page may echo the request headers, and that text goes into errors, logs and
// VariantAutoscaling conditions.

import { PrometheusError } from './errors.js';
import type { Redact } from './parse.js';

/** Header values shorter than this are not treated as secrets (redacting "a" would garble every message). */
const MIN_SECRET_LENGTH = 4;

/** A function that replaces each secret in a text, longest first (one may contain another). */
export function redactorOf(secrets: Iterable<string>): Redact {
  const list = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH);
  list.sort((a, b) => b.length - a.length);
  if (list.length === 0) return (s) => s;
  return (text) => {
    let out = text;
    for (const secret of list) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    return out;
  };
}

/** The credentials a request carries, as they could come back in a reply. */
export function credentialsOf(base: URL, headers: Record<string, string>): string[] {
  const out: string[] = [];
  if (base.password) {
    const user = decodeURIComponent(base.username);
    const pass = decodeURIComponent(base.password);
    out.push(pass, base.password, `${user}:${pass}`, Buffer.from(`${user}:${pass}`).toString('base64'));
  }
  for (const value of Object.values(headers)) {
    const v = String(value).trim();
    out.push(v);
    // "Basic abc", "Bearer abc": the credential alone, too.
    const space = v.indexOf(' ');
    if (space > 0) out.push(v.slice(space + 1).trim());
  }
  return out;
}

/**
 * Replaces secrets in our error's message, summary, stack and body snippet (in place). Other
 * errors (the caller's abort reason) are theirs and pass through untouched.
 */
export function redactInError(err: unknown, redact: Redact): void {
  if (!(err instanceof PrometheusError)) return;
  const e = err as Error & { bodySnippet?: unknown; summary?: unknown };
  e.message = redact(e.message);
  if (typeof e.stack === 'string') e.stack = redact(e.stack);
  if (typeof e.summary === 'string') e.summary = redact(e.summary);
  if (typeof e.bodySnippet === 'string') {
    Object.defineProperty(e, 'bodySnippet', { value: redact(e.bodySnippet) });
  }
}
