// Saturation V1 and V2 behind the engine seam: one model's variants, their pods' numbers and the
// parsed saturation ConfigMap in; decisions with their steps out. The pipeline per model is
// upstream's: analysis -> targets (V1) or the cost-aware optimiser (V2) -> scale-to-zero enforcer,
// then bounds. The GPU limiter runs after every model has decided (limitFleet), as it limits the
// fleet as a whole. A model whose input breaks an engine gets a skipped decision, never a throw.
import type { PodMetrics } from '../collector/pods.js';
import { SATURATION_CONFIGMAP_NAME, saturationConfigForModel } from './saturation/configmap.js';
import { costAwareOptimize } from './saturation/cost-optimizer.js';
import type {
  ReplicaMetrics,
  SaturationScalingConfig,
  SaturationV2State,
  VariantReplicaState,
} from './saturation/types.js';
import { analyzeModelSaturation, calculateSaturationTargets } from './saturation/v1.js';
import { analyzeSaturationV2 } from './saturation/v2/analyzer.js';
import { createSaturationV2State, loadCapacityFromDeployment } from './saturation/v2/capacity-store.js';
import { actionOf, applyBounds, scaleToZeroStage } from './steps.js';
import {
  ENGINE_NAMES,
  type Engine,
  type ModelDecision,
  type SaturationModelInput,
  type SaturationVariantInput,
  type ScalingDecision,
} from './types.js';

/** Upstream's cost for a variant whose `spec.variantCost` is empty or not a number. */
export const DEFAULT_VARIANT_COST = 10;

/** `spec.variantCost` as upstream reads it: a float, else 10. */
export function parseVariantCost(text: string | number | undefined | null): number {
  if (typeof text === 'number') return Number.isFinite(text) ? text : DEFAULT_VARIANT_COST;
  if (typeof text !== 'string' || text.trim() === '') return DEFAULT_VARIANT_COST;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : DEFAULT_VARIANT_COST;
}

/**
 * A variant's pods as the analysers take them. A pod with neither a KV nor a queue number is left
 * out (named in `dropped`); one missing either counts it 0, as upstream does. Token figures come
 * from the KV shape only when both numbers are known.
 */
export function replicaMetricsOf(
  modelId: string,
  namespace: string,
  v: SaturationVariantInput,
  pods: readonly PodMetrics[],
): { replicas: ReplicaMetrics[]; dropped: string[] } {
  const replicas: ReplicaMetrics[] = [];
  const dropped: string[] = [];
  for (const p of pods) {
    if (p.kvCacheUsage === undefined && p.queueLength === undefined) {
      dropped.push(p.pod);
      continue;
    }
    const kv = p.kvCacheUsage ?? 0;
    const blocks = p.numGpuBlocks ?? 0;
    const size = p.blockSize ?? 0;
    const total = blocks > 0 && size > 0 ? blocks * size : 0;
    replicas.push({
      podName: p.pod,
      variantName: v.variantName,
      namespace,
      modelId,
      acceleratorName: v.acceleratorName,
      cost: v.cost,
      kvCacheUsage: kv,
      queueLength: p.queueLength ?? 0,
      numGpuBlocks: total > 0 ? blocks : 0,
      blockSize: total > 0 ? size : 0,
      totalKvCapacityTokens: total,
      tokensInUse: total > 0 ? Math.min(total, Math.max(0, Math.round(kv * total))) : 0,
      avgInputTokens: p.avgInputTokens ?? 0,
      avgOutputTokens: p.avgOutputTokens ?? 0,
      prefixCacheHitRate: p.prefixCacheHitRate ?? 0,
    });
  }
  return { replicas, dropped };
}

function stateOf(v: SaturationVariantInput): VariantReplicaState {
  return {
    variantName: v.variantName,
    currentReplicas: v.currentReplicas,
    desiredReplicas: v.desiredReplicas,
    pendingReplicas: v.pendingReplicas,
    gpusPerReplica: v.gpusPerReplica > 0 ? v.gpusPerReplica : 1,
  };
}

function skipped(model: SaturationModelInput, engine: string, why: string, notes: string[]): ModelDecision {
  return { modelId: model.modelId, namespace: model.namespace, engine, decisions: [], skipped: [why], notes };
}

interface Prepared {
  config: SaturationScalingConfig;
  replicas: ReplicaMetrics[];
  states: VariantReplicaState[];
  notes: string[];
}

/** Config and replicas for a model, or why it gets no decision. */
function prepare(
  model: SaturationModelInput,
  engine: string,
  sayBuiltIn: () => boolean,
): Prepared | ModelDecision {
  const notes: string[] = [];
  if (model.config.builtIn && sayBuiltIn()) {
    notes.push(
      `${SATURATION_CONFIGMAP_NAME} has no valid "default" entry: using the built-in thresholds (kvCacheThreshold 0.80, queueLengthThreshold 5, kvSpareTrigger 0.1, queueSpareTrigger 3)`,
    );
  }
  const config = saturationConfigForModel(model.config, model.modelId, model.namespace);
  if (!config) {
    return skipped(
      model,
      engine,
      `no saturation thresholds: ${SATURATION_CONFIGMAP_NAME} has no valid "default" entry; add one`,
      notes,
    );
  }
  const replicas: ReplicaMetrics[] = [];
  for (const v of model.variants) {
    const r = replicaMetricsOf(model.modelId, model.namespace, v, model.pods.get(v.variantName) ?? []);
    replicas.push(...r.replicas);
    if (r.dropped.length > 0) {
      notes.push(
        `variant ${v.variantName}: pods without KV-cache or queue samples left out: ${r.dropped.join(', ')}`,
      );
    }
  }
  if (replicas.length === 0) {
    return skipped(model, engine, 'no pod of the model has KV-cache or queue samples', notes);
  }
  return { config, replicas, states: model.variants.map(stateOf), notes };
}

function baseDecision(
  model: SaturationModelInput,
  v: SaturationVariantInput | undefined,
  name: string,
  engine: string,
): ScalingDecision {
  return {
    variantName: name,
    namespace: model.namespace,
    modelId: model.modelId,
    engine,
    acceleratorName: v?.acceleratorName ?? '',
    currentReplicas: v?.currentReplicas ?? 0,
    targetReplicas: v?.currentReplicas ?? 0,
    action: 'no-change',
    reason: '',
    steps: [],
    cost: v?.cost ?? DEFAULT_VARIANT_COST,
    gpusPerReplica: v && v.gpusPerReplica > 0 ? v.gpusPerReplica : 1,
    spareCapacity: 0,
  };
}

/** Bounds from each variant's min/max, then `reasonOf` for the final reason. */
function finish(
  model: SaturationModelInput,
  ds: ScalingDecision[],
  reasonOf: (d: ScalingDecision) => string,
): ScalingDecision[] {
  const byName = new Map(model.variants.map((v) => [v.variantName, v]));
  return ds.map((d) => {
    const v = byName.get(d.variantName);
    const bounded = applyBounds(d, { min: v?.minReplicas, max: v?.maxReplicas });
    return { ...bounded, reason: reasonOf(bounded) };
  });
}

function guarded(name: string, decide: (m: SaturationModelInput) => ModelDecision) {
  return (model: SaturationModelInput): ModelDecision => {
    try {
      return decide(model);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return skipped(model, name, `the ${name} engine failed on this model's input: ${why}`, []);
    }
  };
}

/** A function true on its first call only: say a thing once per engine, not every cycle. */
function once(): () => boolean {
  let said = false;
  return () => {
    if (said) return false;
    said = true;
    return true;
  };
}

/** Saturation V1: percentages of KV cache and queue lengths per pod. */
export function createSaturationV1Engine(): Engine {
  const name = ENGINE_NAMES.saturationV1;
  const sayOnce = once();
  const decide = (model: SaturationModelInput): ModelDecision => {
    const p = prepare(model, name, sayOnce);
    if ('decisions' in p) return p;
    const analysis = analyzeModelSaturation(model.modelId, model.namespace, p.replicas, p.config);
    const targets = calculateSaturationTargets(analysis, p.states);
    const held = analysis.variantAnalyses.some((va) => {
      const s = p.states.find((x) => x.variantName === va.variantName);
      return (
        !s ||
        (s.desiredReplicas !== 0 && s.desiredReplicas !== s.currentReplicas) ||
        va.replicaCount !== s.currentReplicas
      );
    });
    const summary = held
      ? 'held: a variant is changing size (desired or reporting pods differ from current)'
      : analysis.shouldScaleUp
        ? `scale-up wanted: ${analysis.scaleUpReason}`
        : analysis.scaleDownSafe
          ? 'scale-down safe with one replica fewer'
          : 'spare capacity within the triggers';
    const byName = new Map(model.variants.map((v) => [v.variantName, v]));
    const analysed = new Map(analysis.variantAnalyses.map((va) => [va.variantName, va]));
    const ds = Object.entries(targets).map(([variant, target]) => {
      const v = byName.get(variant);
      const va = analysed.get(variant);
      const d = {
        ...baseDecision(model, v, variant, name),
        acceleratorName: va?.acceleratorName ?? v?.acceleratorName ?? '',
        cost: va?.cost ?? v?.cost ?? DEFAULT_VARIANT_COST,
        spareCapacity: va?.avgSpareKvCapacity ?? 0,
      };
      const action = actionOf(target, d.currentReplicas);
      return {
        ...d,
        targetReplicas: target,
        action,
        steps: [{ name, action, targetReplicas: target, reason: summary, wasConstrained: false }],
      };
    });
    const enforced = scaleToZeroStage(model.modelId, ds, model.scaleToZero);
    const decisions = finish(model, enforced.decisions, (d) => `saturation-only mode: ${d.action}`);
    const undecided = model.variants.filter((v) => !(v.variantName in targets));
    return {
      modelId: model.modelId,
      namespace: model.namespace,
      engine: name,
      decisions,
      skipped: undecided.map((v) => `variant ${v.variantName} has no pod reporting saturation metrics`),
      notes: p.notes,
    };
  };
  return { name, decide: guarded(name, decide) };
}

/** Saturation V2: KV and compute capacity in tokens, with its capacity store kept across cycles. */
export function createSaturationV2Engine(state: SaturationV2State = createSaturationV2State()): Engine {
  const name = ENGINE_NAMES.saturationV2;
  const sayOnce = once();
  const decide = (model: SaturationModelInput): ModelDecision => {
    const p = prepare(model, name, sayOnce);
    if ('decisions' in p) return p;
    for (const v of model.variants) {
      if (!v.deployment) continue;
      const gpus = v.gpusPerReplica > 0 ? v.gpusPerReplica : 1;
      loadCapacityFromDeployment(
        state,
        model.namespace,
        model.modelId,
        v.variantName,
        v.acceleratorName,
        gpus,
        v.deployment,
      );
    }
    const result = analyzeSaturationV2(
      {
        modelId: model.modelId,
        namespace: model.namespace,
        replicaMetrics: p.replicas,
        variantStates: p.states,
        config: p.config,
        schedulerQueue: null,
      },
      state,
    );
    const optimised = costAwareOptimize([
      { modelId: model.modelId, namespace: model.namespace, result, variantStates: p.states },
    ]);
    const byName = new Map(model.variants.map((v) => [v.variantName, v]));
    const ds = optimised.map((o) => ({
      ...baseDecision(model, byName.get(o.variantName), o.variantName, name),
      acceleratorName: o.acceleratorName,
      cost: o.cost,
      currentReplicas: o.currentReplicas,
      targetReplicas: o.targetReplicas,
      action: o.action,
      reason: o.reason,
      steps: [
        { name, action: o.action, targetReplicas: o.targetReplicas, reason: o.reason, wasConstrained: false },
      ],
    }));
    const enforced = scaleToZeroStage(
      model.modelId,
      ds,
      model.scaleToZero,
      (d, t) => `V2 ${actionOf(t, d.currentReplicas)} (optimizer: cost-aware, enforced)`,
    );
    const decisions = finish(model, enforced.decisions, (d) => d.reason);
    return {
      modelId: model.modelId,
      namespace: model.namespace,
      engine: name,
      decisions,
      skipped: [],
      notes: p.notes,
    };
  };
  return { name, decide: guarded(name, decide) };
}

/** Every model through one engine; a model whose input breaks it is skipped alone. */
export function decideModels<I>(engine: Engine<I>, models: readonly I[]): ModelDecision[] {
  return models.map((m) => engine.decide(m));
}
