// What each variant's status says after the cycle's decision (saturation scaling's §6 rules):
// computed, not written; the status writer publishes it. Messages carry no figure that moves every
// cycle unless the engine's own reason does, so an unchanged decision leaves the status unchanged.
import { renderDecisionMessage } from './steps.js';
import {
  ENGINE_NAMES,
  type EngineCondition,
  METRICS_AVAILABLE,
  type ModelDecision,
  OPTIMIZATION_READY,
  type ScalingDecision,
  type VariantStatusContent,
} from './types.js';

export const STATUS_REASONS = {
  saturationOnly: 'SaturationOnlyMode',
  succeeded: 'OptimizationSucceeded',
  metricsFound: 'MetricsFound',
  metricsMissing: 'MetricsMissing',
  scaleFromZero: 'ScaleFromZeroMode',
  invalidConfiguration: 'InvalidConfiguration',
} as const;

/** OptimizationReady when configuration concerning the model was refused: what, and what stood in. */
function invalidConfiguration(model: ModelDecision, d: ScalingDecision | undefined): EngineCondition {
  const decided = d
    ? `; decided meanwhile: ${d.reason} (target: ${d.targetReplicas} replicas)`
    : '; no decision meanwhile';
  return {
    type: OPTIMIZATION_READY,
    status: 'False',
    reason: STATUS_REASONS.invalidConfiguration,
    message: `${(model.invalidConfiguration ?? []).join('; ')}${decided}`,
  };
}

export const NO_CHANGE_MESSAGE = 'Optimization loop ran (no scaling change needed)';

function headline(d: ScalingDecision): { reason: string; message: string } {
  const tail = `${d.reason} (target: ${d.targetReplicas} replicas)`;
  if (d.engine === ENGINE_NAMES.saturationV1) {
    return { reason: STATUS_REASONS.saturationOnly, message: `saturation-only decision: ${tail}` };
  }
  if (d.engine === ENGINE_NAMES.saturationV2) {
    return { reason: STATUS_REASONS.succeeded, message: `Hybrid mode: ${tail}` };
  }
  return { reason: STATUS_REASONS.succeeded, message: `${d.engine}: ${tail}` };
}

/**
 * The status content of each variant of the model. `variants` lists every active variant with the
 * accelerator it is known by (its previous desired allocation's, else its label's; '' if neither).
 */
export function variantStatuses(
  model: ModelDecision,
  variants: ReadonlyArray<{ variantName: string; knownAccelerator: string }>,
): VariantStatusContent[] {
  const byName = new Map(model.decisions.map((d) => [d.variantName, d]));
  const why = model.skipped.length > 0 ? model.skipped.join('; ') : 'no decision this cycle';
  const invalid = (model.invalidConfiguration ?? []).length > 0;
  return variants.map((v) => {
    const d = byName.get(v.variantName);
    const content = statusOf(model, v, d, why);
    if (!invalid) return content;
    // Invalid configuration wins over the engine's headline; the decision (from what stood in) stays.
    const conditions = content.conditions.filter((c) => c.type !== OPTIMIZATION_READY);
    return { ...content, conditions: [invalidConfiguration(model, d), ...conditions] };
  });
}

function statusOf(
  model: ModelDecision,
  v: { variantName: string; knownAccelerator: string },
  d: ScalingDecision | undefined,
  why: string,
): VariantStatusContent {
  if (d) {
    const h = headline(d);
    const conditions: EngineCondition[] = [
      {
        type: OPTIMIZATION_READY,
        status: 'True',
        reason: h.reason,
        message: renderDecisionMessage(h.message, d),
      },
      {
        type: METRICS_AVAILABLE,
        status: 'True',
        reason: STATUS_REASONS.metricsFound,
        message: `per-pod saturation metrics found for model ${model.modelId}`,
      },
    ];
    return {
      variantName: v.variantName,
      desired: { numReplicas: d.targetReplicas, accelerator: d.acceleratorName || v.knownAccelerator },
      conditions,
    };
  }
  const missing: EngineCondition = {
    type: METRICS_AVAILABLE,
    status: 'False',
    reason: STATUS_REASONS.metricsMissing,
    message: `no decision for model ${model.modelId}: ${why}`,
  };
  if (v.knownAccelerator === '') return { variantName: v.variantName, desired: null, conditions: [missing] };
  return {
    variantName: v.variantName,
    desired: null,
    conditions: [
      {
        type: OPTIMIZATION_READY,
        status: 'True',
        reason: STATUS_REASONS.succeeded,
        message: NO_CHANGE_MESSAGE,
      },
      missing,
    ],
  };
}
