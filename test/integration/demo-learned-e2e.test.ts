// The demo's default scenario, end to end and shortened: upstream-shaped manifests (the staging
// half of examples/learned/manifests: scaleTargetRef, variantCost, an SLO class in
// service-classes-config, no profile anywhere), emulated vLLM pods, a real Prometheus and the
// controller's pipeline. Saturation decides until the learned performance models are confident;
// then the SLO engine takes the model over, and the demo says when and why. The summary compares
// the run with the static peak fleet and with saturation V1 alone, both replayed on the same trace.
//
// Shortened how: one namespace (two models, four variants) instead of two, a cycle every 3 s
// instead of 5 s, and Mistral's load swinging over a 60 s "day" so the batch varies (the slopes
// become identifiable) within the 20 cycles the learner needs before it is trusted.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/demo-format.js';
import { type DemoCycle, findScenario, runDemo, type Scenario } from '../../src/demo/index.js';
import { loadEmulatorConfig } from '../../src/emulator/index.js';

const S = 1000;
const MISTRAL = 'mistralai/Mistral-7B-Instruct-v0.3';
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const learned = fileURLToPath(new URL('../../examples/learned/manifests', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wva-demo-learned-'));
for (const f of ['llm-staging.yaml', 'optimizer-configmaps.yaml', 'scale-to-zero.yaml'])
  copyFileSync(join(learned, f), join(dir, f));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const example = loadEmulatorConfig(fileURLToPath(new URL('../../examples/emulator.yaml', import.meta.url)));
const config = { ...example, models: example.models.filter((m) => m.namespace === 'llm-staging') };
const scenario: Scenario = {
  name: 'learned-e2e',
  description: 'the default scenario, shortened',
  durationMs: 105 * S,
  startupDelayMs: 5 * S,
  loads: {
    [`llm-staging/${MISTRAL}`]: { pattern: 'diurnal', rate: 240, amplitude: 0.6, period: 60 * S, phase: 0 },
    [`llm-staging/${LLAMA}`]: { pattern: 'idle' },
  },
};

describe('the demo default scenario, end to end', () => {
  it('is the learned one, over upstream-shaped manifests without any profile', () => {
    const s = findScenario('learned');
    expect(s.manifests).toBe('learned/manifests');
  });

  it('hands Mistral from saturation to the SLO engine once its learned models are confident, and compares three fleets', async () => {
    const cycles: DemoCycle[] = [];
    const { summary } = await runDemo({
      manifests: dir,
      emulator: config,
      scenario,
      intervalMs: 3 * S,
      window: '15s',
      durationMs: scenario.durationMs,
      stabilizationWindowMs: 15 * S,
      onCycle: (c) => cycles.push(c),
    });
    const engineAt = (c: DemoCycle) =>
      c.loop?.models.find((m) => m.namespace === 'llm-staging' && m.modelId === MISTRAL)?.engine;
    // Saturation first (no profile: nothing to size with yet).
    expect(engineAt(cycles[0]!)).toBe('saturation-v1');
    const loop = summary.loop!;
    const sw = loop.switches.find((s) => s.modelId === MISTRAL);
    expect(sw, `switches: ${JSON.stringify(loop.switches)}`).toBeDefined();
    expect(sw!.from).toBe('saturation-v1');
    expect(sw!.to.startsWith('slo-queueing')).toBe(true);
    // Why: the learned models, confident as the learner measures it (at least 20 observed cycles,
    // rolling prediction errors under 15 %), for every variant of the model.
    expect(sw!.why).toMatch(/^learned profile/);
    expect(sw!.learned?.map((l) => l.variant).sort()).toEqual(['mistral-7b-a100', 'mistral-7b-l40s']);
    for (const l of sw!.learned!) {
      expect(l.cycles, l.variant).toBeGreaterThanOrEqual(20);
      expect(l.itlErrorPct, l.variant).toBeLessThan(15);
      expect(l.ttftErrorPct, l.variant).toBeLessThan(15);
    }
    expect(sw!.cycle).toBeGreaterThan(20);
    // The cycle it happened at carries it, and the model stays with the SLO engine after.
    expect(cycles[sw!.cycle - 1]!.loop!.switches?.map((s) => s.modelId)).toContain(MISTRAL);
    const after = cycles.slice(sw!.cycle - 1).map(engineAt);
    expect(after.filter((e) => e?.startsWith('slo-queueing')).length).toBeGreaterThanOrEqual(
      after.length - 1,
    );

    // The per-variant table shows the SLO engine's predictions where it decided, none where
    // saturation did. A variant the SLO engine gives no share (no count of it meets the SLO) has
    // none either, but in every cycle it decides the model some variant carries the load.
    const sloCycles = cycles.filter((c) =>
      c.loop!.models.some((m) => m.modelId === MISTRAL && m.engine?.startsWith('slo-queueing')),
    );
    expect(sloCycles.length).toBeGreaterThan(0);
    for (const c of sloCycles) {
      const sized = c.loop!.variants.filter((v) => v.modelId === MISTRAL && v.predicted !== undefined);
      expect(sized.length, `cycle ${c.index}`).toBeGreaterThan(0);
      for (const v of sized) {
        expect(v.predicted!.ttftMs).toBeGreaterThan(0);
        expect(v.predicted!.itlMs).toBeGreaterThan(0);
      }
    }
    for (const c of cycles)
      for (const v of c.loop!.variants.filter((x) => x.engine.startsWith('saturation')))
        expect(v.predicted, `${v.name} in cycle ${c.index}`).toBeUndefined();

    // The idle Llama goes to zero once Prometheus shows a whole retention period (1 minute, in
    // scale-to-zero.yaml) without a request, as the scale-to-zero ConfigMap allows for it.
    const idle = cycles.at(-1)!.loop!.variants.filter((v) => v.modelId === LLAMA);
    expect(idle.map((v) => v.name).sort()).toEqual(['llama-8b-a100', 'llama-8b-l4']);
    for (const v of idle) expect(v.current, `${v.name}: ${v.reason}, ${v.actuated}`).toBe(0);
    expect(loop.actions.filter((a) => a.name.startsWith('llama-8b-') && a.to === 0).length).toBe(2);

    // At the end, models not with the SLO engine are named with why: the idle Llama, at zero, has
    // nothing serving to learn from.
    expect(loop.notSlo.map((m) => m.modelId)).not.toContain(MISTRAL);
    expect(loop.notSlo.find((m) => m.modelId === LLAMA)?.why).toBe('no variant of the model is serving');

    // Three fleets, one trace: sane numbers.
    const rows = { ours: loop.ours, staticPeak: loop.staticPeak, saturationV1: loop.saturationV1 };
    for (const [name, s] of Object.entries(rows)) {
      expect(s.cycles, name).toBeGreaterThan(0);
      expect(s.attainment, name).toBeGreaterThanOrEqual(0);
      expect(s.attainment, name).toBeLessThanOrEqual(1);
      expect(s.requests!.total, name).toBeGreaterThan(0);
      expect(s.requests!.met, name).toBeLessThanOrEqual(s.requests!.total);
      expect(s.cost, name).toBeGreaterThan(0);
    }
    // The static fleet holds every variant at the run's peak all along: never cheaper than the run.
    expect(loop.staticPeak.cost!).toBeGreaterThanOrEqual(loop.ours.cost! - 1e-9);
    // The three fleets played the same requests (same trace and seed, same scored time), within
    // what a pod's queue holds at the end.
    const total = loop.ours.requests!.total;
    expect(Math.abs(loop.saturationV1.requests!.total / total - 1)).toBeLessThan(0.1);
    expect(Math.abs(loop.staticPeak.requests!.total / total - 1)).toBeLessThan(0.1);

    const text = formatSummary(summary);
    expect(text).toMatch(/closed loop \(ours\)/);
    expect(text).toMatch(/static peak fleet/);
    expect(text).toMatch(/saturation V1 alone/);
    expect(text).toMatch(/llm-staging\/mistralai\/Mistral-7B-Instruct-v0\.3 saturation-v1 -> SLO engine/);
  }, 240_000);
});
