// The saturation engines' scale-to-zero input: the rule in force as a model entry, and only a
// count the fleet query answered (not below 0) as idle evidence.
import { describe, expect, it } from 'vitest';
import type { RequestsOverAnswer } from '../../../src/collector/fleet-collector.js';
import { scaleToZeroInputFor } from '../../../src/controller/saturation-zero.js';
import { enforceScaleToZeroPolicy } from '../../../src/engines/saturation/scale-to-zero.js';

const source = (enabled: boolean, answer: RequestsOverAnswer, asked: number[] = []) => ({
  rule: () => ({ enabled, retentionMs: 300_000 }),
  requestsOver: (_m: string, _ns: string, s: number) => {
    asked.push(s);
    return answer;
  },
});

const enforce = (input: ReturnType<typeof scaleToZeroInputFor>) =>
  enforceScaleToZeroPolicy({
    modelId: 'm',
    targets: { a: 1, b: 2 },
    variantAnalyses: [
      { variantName: 'a', cost: 5 },
      { variantName: 'b', cost: 9 },
    ],
    scaleToZeroConfig: input.config,
    requestCount: input.requestCount,
    scaleToZeroDefault: input.envDefault,
  });

describe('scaleToZeroInputFor', () => {
  it('enabled and a count of 0 over the retention period: the enforcer zeroes every variant', () => {
    const asked: number[] = [];
    const input = scaleToZeroInputFor(source(true, { kind: 'count', requests: 0 }, asked), 'm', 'ns', false);
    expect(asked).toEqual([300]);
    expect(input.config).toEqual({ m: { modelId: 'm', enableScaleToZero: true, retentionPeriod: '300s' } });
    expect(enforce(input)).toEqual({ targets: { a: 0, b: 0 }, applied: true });
  });

  it('requests seen, no series, series younger than the period, a failed query or a negative increase: nothing zeroed', () => {
    const answers: RequestsOverAnswer[] = [
      { kind: 'count', requests: 3 },
      { kind: 'no-series' },
      { kind: 'no-value' },
      { kind: 'unknown', reason: 'Prometheus down' },
      { kind: 'count', requests: -2 },
    ];
    for (const a of answers) {
      const input = scaleToZeroInputFor(source(true, a), 'm', 'ns', false);
      expect(input.requestCount).toBe(a.kind === 'count' && a.requests > 0 ? a.requests : null);
      expect(enforce(input)).toEqual({ targets: { a: 1, b: 2 }, applied: false });
    }
  });

  it('disabled: the count is not read, the enforcer changes nothing; without a source no entry at all', () => {
    const asked: number[] = [];
    const off = scaleToZeroInputFor(source(false, { kind: 'count', requests: 0 }, asked), 'm', 'ns', true);
    expect(asked).toEqual([]);
    expect(off.requestCount).toBeNull();
    expect(enforce(off).applied).toBe(false);
    expect(scaleToZeroInputFor(undefined, 'm', 'ns', true)).toEqual({
      config: {},
      requestCount: null,
      envDefault: true,
    });
  });
});
