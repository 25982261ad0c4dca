import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkWindow,
  escapeLabelValue,
  escapeRegex,
  fleetQuery,
  modelMatchers,
  modelQuery,
  STATS,
  VLLM_METRICS,
} from '../../src/prometheus/promql.js';

/** Go's strconv.Unquote for the escapes PromQL accepts: what Prometheus reads back. */
function unquote(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '"' || c === '\n') throw new Error(`raw ${JSON.stringify(c)} inside a PromQL string`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      n: '\n',
      r: '\r',
      t: '\t',
      '\\': '\\',
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    if (e !== undefined && e in simple) out += simple[e];
    else if (e === 'x') {
      out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u') {
      // escapeLabelValue writes U+FFFD as \uFFFD (Prometheus' lexer refuses the raw rune).
      out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 5), 16));
      i += 4;
    } else throw new Error(`bad escape \\${e}`);
  }
  return out;
}

describe('escapeLabelValue', () => {
  it('escapes backslash, quote and control characters and nothing else', () => {
    expect(escapeLabelValue('a"b\\c}d\ne\tf')).toBe('a\\"b\\\\c}d\\ne\\tf');
    expect(escapeLabelValue('meta-llama/Llama-3.1-8B')).toBe('meta-llama/Llama-3.1-8B');
    expect(escapeLabelValue('\x00\x7f')).toBe('\\x00\\x7f');
    expect(escapeLabelValue('模型 ✓')).toBe('模型 ✓');
  });

  it('round-trips any string through PromQL unquoting', () => {
    expect(unquote(escapeLabelValue('a\uFFFDb'))).toBe('a\uFFFDb');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(unquote(escapeLabelValue(s))).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('escapeRegex', () => {
  it('makes every regex metacharacter literal', () => {
    const nasty = 'a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o';
    expect(new RegExp(`^(?:${escapeRegex(nasty)})$`).test(nasty)).toBe(true);
    expect(new RegExp(`^(?:${escapeRegex('a.b')})$`).test('axb')).toBe(false);
  });

  it('matches exactly itself for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (s, other) => {
        const re = new RegExp(`^(?:${escapeRegex(s)})$`, 's');
        expect(re.test(s)).toBe(true);
        if (other !== s) expect(re.test(other)).toBe(false);
      }),
    );
  });
});

describe('query builders', () => {
  it('builds every statistic for one model, each aggregated and tagged, in one expression', () => {
    const q = modelQuery('m"1', 'ns', '2m');
    const matchers = modelMatchers('m"1', 'ns');
    expect(matchers).toBe('{model_name="m\\"1",namespace="ns"}');
    const gauges = [VLLM_METRICS.kvCacheUsage, VLLM_METRICS.legacyKvCacheUsage];
    for (const name of Object.values(VLLM_METRICS)) {
      expect(q).toContain(
        gauges.includes(name as never) ? `${name}${matchers} + 0` : `${name}${matchers}[2m]`,
      );
    }
    for (const stat of Object.values(STATS).filter((s) => s !== STATS.newestSample)) {
      expect(q).toContain(`"stat", "${stat}", "", ""`);
    }
    expect(q).not.toContain(STATS.newestSample);
    expect(q.split('\nor ')).toHaveLength(9);
    expect(q).toContain('sum by (model_name, namespace) (rate(vllm:request_success_total');
    // The old ITL name only where the new one is missing, inside one sum.
    expect(q).toContain(
      `sum by (model_name, namespace) (rate(vllm:inter_token_latency_seconds_sum${matchers}[2m]) or rate(vllm:time_per_output_token_seconds_sum${matchers}[2m]))`,
    );
    expect(q).toContain(`deriv(vllm:num_requests_waiting${matchers}[2m])`);
  });

  it('scopes the fleet query to the watched namespaces', () => {
    const q = fleetQuery({ namespaces: ['team-a', 'team.b'], freshnessRangeSeconds: 900 });
    const selectors = q.match(/vllm:[a-z_:]+(\{[^}]*\})?/g) ?? [];
    expect(selectors.length).toBeGreaterThan(15);
    for (const s of selectors) expect(s).toMatch(/\{namespace=~"team-a\|team\\\\\.b"\}$/);
    expect(fleetQuery({ namespaces: [] })).toBe(fleetQuery());
  });

  it('builds the fleet query without matchers, with freshness when asked', () => {
    const q = fleetQuery({ freshnessRangeSeconds: 900 });
    expect(q).toContain('rate(vllm:request_success_total[1m])');
    expect(q).toContain('max_over_time(timestamp(vllm:request_success_total)[15m:5m])');
    expect(q).toContain(`"stat", "${STATS.newestSample}"`);
    expect(fleetQuery()).not.toContain('timestamp(');
  });

  it('narrows the fleet query with escaped regex matchers', () => {
    const q = fleetQuery({
      only: [
        { modelId: 'a.b', namespace: 'x' },
        { modelId: 'c"', namespace: 'x' },
      ],
    });
    expect(q).toContain('{model_name=~"a\\\\.b|c\\"",namespace=~"x"}');
  });

  it('accepts PromQL durations only', () => {
    expect(checkWindow('1m')).toBe('1m');
    expect(checkWindow('1h30m')).toBe('1h30m');
    expect(checkWindow('500ms')).toBe('500ms');
    for (const bad of ['', '1', 'm', '1 m', '0s', '1m]) or vector(1', '-1m']) {
      expect(() => checkWindow(bad)).toThrow(/not a PromQL duration/);
    }
    expect(() => modelQuery('m', 'n', 'bad')).toThrow(RangeError);
  });

  it('refuses windows Prometheus refuses: units out of order or repeated (its parser: "not a valid duration string")', () => {
    for (const bad of ['30s1m', '1m1m', '1ms1s', '1d1w']) {
      expect(() => checkWindow(bad)).toThrow(/not a PromQL duration/);
    }
    expect(checkWindow('1w2d3h4m5s6ms')).toBe('1w2d3h4m5s6ms');
    expect(checkWindow('1h0m')).toBe('1h0m');
  });
});
