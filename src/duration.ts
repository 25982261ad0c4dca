// Go/Prometheus durations (`30s`, `1m30s`, `500ms`, `1.5h`), parsed strictly: a unit on every number,
// units from largest to smallest, each at most once. Whole milliseconds only.

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const ORDER: Unit[] = ['w', 'd', 'h', 'm', 's', 'ms'];

export const DURATION_HINT = 'a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)';

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Milliseconds in `text`. Throws DurationError with the reason. `0` alone is zero. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new DurationError('empty duration');
  if (s === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ms|[wdhms])/y;
  let pos = 0;
  let total = 0;
  let lastRank = -1;
  while (pos < s.length) {
    part.lastIndex = pos;
    const m = part.exec(s);
    if (!m) {
      if (/^[+-]/.test(s)) throw new DurationError('a duration cannot have a sign');
      if (/^\d+(\.\d+)?$/.test(s)) throw new DurationError(`"${s}" has no unit`);
      throw new DurationError(`cannot read "${s.slice(pos)}"`);
    }
    const unit = m[2] as Unit;
    const rank = ORDER.indexOf(unit);
    if (rank <= lastRank) throw new DurationError(`unit "${unit}" out of order or repeated`);
    lastRank = rank;
    total += Number(m[1]) * UNIT_MS[unit];
    pos = part.lastIndex;
  }
  if (!Number.isSafeInteger(Math.round(total))) throw new DurationError('duration too large');
  if (Math.abs(total - Math.round(total)) > 1e-6) throw new DurationError('finer than a millisecond');
  return Math.round(total);
}

/** `90000` -> `1m30s`; `0` -> `0s`. Valid input for parseDuration, Go and PromQL alike. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format ${ms} ms as a duration`);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  // Hours at most, so the text reads the same in Go, PromQL and here.
  for (const unit of ORDER.slice(2)) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return out;
}
