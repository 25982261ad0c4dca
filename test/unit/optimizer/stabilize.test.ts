// The stabiliser on an injected clock: scale-up at once; scale-down once the lower count has been
// recommended for the whole window, measured from the first lower recommendation; a key seen for
// the first time starts from the count given as published (what runs), when it is known.
import { describe, expect, it } from 'vitest';
import { Stabiliser } from '../../../src/optimizer/index.js';

const W = 300_000;
const T0 = Date.parse('2026-06-01T12:00:00Z');
const at = (ms: number) => T0 + ms;

/** Feeds count `ns[i]` at `times[i]` ms for one key, the first with `published`; what is published at each. */
function run(s: Stabiliser, times: number[], ns: number[], published?: number): number[] {
  return times.map((ms, i) =>
    s.recommend('prod/a', at(ms), ns[i] as number, i === 0 ? published : undefined),
  );
}

describe('Stabiliser', () => {
  it('a new key whose first recommendation is below what runs keeps that count for a whole window from it', () => {
    const s = new Stabiliser(W);
    expect(run(s, [0, W / 2, W - 1, W], [1, 1, 1, 1], 2)).toEqual([2, 2, 2, 1]);
  });

  it('the window starts at the first lower recommendation, not at first sight', () => {
    const s = new Stabiliser(W);
    // Seen at 0 running 4 and recommended 4; the lower count first at 60 s.
    const out = run(s, [0, 30_000, 60_000, W + 59_999, W + 60_000], [4, 4, 3, 3, 3], 4);
    expect(out).toEqual([4, 4, 4, 4, 3]);
  });

  it('a first recommendation above what runs is published at once', () => {
    const s = new Stabiliser(W);
    expect(run(s, [0, 1], [5, 2], 2)).toEqual([5, 5]);
  });

  it('what runs unknown: the first recommendation is published at once, as before', () => {
    const s = new Stabiliser(W);
    expect(run(s, [0, 1, 2], [1, 3, 1])).toEqual([1, 3, 3]);
    expect(s.recommend('prod/a', at(2 + W), 1)).toBe(1);
  });

  it('the window runs from the first lower recommendation, not from the last higher one', () => {
    const s = new Stabiliser(W);
    // 8 recommended at 0 and at 100 s; 6 from 130 s on.
    const out = run(s, [0, 100_000, 130_000, 100_000 + W, 130_000 + W - 1, 130_000 + W], [8, 8, 6, 6, 6, 6]);
    expect(out).toEqual([8, 8, 8, 8, 8, 6]);
  });

  it('time without recommendations is not time spent lower', () => {
    const s = new Stabiliser(W);
    // 8, then nothing for longer than the window (load unknown), then 6.
    expect(run(s, [0, 2 * W, 3 * W - 1, 3 * W], [8, 6, 6, 6])).toEqual([8, 8, 8, 6]);
  });

  it('each count below the published one waits its own window, from when a count below it came', () => {
    const s = new Stabiliser(W);
    // Published 8 (what runs); 5 at 0, 7 at 10 s, 5 again from 20 s.
    const out = run(s, [0, 10_000, 20_000, W - 1, W, 20_000 + W - 1, 20_000 + W], [5, 7, 5, 5, 5, 5, 5], 8);
    expect(out).toEqual([8, 8, 8, 8, 7, 7, 5]);
  });

  it('a count recommended again starts its window again', () => {
    const s = new Stabiliser(W);
    expect(run(s, [0, 10_000, 20_000, 30_000, 10_000 + W, 30_000 + W], [8, 6, 8, 6, 6, 6])).toEqual([
      8, 8, 8, 8, 8, 6,
    ]);
  });

  it('a change of accelerator does not skip the window: the count of what runs falls only after it', () => {
    const s = new Stabiliser(W);
    // 3 replicas of A100 run; the decision moves to H100, sized at 2.
    expect(s.recommend('prod/a', at(0), 2, 3)).toBe(3);
    expect(s.recommend('prod/a', at(W - 1), 2)).toBe(3);
    expect(s.recommend('prod/a', at(W), 2)).toBe(2);
  });

  it('a key dropped and seen again starts from what runs', () => {
    const s = new Stabiliser(W);
    expect(s.recommend('prod/a', at(0), 2, 6)).toBe(6);
    s.retain(new Set());
    expect(s.size).toBe(0);
    expect(s.current('prod/a')).toBeUndefined();
    expect(s.recommend('prod/a', at(2), 2, 6)).toBe(6);
    expect(s.current('prod/a')).toBe(6);
  });

  it('window 0: the recommendation is published as it is', () => {
    const s = new Stabiliser(0);
    expect(run(s, [0, 1, 2], [1, 5, 1], 4)).toEqual([1, 5, 1]);
  });

  it('a restart: a fresh stabiliser started from the published count publishes what the old one would', () => {
    // 3, then 9 twice, then 2 every 30 s from 90 s on.
    const times = Array.from({ length: 17 }, (_, i) => i * 30_000);
    const ns = times.map((_, i) => (i === 0 ? 3 : i < 3 ? 9 : 2));
    const old = new Stabiliser(W);
    const before = run(old, times.slice(0, 3), ns.slice(0, 3));
    const after = run(old, times.slice(3), ns.slice(3));
    // The new process takes over at 90 s, when the lower count is first recommended, from the
    // count the old one published (what runs: the Deployment was scaled to it).
    const fresh = run(new Stabiliser(W), times.slice(3), ns.slice(3), before.at(-1));
    expect(fresh).toEqual(after);
    expect(after.filter((n) => n === 9)).toHaveLength(10);
  });
});
