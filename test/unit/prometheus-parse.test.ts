import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTextFormat } from '../../src/engines/scale-from-zero/text-format.js';
import {
  PrometheusApiError,
  PrometheusError,
  PrometheusHttpError,
  PrometheusReplyError,
} from '../../src/prometheus/errors.js';
import { parseQueryReply, sampleValue } from '../../src/prometheus/parse.js';
import { nonFiniteSampleValue } from '../../src/prometheus/sample-value.js';

const URL_ = 'http://prom/api/v1/query';

describe('parseQueryReply', () => {
  it('returns a vector reply with its warnings', () => {
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1, '2'] }] },
      warnings: ['partial response'],
    });
    const data = parseQueryReply(URL_, 200, 'OK', body, 'application/json');
    expect(data).toEqual({
      resultType: 'vector',
      result: [{ metric: { a: 'b' }, value: [1, '2'] }],
      warnings: ['partial response'],
    });
  });

  it('accepts scalar, string and matrix replies', () => {
    const ok = (data: unknown) => JSON.stringify({ status: 'success', data });
    expect(parseQueryReply(URL_, 200, '', ok({ resultType: 'scalar', result: [1, '1'] })).resultType).toBe(
      'scalar',
    );
    expect(parseQueryReply(URL_, 200, '', ok({ resultType: 'string', result: [1, 'x'] })).resultType).toBe(
      'string',
    );
    const m = ok({ resultType: 'matrix', result: [{ metric: {}, values: [[1, '1']] }] });
    expect(parseQueryReply(URL_, 200, '', m).resultType).toBe('matrix');
  });

  it('turns an error reply into PrometheusApiError whatever the status', () => {
    const body = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' });
    for (const status of [400, 422, 503, 200]) {
      const err = (() => {
        try {
          parseQueryReply(URL_, status, '', body);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(PrometheusApiError);
      expect((err as PrometheusApiError).errorType).toBe('bad_data');
      expect((err as Error).message).toContain('parse error at char 3');
    }
  });

  it('turns a non-JSON error page into PrometheusHttpError with a snippet', () => {
    const html = '<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>';
    expect(() => parseQueryReply(URL_, 502, 'Bad Gateway', html, 'text/html')).toThrow(PrometheusHttpError);
    expect(() => parseQueryReply(URL_, 502, 'Bad Gateway', html)).toThrow(
      'Prometheus at http://prom/api/v1/query answered HTTP 502 Bad Gateway: <html> <head><title>502 Bad Gateway',
    );
  });

  it('rejects malformed success replies', () => {
    const cases = [
      'not json',
      '[]',
      '{"status":"success"}',
      '{"status":"weird","data":{}}',
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}',
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,1]}]}}',
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}',
      '{"status":"success","data":{"resultType":"histogram","result":[]}}',
    ];
    for (const body of cases)
      expect(() => parseQueryReply(URL_, 200, '', body), body).toThrow(PrometheusReplyError);
  });

  it('throws nothing but a typed error for arbitrary JSON and text (fuzz)', () => {
    const sample = fc.tuple(fc.oneof(fc.double(), fc.integer()), fc.oneof(fc.string(), fc.constant('NaN')));
    const series = fc.record(
      {
        metric: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
        value: fc.oneof(sample, fc.anything()),
      },
      { requiredKeys: [] },
    );
    const reply = fc.record(
      {
        status: fc.constantFrom('success', 'error', 'x'),
        errorType: fc.anything(),
        error: fc.anything(),
        warnings: fc.anything(),
        data: fc.oneof(
          fc.record({
            resultType: fc.constantFrom('vector', 'matrix', 'scalar', 'string', 'x'),
            result: fc.oneof(fc.array(series), sample, fc.anything()),
          }),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      reply.map((r) => JSON.stringify(r)),
      fc.jsonValue().map((j) => JSON.stringify(j)),
      fc.string(),
    );
    fc.assert(
      fc.property(body, fc.integer({ min: 100, max: 599 }), (b, status) => {
        try {
          const data = parseQueryReply(URL_, status, '', b);
          expect(['vector', 'matrix', 'scalar', 'string']).toContain(data.resultType);
        } catch (err) {
          expect(err).toBeInstanceOf(PrometheusError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('sampleValue', () => {
  it('reads numbers and Prometheus special values', () => {
    expect(sampleValue(URL_, '1.5')).toBe(1.5);
    expect(sampleValue(URL_, '1e3')).toBe(1000);
    expect(sampleValue(URL_, 'NaN')).toBeNaN();
    expect(sampleValue(URL_, '+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(sampleValue(URL_, '-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(() => sampleValue(URL_, 'abc')).toThrow(PrometheusReplyError);
    expect(() => sampleValue(URL_, '')).toThrow(PrometheusReplyError);
  });
});

describe('nonFiniteSampleValue', () => {
  it('reads exactly Prometheus spellings of NaN and the infinities, nothing else', () => {
    expect(nonFiniteSampleValue('NaN')).toBeNaN();
    expect(nonFiniteSampleValue('Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(nonFiniteSampleValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(nonFiniteSampleValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    for (const t of ['nan', 'inf', 'Infinity', '-Infinity', '1', '', ' NaN'])
      expect(nonFiniteSampleValue(t)).toBeUndefined();
  });

  it('is how both the API reply and the text format read them, while their finite rules differ', () => {
    for (const t of ['NaN', 'Inf', '+Inf', '-Inf']) {
      expect(sampleValue(URL_, t)).toBe(nonFiniteSampleValue(t));
      expect(parseTextFormat(`m ${t}`)[0]?.value).toBe(nonFiniteSampleValue(t));
    }
    // A JSON reply's string is read as any number; an exposition value only as a plain decimal.
    expect(sampleValue(URL_, '0x10')).toBe(16);
    expect(() => parseTextFormat('m 0x10')).toThrow('line 1: m has no valid value');
  });
});
