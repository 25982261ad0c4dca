// The shared stages after an engine: each takes decisions, returns fresh ones with one more
// DecisionStep, and never reads a clock or does I/O. Order in a cycle: engine -> saturation floor
// (SLO engine only) -> stabilisation -> bounds -> scale to zero (engines that do not run it
// themselves) -> GPU limiter (across models). Stabilisation lives with the SLO engine's sizing
// and plugs in as any other stage: a function of the decision and the variant's recent targets
// returning the decision with a `Stabilization` step.
import { limitDecisions } from './saturation/limiter.js';
import { enforceScaleToZeroPolicy } from './saturation/scale-to-zero.js';
import type { DecisionStep, SaturationAction, VariantDecision } from './saturation/types.js';
import type { ModelDecision, ScaleToZeroInput, ScalingDecision } from './types.js';

/** Kubernetes replica counts are int32. */
export const MAX_REPLICAS = 2_147_483_647;

export const STEP_NAMES = {
  floor: 'SaturationSafetyOverride',
  bounds: 'Bounds',
  scaleToZero: 'ScaleToZero',
  limiter: 'GpuLimiter',
} as const;

export function actionOf(target: number, current: number): SaturationAction {
  return target > current ? 'scale-up' : target < current ? 'scale-down' : 'no-change';
}

/** A copy with `target` and one more step; the action follows the new target. */
export function withStep(
  d: ScalingDecision,
  name: string,
  target: number,
  reason: string,
  wasConstrained: boolean,
): ScalingDecision {
  const action = actionOf(target, d.currentReplicas);
  const step: DecisionStep = { name, action, targetReplicas: target, reason, wasConstrained };
  return { ...d, targetReplicas: target, action, steps: [...d.steps.map((s) => ({ ...s })), step] };
}

/**
 * While another engine decides, saturation V1 is a floor: never fewer replicas than V1 would keep.
 * `saturationTarget` undefined (V1 had nothing to say for the variant): no change.
 */
export function saturationFloor(d: ScalingDecision, saturationTarget: number | undefined): ScalingDecision {
  if (saturationTarget === undefined) {
    return withStep(d, STEP_NAMES.floor, d.targetReplicas, 'no saturation target for this variant', false);
  }
  if (d.targetReplicas >= saturationTarget) {
    return withStep(
      d,
      STEP_NAMES.floor,
      d.targetReplicas,
      `${d.engine} target ${d.targetReplicas} is at least saturation's ${saturationTarget}`,
      false,
    );
  }
  return withStep(
    d,
    STEP_NAMES.floor,
    saturationTarget,
    `${d.engine} wanted ${d.targetReplicas} replicas, saturation V1 keeps ${saturationTarget}: kept ${saturationTarget}`,
    true,
  );
}

/** Clamps the target into [min, max] (each optional) and into int32 / non-negative whole numbers. */
export function applyBounds(d: ScalingDecision, bounds: { min?: number; max?: number }): ScalingDecision {
  const lo = bounds.min !== undefined && Number.isFinite(bounds.min) ? Math.max(0, Math.ceil(bounds.min)) : 0;
  const hi =
    bounds.max !== undefined && Number.isFinite(bounds.max)
      ? Math.min(MAX_REPLICAS, Math.floor(bounds.max))
      : MAX_REPLICAS;
  const raw = Number.isFinite(d.targetReplicas) ? Math.trunc(d.targetReplicas) : d.currentReplicas;
  let t = raw;
  let why = `within bounds [${lo}, ${hi === MAX_REPLICAS ? 'int32' : hi}]`;
  if (t < lo) {
    t = lo;
    why = `raised to the minimum ${lo}`;
  } else if (t > hi) {
    t = Math.max(lo, hi);
    why = hi === MAX_REPLICAS ? `cut to the int32 limit ${hi}` : `cut to the maximum ${hi}`;
  }
  return withStep(d, STEP_NAMES.bounds, t, why, t !== d.targetReplicas);
}

/**
 * The scale-to-zero enforcer as a stage for one model's decisions (engines that do not run it
 * themselves). Enabled and proven idle: every target 0; disabled and all at 0: the cheapest keeps 1.
 */
export function scaleToZeroStage(
  modelId: string,
  decisions: readonly ScalingDecision[],
  input: ScaleToZeroInput,
  reasonFor: (d: ScalingDecision, target: number) => string = (d, t) =>
    `scale-to-zero policy: ${d.targetReplicas} -> ${t}`,
): { decisions: ScalingDecision[]; applied: boolean } {
  const targets: Record<string, number> = {};
  for (const d of decisions) targets[d.variantName] = d.targetReplicas;
  const r = enforceScaleToZeroPolicy({
    modelId,
    targets,
    variantAnalyses: decisions.map((d) => ({ variantName: d.variantName, cost: d.cost })),
    scaleToZeroConfig: input.config,
    requestCount: input.requestCount,
    scaleToZeroDefault: input.envDefault,
  });
  const out = decisions.map((d) => {
    const t = r.targets[d.variantName] ?? d.targetReplicas;
    if (t === d.targetReplicas) return withStep(d, STEP_NAMES.scaleToZero, t, 'unchanged', false);
    const next = withStep(d, STEP_NAMES.scaleToZero, t, reasonFor(d, t), true);
    return { ...next, reason: reasonFor(d, t) };
  });
  return { decisions: out, applied: r.applied };
}

/**
 * The GPU limiter across every model's decisions at once (upstream limits the whole fleet
 * together). Returns fresh model decisions; a cut scale-up has a constrained `GpuLimiter` step.
 */
export function limitFleet(
  models: readonly ModelDecision[],
  limitByType: Record<string, number>,
): ModelDecision[] {
  const flat: VariantDecision[] = [];
  for (const m of models) {
    for (const d of m.decisions) {
      flat.push({
        variantName: d.variantName,
        namespace: d.namespace,
        modelId: d.modelId,
        acceleratorName: d.acceleratorName,
        cost: d.cost,
        action: d.action,
        currentReplicas: d.currentReplicas,
        targetReplicas: d.targetReplicas,
        gpusPerReplica: d.gpusPerReplica,
        spareCapacity: d.spareCapacity,
        gpusAllocated: 0,
        wasLimited: false,
        limitedBy: '',
        decisionSteps: [],
        reason: d.reason,
      });
    }
  }
  const { decisions } = limitDecisions(STEP_NAMES.limiter, limitByType, flat);
  let i = 0;
  return models.map((m) => ({
    ...m,
    decisions: m.decisions.map((d) => {
      const lim = decisions[i++] as VariantDecision;
      const step = lim.decisionSteps[lim.decisionSteps.length - 1] as DecisionStep;
      // The limiter never rewrites the action; the seam's action always follows the target.
      return withStep(d, step.name, lim.targetReplicas, step.reason, step.wasConstrained);
    }),
  }));
}

/**
 * The condition message of a decision: the headline, then each stage that constrained it. Steps
 * that changed nothing are left out, and so are figures that move every cycle, so an unchanged
 * decision renders an unchanged message.
 */
export function renderDecisionMessage(headline: string, d: ScalingDecision): string {
  const constrained = d.steps.filter((s) => s.wasConstrained).map((s) => `${s.name}: ${s.reason}`);
  return constrained.length === 0 ? headline : `${headline}; ${constrained.join('; ')}`;
}
