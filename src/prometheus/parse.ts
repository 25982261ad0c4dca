// Checks a Prometheus HTTP API reply before anything reads it: whatever bytes arrive, the result is
// either well-formed PromQueryData or a typed PrometheusError, never a TypeError further down.
import type { PromMatrixSeries, PromQueryData, PromSample, PromVectorSeries } from '../types.js';
import { PrometheusApiError, PrometheusHttpError, PrometheusReplyError } from './errors.js';

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

function checkData(url: string, data: unknown): PromQueryData {
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
        if (resultType === 'vector') {
          if (!isSample(s.value)) throw new PrometheusReplyError(url, `series ${i} has no valid "value"`);
        } else if (!Array.isArray(s.values) || !s.values.every(isSample)) {
          throw new PrometheusReplyError(url, `series ${i} has no valid "values"`);
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
      throw new PrometheusReplyError(url, `unknown resultType ${JSON.stringify(resultType)}`);
  }
}

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
    throw new PrometheusApiError(url, status, errorType, error);
  }
  if (status < 200 || status > 299) throw new PrometheusHttpError(url, status, statusText, body);
  if (!parsed) throw new PrometheusReplyError(url, 'body is not JSON', body);
  if (!isObject(json)) throw new PrometheusReplyError(url, 'body is not a JSON object', body);
  if (json.status !== 'success') {
    throw new PrometheusReplyError(url, `"status" is ${JSON.stringify(json.status) ?? 'missing'}`, body);
  }
  const data = checkData(url, json.data);
  const { warnings } = json;
  if (Array.isArray(warnings) && warnings.length > 0) {
    data.warnings = warnings.map((w) => (typeof w === 'string' ? w : JSON.stringify(w)));
  }
  return data;
}

/**
 * A sample value as a number. Prometheus writes NaN, +Inf and -Inf as such; all three (and the
 * Inf spellings Go may produce) come back as NaN or ±Infinity for the caller to judge.
 * Throws PrometheusReplyError for anything that is not a number at all.
 */
export function sampleValue(url: string, value: string): number {
  switch (value) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (Number.isNaN(n))
    throw new PrometheusReplyError(url, `sample value ${JSON.stringify(value)} is not a number`);
  return n;
}
