// The autoscale run's probe (what bench/autoscale/diagnose.ts reads) sees the same requests the
// score counts: every request's verdict through the probe gives the row's request attainment.
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../../bench/autoscale/policies.js';
import { runOne } from '../../../bench/autoscale/run.js';
import { benchModels, benchTraces } from '../../../bench/autoscale/traces.js';
import { SETTINGS } from '../../../bench/autoscale.js';

const MIN = 60_000;

describe('the run probe', () => {
  it('reports each finished request, each cycle and the lost requests as the score counts them', () => {
    const trace = benchTraces(6 * MIN, SETTINGS.seed).find((t) => t.name === 'step')!;
    let ok = 0;
    let okStrict = 0;
    let counted = 0;
    let cycles = 0;
    let lost: number[] = [];
    const policies = new Set<Policy>();
    const out = runOne(trace, 'saturation-v1', benchModels(), SETTINGS, {
      request(_i, f, ttftOk, itlOk) {
        if (f.arrivalMs >= trace.durationMs - MIN) return;
        counted++;
        if (ttftOk) ok++;
        if (ttftOk && itlOk) okStrict++;
      },
      cycle(tMs, fleet, views, policy) {
        cycles++;
        policies.add(policy);
        expect(tMs % SETTINGS.cycleMs).toBe(0);
        expect(views.map((v) => v.id)).toEqual(fleet.models.map((m) => m.spec.id));
      },
      end(l) {
        lost = l;
      },
    });
    expect(counted).toBeGreaterThan(1000);
    expect(cycles).toBe(trace.durationMs / SETTINGS.cycleMs);
    expect([...policies].map((p) => p.name)).toEqual(['saturation-v1']);
    expect(lost).toHaveLength(2);
    const total = counted + lost.reduce((a, n) => a + n, 0);
    expect(out.row.requestAttainment).toBeCloseTo(ok / total, 12);
    expect(out.row.requestAttainmentStrict).toBeCloseTo(okStrict / total, 12);
  });
});
