// Checks a Prometheus HTTP API reply before anything reads it: whatever bytes arrive, the result is
// either well-formed PromQueryData or a typed PrometheusError, never a TypeError further down.
// Reply text that goes into an error passes through the caller's `redact` first, whole, before
// anything shortens it: a credential cut in half by a snippet could no longer be found.
import type { PromMatrixSeries, PromQueryData, PromSample, PromVectorSeries } from '../types.js';
import { PrometheusApiError, PrometheusHttpError, PrometheusReplyError, replyText } from './errors.js';
import { nonFiniteSampleValue } from './sample-value.js';

/** Removes the credentials the request carried from text the server sent back. */
export type Redact = (text: string) => string;
const keep: Redact = (s) => s;

/** A value from the reply, quoted and shortened, for a problem description. */
function shown(v: unknown, redact: Redact): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = typeof v;
  }
  return replyText(redact(text), 64);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSample(v: unknown): v is PromSample {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string';
}

function isLabels(v: unknown): v is Record<string, string> {
  if (!isObject(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

function checkData(url: string, data: unknown, redact: Redact): PromQueryData {
  if (!isObject(data)) throw new PrometheusReplyError(url, '"data" is not an object');
  const { resultType, result } = data;
  switch (resultType) {
    case 'vector':
    case 'matrix': {
      if (!Array.isArray(result))
        throw new PrometheusReplyError(url, `${resultType} "result" is not an array`);
      for (let i = 0; i < result.length; i++) {
        const s: unknown = result[i];
        if (!isObject(s) || !isLabels(s.metric)) {
          throw new PrometheusReplyError(url, `series ${i} has no valid "metric" labels`);
        }
        // Values are checked here too, where `redact` is known: a value echoing a credential must
        // not reach a message unredacted from the reader further down.
        if (resultType === 'vector') {
          if (!isSample(s.value)) throw new PrometheusReplyError(url, `series ${i} has no valid "value"`);
          sampleValue(url, s.value[1], redact);
        } else if (!Array.isArray(s.values) || !s.values.every(isSample)) {
          throw new PrometheusReplyError(url, `series ${i} has no valid "values"`);
        } else {
          for (const v of s.values) sampleValue(url, v[1], redact);
        }
      }
      return resultType === 'vector'
        ? { resultType, result: result as PromVectorSeries[] }
        : { resultType, result: result as PromMatrixSeries[] };
    }
    case 'scalar':
    case 'string':
      if (!isSample(result))
        throw new PrometheusReplyError(url, `${resultType} "result" is not [time, "value"]`);
      return { resultType, result };
    default:
      throw new PrometheusReplyError(url, `unknown resultType ${shown(resultType, redact)}`);
  }
}

/** Warnings kept from one reply. */
const MAX_WARNINGS = 10;

/**
 * Turns an HTTP answer of /api/v1/query into its `data` (plus `warnings`), or throws:
 * PrometheusApiError for an error reply (whatever the HTTP status), PrometheusHttpError for any
 * other non-2xx answer, PrometheusReplyError for a 2xx answer that is not a valid reply.
 */
export function parseQueryReply(
  url: string,
  status: number,
  statusText: string,
  body: string,
  contentType = '',
  redact: Redact = keep,
): PromQueryData {
  let json: unknown;
  let parsed = false;
  if (/json/i.test(contentType) || /^\s*[{[]/.test(body)) {
    try {
      json = JSON.parse(body);
      parsed = true;
    } catch {
      // not JSON after all; handled below
    }
  }
  if (parsed && isObject(json) && json.status === 'error') {
    const errorType = typeof json.errorType === 'string' ? json.errorType : 'unknown';
    const error = typeof json.error === 'string' ? json.error : 'no error message';
    throw new PrometheusApiError(url, status, redact(errorType), redact(error));
  }
  if (status < 200 || status > 299) {
    throw new PrometheusHttpError(url, status, redact(statusText), redact(body));
  }
  if (!parsed) throw new PrometheusReplyError(url, 'body is not JSON', redact(body));
  if (!isObject(json)) throw new PrometheusReplyError(url, 'body is not a JSON object', redact(body));
  if (json.status !== 'success') {
    const st = json.status === undefined ? 'missing' : shown(json.status, redact);
    throw new PrometheusReplyError(url, `"status" is ${st}`, redact(body));
  }
  const data = checkData(url, json.data, redact);
  const { warnings } = json;
  if (Array.isArray(warnings) && warnings.length > 0) {
    // Bounded: a warning is logged, and a reply could hold millions of them, each of any length.
    data.warnings = warnings
      .slice(0, MAX_WARNINGS)
      .map((w) => replyText(redact(typeof w === 'string' ? w : (JSON.stringify(w) ?? String(w)))));
    if (warnings.length > MAX_WARNINGS) {
      data.warnings.push(`(${warnings.length - MAX_WARNINGS} more warnings not shown)`);
    }
  }
  return data;
}

/**
 * A sample value as a number. Prometheus writes NaN, +Inf and -Inf as such; all three (and the
 * Inf spellings Go may produce) come back as NaN or ±Infinity for the caller to judge.
 * Throws PrometheusReplyError for anything that is not a number at all.
 */
export function sampleValue(url: string, value: string, redact: Redact = keep): number {
  const special = nonFiniteSampleValue(value);
  if (special !== undefined) return special;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (Number.isNaN(n))
    throw new PrometheusReplyError(url, `sample value ${shown(value, redact)} is not a number`);
  return n;
}
