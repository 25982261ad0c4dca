// A small reader of the Prometheus text exposition format, enough for an EPP's /metrics: sample
// lines `name{label="value",...} value [timestamp]`, comments and blank lines skipped. A line that
// is not a sample is an error naming its number, so a page of garbage is told from an idle gateway.

import { nonFiniteSampleValue } from '../../prometheus/sample-value.js';

export interface TextSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class TextFormatError extends Error {
  override name = 'TextFormatError';
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

// Finite values are plain decimals, as the exposition format writes them: Number() alone would
// also take `0x1f` or `Infinity` from a page that is not metrics.
function parseValue(text: string): number | undefined {
  const special = nonFiniteSampleValue(text);
  if (special !== undefined) return special;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** The labels in `{...}` starting at `s[0] === '{'`; returns them and the rest after `}`. */
function readLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const fail = (what: string): never => {
    throw new TextFormatError(`line ${line}: ${what}`);
  };
  for (;;) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const name = LABEL_NAME.exec(s.slice(i))?.[0];
    if (!name) fail('a label name was expected');
    i += (name as string).length;
    if (s[i] !== '=' || s[i + 1] !== '"') fail(`label ${name} has no ="value"`);
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) fail(`label ${name}'s value is not closed`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        value +=
          n === 'n' ? '\n' : n === '\\' ? '\\' : n === '"' ? '"' : fail(`label ${name} has a bad escape`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name as string] = value;
    i++;
  }
}

/** Every sample of the page, in order. Throws TextFormatError at the first line that is no sample. */
export function parseTextFormat(text: string): TextSample[] {
  const out: TextSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = (lines[n] as string).trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const name = NAME.exec(raw)?.[0];
    if (!name) throw new TextFormatError(`line ${n + 1}: a metric name was expected`);
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = readLabels(rest, n + 1));
    const fields = rest.trim().split(/\s+/);
    const value = parseValue(fields[0] ?? '');
    if (value === undefined || fields.length > 2) {
      throw new TextFormatError(`line ${n + 1}: ${name} has no valid value`);
    }
    out.push({ name, labels, value });
  }
  return out;
}
