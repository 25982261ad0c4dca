// A variant's pod start-up as the SLO engine takes it: the median of its last few pods' creation to
// Ready (each pod once, as first seen Ready), the configured default where none is measured, 0
// turning it off; a model's is its slowest variant's measured one.
import { describe, expect, it } from 'vitest';
import { modelStartup, PodStartup, STARTUP_SAMPLES } from '../../../src/controller/pod-startup.js';
import type { SaturationVariantInput } from '../../../src/engines/types.js';
import type { PodView, TrimmedPod } from '../../../src/kube/pods.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** Pod objects by name, editable between cycles like the informer's cache. */
function view(): PodView & { put(name: string, ms?: number, readyAt?: number): void } {
  const pods = new Map<string, TrimmedPod>();
  return {
    put(name, ms, readyAt = T0 + pods.size * 60_000) {
      pods.set(name, {
        metadata: { name, namespace: 'llm' },
        status: { ready: ms !== undefined },
        ...(ms !== undefined ? { startup: { ms, readyAtMs: readyAt } } : {}),
      });
    },
    pod: (ns, name) => (ns === 'llm' ? pods.get(name) : undefined),
    synced: () => true,
  };
}

describe('PodStartup', () => {
  it('is the median of the last pods measured; the default before any is', () => {
    const v = view();
    const s = new PodStartup({ pods: v, defaultMs: 120_000 });
    v.put('a-1');
    s.observe('llm/a', 'llm', ['a-1', 'a-gone']);
    expect(s.of('llm/a')).toEqual({ ms: 120_000, measured: 0 });
    v.put('a-1', 90_000);
    v.put('a-2', 60_000);
    v.put('a-3', 3_000_000);
    s.observe('llm/a', 'llm', ['a-1', 'a-2', 'a-3']);
    // One pod stuck on a slow node does not move it: 60, 90, 3000 s -> 90 s.
    expect(s.of('llm/a')).toEqual({ ms: 90_000, measured: 3 });
    v.put('a-4', 80_000);
    s.observe('llm/a', 'llm', ['a-4']);
    expect(s.of('llm/a')).toEqual({ ms: 85_000, measured: 4 });
    expect(s.of('llm/other')).toEqual({ ms: 120_000, measured: 0 });
  });

  it(`keeps the ${STARTUP_SAMPLES} most recently Ready, each pod once, and ignores an hour or more`, () => {
    const v = view();
    const s = new PodStartup({ pods: v, defaultMs: 120_000 });
    for (let i = 0; i < 4; i++) v.put(`old-${i}`, 600_000, T0 + i);
    s.observe('llm/a', 'llm', ['old-0', 'old-1', 'old-2', 'old-3']);
    for (let i = 0; i < STARTUP_SAMPLES; i++) v.put(`new-${i}`, 30_000 + i * 1000, T0 + 3_600_000 + i);
    s.observe(
      'llm/a',
      'llm',
      Array.from({ length: STARTUP_SAMPLES }, (_, i) => `new-${i}`),
    );
    expect(s.of('llm/a')).toEqual({ ms: 32_000, measured: STARTUP_SAMPLES });
    // Ready again later (a probe that failed and recovered): the first start-up stands.
    v.put('new-0', 900_000, T0 + 7_200_000);
    s.observe('llm/a', 'llm', ['new-0']);
    expect(s.of('llm/a').ms).toBe(32_000);
    const h = new PodStartup({ pods: v, defaultMs: 120_000 });
    v.put('stuck', 3_600_001);
    h.observe('llm/b', 'llm', ['stuck']);
    expect(h.of('llm/b')).toEqual({ ms: 120_000, measured: 0 });
  });

  it('0 turns it off, measured or not; without Pod objects it is the default', () => {
    const v = view();
    v.put('a-1', 90_000);
    const off = new PodStartup({ pods: v, defaultMs: 0 });
    off.observe('llm/a', 'llm', ['a-1']);
    expect(off.of('llm/a')).toEqual({ ms: 0, measured: 0 });
    const local = new PodStartup({ defaultMs: 45_000 });
    local.observe('llm/a', 'llm', ['a-1']);
    expect(local.of('llm/a')).toEqual({ ms: 45_000, measured: 0 });
  });

  it("a model's start-up is its slowest measured variant's, from the pods matched to each", () => {
    const v = view();
    v.put('fast-1', 40_000);
    v.put('slow-1', 200_000);
    const s = new PodStartup({ pods: v, defaultMs: 120_000 });
    const variants = [
      { variantName: 'fast' },
      { variantName: 'slow' },
      { variantName: 'idle' },
    ] as SaturationVariantInput[];
    const pod = (name: string) => ({ pod: name, modelId: 'm', namespace: 'llm' });
    const pods = new Map([
      ['fast', [pod('fast-1')]],
      ['slow', [pod('slow-1')]],
    ]);
    expect(modelStartup(s, 'llm', { variants, pods })).toEqual({ ms: 200_000, measured: 1 });
    expect(modelStartup(s, 'llm', { variants: variants.slice(2), pods })).toEqual({
      ms: 120_000,
      measured: 0,
    });
  });
});
