import { describe, expect, it } from 'vitest';
import {
  applySaturationScalingDefaults,
  type SaturationScalingConfig,
  validateSaturationScalingConfig,
} from '../../../../src/engines/saturation/index.js';
import { SHIPPED } from './builders.js';

const V2: SaturationScalingConfig = { ...SHIPPED, analyzerName: 'saturation' };

describe('applySaturationScalingDefaults', () => {
  it('fills 0.85 / 0.70 for V2 when the thresholds are 0 or absent', () => {
    expect(applySaturationScalingDefaults(V2)).toMatchObject({
      scaleUpThreshold: 0.85,
      scaleDownBoundary: 0.7,
    });
    const zero = applySaturationScalingDefaults({ ...V2, scaleUpThreshold: 0, scaleDownBoundary: 0 });
    expect(zero).toMatchObject({ scaleUpThreshold: 0.85, scaleDownBoundary: 0.7 });
  });

  it('keeps V2 thresholds that are set, each on its own', () => {
    expect(applySaturationScalingDefaults({ ...V2, scaleUpThreshold: 0.9 })).toMatchObject({
      scaleUpThreshold: 0.9,
      scaleDownBoundary: 0.7,
    });
    expect(applySaturationScalingDefaults({ ...V2, scaleDownBoundary: 0.5 })).toMatchObject({
      scaleUpThreshold: 0.85,
      scaleDownBoundary: 0.5,
    });
  });

  it('leaves V1 configs (and any other analyzer name) unchanged', () => {
    expect(applySaturationScalingDefaults(SHIPPED)).toEqual(SHIPPED);
    const other = { ...SHIPPED, analyzerName: 'Saturation' };
    expect(applySaturationScalingDefaults(other)).toEqual(other);
  });

  it('returns a fresh object and never mutates its argument', () => {
    const input = { ...V2 };
    const out = applySaturationScalingDefaults(input);
    expect(out).not.toBe(input);
    expect(input).toEqual(V2);
    expect(applySaturationScalingDefaults(SHIPPED)).not.toBe(SHIPPED);
  });
});

describe('validateSaturationScalingConfig', () => {
  it('accepts the shipped values and the all-zero V1 config', () => {
    expect(validateSaturationScalingConfig(SHIPPED)).toBeNull();
    const zero = { kvCacheThreshold: 0, queueLengthThreshold: 0, kvSpareTrigger: 0, queueSpareTrigger: 0 };
    expect(validateSaturationScalingConfig(zero)).toBeNull();
  });

  it.each([
    [{ kvCacheThreshold: -0.1 }, 'kvCacheThreshold'],
    [{ kvCacheThreshold: 1.01 }, 'kvCacheThreshold'],
    [{ queueLengthThreshold: -1 }, 'queueLengthThreshold'],
    [{ kvSpareTrigger: -0.01 }, 'kvSpareTrigger'],
    [{ kvSpareTrigger: 1.5, kvCacheThreshold: 1 }, 'kvSpareTrigger'],
    [{ queueSpareTrigger: -3 }, 'queueSpareTrigger'],
    [{ kvCacheThreshold: 0.5, kvSpareTrigger: 0.6 }, 'kvSpareTrigger (0.6)'],
  ])('refuses %j, naming %s', (over, field) => {
    const msg = validateSaturationScalingConfig({ ...SHIPPED, ...over });
    expect(msg).toContain(field);
  });

  it('accepts the range ends: thresholds 0 and 1, kvCacheThreshold equal to kvSpareTrigger', () => {
    expect(
      validateSaturationScalingConfig({ ...SHIPPED, kvCacheThreshold: 1, kvSpareTrigger: 1 }),
    ).toBeNull();
    expect(
      validateSaturationScalingConfig({ ...SHIPPED, kvCacheThreshold: 0.1, kvSpareTrigger: 0.1 }),
    ).toBeNull();
  });

  it('reports the first broken rule in upstream order', () => {
    const msg = validateSaturationScalingConfig({
      ...SHIPPED,
      kvCacheThreshold: 2,
      queueLengthThreshold: -1,
    });
    expect(msg).toMatch(/^kvCacheThreshold/);
    const second = validateSaturationScalingConfig({
      ...SHIPPED,
      queueLengthThreshold: -1,
      kvSpareTrigger: 3,
    });
    expect(second).toMatch(/^queueLengthThreshold/);
  });

  it('ignores the V2 fields for V1 and checks them for analyzerName saturation', () => {
    expect(
      validateSaturationScalingConfig({ ...SHIPPED, scaleUpThreshold: 5, scaleDownBoundary: -1 }),
    ).toBeNull();
    // Upstream validates as written: V2 without its thresholds is invalid until defaults apply.
    expect(validateSaturationScalingConfig(V2)).toMatch(/^scaleUpThreshold.*\(0, 1\]/);
    expect(validateSaturationScalingConfig(applySaturationScalingDefaults(V2))).toBeNull();
    expect(validateSaturationScalingConfig({ ...V2, scaleUpThreshold: 1.2, scaleDownBoundary: 0.5 })).toMatch(
      /^scaleUpThreshold/,
    );
    expect(validateSaturationScalingConfig({ ...V2, scaleUpThreshold: 0.9, scaleDownBoundary: 0 })).toMatch(
      /^scaleDownBoundary/,
    );
    expect(validateSaturationScalingConfig({ ...V2, scaleUpThreshold: 0.7, scaleDownBoundary: 0.7 })).toMatch(
      /scaleUpThreshold \(0\.7\) must be > scaleDownBoundary \(0\.7\)/,
    );
    expect(
      validateSaturationScalingConfig({ ...V2, scaleUpThreshold: 1, scaleDownBoundary: 0.99 }),
    ).toBeNull();
  });

  it('checks the V1 rules before the V2 ones', () => {
    expect(validateSaturationScalingConfig({ ...V2, queueSpareTrigger: -1 })).toMatch(/^queueSpareTrigger/);
  });
});
