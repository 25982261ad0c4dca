// Go's time.ParseDuration grammar, which upstream's scale-to-zero ConfigMap uses: a signed
// sequence of decimal numbers each with a unit (ns, us, µs, ms, s, m, h), or a bare 0.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds (possibly fractional) in a Go duration; throws an Error saying what is wrong. */
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`invalid duration ${JSON.stringify(text)}`);
  const part = /(\d*)(?:\.(\d*))?([^\d.]*)/y;
  let pos = 0;
  let total = 0;
  while (pos < s.length) {
    part.lastIndex = pos;
    const m = part.exec(s)!;
    const [whole, int = '', frac, unit = ''] = m;
    if (int === '' && (frac === undefined || frac === ''))
      throw new Error(`invalid duration ${JSON.stringify(text)}`);
    if (unit === '') throw new Error(`missing unit in duration ${JSON.stringify(text)}`);
    const factor = UNIT_MS[unit];
    if (factor === undefined)
      throw new Error(`unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    total += Number(`${int || '0'}.${frac ?? ''}0`) * factor;
    pos += whole.length;
  }
  // Go's durations are int64 nanoseconds: about 292 years.
  if (total > 9_223_372_036_854.775) throw new Error(`invalid duration ${JSON.stringify(text)}: too large`);
  return sign * total || 0;
}
