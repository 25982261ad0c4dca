// Every name of the saturation public API is exported from the package root, with its shape.
import { describe, expect, it } from 'vitest';
import { goFixed } from '../../../../src/engines/saturation/format.js';
import type {
  AnalyzerResult,
  CapacityRecord,
  DecisionStep,
  DeploymentLike,
  GpuAllocator,
  ModelSaturationAnalysis,
  ModelScaleToZeroConfig,
  ModelScalingRequest,
  ReplicaMetrics,
  SaturationAction,
  SaturationScalingConfig,
  SaturationV2Input,
  SaturationV2State,
  ScaleToZeroConfigData,
  SchedulerQueueMetrics,
  VariantCapacity,
  VariantDecision,
  VariantReplicaState,
  VariantSaturationAnalysis,
  VllmEngineParams,
} from '../../../../src/index.js';
import * as root from '../../../../src/index.js';

const FUNCTIONS = [
  'analyzeModelSaturation',
  'calculateSaturationTargets',
  'applySaturationScalingDefaults',
  'validateSaturationScalingConfig',
  'createSaturationV2State',
  'analyzeSaturationV2',
  'estimateCapacityFromParams',
  'parseVllmArgs',
  'isCapacityCompatible',
  'classifyOutputLength',
  'loadCapacityFromDeployment',
  'findCompatibleCapacity',
  'costAwareOptimize',
  'allocateGreedyBySaturation',
  'createTypeAllocator',
  'gpuInventory',
  'normalizeAcceleratorName',
  'limitDecisions',
  'enforceScaleToZeroPolicy',
  'parseSaturationScalingConfigMap',
  'saturationConfigForModel',
  'parseScaleToZeroConfigMap',
  'scaleToZeroEnabled',
  'scaleToZeroRetentionMs',
] as const;

describe('package root', () => {
  it.each(FUNCTIONS)('exports %s', (name) => {
    expect(typeof (root as Record<string, unknown>)[name]).toBe('function');
  });

  it('exports the types with the shapes the API names (checked by the type checker)', () => {
    const action: SaturationAction = 'no-change';
    const step: DecisionStep = { name: 'x', action, targetReplicas: 1, reason: '', wasConstrained: false };
    const queue: SchedulerQueueMetrics = { queueSize: 0, queueBytes: 0 };
    const cfg: SaturationScalingConfig = {
      kvCacheThreshold: 0.8,
      queueLengthThreshold: 5,
      kvSpareTrigger: 0.1,
      queueSpareTrigger: 3,
    };
    const rm: ReplicaMetrics = {
      podName: 'p',
      variantName: 'v',
      namespace: 'n',
      modelId: 'm',
      acceleratorName: '',
      cost: 1,
      kvCacheUsage: 0,
      queueLength: 0,
    };
    const st: VariantReplicaState = {
      variantName: 'v',
      currentReplicas: 1,
      desiredReplicas: 0,
      pendingReplicas: 0,
    };
    const input: SaturationV2Input = {
      modelId: 'm',
      namespace: 'n',
      replicaMetrics: [rm],
      variantStates: [st],
      config: cfg,
      schedulerQueue: queue,
    };
    const state: SaturationV2State = root.createSaturationV2State();
    const result: AnalyzerResult = root.analyzeSaturationV2(input, state);
    const vc: VariantCapacity[] = result.variantCapacities;
    const params: VllmEngineParams = root.parseVllmArgs(null as DeploymentLike | null);
    const rec: CapacityRecord | null = root.findCompatibleCapacity(state, 'm', '', 0, params);
    const analysis: ModelSaturationAnalysis = root.analyzeModelSaturation('m', 'n', [rm], cfg);
    const va: VariantSaturationAnalysis[] = analysis.variantAnalyses;
    const req: ModelScalingRequest = { modelId: 'm', namespace: 'n', result, variantStates: [st] };
    const ds: VariantDecision[] = root.costAwareOptimize([req]);
    const alloc: GpuAllocator = root.createTypeAllocator({});
    const stz: ModelScaleToZeroConfig = { modelId: 'm', enableScaleToZero: true, retentionPeriod: '5m' };
    const data: ScaleToZeroConfigData = { m: stz };
    expect([step, vc, rec, va, ds, alloc.remaining(), data]).toHaveLength(7);
  });
});

describe('goFixed (Go %.Nf)', () => {
  it.each([
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [-2.5, 0, '-2'],
    [0.1, 3, '0.100'],
    [12.34567, 3, '12.346'],
    [-0.0001, 3, '-0.000'],
    [1e21, 1, '1000000000000000000000.0'],
    [Number.NaN, 1, 'NaN'],
    [Number.POSITIVE_INFINITY, 1, '+Inf'],
    [Number.NEGATIVE_INFINITY, 3, '-Inf'],
  ])('%d with %d digits -> %s', (x, digits, out) => {
    expect(goFixed(x, digits)).toBe(out);
  });
});
