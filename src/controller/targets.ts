// What the reconciler asks of a VariantAutoscaling's spec in either shape: its problems, the
// object it scales (a Deployment from the source, another kind through its scale subresource),
// and, for a variant no engine here can size, the decision that says so.
import type { Deployment, VariantAutoscaling } from '../kube/types.js';
import { type ParsedSpec, parseSpec, type TargetKind } from '../kube/va-spec.js';
import type { Decision } from './decision.js';

/** Reads a target of a kind other than Deployment, shaped as a Deployment (replicas only). */
export type ScaleTargetSource = (
  namespace: string,
  target: TargetKind & { name: string },
) => Promise<Deployment | undefined> | Deployment | undefined;

interface TargetLookups {
  getDeployment(namespace: string, name: string): Deployment | undefined | Promise<Deployment | undefined>;
  getScaleTarget?: ScaleTargetSource;
}

/** The spec's problems, one line each naming field and rule; [] when either shape is valid. */
export function specProblemsOf(va: VariantAutoscaling): string[] {
  const p = parseSpec(va.spec, va.metadata.name);
  return p.ok ? [] : p.problems;
}

/** The object `target` names in `namespace`, or undefined when it does not exist (or cannot be read). */
export async function lookupTarget(
  source: TargetLookups,
  namespace: string,
  target: ParsedSpec['target'],
): Promise<Deployment | undefined> {
  if (target.kind === 'Deployment') return source.getDeployment(namespace, target.name);
  return source.getScaleTarget?.(namespace, target);
}

/** Reason of OptimizationReady for a variant left to the saturation engine while none runs here. */
export const SATURATION_ENGINE_UNAVAILABLE = 'SaturationEngineUnavailable';

/**
 * The decision for a variant the SLO engine cannot size (no modelProfile and sloClassRef): none,
 * said plainly. Undefined for a variant the SLO engine sizes.
 */
export function undecidedEngine(spec: ParsedSpec): Extract<Decision, { ok: false }> | undefined {
  if (spec.engine === 'slo') return undefined;
  return {
    ok: false,
    reason: SATURATION_ENGINE_UNAVAILABLE,
    message:
      'no spec.modelProfile and spec.sloClassRef: this variant is sized by the saturation engine, which this controller does not run yet; nothing is decided or published for it (add a profile and an SLO class for the SLO engine to size it)',
  };
}
