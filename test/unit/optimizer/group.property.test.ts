// Joint sizing of a model's variants (fast-check): the shares add up to the model's load, one
// variant alone is exactly sizeReplicas, and every variant keeps at least its minimum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type GroupVariant,
  SloInfeasibleError,
  sizeGroup,
  sizeReplicas,
} from '../../../src/optimizer/index.js';

const profileArb = fc.record({
  alpha: fc.double({ min: 1, max: 30, noNaN: true }),
  beta: fc.double({ min: 0.01, max: 1, noNaN: true }),
  gamma: fc.double({ min: 1, max: 50, noNaN: true }),
  delta: fc.double({ min: 0.0001, max: 0.1, noNaN: true }),
  maxBatchSize: fc.integer({ min: 1, max: 128 }),
});
const loadArb = fc.record({
  arrivalRate: fc.double({ min: 0, max: 20_000, noNaN: true }),
  avgInputTokens: fc.integer({ min: 1, max: 2048 }),
  avgOutputTokens: fc.integer({ min: 2, max: 512 }),
});
const slo = { ttftMs: 60_000, itlMs: 2_000 }; // loose: every profile above meets it
const variantArb = fc.record({
  profile: profileArb,
  acc: fc.constantFrom('A100', 'H100', 'L40S'),
  min: fc.integer({ min: 0, max: 3 }),
  max: fc.option(fc.integer({ min: 3, max: 50 }), { nil: undefined }),
});
const costs = { A100: 35, H100: 70, L40S: 18 };

type VariantCase = typeof variantArb extends fc.Arbitrary<infer T> ? T : never;

function group(vs: VariantCase[]): GroupVariant[] {
  return vs.map((v, i) => ({
    key: `ns/v${i}`,
    options: [{ acc: v.acc, accCount: 1, profile: v.profile }],
    slo,
    minReplicas: v.min,
    ...(v.max === undefined ? {} : { maxReplicas: v.max }),
  }));
}

describe('sizeGroup properties', () => {
  it('shares add up to the load; each variant has at least its minimum and at most its maximum', () => {
    fc.assert(
      fc.property(fc.array(variantArb, { minLength: 1, maxLength: 5 }), loadArb, (vs, load) => {
        const out = sizeGroup(group(vs), load, costs);
        let total = 0;
        group(vs).forEach((v) => {
          const o = out.get(v.key);
          expect(o?.ok).toBe(true);
          if (!o?.ok) return;
          total += o.allocation.assignedRate;
          expect(o.allocation.numReplicas).toBeGreaterThanOrEqual(
            Math.min(v.minReplicas, v.maxReplicas ?? Infinity),
          );
          if (v.maxReplicas !== undefined)
            expect(o.allocation.numReplicas).toBeLessThanOrEqual(v.maxReplicas);
          expect(Number.isInteger(o.allocation.numReplicas)).toBe(true);
        });
        expect(total).toBeCloseTo(load.arrivalRate / 60, 6);
      }),
      { numRuns: 200 },
    );
  });

  it('one variant alone is exactly sizeReplicas (WVA)', () => {
    fc.assert(
      fc.property(profileArb, loadArb, fc.integer({ min: 1, max: 3 }), (profile, load, min) => {
        const v: GroupVariant = {
          key: 'ns/a',
          options: [{ acc: 'A100', accCount: 1, profile }],
          slo,
          minReplicas: min,
        };
        let want: number;
        try {
          want = sizeReplicas({ profile, load, slo, minReplicas: min }).numReplicas;
        } catch (err) {
          if (err instanceof SloInfeasibleError) return;
          throw err;
        }
        const o = sizeGroup([v], load, costs).get('ns/a');
        expect(o?.ok && o.allocation.numReplicas).toBe(want);
      }),
      { numRuns: 200 },
    );
  });
});
