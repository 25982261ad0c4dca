import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['0', 0],
    ['0s', 0],
    [' 15s ', 15_000],
  ])('%s = %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /empty/],
    ['30', /no unit/],
    ['1.5', /no unit/],
    ['-5s', /sign/],
    ['+5s', /sign/],
    ['abc', /cannot read "abc"/],
    ['5 s', /cannot read "5 s"/],
    ['30s1m', /out of order/],
    ['1s1s', /out of order or repeated/],
    ['5sec', /cannot read "ec"/],
    ['1us', /cannot read "1us"/],
    ['1.5ms', /finer than a millisecond/],
    ['.5s', /cannot read/],
    ['5S', /cannot read/],
    ['99999999999999w', /too large/],
  ])('refuses %j', (text, reason) => {
    expect(() => parseDuration(text)).toThrow(reason);
  });
});

describe('formatDuration', () => {
  it('writes the shortest Go/PromQL form', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(86_400_000)).toBe('24h');
    expect(formatDuration(3_723_004)).toBe('1h2m3s4ms');
    expect(() => formatDuration(-1)).toThrow(RangeError);
  });

  it('round-trips through parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
