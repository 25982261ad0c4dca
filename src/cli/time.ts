// The --time flag of collect and run: an evaluation instant, for replaying recorded data.
import { UsageError } from './errors.js';

/** `--time`: unix seconds (fractions allowed) or an RFC 3339 timestamp. */
export function parseTime(text: string): Date {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return new Date(Number(s) * 1000);
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s)) {
    const d = new Date(s);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new UsageError(`--time must be unix seconds or RFC 3339 (2024-05-01T12:00:00Z), got "${text}"`);
}
