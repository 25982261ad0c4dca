// The per-object decision: SLO resolution order, accelerator choice, joint sizing of a model's
// variants, saturation guard, stabilisation, caps, and the conditions when inputs are missing.
import { describe, expect, it } from 'vitest';
import { type DecisionInput, decideVariant, type GroupMember } from '../../../src/controller/decision.js';
import { OptimizerConfigStore } from '../../../src/controller/optimizer-config.js';
import { JumpGuard } from '../../../src/controller/replica-bounds.js';
import { computeStatus, type MetricsRead } from '../../../src/controller/status.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import { Stabiliser, sizeReplicas, withBacklog } from '../../../src/optimizer/index.js';

const A100 = { alpha: '20.58', beta: '0.41', gamma: '5.2', delta: '0.1', maxBatchSize: 4 };
const H100 = { alpha: '8', beta: '0.2', gamma: '3', delta: '0.05', maxBatchSize: 8 };

function acc(name: string, p: typeof A100, accCount = 1) {
  return {
    acc: name,
    accCount,
    maxBatchSize: p.maxBatchSize,
    perfParms: {
      decodeParms: { alpha: p.alpha, beta: p.beta },
      prefillParms: { gamma: p.gamma, delta: p.delta },
    },
  };
}

function va(
  name: string,
  o: {
    accs?: ReturnType<typeof acc>[];
    label?: string;
    ref?: { name: string; key: string };
    annotations?: Record<string, string>;
    desired?: { accelerator: string; numReplicas: number };
  } = {},
): VariantAutoscaling {
  return {
    apiVersion: 'llmd.ai/v1alpha1',
    kind: 'VariantAutoscaling',
    metadata: {
      name,
      namespace: 'prod',
      labels: o.label ? { 'inference.optimization/acceleratorName': o.label } : {},
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      modelID: 'llama',
      sloClassRef: o.ref ?? { name: 'premium', key: 'llama' },
      modelProfile: { accelerators: o.accs ?? [acc('A100', A100)] },
    },
    ...(o.desired
      ? { status: { desiredOptimizedAlloc: { ...o.desired, lastRunTime: '2026-01-01T00:00:00Z' } } }
      : {}),
  } as VariantAutoscaling;
}

const classes = {
  'premium.yaml':
    'name: Premium\npriority: 1\ndata:\n  - model: llama\n    slo-tpot: 24\n    slo-ttft: 500\n',
  'batch.yaml':
    'name: Batch\npriority: 20\ndata:\n  - model: llama\n    slo-tpot: 60\n    slo-ttft: 3000\n  - model: other\n    slo-tpot: 50\n',
};
const costs = { A100: '{ "device": "a", "cost": "35.00" }', H100: '{ "device": "h", "cost": "70.00" }' };

function store(o: { classes?: Record<string, string> | null; costs?: Record<string, string> | null } = {}) {
  const s = new OptimizerConfigStore({ namespace: 'wva' });
  if (o.classes !== null) s.setServiceClasses(o.classes ?? classes);
  if (o.costs !== null) s.setUnitCosts(o.costs ?? costs);
  return s;
}

function read(arrivalRate: number, extra: Record<string, unknown> = {}): MetricsRead {
  return {
    metrics: {
      load: { arrivalRate, avgInputTokens: 128, avgOutputTokens: 256, ...extra },
      ttftAverage: 100,
      itlAverage: 20,
    },
    availability: { available: true, reason: 'MetricsFound', message: 'found' },
  } as MetricsRead;
}

const now = new Date('2026-06-01T12:00:00Z');
const dep = (replicas: number) => ({ metadata: { name: 'x', namespace: 'prod' }, spec: { replicas } });

function decide(o: Partial<DecisionInput> & { va: VariantAutoscaling }) {
  const group: GroupMember[] = o.group ?? [
    { va: o.va, ...(o.deployment ? { deployment: o.deployment } : {}) },
  ];
  return decideVariant({
    read: read(120),
    config: store(),
    now,
    stabiliser: new Stabiliser(300_000),
    kvCacheThreshold: 0.9,
    ...o,
    group,
  });
}

describe('one variant: WVA sizing', () => {
  it('the replicas and rate sizeReplicas gives for the resolved SLO, on the only accelerator', () => {
    const d = decide({ va: va('a') });
    const want = sizeReplicas({
      profile: { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 },
      load: { arrivalRate: 120, avgInputTokens: 128, avgOutputTokens: 256 },
      slo: { ttftMs: 500, itlMs: 24 },
    });
    expect(d.ok && d.numReplicas).toBe(want.numReplicas);
    expect(d.ok && d.allocation.ratePerReplica).toBeCloseTo(want.ratePerReplica, 9);
    expect(d.ok && d.reason).toBe('OptimizationSucceeded');
    expect(d.ok && d.message).toMatch(
      /^6 replica\(s\) of A100 for SLO TTFT 500 ms, ITL 24 ms \(service class Premium, entry llama\)$/,
    );
  });
});

describe('which SLO applies', () => {
  it('(1) a ConfigMap in the VA namespace named by sloClassRef, key sloClassRef.key', () => {
    const s = store();
    s.setNamespaceConfigMaps(new Map([['prod/gold', { llama: 'slo-tpot: 30\nslo-ttft: 900\n' }]]));
    const d = decide({ va: va('a', { ref: { name: 'gold', key: 'llama' } }), config: s });
    expect(d.ok && d.slo).toEqual({ ttftMs: 900, itlMs: 30 });
    expect(d.ok && d.sloSource).toBe('ConfigMap prod/gold key llama');
  });
  it('(2) the class named by sloClassRef.name in any case, entry for the key, else for the model', () => {
    const d = decide({ va: va('a', { ref: { name: 'BATCH', key: 'other' } }) });
    expect(d.ok && d.sloSource).toBe('service class Batch, entry other');
    const d2 = decide({ va: va('a', { ref: { name: 'batch', key: 'nope' } }) });
    expect(d2.ok && d2.sloSource).toBe('service class Batch, entry llama');
    expect(d2.ok && d2.slo).toEqual({ ttftMs: 3000, itlMs: 60 });
  });
  it('(3) otherwise the first class by priority listing the model, and the message says why', () => {
    const d = decide({ va: va('a', { ref: { name: 'gold', key: 'x' } }) });
    expect(d.ok && d.sloSource).toMatch(
      /^service class Premium \(first by priority listing llama; sloClassRef gold\/x: no class named gold\)$/,
    );
  });
  it('no class lists the model: NoServiceClass naming what to add', () => {
    const d = decide({
      va: va('a'),
      config: store({ classes: { 'b.yaml': 'name: B\ndata:\n  - model: z\n    slo-ttft: 1\n' } }),
    });
    expect(d).toMatchObject({ ok: false, reason: 'NoServiceClass' });
    expect(!d.ok && d.message).toMatch(/no service class lists model llama/);
  });
  it('service-classes-config missing: NoServiceClass says so', () => {
    const d = decide({ va: va('a'), config: store({ classes: null }) });
    expect(!d.ok && d.message).toMatch(/service-classes-config is missing.*not found/);
  });
});

describe('inputs that stop a decision', () => {
  it('a profile parameter that is not a number: InvalidProfile naming the field', () => {
    const d = decide({ va: va('a', { accs: [acc('A100', { ...A100, beta: 'fast' })] }) });
    expect(d).toMatchObject({ ok: false, reason: 'InvalidProfile' });
    expect(!d.ok && d.message).toMatch(/decodeParms\.beta: "fast" is not a number/);
  });
  it('a negative parameter: InvalidProfile', () => {
    const d = decide({ va: va('a', { accs: [acc('A100', { ...A100, gamma: '-1' })] }) });
    expect(!d.ok && d.message).toMatch(/accelerators\[0\]: gamma must be a finite number >= 0/);
  });
  it('an accelerator name the status could not hold (under 2 characters): InvalidProfile', () => {
    const d = decide({ va: va('a', { accs: [acc('X', A100)] }) });
    expect(!d.ok && d.message).toMatch(/accelerators\[0\]\.acc: required, at least 2 characters/);
  });
  it('a bad max-replicas annotation: InvalidProfile naming it', () => {
    const d = decide({ va: va('a', { annotations: { 'wva.llmd.ai/max-replicas': 'lots' } }) });
    expect(!d.ok && d.message).toMatch(/annotation wva.llmd.ai\/max-replicas: "lots"/);
  });
  it('accelerator-unit-costs missing, or no cost for the accelerator: NoUnitCosts', () => {
    expect(decide({ va: va('a'), config: store({ costs: null }) })).toMatchObject({
      ok: false,
      reason: 'NoUnitCosts',
    });
    const d = decide({ va: va('a'), config: store({ costs: { H100: costs.H100 } }) });
    expect(!d.ok && d.message).toBe('no unit cost for A100: add it to accelerator-unit-costs');
  });
  it("metrics unavailable: MetricsUnavailable with the collector's reason", () => {
    const r = {
      availability: {
        available: false,
        reason: 'MetricsMissing',
        message: 'no vLLM series for llama in prod',
      },
    } as MetricsRead;
    const d = decide({ va: va('a'), read: r });
    expect(d).toMatchObject({ ok: false, reason: 'MetricsUnavailable' });
    expect(!d.ok && d.message).toMatch(/no vLLM series for llama in prod/);
  });
  it('latency unknown (MetricsIncomplete) but load known: sized all the same', () => {
    const r = {
      ...read(120),
      availability: { available: false, reason: 'MetricsIncomplete', message: 'ttft unknown' },
    };
    expect(decide({ va: va('a'), read: r as MetricsRead })).toMatchObject({ ok: true, numReplicas: 6 });
  });
  it('traffic with unknown tokens: MetricsUnavailable naming the statistic and its metric', () => {
    const r = {
      metrics: { load: { arrivalRate: 120, avgOutputTokens: 256 } },
      availability: { available: false, reason: 'MetricsIncomplete', message: 'x' },
    } as MetricsRead;
    const d = decide({ va: va('a'), read: r });
    expect(d).toMatchObject({ ok: false, reason: 'MetricsUnavailable' });
    expect(!d.ok && d.message).toMatch(/unknown: avgInputTokens \(vllm:request_prompt_tokens\)/);
  });
  it('an SLO no accelerator meets: SLOUnreachable with the best achievable', () => {
    const s = store({ classes: { 'p.yaml': 'name: Premium\ndata:\n  - model: llama\n    slo-tpot: 5\n' } });
    const d = decide({ va: va('a'), config: s });
    expect(d).toMatchObject({ ok: false, reason: 'SLOUnreachable' });
    expect(!d.ok && d.message).toMatch(/on A100, itl target 5 ms cannot be met/);
  });
});

describe('accelerator choice (WVA transition value)', () => {
  const both = [acc('A100', A100), acc('H100', H100)];
  it('no current allocation: the cheapest feasible', () => {
    const d = decide({ va: va('a', { accs: both }), read: read(600) });
    const a100 = sizeReplicas({
      profile: { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 },
      load: { arrivalRate: 600, avgInputTokens: 128, avgOutputTokens: 256 },
      slo: { ttftMs: 500, itlMs: 24 },
    });
    const h100 = sizeReplicas({
      profile: { alpha: 8, beta: 0.2, gamma: 3, delta: 0.05, maxBatchSize: 8 },
      load: { arrivalRate: 600, avgInputTokens: 128, avgOutputTokens: 256 },
      slo: { ttftMs: 500, itlMs: 24 },
    });
    const cheaper = 35 * a100.numReplicas <= 70 * h100.numReplicas ? 'A100' : 'H100';
    expect(d.ok && d.accelerator).toBe(cheaper);
  });
  it('keeps the current accelerator unless the other is cheaper by more than the penalty', () => {
    // A100 x1 costs 35, H100 x1 costs 70 for a light load: on H100 now, moving saves 35 but the
    // penalty is 0.1 x (70 + 35) = 10.5 < 35, so it moves; with A100 priced 65 it stays.
    const cur = va('a', { accs: both, label: 'H100' });
    const d = decide({ va: cur, deployment: dep(1), read: read(6) });
    expect(d.ok && d.accelerator).toBe('A100');
    const pricey = store({ costs: { ...costs, A100: '{ "cost": "65" }' } });
    const d2 = decide({ va: cur, deployment: dep(1), read: read(6), config: pricey });
    expect(d2.ok && d2.accelerator).toBe('H100');
  });
});

describe('several variants of one model in one namespace share its load', () => {
  it("the cheaper variant per request/s carries the load beyond the other one's minimum", () => {
    const cheap = va('cheap', { accs: [acc('H100', H100)] });
    const dear = va('dear', { accs: [acc('A100', A100, 4)] }); // 4 x 35 per replica
    const group = [{ va: cheap }, { va: dear }];
    const dc = decide({ va: cheap, group, read: read(1200) });
    const dd = decide({ va: dear, group, read: read(1200) });
    if (!dc.ok || !dd.ok) throw new Error('both variants should be sized');
    // The dear one keeps its minimum (1 replica, loaded at its rate*); the cheap one takes the rest.
    expect(dd.numReplicas).toBe(1);
    expect(dd.allocation.assignedRate).toBeCloseTo(dd.allocation.ratePerReplica, 9);
    expect(dc.allocation.assignedRate + dd.allocation.assignedRate).toBeCloseTo(20, 9);
    expect(dc.numReplicas).toBe(Math.ceil(dc.allocation.assignedRate / dc.allocation.ratePerReplica));
    // WVA sizes each variant for the whole 20 req/s: the dear one alone would need dozens.
    const whole = sizeReplicas({
      profile: { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 },
      load: { arrivalRate: 1200, avgInputTokens: 128, avgOutputTokens: 256 },
      slo: { ttftMs: 500, itlMs: 24 },
    });
    expect(whole.numReplicas).toBeGreaterThan(50);
    expect(dc.ok && dc.message).toMatch(/load shared with 1 other variant/);
  });

  it('a variant whose Deployment does not exist or is being deleted carries no share: the one that runs carries it all', () => {
    const cheap = va('cheap', { accs: [acc('H100', H100)] });
    const deleting = va('deleting', { accs: [acc('H100', H100)] });
    const dear = va('dear', { accs: [acc('A100', A100, 4)] });
    const gone = { ...dep(1), metadata: { name: 'deleting', namespace: 'prod', deletionTimestamp: 'x' } };
    const group = [{ va: cheap }, { va: deleting, deployment: gone }, { va: dear, deployment: dep(1) }];
    const alone = decide({ va: dear, deployment: dep(1), read: read(1200), stabiliser: new Stabiliser(0) });
    const d = decide({
      va: dear,
      deployment: dep(1),
      group,
      read: read(1200),
      requireTarget: true,
      stabiliser: new Stabiliser(0),
    });
    if (!d.ok || !alone.ok) throw new Error('sized');
    expect(d.allocation.assignedRate).toBeCloseTo(20, 9);
    expect(d.numReplicas).toBe(alone.numReplicas);
    expect(d.message).not.toMatch(/load shared/);
  });
});

describe('bounds on every count', () => {
  it('no max-replicas annotation: at most the default maximum, and the message says how to allow more', () => {
    const d = decide({ va: va('a'), read: read(1e7), stabiliser: new Stabiliser(0) });
    expect(d).toMatchObject({ ok: true, reason: 'MaxReplicasLimited', numReplicas: 1000 });
    expect(d.ok && d.message).toMatch(
      /the default maximum is 1000 \(set wva.llmd.ai\/max-replicas to allow more\)/,
    );
  });

  it('min-replicas beyond int32 is refused naming min-replicas; max-replicas beyond int32 naming max-replicas', () => {
    const min = decide({ va: va('a', { annotations: { 'wva.llmd.ai/min-replicas': '3000000000' } }) });
    expect(!min.ok && min.message).toBe(
      'annotation wva.llmd.ai/min-replicas: "3000000000" must be a whole number from 0 to 2147483647',
    );
    const max = decide({ va: va('a', { annotations: { 'wva.llmd.ai/max-replicas': '99999999999' } }) });
    expect(!max.ok && max.message).toBe(
      'annotation wva.llmd.ai/max-replicas: "99999999999" must be a whole number from 1 to 2147483647',
    );
  });

  it('a jump of more than 10x what runs waits for a second sample; the same sample read again raises nothing', () => {
    const jumps = new JumpGuard();
    const st = new Stabiliser(300_000);
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    const sampled = (t: number): MetricsRead => ({
      ...read(9000),
      availability: { available: true, reason: 'MetricsFound', message: 'found', newestSample: at(t) },
    });
    const one = decide({
      va: va('a'),
      deployment: dep(1),
      read: sampled(0),
      stabiliser: st,
      jumps,
      now: at(0),
    });
    expect(one).toMatchObject({ ok: true, numReplicas: 10 });
    expect(one.ok && one.message).toMatch(
      /a jump to \d+ is more than 10x 1: 10 until a second sample agrees/,
    );
    const again = decide({
      va: va('a'),
      deployment: dep(10),
      read: sampled(0),
      stabiliser: st,
      jumps,
      now: at(5),
    });
    expect(again).toMatchObject({ ok: true, numReplicas: 10, message: one.ok ? one.message : '' });
    const two = decide({
      va: va('a'),
      deployment: dep(10),
      read: sampled(30),
      stabiliser: st,
      jumps,
      now: at(30),
    });
    expect(two.ok && two.numReplicas).toBe(two.ok ? two.recommended : -1);
    expect(two.ok && two.numReplicas).toBeGreaterThan(10);
  });
});

describe('saturation guard and stabilisation', () => {
  it('no scale-down while the queue grows or KV-cache usage is high; unknown holds nothing', () => {
    const v = va('a');
    const growing = decide({
      va: v,
      deployment: dep(8),
      read: read(120, { completionRate: 100 }),
      stabiliser: new Stabiliser(0),
    });
    expect(growing.ok && growing.numReplicas).toBe(8);
    expect(growing.ok && growing.message).toMatch(/scale-down to 6 held at 8: the queue grows/);
    const kv = {
      ...read(120),
      metrics: { ...read(120).metrics, saturation: { kvCacheUsage: 0.95 } },
    } as MetricsRead;
    const hot = decide({ va: v, deployment: dep(8), read: kv, stabiliser: new Stabiliser(0) });
    expect(hot.ok && hot.message).toMatch(/KV-cache usage is above 90%/);
    const unknown = decide({ va: v, deployment: dep(8), read: read(120), stabiliser: new Stabiliser(0) });
    expect(unknown.ok && unknown.numReplicas).toBe(6);
  });
  it('a saturation hold defers the step down without restarting the window', () => {
    const st = new Stabiliser(300_000);
    const v = va('a');
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    const first = decide({ va: v, deployment: dep(8), read: read(120), stabiliser: st, now: at(0) });
    expect(first.ok && first.numReplicas).toBe(8);
    // Mid-window the queue grows: held, as the window would hold it anyway.
    const grow = read(120, { completionRate: 100 });
    const mid = decide({ va: v, deployment: dep(8), read: grow, stabiliser: st, now: at(100) });
    expect(mid.ok && mid.numReplicas).toBe(8);
    // After the window the queue still grows: the step down waits for it.
    const late = decide({ va: v, deployment: dep(8), read: grow, stabiliser: st, now: at(301) });
    expect(late.ok && late.numReplicas).toBe(8);
    expect(late.ok && late.message).toMatch(/scale-down to 6 held at 8: the queue grows/);
    // The queue steady again: the window counted from the first lower recommendation (0 s) is over.
    const after = decide({ va: v, deployment: dep(8), read: read(120), stabiliser: st, now: at(320) });
    expect(after.ok && after.numReplicas).toBe(6);
  });
  it('scale-up at once, scale-down only after the window; a restart is seeded with what runs', () => {
    const st = new Stabiliser(300_000);
    const v = va('a');
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    const first = decide({ va: v, deployment: dep(8), read: read(120), stabiliser: st, now: at(0) });
    expect(first.ok && first.numReplicas).toBe(8); // seeded: the dip right after start does not scale down
    expect(first.ok && first.message).toMatch(
      /scale-down to 6 waits: 8 is kept until a lower count has been recommended for 300s/,
    );
    expect(decide({ va: v, read: read(2400), stabiliser: st, now: at(60) })).toMatchObject({ ok: true });
    const up = decide({ va: v, read: read(2400), stabiliser: st, now: at(61) });
    expect(up.ok && up.numReplicas).toBeGreaterThan(8);
    const high = up.ok ? up.numReplicas : 0;
    expect(decide({ va: v, read: read(120), stabiliser: st, now: at(300) })).toMatchObject({
      numReplicas: high,
    });
    // The window runs from the first lower recommendation (300 s), not from the last high one (61 s):
    // the time without decisions in between is not time spent lower.
    expect(decide({ va: v, read: read(120), stabiliser: st, now: at(362) })).toMatchObject({
      numReplicas: high,
    });
    expect(decide({ va: v, read: read(120), stabiliser: st, now: at(599) })).toMatchObject({
      numReplicas: high,
    });
    expect(decide({ va: v, read: read(120), stabiliser: st, now: at(600) })).toMatchObject({
      numReplicas: 6,
    });
  });
  it('maxReplicas caps the count and says the SLO is out of reach', () => {
    const d = decide({ va: va('a', { annotations: { 'wva.llmd.ai/max-replicas': '3' } }), read: read(600) });
    expect(d).toMatchObject({ ok: true, reason: 'MaxReplicasLimited', numReplicas: 3 });
    expect(d.ok && d.message).toMatch(/the SLO needs \d+ replicas but wva.llmd.ai\/max-replicas caps at 3/);
  });
});

describe('status', () => {
  it('desiredOptimizedAlloc and OptimizationReady; lastRunTime moves only with the decision', () => {
    const v = va('a');
    const d = decide({ va: v });
    const input = { va: v, specProblems: [], deployment: dep(2), read: read(120), now, decision: d };
    const s1 = computeStatus(input);
    expect(s1.desiredOptimizedAlloc).toEqual({
      accelerator: 'A100',
      numReplicas: 6,
      lastRunTime: '2026-06-01T12:00:00Z',
    });
    expect(s1.conditions?.find((c) => c.type === 'OptimizationReady')).toMatchObject({
      status: 'True',
      reason: 'OptimizationSucceeded',
    });
    const later = new Date(now.getTime() + 60_000);
    const s2 = computeStatus({ ...input, va: { ...v, status: s1 }, now: later });
    expect(s2.desiredOptimizedAlloc?.lastRunTime).toBe('2026-06-01T12:00:00Z');
    const fail = { ok: false as const, reason: 'NoUnitCosts' as const, message: 'gone' };
    const s3 = computeStatus({ ...input, va: { ...v, status: s1 }, now: later, decision: fail });
    expect(s3.desiredOptimizedAlloc).toEqual(s1.desiredOptimizedAlloc);
    expect(s3.conditions?.find((c) => c.type === 'OptimizationReady')).toMatchObject({
      status: 'False',
      reason: 'NoUnitCosts',
      message: 'gone',
    });
  });
});

describe('OptimizerConfigStore', () => {
  it('a bad edit keeps the last good version and says so; a deletion makes it missing', () => {
    const s = store();
    expect(s.serviceClasses.value?.map((c) => c.name)).toEqual(['Batch', 'Premium']);
    s.setServiceClasses({ 'premium.yaml': 'name: Premium\ndata:\n  - model: llama\n    slo-ttft: soon\n' });
    expect(s.serviceClasses.value?.map((c) => c.name)).toEqual(['Batch', 'Premium']);
    expect(s.serviceClasses.problem).toMatch(
      /an edit at .* was refused \(premium.yaml.data\[0\].slo-ttft: "soon" is not a number.*the last good version is in use/,
    );
    s.setUnitCosts({ A100: 'not json {' });
    expect(s.unitCosts.value).toEqual({ A100: 35, H100: 70 });
    s.setServiceClasses(undefined);
    expect(s.serviceClasses).toEqual({ problem: 'ConfigMap wva/service-classes-config not found' });
  });
  it('a first version that is bad leaves it invalid, naming the key', () => {
    const s = store({ costs: { A100: '{ "cost": "-3" }' } });
    expect(s.unitCosts.value).toBeUndefined();
    expect(s.unitCosts.problem).toMatch(
      /accelerator-unit-costs is invalid: A100.cost: "-3" is not a number >= 0/,
    );
  });
});

describe('the requests already waiting (backlog)', () => {
  const waiting = (n: number, extra: Record<string, unknown> = {}) =>
    ({
      ...read(120, extra),
      metrics: { ...read(120, extra).metrics, saturation: { waiting: n } },
    }) as MetricsRead;
  const sized = (arrivalRate: number) =>
    sizeReplicas({
      profile: { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 },
      load: { arrivalRate, avgInputTokens: 128, avgOutputTokens: 256 },
      slo: { ttftMs: 500, itlMs: 24 },
    }).numReplicas;

  it('sizes for the arrivals plus the rate that serves the queue within the drain time', () => {
    // 60 waiting, drained within 2 min: 30 requests per minute on top of the 120 arriving.
    const d = decide({ va: va('a'), read: waiting(60), backlogDrainMs: 120_000 });
    expect(d.ok && d.numReplicas).toBe(sized(150));
    expect(sized(150)).toBeGreaterThan(sized(120));
  });

  it('adds nothing with a drain time of 0, an empty or unknown queue', () => {
    expect(decide({ va: va('a'), read: waiting(60), backlogDrainMs: 0 })).toMatchObject({
      numReplicas: sized(120),
    });
    expect(decide({ va: va('a'), read: waiting(0), backlogDrainMs: 120_000 })).toMatchObject({
      numReplicas: sized(120),
    });
    expect(decide({ va: va('a'), read: read(120), backlogDrainMs: 120_000 })).toMatchObject({
      numReplicas: sized(120),
    });
  });

  it('the scale-down hold reads the measured arrivals, not the backlog term', () => {
    // Completions keep up with arrivals: the queue does not grow, so a lower count is not held.
    const v = va('a', { desired: { accelerator: 'A100', numReplicas: 12 } });
    const d = decide({
      va: v,
      read: waiting(60, { completionRate: 120 }),
      backlogDrainMs: 120_000,
      stabiliser: new Stabiliser(0),
    });
    expect(d.ok && d.numReplicas).toBe(sized(150));
    expect(d.ok && d.message).not.toMatch(/held/);
  });
});

describe('withBacklog', () => {
  it('arrivals plus waiting / drain time, in requests per minute', () => {
    expect(withBacklog(120, 60, 120_000)).toBe(150);
    expect(withBacklog(120, 60, 30_000)).toBe(240);
    expect(withBacklog(120, 0, 120_000)).toBe(120);
    expect(withBacklog(120, undefined, 120_000)).toBe(120);
    expect(withBacklog(120, Number.NaN, 120_000)).toBe(120);
    expect(withBacklog(120, 60, 0)).toBe(120);
    // Nothing arriving: a queue nothing feeds is a stuck server, not load to size for.
    expect(withBacklog(0, 60, 120_000)).toBe(0);
  });
});
