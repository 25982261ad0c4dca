// Properties of sizing over random profiles, loads and SLOs (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SizingInput, SloInfeasibleError, sizeReplicas } from '../../../src/optimizer/index.js';

const profileArb = fc.record({
  alpha: fc.double({ min: 0.5, max: 50, noNaN: true }),
  beta: fc.double({ min: 0, max: 2, noNaN: true }),
  gamma: fc.double({ min: 0, max: 100, noNaN: true }),
  delta: fc.double({ min: 0, max: 0.2, noNaN: true }),
  maxBatchSize: fc.integer({ min: 1, max: 512 }),
});
const loadArb = fc.record({
  arrivalRate: fc.double({ min: 0, max: 1e5, noNaN: true }),
  avgInputTokens: fc.integer({ min: 0, max: 4096 }),
  avgOutputTokens: fc.integer({ min: 1, max: 1024 }),
});
const sloArb = fc.record({
  ttftMs: fc.oneof(fc.constant(0), fc.double({ min: 1, max: 20_000, noNaN: true })),
  itlMs: fc.oneof(fc.constant(0), fc.double({ min: 1, max: 500, noNaN: true })),
});

function trySize(input: SizingInput): number | 'infeasible' {
  try {
    return sizeReplicas(input).numReplicas;
  } catch (err) {
    if (err instanceof SloInfeasibleError) return 'infeasible';
    if (err instanceof RangeError && /no service time/.test(err.message)) return 'infeasible';
    throw err;
  }
}

describe('sizing properties', () => {
  it('never NaN: an integer count >= minReplicas and finite predictions, or a named infeasible target', () => {
    fc.assert(
      fc.property(profileArb, loadArb, sloArb, (profile, load, slo) => {
        try {
          const s = sizeReplicas({ profile, load, slo });
          expect(Number.isInteger(s.numReplicas)).toBe(true);
          expect(s.numReplicas).toBeGreaterThanOrEqual(1);
          expect(Number.isFinite(s.ratePerReplica) && s.ratePerReplica > 0).toBe(true);
          expect(Number.isFinite(s.predicted.ttftMs)).toBe(true);
          expect(Number.isFinite(s.predicted.itlMs)).toBe(true);
        } catch (err) {
          // A profile whose prefill and decode times are all 0 for this load is refused as such.
          if (err instanceof RangeError) {
            expect(err.message).toMatch(/no service time/);
            return;
          }
          expect(err).toBeInstanceOf(SloInfeasibleError);
          expect(['ttft', 'itl']).toContain((err as SloInfeasibleError).target);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('more load never gives fewer replicas', () => {
    fc.assert(
      fc.property(
        profileArb,
        loadArb,
        sloArb,
        fc.double({ min: 1, max: 50, noNaN: true }),
        (p, load, slo, k) => {
          const a = trySize({ profile: p, load, slo });
          const b = trySize({ profile: p, load: { ...load, arrivalRate: load.arrivalRate * k }, slo });
          expect(b === 'infeasible').toBe(a === 'infeasible');
          if (a !== 'infeasible' && b !== 'infeasible') expect(b).toBeGreaterThanOrEqual(a);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a looser SLO never gives more replicas', () => {
    fc.assert(
      fc.property(
        profileArb,
        loadArb,
        sloArb,
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (p, load, slo, kt, ki) => {
          const tight = trySize({ profile: p, load, slo });
          const loose = trySize({
            profile: p,
            load,
            slo: { ttftMs: slo.ttftMs * kt, itlMs: slo.itlMs * ki },
          });
          if (tight === 'infeasible') return;
          expect(loose).not.toBe('infeasible');
          expect(loose as number).toBeLessThanOrEqual(tight);
        },
      ),
      { numRuns: 300 },
    );
  });
});
