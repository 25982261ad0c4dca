// An old-shape variant (spec.modelProfile + sloClassRef) through the reconciler: its given profile is
// the learner's prior, fed from the cycle's per-pod series; the optimizer sizes with the profile as
// corrected by the measurements once the learner is confident; a profile the measurements contradict
// leaves the model to saturation with the condition saying why; a restart keeps the correction.
// Pods are synthetic records measured on known performance lines (TRUE) with seeded noise.
import { describe, expect, it } from 'vitest';
import { formatProfileTable, profileRows } from '../../../src/cli/profile.js';
import type { PodMetrics } from '../../../src/collector/pods.js';
import { VariantOptimizer } from '../../../src/controller/decision.js';
import { LocalSource } from '../../../src/controller/local.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { SloDecider } from '../../../src/controller/slo-decider.js';
import { runningOption } from '../../../src/controller/slo-given.js';
import { SloLearner } from '../../../src/controller/slo-learner.js';
import { type LearnedStore, SloPersistence } from '../../../src/controller/slo-persistence.js';
import { learnedSamples } from '../../../src/controller/slo-setup.js';
import { type PriorParameters, restoreLearnedProfiles } from '../../../src/engines/slo/learn/index.js';
import { ENGINE_NAMES } from '../../../src/engines/types.js';
import type { Deployment, VariantAutoscaling } from '../../../src/kube/types.js';
import type { ServiceClass } from '../../../src/optimizer/inputs.js';
import { deploymentObject, foundReading, vaObject } from '../../support/variants.js';
import { normal, seeded, TRUE } from '../engines/slo/synthetic.js';

const NS = 'llm';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const NAME = 'llama-h100';
const CLASSES: ServiceClass[] = [
  {
    key: 'premium.yaml',
    name: 'Premium',
    priority: 1,
    entries: [{ model: MODEL, slo: { ttftMs: 800, itlMs: 40 } }],
  },
];
const T0 = Date.parse('2026-01-01T00:00:00Z');

function oldShape(p: PriorParameters): VariantAutoscaling {
  return vaObject(NS, NAME, MODEL, {
    accelerator: 'H100',
    spec: {
      modelID: MODEL,
      sloClassRef: { name: 'premium', key: MODEL },
      modelProfile: {
        accelerators: [
          {
            acc: 'H100',
            accCount: 1,
            maxBatchSize: 64,
            perfParms: {
              decodeParms: { alpha: String(p.alpha), beta: String(p.beta) },
              prefillParms: { gamma: String(p.gamma), delta: String(p.delta) },
            },
          },
        ],
      },
    },
  });
}

function vllm(): Deployment {
  const d = deploymentObject(NS, NAME, 2);
  // The Deployment type leaves out container args (the controller reads them through DeploymentLike).
  const containers: unknown = [{ name: 'vllm', args: ['--max-num-seqs', '64'] }];
  return {
    ...d,
    spec: { ...d.spec, template: { ...d.spec?.template, spec: { containers } } } as Deployment['spec'],
  };
}

/** Two pods measured at `batch` requests each on the TRUE lines, 2 % noise. */
function pods(batch: number, rand: () => number): PodMetrics[] {
  return ['a1b2c-x1', 'a1b2c-x2'].map((suffix) => {
    const itl = (TRUE.alpha + TRUE.beta * batch) * (1 + 0.02 * normal(rand));
    const prefill = (TRUE.gamma + TRUE.delta * 1000 * batch) * (1 + 0.02 * normal(rand));
    return {
      pod: `${NAME}-${suffix}`,
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

function controller(
  profile: PriorParameters,
  o: { learner?: SloLearner; persistence?: SloPersistence; saturationWindowMs?: number } = {},
) {
  let t = 0;
  let current: PodMetrics[] = [];
  const source = new LocalSource();
  source.load({ variants: [oldShape(profile)], deployments: [vllm()] });
  const learner = o.learner ?? new SloLearner();
  const saturation = new SaturationDecider({
    config: new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config'),
    stabilizationWindowMs: o.saturationWindowMs ?? 0,
    monotonic: () => t,
  });
  const decider = new SloDecider({
    saturation,
    learner,
    serviceClasses: () => CLASSES,
    stabilizationWindowMs: 0,
    monotonic: () => t,
    now: () => T0 + t,
    ...(o.persistence ? { persistence: o.persistence } : {}),
  });
  const optimizer = new VariantOptimizer({
    config: { serviceClasses: { value: CLASSES }, unitCosts: { value: { H100: 10 } } },
    stabilizationWindowMs: 0,
    monotonic: () => t,
  });
  const reconciler = new Reconciler({
    source,
    writer: source,
    collector: { read: async () => ({ ...foundReading(MODEL, NS, 600), pods: current }) },
    optimizer,
    saturation: decider,
    now: () => new Date(T0 + t),
    monotonic: () => t,
  });
  return {
    learner,
    decider,
    async cycle(p: PodMetrics[]) {
      t += 30_000;
      current = p;
      reconciler.beginCycle();
      const r = await reconciler.reconcile(`${NS}/${NAME}`);
      reconciler.endCycle();
      const ready = source
        .getVariant(NS, NAME)
        ?.status?.conditions?.find((c) => c.type === 'OptimizationReady');
      return { r, message: ready?.message ?? '' };
    },
  };
}

const varied = (i: number) => 4 + ((i * 7) % 40);

describe('a given modelProfile corrected by what is measured', () => {
  it('sizes with the given profile, then with the profile the measurements corrected', async () => {
    const rand = seeded(21);
    // 20 % slow in alpha: near enough not to be contradicted, far enough to be corrected.
    const given = { ...TRUE, alpha: TRUE.alpha * 1.2 };
    const c = controller(given);
    const first = await c.cycle(pods(varied(0), rand));
    expect(first.r.decision?.ok).toBe(true);
    expect(first.message).toMatch(/^SLO engine: given profile; \d+ replica\(s\) of H100 for SLO/);
    const rateGiven = first.r.decision?.ok ? first.r.decision.allocation.ratePerReplica : Number.NaN;
    let last = first;
    for (let i = 1; i < 40; i++) {
      last = await c.cycle(pods(varied(i), rand));
      // Never left to saturation: the profile is not contradicted.
      expect(last.r.engine).toBeUndefined();
    }
    expect(last.message).toMatch(
      /^SLO engine: given profile, corrected by the measurements \(\d+ cycles, ITL error [\d.]+ %, TTFT error [\d.]+ %\); \d+ replica\(s\) of H100/,
    );
    const view = c.learner.views()[0];
    expect(view?.status.priorSource).toBe('given');
    // The parameter moved from the given value towards the measured one.
    expect(Math.abs((view?.profile.alpha ?? 0) - TRUE.alpha)).toBeLessThan((given.alpha - TRUE.alpha) / 2);
    // And the optimizer sized with it: a faster replica serves more at the same SLO.
    const rateCorrected = last.r.decision?.ok ? last.r.decision.allocation.ratePerReplica : Number.NaN;
    expect(rateCorrected).toBeGreaterThan(rateGiven);
  });

  it('falls back to saturation when the measurements contradict the profile, naming the variant and the fix', async () => {
    const rand = seeded(22);
    const c = controller({ ...TRUE, alpha: TRUE.alpha * 5 });
    const engines: (string | undefined)[] = [];
    let message = '';
    for (let i = 0; i < 30; i++) {
      // Steady load: the slopes stay unidentified, so no learned model can replace the profile.
      const o = await c.cycle(pods(20, rand));
      engines.push(o.r.engine);
      message = o.message;
    }
    // The optimizer sized with the given profile until it was judged (10 cycles), then saturation.
    const fell = engines.indexOf(ENGINE_NAMES.saturationV1);
    expect(fell).toBeGreaterThanOrEqual(9);
    expect(engines.slice(0, fell).every((e) => e === undefined)).toBe(true);
    expect(engines.slice(fell).every((e) => e === ENGINE_NAMES.saturationV1)).toBe(true);
    expect(message).toMatch(
      /^saturation-v1: the given profile of variant llama-h100 \(H100\) contradicts the measurements: decodeParms \(alpha 45, beta 0.12\) predict ITL [\d.]+ % off/,
    );
    expect(message).toContain('fix spec.modelProfile or remove it');
    expect(message).toContain('the learned model is not usable yet either (batch has not varied');
  });

  it("holds the fallback's scale-down through the saturation stabilisation window, as any saturation decision", async () => {
    const rand = seeded(22);
    const c = controller({ ...TRUE, alpha: TRUE.alpha * 5 }, { saturationWindowMs: 300_000 });
    let o = await c.cycle(pods(20, rand));
    while (o.r.engine !== ENGINE_NAMES.saturationV1) o = await c.cycle(pods(20, rand));
    // V1 finds spare capacity (KV 30 %, no queue) and decides one replica fewer; the window keeps 2.
    expect(o.message).toContain('scale-down to 1 waits: 2 is kept');
    expect(o.r.status?.desiredOptimizedAlloc?.numReplicas).toBe(2);
  });

  it('keeps the corrected estimate across a restart', async () => {
    let stored: string | undefined;
    const store: LearnedStore = {
      where: 'memory',
      read: async () => stored,
      write: async (text) => {
        stored = text;
      },
    };
    const rand = seeded(23);
    const given = { ...TRUE, alpha: TRUE.alpha * 1.2 };
    const learner = new SloLearner();
    const first = controller(given, {
      learner,
      persistence: new SloPersistence({ store, learner, everyCycles: 5, now: () => T0 }),
    });
    for (let i = 0; i < 30; i++) await first.cycle(pods(varied(i), rand));
    first.decider.forget();
    await new Promise((r) => setImmediate(r));
    expect(stored).toBeDefined();

    const again = new SloLearner();
    const second = controller(given, {
      learner: again,
      persistence: new SloPersistence({ store, learner: again, now: () => T0 + 3_600_000 }),
    });
    const o = await second.cycle(pods(20, rand));
    expect(o.message).toMatch(/^SLO engine: given profile, corrected by the measurements \(\d+ cycles/);
    expect(again.views()[0]?.profile.alpha).toBeCloseTo(learner.views()[0]?.profile.alpha ?? 0, 0);

    // The gauges and `wva-metrics profile` show it, with its prior.
    expect(learnedSamples(again)).toMatchObject([
      { namespace: NS, variant: NAME, accelerator: 'H100', usable: true },
    ]);
    const rows = profileRows(restoreLearnedProfiles(stored as string, { nowMs: T0 + 3_600_000 }).estimators);
    expect(rows).toMatchObject([{ model: MODEL, accelerator: 'H100', prior: 'given', usable: true }]);
    expect(formatProfileTable(rows, [])).toMatch(
      /\byes\s+given\s+\S+\s+given profile, corrected by the measurements/,
    );

    // Without the document the same cycle sizes with the profile as given.
    const fresh = controller(given);
    expect((await fresh.cycle(pods(20, rand))).message).toMatch(/^SLO engine: given profile; /);
  });
});

describe('SloLearner with a given prior', () => {
  it('starts afresh, and says why, when a profile is given, changed or removed', () => {
    const learner = new SloLearner();
    const rand = seeded(24);
    const v = { model: MODEL, namespace: NS, variantName: NAME, accelerator: 'H100', deployment: vllm() };
    const given = { ...TRUE, maxBatchSize: 64 };
    for (let i = 0; i < 5; i++) learner.observe({ ...v, pods: pods(varied(i), rand) }, T0 + i);
    const steps: Array<[(PriorParameters & { maxBatchSize: number }) | undefined, string | null]> = [
      [given, 'a profile is given now'],
      [given, null],
      [{ ...given, alpha: 12 }, 'the given profile changed'],
      [undefined, 'the given profile was removed'],
    ];
    for (const [g, why] of steps) {
      const before = learner.views()[0]?.status.cycles ?? 0;
      const r = learner.observe({ ...v, pods: pods(20, rand), ...(g ? { given: g } : {}) }, T0 + 10);
      expect(r.state.prior.source).toBe(g ? 'given' : 'neutral');
      if (g) expect(r.state.prior.alpha).toBe(g.alpha);
      if (why === null) expect(r.state.confidence.cycles).toBe(before + 1);
      else {
        expect(r.note).toBe(`${why}: the estimate made from the old prior was dropped`);
        expect(r.state.confidence.cycles).toBe(1);
      }
      expect(learner.size).toBe(1);
    }
  });
});

describe('runningOption', () => {
  const opt = (acc: string) => ({ acc, accCount: 1, profile: { ...TRUE, maxBatchSize: 8 } });
  it('picks the profile entry of the accelerator the variant runs on, or none', () => {
    const both = [opt('A100'), opt('H100')];
    expect(runningOption(both, 'H100', 'unknown')?.acc).toBe('H100');
    expect(runningOption(both, undefined, 'h100')?.acc).toBe('H100');
    expect(runningOption(both, 'L40S', 'L40S')).toBeUndefined();
    expect(runningOption([opt('A100')], undefined, 'unknown')?.acc).toBe('A100');
    expect(runningOption(both, undefined, 'unknown')).toBeUndefined();
  });
});
