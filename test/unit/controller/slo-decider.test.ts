// The engine choice per model in the controller: saturation (saying why) until the variant's
// learned model is confident, then the SLO engine; what was learned survives a restart through the
// persisted document; an estimate from other vLLM arguments is dropped, and the condition says so.
// Pods are synthetic records measured on known performance lines with seeded noise.
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { SloDecider } from '../../../src/controller/slo-decider.js';
import { observationOf, SloLearner } from '../../../src/controller/slo-learner.js';
import { type LearnedStore, SloPersistence } from '../../../src/controller/slo-persistence.js';
import { ENGINE_NAMES, OPTIMIZATION_READY } from '../../../src/engines/types.js';
import type { Deployment } from '../../../src/kube/types.js';
import type { ServiceClass } from '../../../src/optimizer/inputs.js';
import { deploymentObject, foundReading, vaObject } from '../../support/variants.js';
import { normal, seeded, TRUE } from '../engines/slo/synthetic.js';

const NS = 'llm';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const CLASSES: ServiceClass[] = [
  {
    key: 'premium.yaml',
    name: 'Premium',
    priority: 1,
    entries: [{ model: MODEL, slo: { ttftMs: 800, itlMs: 40 } }],
  },
];
const T0 = Date.parse('2026-01-01T00:00:00Z');

function withArgs(d: Deployment, args: string[]): Deployment {
  // The Deployment type leaves out container args (the controller reads them through DeploymentLike).
  const containers: unknown = [{ name: 'vllm', args }];
  const template = { ...d.spec?.template, spec: { containers } };
  return { ...d, spec: { ...d.spec, template } as Deployment['spec'] };
}

function world(args = ['--max-num-seqs', '64']) {
  const va = vaObject(NS, 'llama-h100', MODEL, {
    accelerator: 'H100',
    spec: { modelID: MODEL, scaleTargetRef: { kind: 'Deployment', name: 'llama-h100' }, variantCost: '10' },
  });
  const group: GroupMember[] = [{ va, deployment: withArgs(deploymentObject(NS, 'llama-h100', 2), args) }];
  return { va, group };
}

/** Two pods measured at `batch` requests each on the TRUE lines, 2 % noise. */
function pods(batch: number, rand: () => number): PodMetrics[] {
  return ['a1b2c-x1', 'a1b2c-x2'].map((suffix) => {
    const itl = (TRUE.alpha + TRUE.beta * batch) * (1 + 0.02 * normal(rand));
    const prefill = (TRUE.gamma + TRUE.delta * 1000 * batch) * (1 + 0.02 * normal(rand));
    return {
      pod: `llama-h100-${suffix}`,
      modelId: MODEL,
      namespace: NS,
      kvCacheUsage: 0.3,
      queueLength: 0,
      avgRunning: batch,
      avgInputTokens: 1000,
      avgOutputTokens: 200,
      itlMs: itl,
      prefillMs: prefill,
      queueMs: 5,
      ttftMs: prefill + 5,
    };
  });
}

function decider(learner: SloLearner, o: { classes?: ServiceClass[]; persistence?: SloPersistence } = {}) {
  let t = 0;
  const sat = new SaturationDecider({
    config: new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config'),
    stabilizationWindowMs: 0,
  });
  const d = new SloDecider({
    saturation: sat,
    learner,
    serviceClasses: () => o.classes ?? CLASSES,
    stabilizationWindowMs: 0,
    monotonic: () => t,
    now: () => T0 + t,
    ...(o.persistence ? { persistence: o.persistence } : {}),
  });
  return {
    d,
    async cycle(w: ReturnType<typeof world>, p: PodMetrics[]) {
      t += 30_000;
      d.beginCycle(new Set([`${NS}/llama-h100`]));
      return d.decide(w.va, w.group, p, { ...foundReading(MODEL, NS, 600), pods: p });
    },
  };
}

const ready = (o: Awaited<ReturnType<ReturnType<typeof decider>['cycle']>>) =>
  o.status.conditions.find((c) => c.type === OPTIMIZATION_READY);

describe('SloDecider', () => {
  it('decides with saturation, saying why, until the learned model is confident, then with the SLO engine', async () => {
    const rand = seeded(7);
    const c = decider(new SloLearner());
    const w = world();
    const engines: string[] = [];
    let firstMessage = '';
    for (let i = 0; i < 40; i++) {
      const o = await c.cycle(w, pods(4 + ((i * 7) % 40), rand));
      engines.push(o.model.engine);
      if (i === 0) firstMessage = ready(o)?.message ?? '';
    }
    expect(firstMessage).toMatch(/^saturation-v1: learned model for variant llama-h100 not usable yet \(/);
    expect(firstMessage).toContain('1 of 20 cycles observed');
    const switched = engines.indexOf(ENGINE_NAMES.slo);
    // Not before the learner's 20 scored cycles, and once switched it stays.
    expect(switched).toBeGreaterThanOrEqual(19);
    expect(engines.slice(0, switched).every((e) => e === ENGINE_NAMES.saturationV1)).toBe(true);
    expect(engines.slice(switched).every((e) => e === ENGINE_NAMES.slo)).toBe(true);
    const o = await c.cycle(w, pods(20, rand));
    expect(ready(o)?.message).toMatch(/SLO engine: learned profile \(\d+ cycles, ITL error [\d.]+ %/);
    expect(o.decision?.targetReplicas).toBeGreaterThanOrEqual(1);
  });

  it('leaves a model without an SLO to saturation, its message as before', async () => {
    const rand = seeded(8);
    const plain = decider(new SloLearner(), { classes: [] });
    const bare = new SaturationDecider({
      config: new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config'),
      stabilizationWindowMs: 0,
    });
    const w = world();
    for (let i = 0; i < 30; i++) {
      const p = pods(4 + ((i * 7) % 40), rand);
      const o = await plain.cycle(w, p);
      bare.beginCycle();
      const b = bare.decide(w.va, w.group, p);
      expect(o.model.engine).toBe(ENGINE_NAMES.saturationV1);
      expect(ready(o)?.message).toBe(b.status.conditions.find((x) => x.type === OPTIMIZATION_READY)?.message);
    }
  });

  it('keeps what was learned across a restart: confident at the first cycle of the next process', async () => {
    let stored: string | undefined;
    const store: LearnedStore = {
      where: 'memory',
      read: async () => stored,
      write: async (text) => {
        stored = text;
      },
    };
    const rand = seeded(9);
    const learner = new SloLearner();
    const first = decider(learner, {
      persistence: new SloPersistence({ store, learner, everyCycles: 5, now: () => T0 }),
    });
    const w = world();
    for (let i = 0; i < 30; i++) await first.cycle(w, pods(4 + ((i * 7) % 40), rand));
    first.d.forget();
    await new Promise((r) => setImmediate(r));
    expect(stored).toBeDefined();

    const again = new SloLearner();
    const second = decider(again, {
      persistence: new SloPersistence({ store, learner: again, now: () => T0 + 3_600_000 }),
    });
    const o = await second.cycle(w, pods(20, rand));
    expect(o.model.engine).toBe(ENGINE_NAMES.slo);

    // Without the document the same cycle is saturation's.
    const fresh = decider(new SloLearner());
    expect((await fresh.cycle(w, pods(20, rand))).model.engine).toBe(ENGINE_NAMES.saturationV1);
  });

  it('drops an estimate learned under other vLLM arguments, and says so', async () => {
    const rand = seeded(10);
    const learner = new SloLearner();
    const c = decider(learner);
    for (let i = 0; i < 30; i++) await c.cycle(world(), pods(4 + ((i * 7) % 40), rand));
    expect((await c.cycle(world(), pods(20, rand))).model.engine).toBe(ENGINE_NAMES.slo);
    const o = await c.cycle(world(['--max-num-seqs', '64', '--tensor-parallel-size', '2']), pods(20, rand));
    expect(o.model.engine).toBe(ENGINE_NAMES.saturationV1);
    expect(ready(o)?.message).toContain('learned under other vLLM arguments');
    expect(learner.size).toBe(1);
  });
});

describe('observationOf', () => {
  it('weighs ITL by batch, and counts pods without series against coverage', () => {
    const base = { modelId: MODEL, namespace: NS };
    const o = observationOf([
      { ...base, pod: 'a', avgRunning: 10, itlMs: 10 },
      { ...base, pod: 'b', avgRunning: 30, itlMs: 20 },
      { ...base, pod: 'c' },
    ]);
    expect(o).toMatchObject({ batch: 20, itlMs: 17.5, coverage: 2 / 3 });
    expect(o?.prefillMs).toBeUndefined();
    expect(observationOf([{ ...base, pod: 'c' }])).toBeNull();
  });

  it('weighs prefill, queue time, TTFT and input tokens by batch: a pod just Ready with one slow request barely counts', () => {
    const base = { modelId: MODEL, namespace: NS, itlMs: 20 };
    const o = observationOf([
      { ...base, pod: 'new', avgRunning: 1, prefillMs: 1558, queueMs: 0, ttftMs: 1600, avgInputTokens: 4000 },
      { ...base, pod: 'old', avgRunning: 39, prefillMs: 120, queueMs: 20, ttftMs: 170, avgInputTokens: 1000 },
    ]);
    expect(o?.prefillMs).toBeCloseTo((1558 + 120 * 39) / 40, 6);
    expect(o?.queueMs).toBeCloseTo((20 * 39) / 40, 6);
    expect(o?.ttftMs).toBeCloseTo((1600 + 170 * 39) / 40, 6);
    expect(o?.inputTokens).toBeCloseTo((4000 + 1000 * 39) / 40, 6);
    // Nothing running anywhere: the plain means.
    const idle = observationOf([
      { ...base, pod: 'a', avgRunning: 0, prefillMs: 100, avgInputTokens: 500 },
      { ...base, pod: 'b', avgRunning: 0, prefillMs: 300, avgInputTokens: 700 },
    ]);
    expect(idle).toMatchObject({ prefillMs: 200, inputTokens: 600, itlMs: 20 });
  });
});
