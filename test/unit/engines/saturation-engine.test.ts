// The saturation engines behind the seam: one model's variants, pods and ConfigMap in, decisions
// with their step trail and the status content out.
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import { parseSaturationScalingConfigMap } from '../../../src/engines/saturation/configmap.js';
import {
  createSaturationV1Engine,
  createSaturationV2Engine,
  decideModels,
  parseVariantCost,
} from '../../../src/engines/saturation-engine.js';
import { variantStatuses } from '../../../src/engines/status.js';
import type { SaturationModelInput, SaturationVariantInput } from '../../../src/engines/types.js';

const V1_DEFAULT =
  'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n';
const v1Config = parseSaturationScalingConfigMap({ default: V1_DEFAULT }, { product: true });
const v2Config = parseSaturationScalingConfigMap(
  { default: `${V1_DEFAULT}analyzerName: saturation\n` },
  { product: true },
);

const variant = (
  name: string,
  cost: number,
  current: number,
  extra: Partial<SaturationVariantInput> = {},
) => ({
  variantName: name,
  cost,
  acceleratorName: name.endsWith('a100') ? 'A100' : 'L4',
  currentReplicas: current,
  desiredReplicas: 0,
  pendingReplicas: 0,
  gpusPerReplica: 1,
  ...extra,
});
const pods = (prefix: string, n: number, m: Partial<PodMetrics>): PodMetrics[] =>
  Array.from({ length: n }, (_, i) => ({ pod: `${prefix}-${i}`, modelId: 'llama', namespace: 'ns', ...m }));

function model(
  variants: SaturationVariantInput[],
  byVariant: Record<string, PodMetrics[]>,
  extra: Partial<SaturationModelInput> = {},
): SaturationModelInput {
  return {
    modelId: 'llama',
    namespace: 'ns',
    variants,
    pods: new Map(Object.entries(byVariant)),
    config: v1Config,
    scaleToZero: { config: {}, requestCount: null, envDefault: false },
    ...extra,
  };
}

const targets = (d: { decisions: { variantName: string; targetReplicas: number }[] }) =>
  Object.fromEntries(d.decisions.map((x) => [x.variantName, x.targetReplicas]));

const cheap = variant('llama-l4', 5, 2);
const dear = variant('llama-a100', 20, 2);
const hot = { kvCacheUsage: 0.9, queueLength: 6 };
const cool = { kvCacheUsage: 0.1, queueLength: 0 };

describe('saturation V1 engine', () => {
  const engine = createSaturationV1Engine();

  it('adds one replica to the cheapest variant when spare capacity runs low', () => {
    const d = engine.decide(
      model([dear, cheap], { 'llama-a100': pods('a', 2, hot), 'llama-l4': pods('l', 2, hot) }),
    );
    expect(d.engine).toBe('saturation-v1');
    expect(targets(d)).toEqual({ 'llama-a100': 2, 'llama-l4': 3 });
    const up = d.decisions.find((x) => x.variantName === 'llama-l4')!;
    expect(up).toMatchObject({
      action: 'scale-up',
      reason: 'saturation-only mode: scale-up',
      acceleratorName: 'L4',
    });
    expect(up.steps.map((s) => s.name)).toEqual(['saturation-v1', 'ScaleToZero', 'Bounds']);
    expect(up.steps[0]?.reason).toBe(
      'scale-up wanted: both KV spare (0.000 < 0.100) and queue spare (0.0 < 3.0)',
    );
  });

  it('removes one replica from the most expensive variant when N-1 would still have room', () => {
    const d = engine.decide(
      model([cheap, dear], { 'llama-l4': pods('l', 2, cool), 'llama-a100': pods('a', 2, cool) }),
    );
    expect(targets(d)).toEqual({ 'llama-l4': 2, 'llama-a100': 1 });
    expect(d.decisions.find((x) => x.variantName === 'llama-a100')?.action).toBe('scale-down');
  });

  it('holds the whole model while a variant changes size', () => {
    const resizing = { ...dear, desiredReplicas: 3 };
    const d = engine.decide(
      model([cheap, resizing], { 'llama-l4': pods('l', 2, hot), 'llama-a100': pods('a', 2, hot) }),
    );
    // The resizing variant keeps its desired count; the cheap one is not scaled up meanwhile.
    expect(targets(d)).toEqual({ 'llama-l4': 2, 'llama-a100': 3 });
    expect(d.decisions[0]?.steps[0]?.reason).toMatch(/^held: a variant is changing size/);
    // Fewer pods reporting than current replicas holds it too.
    const d2 = engine.decide(
      model([cheap, dear], { 'llama-l4': pods('l', 1, hot), 'llama-a100': pods('a', 2, hot) }),
    );
    expect(targets(d2)).toEqual({ 'llama-l4': 2, 'llama-a100': 2 });
  });

  it('skips a variant with pending pods for the scale-up: the next cheapest grows', () => {
    const pending = { ...cheap, pendingReplicas: 1 };
    const d = engine.decide(
      model([pending, dear], { 'llama-l4': pods('l', 2, hot), 'llama-a100': pods('a', 2, hot) }),
    );
    expect(targets(d)).toEqual({ 'llama-l4': 2, 'llama-a100': 3 });
  });

  it('leaves out a pod without KV or queue samples, and counts a missing one of the two as 0', () => {
    const l4 = [
      { pod: 'l-0', modelId: 'llama', namespace: 'ns', ...cool },
      { pod: 'l-1', modelId: 'llama', namespace: 'ns', queueLength: 0 },
      { pod: 'l-2', modelId: 'llama', namespace: 'ns' },
    ];
    const d = engine.decide(model([{ ...cheap, currentReplicas: 2 }], { 'llama-l4': l4 }));
    expect(d.notes).toContain('variant llama-l4: pods without KV-cache or queue samples left out: l-2');
    // Two pods count (l-1 with KV 0) for two current replicas: analysed, both idle, one goes.
    expect(targets(d)).toEqual({ 'llama-l4': 1 });
  });

  it('gives a model with no usable pod no decision, with the reason, and MetricsMissing', () => {
    const d = engine.decide(model([cheap], { 'llama-l4': pods('l', 2, {}) }));
    expect(d.decisions).toEqual([]);
    expect(d.skipped).toEqual(['no pod of the model has KV-cache or queue samples']);
    const st = variantStatuses(d, [{ variantName: 'llama-l4', knownAccelerator: 'L4' }]);
    expect(st[0]).toEqual({
      variantName: 'llama-l4',
      desired: null,
      conditions: [
        {
          type: 'OptimizationReady',
          status: 'True',
          reason: 'OptimizationSucceeded',
          message: 'Optimization loop ran (no scaling change needed)',
        },
        {
          type: 'MetricsAvailable',
          status: 'False',
          reason: 'MetricsMissing',
          message: 'no decision for model llama: no pod of the model has KV-cache or queue samples',
        },
      ],
    });
    // No accelerator known: only MetricsAvailable.
    expect(
      variantStatuses(d, [{ variantName: 'llama-l4', knownAccelerator: '' }])[0]?.conditions,
    ).toHaveLength(1);
  });

  it('a variant without reporting pods gets no decision while its siblings do', () => {
    const d = engine.decide(model([cheap, dear], { 'llama-l4': pods('l', 2, hot) }));
    expect(d.decisions.map((x) => x.variantName)).toEqual(['llama-l4']);
    expect(d.skipped).toEqual(['variant llama-a100 has no pod reporting saturation metrics']);
  });

  it('status: SaturationOnlyMode with the decision, the message rendered from the steps', () => {
    const d = engine.decide(
      model([{ ...cheap, maxReplicas: 2 }, dear], {
        'llama-l4': pods('l', 2, hot),
        'llama-a100': pods('a', 2, hot),
      }),
    );
    // The scale-up is cut by the variant's maximum: the cheapest stays at 2.
    expect(targets(d)).toEqual({ 'llama-l4': 2, 'llama-a100': 2 });
    const [l4] = variantStatuses(d, [{ variantName: 'llama-l4', knownAccelerator: 'L4' }]);
    expect(l4?.desired).toEqual({ numReplicas: 2, accelerator: 'L4' });
    expect(l4?.conditions[0]).toEqual({
      type: 'OptimizationReady',
      status: 'True',
      reason: 'SaturationOnlyMode',
      message:
        'saturation-only decision: saturation-only mode: no-change (target: 2 replicas); Bounds: cut to the maximum 2',
    });
    expect(l4?.conditions[1]).toMatchObject({
      type: 'MetricsAvailable',
      status: 'True',
      reason: 'MetricsFound',
    });
  });

  it('scale to zero: enabled and proven idle, every variant goes to 0', () => {
    const d = engine.decide(
      model(
        [cheap, dear],
        { 'llama-l4': pods('l', 2, cool), 'llama-a100': pods('a', 2, cool) },
        {
          scaleToZero: {
            config: { default: { enableScaleToZero: true } },
            requestCount: 0,
            envDefault: false,
          },
        },
      ),
    );
    expect(targets(d)).toEqual({ 'llama-l4': 0, 'llama-a100': 0 });
    const st = variantStatuses(d, [{ variantName: 'llama-l4', knownAccelerator: 'L4' }]);
    expect(st[0]?.conditions[0]?.message).toBe(
      'saturation-only decision: saturation-only mode: scale-down (target: 0 replicas); ScaleToZero: scale-to-zero policy: 2 -> 0',
    );
    // Unknown request count: nothing goes to zero.
    const unknown = engine.decide(
      model(
        [cheap, dear],
        { 'llama-l4': pods('l', 2, cool), 'llama-a100': pods('a', 2, cool) },
        {
          scaleToZero: {
            config: { default: { enableScaleToZero: true } },
            requestCount: null,
            envDefault: false,
          },
        },
      ),
    );
    expect(targets(unknown)).toEqual({ 'llama-l4': 2, 'llama-a100': 1 });
  });

  it('says once that the built-in thresholds stand in for a missing ConfigMap', () => {
    const e = createSaturationV1Engine();
    const none = parseSaturationScalingConfigMap(null, { product: true });
    const input = model([cheap], { 'llama-l4': pods('l', 2, hot) }, { config: none });
    const first = e.decide(input);
    expect(first.notes.join()).toMatch(/no valid "default" entry: using the built-in thresholds/);
    expect(targets(first)).toEqual({ 'llama-l4': 3 });
    expect(e.decide(input).notes).toEqual([]);
    // Upstream's code reading: no default, no decision.
    const code = parseSaturationScalingConfigMap(null);
    expect(e.decide({ ...input, config: code }).skipped[0]).toMatch(/has no valid "default" entry; add one/);
  });

  it("one model's broken input does not throw away the other models' decisions", () => {
    const good = model([cheap], { 'llama-l4': pods('l', 2, hot) });
    const broken = {
      ...good,
      modelId: 'bad',
      config: { ...v1Config, entries: null },
    } as unknown as SaturationModelInput;
    const out = decideModels(engine, [broken, good]);
    expect(out[0]?.decisions).toEqual([]);
    expect(out[0]?.skipped[0]).toMatch(/^the saturation-v1 engine failed on this model's input: /);
    expect(targets(out[1]!)).toEqual({ 'llama-l4': 3 });
  });
});

describe('saturation V2 engine', () => {
  it('buys the missing token capacity from the most efficient variant', () => {
    const e = createSaturationV2Engine();
    const shape = { numGpuBlocks: 1000, blockSize: 16, queueLength: 0 };
    const d = e.decide(
      model(
        [variant('llama-l4', 10, 1)],
        { 'llama-l4': pods('l', 1, { ...shape, kvCacheUsage: 0.9 }) },
        {
          config: v2Config,
        },
      ),
    );
    // 16000 tokens, 80 % usable: 12800 per replica; 14400 in use / 0.85 needs 4141 more: one replica.
    expect(d.engine).toBe('saturation-v2');
    expect(targets(d)).toEqual({ 'llama-l4': 2 });
    expect(d.decisions[0]?.reason).toBe('V2 scale-up (optimizer: cost-aware, required: 4141)');
    const [st] = variantStatuses(d, [{ variantName: 'llama-l4', knownAccelerator: 'L4' }]);
    expect(st?.conditions[0]).toMatchObject({
      reason: 'OptimizationSucceeded',
      message: 'Hybrid mode: V2 scale-up (optimizer: cost-aware, required: 4141) (target: 2 replicas)',
    });
  });

  it('rewrites the reason where the scale-to-zero enforcer changed the target', () => {
    const e = createSaturationV2Engine();
    const d = e.decide(
      model(
        [variant('llama-l4', 10, 1)],
        { 'llama-l4': pods('l', 1, { kvCacheUsage: 0, queueLength: 0 }) },
        {
          config: v2Config,
          scaleToZero: { config: {}, requestCount: 0, envDefault: true },
        },
      ),
    );
    expect(targets(d)).toEqual({ 'llama-l4': 0 });
    expect(d.decisions[0]?.reason).toBe('V2 scale-down (optimizer: cost-aware, enforced)');
  });
});

describe('parseVariantCost', () => {
  it.each([
    ['12.5', 12.5],
    ['', 10],
    ['cheap', 10],
    [undefined, 10],
    [7, 7],
    [Number.NaN, 10],
  ])('%j -> %d', (text, want) => {
    expect(parseVariantCost(text as string)).toBe(want);
  });
});
