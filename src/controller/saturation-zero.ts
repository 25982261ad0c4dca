// Scale to zero for the saturation engines: the model's rule from the scale-to-zero ConfigMaps in
// force (wva-model-scale-to-zero-config and the older model-scale-to-zero-config, namespace-local
// copies, WVA_SCALE_TO_ZERO; as the actuator resolves them) and the idle evidence of the cycle's
// fleet query (requests over the retention period), as the engines' enforcer takes them.
import { ruleFor, type ScaleToZeroConfig, type ScaleToZeroRule } from '../actuator/scale-to-zero.js';
import type { RequestsOverAnswer } from '../collector/fleet-collector.js';
import type { ScaleToZeroInput } from '../engines/types.js';

/** Where the saturation engines read scale to zero. */
export interface SaturationZeroSource {
  /** The model's rule (enabled, retention). */
  rule(modelId: string, namespace: string): ScaleToZeroRule;
  /** The cycle's fleet query's count of the model's requests over `seconds`. */
  requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer;
}

/** The source over the actuator's policies, the switch and the fleet collector. */
export function saturationZeroSource(
  policies: { forNamespace(namespace: string): ScaleToZeroConfig },
  enabled: () => boolean,
  collector: { requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer },
): SaturationZeroSource {
  return {
    rule: (m, ns) => ruleFor(policies.forNamespace(ns), enabled(), m, ns),
    requestsOver: (m, ns, s) => collector.requestsOver(m, ns, s),
  };
}

/**
 * The enforcer's input for one model. Only a count the query answered, and not below 0, is
 * evidence: no series, series younger than the period, a failed query or a negative increase are
 * unknown (null), and unknown never takes a model to zero. Without a source the enforcer sees no
 * model entry and an unknown count, so it never zeroes either.
 */
export function scaleToZeroInputFor(
  source: SaturationZeroSource | undefined,
  modelId: string,
  namespace: string,
  envDefault: boolean,
): ScaleToZeroInput {
  if (!source) return { config: {}, requestCount: null, envDefault };
  const rule = source.rule(modelId, namespace);
  const seconds = Math.round(rule.retentionMs / 1000);
  let requestCount: number | null = null;
  if (rule.enabled) {
    const a = source.requestsOver(modelId, namespace, seconds);
    if (a.kind === 'count' && Number.isFinite(a.requests) && a.requests >= 0) requestCount = a.requests;
  }
  return {
    config: {
      [modelId]: { modelId, enableScaleToZero: rule.enabled, retentionPeriod: `${seconds}s` },
    },
    requestCount,
    envDefault: rule.enabled,
  };
}
