// The closed loop end to end: emulated vLLM pods, a real Prometheus scraping them, the controller
// (collector, optimizer, actuator in scale mode) and the demo's actuator scaling the emulator. One
// model steps up and back down; the test checks the direction and timing of the replica changes
// and that measured latency is back under the SLO once the new pods serve.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type DemoCycle, runDemo, type Scenario } from '../../src/demo/index.js';
import { loadEmulatorConfig } from '../../src/emulator/index.js';

const manifests = fileURLToPath(new URL('../../examples/manifests', import.meta.url));
const example = loadEmulatorConfig(fileURLToPath(new URL('../../examples/emulator.yaml', import.meta.url)));
// Evenly spaced arrivals of equal lengths keep the requests in flight steady, so the saturation
// hold (a queue growing by more than 1 % of completions) does not defer the step down, and the
// timing asserted below is the stabilisation window's alone.
const config = {
  ...example,
  jitter: 0,
  models: example.models.map((m) => ({ ...m, arrivals: 'uniform' as const })),
};
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';

const S = 1000;
const UP_AT = 12 * S;
const DOWN_AT = 62 * S;
const STARTUP = 3 * S;
const STABILIZATION = 12 * S;
const INTERVAL = 2 * S;
const WINDOW = 6 * S;

// llm-prod Llama: 600 -> 7200 -> 600 req/min, beyond what its two pods serve; the other models
// steady and light.
const scenario: Scenario = {
  name: 'step-e2e',
  description: 'step up, then down',
  durationMs: 100 * S,
  startupDelayMs: STARTUP,
  loads: {
    [`llm-prod/${LLAMA}`]: {
      pattern: 'step',
      rate: 600,
      steps: [
        { at: UP_AT, rate: 7200 },
        { at: DOWN_AT, rate: 600 },
      ],
    },
    [`llm-prod/ibm-granite/granite-3.3-8b-instruct`]: { pattern: 'steady', rate: 300 },
    [`llm-staging/${LLAMA}`]: { pattern: 'steady', rate: 120 },
    [`llm-staging/mistralai/Mistral-7B-Instruct-v0.3`]: { pattern: 'steady', rate: 120 },
  },
};

describe('closed loop end to end', () => {
  it('scales the stepped model up within a few cycles, back down after the stabilisation window, and latency recovers', async () => {
    const cycles: DemoCycle[] = [];
    let t0 = 0;
    const { summary } = await runDemo({
      manifests,
      emulator: config,
      scenario,
      intervalMs: INTERVAL,
      window: `${WINDOW / 1000}s`,
      durationMs: scenario.durationMs,
      stabilizationWindowMs: STABILIZATION,
      // The timing asserted is the SLO engine's own: V1's floor reads each pod's highest queue
      // and KV use over the last minute, longer than this compressed scenario's whole step down.
      saturationFloor: false,
      onReady: (info) => {
        t0 = info.loadStartedAt.getTime();
      },
      onCycle: (c) => cycles.push(c),
    });
    expect(t0).toBeGreaterThan(0);
    // Times below count from the load's time 0, where the scenario's steps are.
    const pods = (c: DemoCycle) =>
      c
        .loop!.variants.filter((v) => v.namespace === 'llm-prod' && v.modelId === LLAMA)
        .reduce((a, v) => a + v.current, 0);
    const model = (c: DemoCycle) =>
      c.loop!.models.find((m) => m.namespace === 'llm-prod' && m.modelId === LLAMA)!;
    const at = (c: DemoCycle) => c.startedAt.getTime() - t0;
    const lastBefore = cycles.filter((c) => at(c) < UP_AT).at(-1)!;
    const baseline = pods(lastBefore);

    // Start: what runs is held like a published count. Rates read low while the series are young,
    // so the first recommendations are lower; none is applied before the window has passed.
    const started = config.models
      .filter((m) => m.namespace === 'llm-prod' && m.model === LLAMA)
      .flatMap((m) => m.variants)
      .reduce((a, v) => a + v.replicas, 0);
    const first = cycles[0]!;
    const early = cycles.filter((c) => at(c) < UP_AT && at(c) - at(first) < STABILIZATION - 2 * INTERVAL);
    expect(early.length).toBeGreaterThan(0);
    for (const c of early) expect(pods(c), `cycle at ${at(c)} ms`).toBeGreaterThanOrEqual(started);

    // Up: more pods within window + two cycles of the step, never before it.
    const up = cycles.find((c) => at(c) > at(lastBefore) && pods(c) > baseline)!;
    expect(up, 'the fleet never grew').toBeDefined();
    expect(at(up)).toBeGreaterThan(UP_AT);
    expect(at(up)).toBeLessThanOrEqual(UP_AT + WINDOW + 2 * INTERVAL);
    const peak = Math.max(...cycles.map(pods));
    expect(peak).toBeGreaterThan(baseline);

    // Latency back under the SLO once the new pods serve, while the high load lasts.
    const slo = model(up).slo!;
    expect(slo.ttftMs).toBeGreaterThan(0);
    const recovered = cycles.find(
      (c) =>
        at(c) > at(up) + STARTUP &&
        at(c) < DOWN_AT &&
        model(c).withinSlo === true &&
        (model(c).arrivalRate ?? 0) > 6000,
    );
    expect(recovered, 'measured TTFT/ITL never came back under the SLO at the high load').toBeDefined();
    expect(model(recovered!).ttftMs!).toBeLessThanOrEqual(slo.ttftMs!);

    // Down: below the fewest pods the high load ran on (so after the step down) only once the
    // recommendations had been below that count for the whole stabilisation window. The window
    // runs from the first lower recommendation, which can come before the step down: after each
    // scale-up, arrivals read low while the new pods' series are younger than the query window.
    const high = cycles.filter((c) => at(c) > at(recovered!) && at(c) < DOWN_AT);
    const highMin = Math.min(...high.map(pods));
    const down = cycles.find((c) => at(c) > at(recovered!) && pods(c) < highMin);
    expect(down, 'the fleet never shrank after the step down').toBeDefined();
    expect(at(down!)).toBeGreaterThanOrEqual(DOWN_AT);
    // The run of cycles recommending fewer than highMin that ends at `down`; a cycle without a
    // decision for every variant neither ends nor starts it (the stabiliser records nothing then).
    const recommended = (c: DemoCycle) => {
      const vs = c.loop!.variants.filter((v) => v.namespace === 'llm-prod' && v.modelId === LLAMA);
      return vs.every((v) => v.recommended !== undefined)
        ? vs.reduce((a, v) => a + (v.recommended as number), 0)
        : undefined;
    };
    let firstLower = down!;
    for (const c of cycles.filter((x) => at(x) <= at(down!)).reverse()) {
      const r = recommended(c);
      if (r === undefined) continue;
      if (r >= highMin) break;
      firstLower = c;
    }
    expect(at(down!) - at(firstLower)).toBeGreaterThanOrEqual(STABILIZATION - 2 * INTERVAL);
    const last = cycles.at(-1)!;
    expect(pods(last)).toBeLessThan(peak);

    // The summary counts the same story.
    const loop = summary.loop!;
    expect(loop.actions.some((a) => a.namespace === 'llm-prod' && a.to > a.from)).toBe(true);
    expect(loop.actions.some((a) => a.namespace === 'llm-prod' && a.to < a.from)).toBe(true);
    expect(loop.ours.replicaMinutes).toBeLessThan(loop.staticPeak.replicaMinutes);
    expect(loop.staticPeak.actions).toBe(0);
    expect(loop.ours.cycles).toBeGreaterThan(0);
  }, 170_000);
});
