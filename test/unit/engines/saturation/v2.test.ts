import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  analyzeSaturationV2,
  type CapacityRecord,
  classifyOutputLength,
  costAwareOptimize,
  createSaturationV2State,
  type DeploymentLike,
  findCompatibleCapacity,
  loadCapacityFromDeployment,
  parseVllmArgs,
  type ReplicaMetrics,
  type SaturationScalingConfig,
  type SaturationV2Input,
} from '../../../../src/engines/saturation/index.js';
import { replica, state } from './builders.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const CONFIG: SaturationScalingConfig = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
  analyzerName: 'saturation',
  scaleUpThreshold: 0.85,
  scaleDownBoundary: 0.7,
};

function vllm(...args: string[]): DeploymentLike {
  return { spec: { template: { spec: { containers: [{ command: ['vllm', 'serve'], args }] } } } };
}

function kv(name: string, variant: string, total: number, inUse: number, over: Partial<ReplicaMetrics> = {}) {
  return replica(name, variant, {
    acceleratorName: 'L4',
    cost: 5,
    totalKvCapacityTokens: total,
    tokensInUse: inUse,
    avgInputTokens: 1000,
    avgOutputTokens: 200,
    ...over,
  });
}

function input(
  replicaMetrics: ReplicaMetrics[],
  variantStates = [state('a', 2, { gpusPerReplica: 1 })],
): SaturationV2Input {
  return {
    modelId: 'm',
    namespace: 'ns',
    replicaMetrics,
    variantStates,
    config: CONFIG,
    schedulerQueue: null,
  };
}

function record(over: Partial<CapacityRecord> = {}): CapacityRecord {
  return {
    acceleratorName: 'L4',
    gpuCount: 1,
    numGpuBlocks: 0,
    blockSize: 0,
    totalKvCapacityTokens: 0,
    effectiveCapacity: 8192,
    vllmParams: parseVllmArgs(null),
    learnedFrom: 'deployment',
    ...over,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('classifyOutputLength', () => {
  it.each([
    [0, 'short'],
    [99.9, 'short'],
    [100, 'medium'],
    [499, 'medium'],
    [500, 'long'],
    [Number.NaN, 'long'],
  ] as const)('%d tokens -> %s', (n, bucket) => {
    expect(classifyOutputLength(n)).toBe(bucket);
  });
});

describe('capacity store', () => {
  it('starts empty', () => {
    expect(createSaturationV2State()).toEqual({ k2History: {}, capacityStore: {} });
  });

  it('records a deployment: the batch budget as capacity, KV size only from a blocks override', () => {
    const s = createSaturationV2State();
    loadCapacityFromDeployment(s, 'ns', 'm', 'a', 'L4', 1, vllm('--max-num-batched-tokens', '4096'));
    expect(s.capacityStore['ns|m|a']).toEqual({
      acceleratorName: 'L4',
      gpuCount: 1,
      numGpuBlocks: 0,
      blockSize: 0,
      totalKvCapacityTokens: 0,
      effectiveCapacity: 4096,
      vllmParams: expect.objectContaining({ maxNumBatchedTokens: 4096 }),
      learnedFrom: 'deployment',
      learnedAt: NOW,
    });
    loadCapacityFromDeployment(
      s,
      'ns',
      'm',
      'b',
      'A100',
      2,
      vllm('--num-gpu-blocks-override', '1000', '--block-size', '32'),
    );
    expect(s.capacityStore['ns|m|b']).toMatchObject({
      numGpuBlocks: 1000,
      blockSize: 32,
      totalKvCapacityTokens: 32_000,
    });
  });

  it('does nothing without a deployment, or over a record learned live; replaces an older deployment record', () => {
    const s = createSaturationV2State();
    loadCapacityFromDeployment(s, 'ns', 'm', 'a', 'L4', 1, null);
    expect(s.capacityStore).toEqual({});
    s.capacityStore['ns|m|a'] = record({ learnedFrom: 'live', effectiveCapacity: 7000 });
    loadCapacityFromDeployment(s, 'ns', 'm', 'a', 'L4', 1, vllm());
    expect(s.capacityStore['ns|m|a']!.effectiveCapacity).toBe(7000);
    s.capacityStore['ns|m|b'] = record({ effectiveCapacity: 1 });
    loadCapacityFromDeployment(s, 'ns', 'm', 'b', 'L4', 1, vllm());
    expect(s.capacityStore['ns|m|b']!.effectiveCapacity).toBe(8192);
  });

  it('finds a compatible record of the model in any namespace, live ones first', () => {
    const s = createSaturationV2State();
    s.capacityStore['x|m|dep'] = record({ effectiveCapacity: 9000 });
    s.capacityStore['y|m|live'] = record({ effectiveCapacity: 7000, learnedFrom: 'live' });
    expect(findCompatibleCapacity(s, 'm', 'L4', 1, parseVllmArgs(null))).toMatchObject({
      effectiveCapacity: 7000,
    });
    delete s.capacityStore['y|m|live'];
    const found = findCompatibleCapacity(s, 'm', 'L4', 1, parseVllmArgs(null));
    expect(found).toMatchObject({ effectiveCapacity: 9000, learnedFrom: 'deployment' });
    expect(found).not.toBe(s.capacityStore['x|m|dep']);
  });

  it('requires the same model, accelerator, GPU count, compatible params and some capacity', () => {
    const s = createSaturationV2State();
    const p = parseVllmArgs(null);
    s.capacityStore['ns|m2|a'] = record();
    s.capacityStore['ns|m|acc'] = record({ acceleratorName: 'A100' });
    s.capacityStore['ns|m|gpus'] = record({ gpuCount: 2 });
    s.capacityStore['ns|m|noparams'] = record({ vllmParams: null });
    s.capacityStore['ns|m|other'] = record({ vllmParams: { ...p, blockSize: 32 } });
    s.capacityStore['ns|m|empty'] = record({ effectiveCapacity: 0, totalKvCapacityTokens: 0 });
    expect(findCompatibleCapacity(s, 'm', 'L4', 1, p)).toBeNull();
    expect(findCompatibleCapacity(s, 'm', 'L4', 1, null)).toBeNull();
    s.capacityStore['ns|m|kvonly'] = record({ effectiveCapacity: 0, totalKvCapacityTokens: 100 });
    expect(findCompatibleCapacity(s, 'm', 'L4', 1, p)).toMatchObject({ totalKvCapacityTokens: 100 });
  });
});

describe('analyzeSaturationV2', () => {
  it('takes min(k1, k1) without saturation or params, and offers spare capacity under the boundary', () => {
    const s = createSaturationV2State();
    const r = analyzeSaturationV2(input([kv('p1', 'a', 10_000, 4000), kv('p2', 'a', 10_000, 2000)]), s);
    expect(r).toMatchObject({
      analyzerName: 'saturation-token-based',
      modelId: 'm',
      namespace: 'ns',
      analyzedAt: NOW,
      totalSupply: 16_000,
      totalDemand: 6000,
      utilization: 0.375,
      requiredCapacity: 0,
    });
    expect(r.spareCapacity).toBeCloseTo(16_000 - 6000 / 0.7, 9);
    expect(r.variantCapacities).toEqual([
      {
        variantName: 'a',
        acceleratorName: 'L4',
        cost: 5,
        replicaCount: 2,
        pendingReplicas: 0,
        perReplicaCapacity: 8000,
        totalCapacity: 16_000,
        totalDemand: 6000,
        utilization: 0.375,
      },
    ]);
    // Learned live, for the next cycles.
    expect(s.capacityStore['ns|m|a']).toMatchObject({
      effectiveCapacity: 8000,
      totalKvCapacityTokens: 10_000,
      gpuCount: 1,
      learnedFrom: 'live',
      learnedAt: NOW,
      vllmParams: null,
    });
  });

  it('learns k2 from a replica whose queue backed up, and later replicas of the bucket use it', () => {
    const s = createSaturationV2State();
    const r = analyzeSaturationV2(
      input([kv('p1', 'a', 10_000, 7000, { queueLength: 6 }), kv('p2', 'a', 10_000, 2000)]),
      s,
    );
    expect(s.k2History).toEqual({ 'm|L4|medium': [7000] });
    // Both replicas hold 7000 at most; demand = 7000 + 6 x 1000 queued prompt tokens + 2000.
    expect(r.variantCapacities[0]).toMatchObject({ perReplicaCapacity: 7000, totalDemand: 15_000 });
    expect(r.totalSupply).toBe(14_000);
    expect(r.requiredCapacity).toBeCloseTo(15_000 / 0.85 - 14_000, 9);
    expect(r.spareCapacity).toBe(0);
    // The optimiser buys one more replica of the variant.
    const ds = costAwareOptimize([
      { modelId: 'm', namespace: 'ns', result: r, variantStates: [state('a', 2)] },
    ]);
    expect(ds[0]).toMatchObject({
      targetReplicas: 3,
      reason: 'V2 scale-up (optimizer: cost-aware, required: 3647)',
    });
  });

  it('keeps the last ten observations per bucket and uses their truncated mean', () => {
    const s = createSaturationV2State();
    for (let i = 1; i <= 12; i++)
      analyzeSaturationV2(input([kv('p', 'a', 100_000, i * 100, { queueLength: 9 })]), s);
    expect(s.k2History['m|L4|medium']).toEqual([300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200]);
    const r = analyzeSaturationV2(input([kv('p', 'a', 100_000, 10)]), s);
    expect(r.variantCapacities[0]!.perReplicaCapacity).toBe(750);
    // Another output bucket has no history: k1.
    const long = analyzeSaturationV2(input([kv('p', 'a', 100_000, 10, { avgOutputTokens: 800 })]), s);
    expect(long.variantCapacities[0]!.perReplicaCapacity).toBe(80_000);
  });

  it('uses the saturation rule only with tokens in use and a queue at the truncated threshold', () => {
    const s = createSaturationV2State();
    const cfg = { ...CONFIG, queueLengthThreshold: 5.9 };
    analyzeSaturationV2({ ...input([kv('p', 'a', 10_000, 0, { queueLength: 9 })]), config: cfg }, s);
    expect(s.k2History).toEqual({});
    analyzeSaturationV2({ ...input([kv('p', 'a', 10_000, 300, { queueLength: 5 })]), config: cfg }, s);
    expect(s.k2History).toEqual({ 'm|L4|medium': [300] });
  });

  it('bounds k2 by the batch-budget estimate of the variant params', () => {
    const s = createSaturationV2State();
    loadCapacityFromDeployment(
      s,
      'ns',
      'm',
      'a',
      'L4',
      1,
      vllm('--max-num-batched-tokens', '2048', '--max-num-seqs', '1024'),
    );
    const r = analyzeSaturationV2(
      input([kv('p', 'a', 1_000_000, 10, { avgInputTokens: 3000, avgOutputTokens: 100 })]),
      s,
    );
    expect(r.variantCapacities[0]!.perReplicaCapacity).toBe(201_496);
    // The live record keeps the deployment's params.
    expect(s.capacityStore['ns|m|a']).toMatchObject({
      learnedFrom: 'live',
      vllmParams: expect.objectContaining({ maxNumSeqs: 1024 }),
    });
  });

  it('takes the median effective capacity (truncated mean of the middle two when even)', () => {
    const s = createSaturationV2State();
    const even = analyzeSaturationV2(input([kv('p1', 'a', 10_000, 1), kv('p2', 'a', 10_002, 1)]), s);
    expect(even.variantCapacities[0]!.perReplicaCapacity).toBe(8000);
    const odd = analyzeSaturationV2(
      input([kv('p1', 'a', 20_000, 1), kv('p2', 'a', 10_000, 1), kv('p3', 'a', 5_000, 1)], [state('a', 3)]),
      createSaturationV2State(),
    );
    expect(odd.variantCapacities[0]!.perReplicaCapacity).toBe(8000);
  });

  it('counts pending replicas toward scale-up supply only', () => {
    const r = analyzeSaturationV2(
      input(
        [kv('p1', 'a', 10_000, 7000, { queueLength: 6 }), kv('p2', 'a', 10_000, 7000, { queueLength: 6 })],
        [state('a', 3, { pendingReplicas: 1 })],
      ),
      createSaturationV2State(),
    );
    const v = r.variantCapacities[0]!;
    expect(v).toMatchObject({
      replicaCount: 2,
      pendingReplicas: 1,
      perReplicaCapacity: 7000,
      totalCapacity: 14_000,
    });
    // Demand 2 x (7000 + 6000) = 26000; anticipated 3 x 7000.
    expect(r.requiredCapacity).toBeCloseTo(26_000 / 0.85 - 21_000, 9);
  });

  it('adds the gateway queue as demand, less the prefix-cache hits', () => {
    const s = createSaturationV2State();
    const base = input([
      kv('p1', 'a', 10_000, 4000, { prefixCacheHitRate: 0.5 }),
      kv('p2', 'a', 10_000, 2000, { prefixCacheHitRate: 0.3 }),
    ]);
    const none = analyzeSaturationV2({ ...base, schedulerQueue: { queueSize: 0, queueBytes: 0 } }, s);
    expect(none.totalDemand).toBe(6000);
    const q = analyzeSaturationV2({ ...base, schedulerQueue: { queueSize: 10, queueBytes: 80_000 } }, s);
    // max(80000/4, 10 x 1000) x (1 - 0.4) + 10 x 200 = 14000 on top of 6000.
    expect(q.totalDemand).toBeCloseTo(20_000, 9);
  });

  it('sizes variants without KV data from the store', () => {
    const s = createSaturationV2State();
    const dep = vllm();
    loadCapacityFromDeployment(s, 'ns', 'm', 'a', 'L4', 1, dep);
    loadCapacityFromDeployment(s, 'ns', 'm', 'c', 'L4', 1, dep);
    loadCapacityFromDeployment(s, 'ns', 'm', 'd', 'H100', 1, vllm('--num-gpu-blocks-override', '1000'));
    loadCapacityFromDeployment(s, 'ns', 'm', 'e', 'A10', 1, dep);
    s.capacityStore['ns|m|f'] = record({
      learnedFrom: 'live',
      effectiveCapacity: 5000,
      acceleratorName: 'T4',
    });
    s.capacityStore['ns|m|g'] = record({ effectiveCapacity: 0, learnedFrom: 'annotation' });
    const r = analyzeSaturationV2(
      input(
        [kv('p1', 'a', 10_000, 4000), kv('g1', 'g', 0, 0, { cost: 7 })],
        ['a', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => state(n, 1, { gpusPerReplica: 1 })),
      ),
      s,
    );
    const per = Object.fromEntries(r.variantCapacities.map((v) => [v.variantName, v.perReplicaCapacity]));
    expect(per).toEqual({
      a: 8000, // live: min(k1 8000, estimate 281600)
      c: 8000, // estimate 281600 bounded by a's live record, compatible
      d: 12_800, // estimate bounded by k1 = 1000 blocks x 16 x 0.8
      e: 281_600, // the estimate alone: no live record on A10 to bound it
      f: 5000, // learned live in an earlier cycle
      g: 8000, // no capacity of its own: a compatible record on its metrics' accelerator
      h: 0, // nothing known
    });
  });

  it('gives a variant without replica metrics cost 0 and no accelerator, and ignores variants only in metrics', () => {
    const r = analyzeSaturationV2(
      input([kv('p1', 'a', 10_000, 1), kv('x1', 'stray', 10_000, 5000)], [state('a', 1), state('idle', 0)]),
      createSaturationV2State(),
    );
    expect(r.variantCapacities.map((v) => [v.variantName, v.cost, v.acceleratorName])).toEqual([
      ['a', 5, 'L4'],
      ['idle', 0, ''],
    ]);
    expect(r.totalDemand).toBe(1);
  });

  it('disables a signal whose threshold is 0 or absent', () => {
    const cfg = { ...CONFIG, scaleUpThreshold: 0, scaleDownBoundary: undefined };
    const r = analyzeSaturationV2(
      { ...input([kv('p', 'a', 10_000, 9000, { queueLength: 9 })], [state('a', 1)]), config: cfg },
      createSaturationV2State(),
    );
    expect(r.requiredCapacity).toBe(0);
    expect(r.spareCapacity).toBe(0);
  });

  it('changes only the state it is given; same input and state, same result', () => {
    const arb = fc.array(
      fc.record({
        variant: fc.constantFrom('a', 'b'),
        total: fc.integer({ min: 0, max: 50_000 }),
        used: fc.integer({ min: 0, max: 50_000 }),
        queue: fc.integer({ min: 0, max: 10 }),
        out: fc.integer({ min: 0, max: 900 }),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(arb, (xs) => {
        const replicas = xs.map((x, i) =>
          kv(`p${i}`, x.variant, x.total, Math.min(x.used, x.total), {
            queueLength: x.queue,
            avgOutputTokens: x.out,
          }),
        );
        const inp = input(replicas, [
          state('a', 2, { gpusPerReplica: 1 }),
          state('b', 1, { pendingReplicas: 1 }),
        ]);
        const before = structuredClone(inp);
        const s1 = createSaturationV2State();
        const s2 = createSaturationV2State();
        const r1 = analyzeSaturationV2(inp, s1);
        const r2 = analyzeSaturationV2(structuredClone(inp), s2);
        expect(inp).toEqual(before);
        expect(r1).toEqual(r2);
        expect(s1).toEqual(s2);
        expect(r1.requiredCapacity).toBeGreaterThanOrEqual(0);
        expect(r1.spareCapacity).toBeGreaterThanOrEqual(0);
        for (const v of r1.variantCapacities) expect(v.perReplicaCapacity).toBeGreaterThanOrEqual(0);
        for (const h of Object.values(s1.k2History)) expect(h.length).toBeLessThanOrEqual(10);
      }),
    );
  });
});
