// The SLO engine in the controller with what its sizing needs from the cluster: the pod start-up it
// sizes the backlog ahead with (measured from the Pod objects, else WVA_POD_STARTUP), and the GPU
// limiter (enableLimiter) over its scale-ups, together with saturation V1's and from the same free
// GPUs: least spare capacity first (an SLO decision has none to spare), then lowest cost. Models
// learn on synthetic pods measured on known performance lines with seeded noise.
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { PodStartup } from '../../../src/controller/pod-startup.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { type FleetModel, SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { saturationOutcome } from '../../../src/controller/saturation-outcome.js';
import { SloDecider } from '../../../src/controller/slo-decider.js';
import { SloLearner } from '../../../src/controller/slo-learner.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { ENGINE_NAMES, OPTIMIZATION_READY } from '../../../src/engines/types.js';
import type { PodView, TrimmedPod } from '../../../src/kube/pods.js';
import type { ServiceClass } from '../../../src/optimizer/inputs.js';
import { deploymentObject, foundReading, vaObject } from '../../support/variants.js';
import { normal, seeded, TRUE } from '../engines/slo/synthetic.js';

const NS = 'llm';
const CLASSES: ServiceClass[] = [
  {
    key: 'premium.yaml',
    name: 'Premium',
    priority: 1,
    entries: ['model-a', 'model-b'].map((model) => ({ model, slo: { ttftMs: 800, itlMs: 40 } })),
  },
];
const LIMITER =
  'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\nenableLimiter: true\n';

/** One model with one H100 variant of `replicas` (all ready), one GPU each. */
function model(id: string, variant: string, replicas: number, cost: string) {
  const va = vaObject(NS, variant, id, {
    accelerator: 'H100',
    spec: { modelID: id, scaleTargetRef: { kind: 'Deployment', name: variant }, variantCost: cost },
  });
  const group: GroupMember[] = [{ va, deployment: deploymentObject(NS, variant, replicas) }];
  return { id, variant, replicas, va, group };
}
type Model = ReturnType<typeof model>;

/** The model's pods measured at `batch` requests each on the TRUE lines, 2 % noise. */
function pods(m: Model, batch: number, rand: () => number, kv = 0.3): PodMetrics[] {
  return Array.from({ length: m.replicas }, (_, i) => {
    const prefill = (TRUE.gamma + TRUE.delta * 1000 * batch) * (1 + 0.02 * normal(rand));
    return {
      pod: `${m.variant}-a1b2c-x${i}`,
      modelId: m.id,
      namespace: NS,
      kvCacheUsage: kv,
      queueLength: 0,
      avgRunning: batch,
      avgInputTokens: 1000,
      avgOutputTokens: 200,
      itlMs: (TRUE.alpha + TRUE.beta * batch) * (1 + 0.02 * normal(rand)),
      prefillMs: prefill,
      queueMs: 5,
      ttftMs: prefill + 5,
    };
  });
}

/** The cycle's read of a model: its load (requests per minute), requests waiting, its pods. */
function read(m: Model, rate: number, p: PodMetrics[], waiting = 50): MetricsRead {
  const r = foundReading(m.id, NS, rate);
  return {
    ...r,
    metrics: {
      ...r.metrics!,
      load: { arrivalRate: rate, avgInputTokens: 1000, avgOutputTokens: 200 },
      saturation: { waiting },
    },
    pods: p,
  };
}

/** An SLO decider over saturation; `fleet` set: the limiter's fleet pass reads `world.now`. */
function controller(o: {
  limiter?: { capacity: number; used: () => number };
  startup?: PodStartup;
  fleet?: boolean;
}) {
  let t = 0;
  const holder = new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config');
  if (o.limiter) holder.setGlobal({ default: LIMITER });
  const world = { now: [] as Array<{ m: Model; r: MetricsRead }> };
  const limiter = o.limiter;
  const sat = new SaturationDecider({
    config: holder,
    stabilizationWindowMs: 0,
    ...(limiter
      ? { gpus: { capacity: () => ({ H100: limiter.capacity }), usage: () => ({ H100: limiter.used() }) } }
      : {}),
    ...(o.fleet
      ? {
          fleet: async (): Promise<FleetModel[]> =>
            world.now.map(({ m, r }) => ({ members: m.group, pods: r.pods, read: r })),
        }
      : {}),
  });
  const d = new SloDecider({
    saturation: sat,
    learner: new SloLearner(),
    serviceClasses: () => CLASSES,
    stabilizationWindowMs: 0,
    backlogDrainMs: 120_000,
    monotonic: () => t,
    now: () => t,
    ...(o.startup ? { startup: o.startup } : {}),
  });
  return {
    decider: d,
    saturation: sat,
    /** One cycle: every model's read given, then reconciled in the order given. */
    async cycle(reads: Array<{ m: Model; r: MetricsRead }>) {
      t += 30_000;
      world.now = reads;
      d.beginCycle();
      const out = [];
      for (const { m, r } of reads) out.push(await saturationOutcome(d, async () => m.group, m.va, r));
      return out;
    },
    /** 30 cycles of a swinging light load: the SLO models' learned performance is confident after. */
    async learn(models: Model[], seed: number) {
      const rand = seeded(seed);
      for (let i = 0; i < 30; i++)
        await this.cycle(models.map((m) => ({ m, r: read(m, 600, pods(m, 4 + ((i * 7) % 40), rand)) })));
    },
  };
}

const message = (o: { status: { conditions: Array<{ type: string; message: string }> } }) =>
  o.status.conditions.find((c) => c.type === OPTIMIZATION_READY)?.message ?? '';

describe('pod start-up in the SLO engine', () => {
  it('sizes the backlog ahead with the measured start-up, the default where none is, and not at all at 0', async () => {
    const a = model('model-a', 'a-h100', 2, '10');
    const measured: PodView = {
      pod: (_ns, name): TrimmedPod => ({
        metadata: { name, namespace: NS },
        status: { ready: true },
        startup: { ms: 600_000, readyAtMs: 1 },
      }),
      synced: () => true,
    };
    const target = async (startup: PodStartup) => {
      const c = controller({ startup });
      await c.learn([a], 7);
      const [o] = await c.cycle([{ m: a, r: read(a, 8000, pods(a, 20, seeded(1))) }]);
      expect(o?.model.engine).toBe(ENGINE_NAMES.slo);
      return o!.decision!;
    };
    const off = await target(new PodStartup({ defaultMs: 0 }));
    const byDefault = await target(new PodStartup({ defaultMs: 120_000 }));
    const slow = await target(new PodStartup({ pods: measured, defaultMs: 120_000 }));
    expect(off.reason).not.toMatch(/expected waiting when new replicas serve/);
    expect(byDefault.reason).toMatch(/expected waiting when new replicas serve \(50 now\)/);
    expect(byDefault.targetReplicas).toBeGreaterThan(off.targetReplicas);
    // Ten minutes measured: more arrive before the new pods serve than in the default two.
    expect(slow.targetReplicas).toBeGreaterThan(byDefault.targetReplicas);
  });
});

describe('a reloaded configuration', () => {
  it('reaches the SLO engine: the drain time sizes the backlog (0: arrivals only) and both stabilisation windows move', async () => {
    const a = model('model-a', 'a-h100', 2, '10');
    const c = controller({ startup: new PodStartup({ defaultMs: 120_000 }) });
    await c.learn([a], 7);
    const step = () => c.cycle([{ m: a, r: read(a, 8000, pods(a, 20, seeded(1))) }]);
    const [drained] = await step();
    expect(drained?.decision?.reason).toMatch(/expected waiting when new replicas serve \(50 now\)/);
    c.decider.configure({ backlogDrainMs: 0, stabilizationWindowMs: 45_000 });
    const [arrivals] = await step();
    expect(arrivals?.model.engine).toBe(ENGINE_NAMES.slo);
    expect(arrivals?.decision?.reason).not.toMatch(/expected waiting/);
    expect(arrivals?.decision?.targetReplicas).toBeLessThan(drained?.decision?.targetReplicas as number);
    expect(c.decider.stabiliser.windowMs).toBe(45_000);
    expect(c.saturation.stabiliser.windowMs).toBe(45_000);
  });
});

describe('GPU limiter over the SLO engine', () => {
  it('cuts a scale-up asking for more GPUs than are free, says so, and takes the GPUs from what the next model finds', async () => {
    const a = model('model-a', 'a-h100', 2, '10');
    const b = model('model-b', 'b-h100', 2, '10');
    // Without a limiter the load asks for 7 replicas of model-a.
    const free = controller({});
    await free.learn([a], 7);
    const [wanted] = await free.cycle([{ m: a, r: read(a, 8000, pods(a, 20, seeded(1))) }]);
    expect(wanted?.decision?.targetReplicas).toBe(7);

    // 6 H100 on the Nodes, the two models hold 4: 2 free, taken by model-a (reconciled first).
    const c = controller({ limiter: { capacity: 6, used: () => 4 } });
    await c.learn([a, b], 7);
    const rand = seeded(1);
    const [oa, ob] = await c.cycle([
      { m: a, r: read(a, 8000, pods(a, 20, rand)) },
      { m: b, r: read(b, 8000, pods(b, 20, rand)) },
    ]);
    expect(oa?.model.engine).toBe(ENGINE_NAMES.slo);
    expect(oa?.decision).toMatchObject({ targetReplicas: 4, action: 'scale-up' });
    expect(oa?.status.desired?.numReplicas).toBe(4);
    expect(message(oa!)).toMatch(
      /^slo-queueing: SLO engine: .* -> 7 .*\(target: 4 replicas\); GpuLimiter: scale-up to 7 cut to 4: not enough free H100 GPUs \(limited: allocated 2 GPUs for \+2 replicas\)$/,
    );
    // Nothing left for model-b: it keeps what runs, never fewer.
    expect(ob?.decision).toMatchObject({ targetReplicas: 2, currentReplicas: 2, action: 'no-change' });
    expect(message(ob!)).toContain('GpuLimiter: scale-up to 7 cut to 2: not enough free H100 GPUs');
  });

  it('across the fleet: the SLO scale-up before saturation V1 short of spare, then the cheaper of two SLO models, whichever is reconciled first', async () => {
    const a = model('model-a', 'a-h100', 2, '10');
    const v1 = model('model-c', 'c-h100', 2, '10'); // no SLO: saturation V1 decides it
    const rand = seeded(3);
    // model-c's pods are short of spare KV (0.75 of 0.80, spare 0.05 < 0.1): V1 asks for one more.
    const reads = () => [
      { m: v1, r: read(v1, 600, pods(v1, 10, rand, 0.75)) },
      { m: a, r: read(a, 8000, pods(a, 20, rand)) },
    ];
    const one = controller({ limiter: { capacity: 5, used: () => 4 }, fleet: true });
    await one.learn([a, v1], 7);
    const [oc, oa] = await one.cycle(reads());
    expect(oc?.model.engine).toBe(ENGINE_NAMES.saturationV1);
    expect(oc?.decision?.targetReplicas).toBe(2);
    expect(message(oc!)).toContain('GpuLimiter: scale-up to 3 cut to 2: not enough free H100 GPUs');
    expect(oa?.decision?.targetReplicas).toBe(3);

    // Two SLO models, 3 GPUs free: the cheaper one (model-b) gets them though model-a comes first.
    const b = model('model-b', 'b-h100', 2, '5');
    const two = controller({ limiter: { capacity: 7, used: () => 4 }, fleet: true });
    await two.learn([a, b], 7);
    const [xa, xb] = await two.cycle([
      { m: a, r: read(a, 8000, pods(a, 20, rand)) },
      { m: b, r: read(b, 8000, pods(b, 20, rand)) },
    ]);
    expect(xb?.decision?.targetReplicas).toBe(5);
    expect(xa?.decision?.targetReplicas).toBe(2);
    expect(message(xa!)).toContain('GpuLimiter: scale-up to 7 cut to 2');
  });
});
