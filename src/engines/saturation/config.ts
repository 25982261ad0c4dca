// Saturation scaling configuration: the defaults upstream WVA v0.5 applies and the rules its
// validation checks, in its order.
import type { SaturationScalingConfig } from './types.js';

/** analyzerName that selects the token-based (V2) analyser; anything else is V1. */
export const SATURATION_V2_ANALYZER = 'saturation';
export const DEFAULT_SCALE_UP_THRESHOLD = 0.85;
export const DEFAULT_SCALE_DOWN_BOUNDARY = 0.7;

/** The thresholds upstream's docs promise when no ConfigMap entry applies (its code has none). */
export const BUILTIN_SATURATION_THRESHOLDS: Readonly<
  Pick<
    SaturationScalingConfig,
    'kvCacheThreshold' | 'queueLengthThreshold' | 'kvSpareTrigger' | 'queueSpareTrigger'
  >
> = Object.freeze({
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
});

/** A copy of `c` with the V2 thresholds filled in when they are 0 or absent; V1 configs unchanged. */
export function applySaturationScalingDefaults(c: SaturationScalingConfig): SaturationScalingConfig {
  const out: SaturationScalingConfig = { ...c };
  if (c.analyzerName !== SATURATION_V2_ANALYZER) return out;
  if (!c.scaleUpThreshold) out.scaleUpThreshold = DEFAULT_SCALE_UP_THRESHOLD;
  if (!c.scaleDownBoundary) out.scaleDownBoundary = DEFAULT_SCALE_DOWN_BOUNDARY;
  return out;
}

/** The first broken rule: which field, and what it must be. */
export interface SaturationConfigViolation {
  field: keyof SaturationScalingConfig;
  rule: string;
  message: string;
}

// Comparisons are written so that NaN passes, as upstream's do; the ConfigMap parser refuses
// non-finite numbers before they get here.
function outside01(x: number): boolean {
  return x < 0 || x > 1;
}
function outsideOpen01(x: number): boolean {
  return x <= 0 || x > 1;
}

function violation(
  field: keyof SaturationScalingConfig,
  rule: string,
  value: unknown,
): SaturationConfigViolation {
  return { field, rule, message: `${field} must be ${rule}, got ${String(value)}` };
}

/** Every rule of upstream's validation, in its order; the first one broken, or null. */
export function saturationConfigViolation(c: SaturationScalingConfig): SaturationConfigViolation | null {
  if (outside01(c.kvCacheThreshold))
    return violation('kvCacheThreshold', 'within [0, 1]', c.kvCacheThreshold);
  if (c.queueLengthThreshold < 0) return violation('queueLengthThreshold', '>= 0', c.queueLengthThreshold);
  if (outside01(c.kvSpareTrigger)) return violation('kvSpareTrigger', 'within [0, 1]', c.kvSpareTrigger);
  if (c.queueSpareTrigger < 0) return violation('queueSpareTrigger', '>= 0', c.queueSpareTrigger);
  if (c.kvCacheThreshold < c.kvSpareTrigger) {
    return {
      field: 'kvCacheThreshold',
      rule: '>= kvSpareTrigger',
      message: `kvCacheThreshold (${c.kvCacheThreshold}) must be >= kvSpareTrigger (${c.kvSpareTrigger})`,
    };
  }
  if (c.analyzerName !== SATURATION_V2_ANALYZER) return null;
  const up = c.scaleUpThreshold ?? 0;
  const down = c.scaleDownBoundary ?? 0;
  if (outsideOpen01(up))
    return violation('scaleUpThreshold', 'within (0, 1] for analyzerName saturation', up);
  if (outsideOpen01(down))
    return violation('scaleDownBoundary', 'within (0, 1] for analyzerName saturation', down);
  if (up <= down) {
    return {
      field: 'scaleUpThreshold',
      rule: '> scaleDownBoundary',
      message: `scaleUpThreshold (${up}) must be > scaleDownBoundary (${down})`,
    };
  }
  return null;
}

/** The first broken rule's message, or null when `c` is valid. */
export function validateSaturationScalingConfig(c: SaturationScalingConfig): string | null {
  return saturationConfigViolation(c)?.message ?? null;
}
