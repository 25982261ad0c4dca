import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  enforceScaleToZeroPolicy,
  parseGoDuration,
  parseScaleToZeroConfigMap,
  type ScaleToZeroConfigData,
  scaleToZeroEnabled,
  scaleToZeroRetentionMs,
} from '../../../../src/engines/saturation/index.js';

const MIN = 60_000;

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['15m', 15 * MIN],
    ['1h30m', 90 * MIN],
    ['1.5h', 90 * MIN],
    ['.5s', 500],
    ['1.s', 1000],
    ['300ms', 300],
    ['1500us', 1.5],
    ['2µs', 0.002],
    ['1m1m', 2 * MIN],
    ['-5m', -5 * MIN],
    ['+30s', 30_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '.', '5', '1d', 'm', '1h ', ' 1h', '1w', '2562048h'])('refuses %j', (text) => {
    expect(() => parseGoDuration(text)).toThrow();
  });
});

// The shipped example with its commented overrides switched on.
const SHIPPED = {
  default: 'enable_scale_to_zero: true\nretention_period: "15m"\n',
  'llama-8b-override': 'model_id: meta/llama-3.1-8b\nretention_period: "5m"\n',
  'llama-70b-override': 'model_id: meta/llama-3.1-70b\nenable_scale_to_zero: false\n',
};

describe('parseScaleToZeroConfigMap', () => {
  it('keys default under default and overrides under their model_id', () => {
    const { config, problems } = parseScaleToZeroConfigMap(SHIPPED);
    expect(problems).toEqual([]);
    expect(config).toEqual({
      default: { enableScaleToZero: true, retentionPeriod: '15m' },
      'meta/llama-3.1-8b': { modelId: 'meta/llama-3.1-8b', retentionPeriod: '5m' },
      'meta/llama-3.1-70b': { modelId: 'meta/llama-3.1-70b', enableScaleToZero: false },
    });
  });

  it('keeps the first key in sorted order for a repeated model_id, and reports the other', () => {
    const { config, problems } = parseScaleToZeroConfigMap({
      zeta: 'model_id: m\nretention_period: 1m\n',
      alpha: 'model_id: m\nretention_period: 2m\n',
    });
    expect(config['m']!.retentionPeriod).toBe('2m');
    expect(problems).toEqual([expect.objectContaining({ key: 'zeta', field: 'model_id' })]);
  });

  it('drops entries without model_id and entries that do not decode, naming key and field', () => {
    const { config, problems } = parseScaleToZeroConfigMap({
      nomodel: 'enable_scale_to_zero: true\n',
      badflag: 'model_id: x\nenable_scale_to_zero: "true"\n',
      badyaml: 'model_id: [\n',
      ns: 'model_id: y\nnamespace: prod\n',
    });
    expect(Object.keys(config)).toEqual(['y']);
    expect(config['y']).toEqual({ modelId: 'y', namespace: 'prod' });
    const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
    expect(byKey['nomodel']).toMatchObject({ field: 'model_id' });
    expect(byKey['badflag']).toMatchObject({ field: 'enable_scale_to_zero' });
    expect(byKey['badflag']!.message).toMatch(
      /^wva-model-scale-to-zero-config key "badflag": enable_scale_to_zero must be true or false/,
    );
    expect(byKey['badyaml']).toMatchObject({ field: '' });
  });

  it('reads a missing ConfigMap as empty', () => {
    expect(parseScaleToZeroConfigMap(undefined)).toEqual({ config: {}, problems: [] });
  });
});

describe('scaleToZeroEnabled and scaleToZeroRetentionMs', () => {
  const { config } = parseScaleToZeroConfigMap(SHIPPED);

  it('takes the model flag, else the default flag, else the environment switch', () => {
    expect(scaleToZeroEnabled(config, 'meta/llama-3.1-70b', true)).toBe(false);
    expect(scaleToZeroEnabled(config, 'meta/llama-3.1-8b')).toBe(true);
    expect(scaleToZeroEnabled(config, 'other')).toBe(true);
    expect(scaleToZeroEnabled({}, 'other')).toBe(false);
    expect(scaleToZeroEnabled({}, 'other', true)).toBe(true);
    expect(scaleToZeroEnabled({ default: { retentionPeriod: '1m' } }, 'other', true)).toBe(true);
  });

  it('takes the model period, else the default one, else 10 minutes', () => {
    expect(scaleToZeroRetentionMs(config, 'meta/llama-3.1-8b')).toBe(5 * MIN);
    expect(scaleToZeroRetentionMs(config, 'meta/llama-3.1-70b')).toBe(15 * MIN);
    expect(scaleToZeroRetentionMs({}, 'x')).toBe(10 * MIN);
  });

  it('skips a model period that is invalid, zero or negative', () => {
    const c: ScaleToZeroConfigData = {
      default: { retentionPeriod: '20m' },
      a: { retentionPeriod: '5 minutes' },
      b: { retentionPeriod: '0s' },
      c: { retentionPeriod: '-1m' },
      d: { retentionPeriod: '' },
    };
    for (const m of ['a', 'b', 'c', 'd']) expect(scaleToZeroRetentionMs(c, m)).toBe(20 * MIN);
  });

  it('falls back to 10 minutes for an invalid default period, but keeps a valid one as written', () => {
    expect(scaleToZeroRetentionMs({ default: { retentionPeriod: 'soon' } }, 'x')).toBe(10 * MIN);
    expect(scaleToZeroRetentionMs({ default: { retentionPeriod: '0s' } }, 'x')).toBe(0);
  });
});

const ENABLED: ScaleToZeroConfigData = { default: { enableScaleToZero: true } };
const costs = [
  { variantName: 'dear', cost: 20 },
  { variantName: 'cheap', cost: 5 },
];

describe('enforceScaleToZeroPolicy', () => {
  it('enabled and idle (0 requests): every target goes to 0', () => {
    const r = enforceScaleToZeroPolicy({
      modelId: 'm',
      targets: { dear: 2, cheap: 1 },
      variantAnalyses: costs,
      scaleToZeroConfig: ENABLED,
      requestCount: 0,
    });
    expect(r).toEqual({ targets: { dear: 0, cheap: 0 }, applied: true });
  });

  it('enabled but requests seen, or no proof (null): targets unchanged', () => {
    for (const requestCount of [3, 0.5, null]) {
      const r = enforceScaleToZeroPolicy({
        modelId: 'm',
        targets: { dear: 2 },
        variantAnalyses: costs,
        scaleToZeroConfig: ENABLED,
        requestCount,
      });
      expect(r).toEqual({ targets: { dear: 2 }, applied: false });
    }
  });

  it('enabled through the environment switch when the ConfigMap says nothing', () => {
    const r = enforceScaleToZeroPolicy({
      modelId: 'm',
      targets: { a: 1 },
      variantAnalyses: [],
      scaleToZeroConfig: {},
      requestCount: 0,
      scaleToZeroDefault: true,
    });
    expect(r).toEqual({ targets: { a: 0 }, applied: true });
  });

  it('as upstream code, a negative count counts as idle', () => {
    const r = enforceScaleToZeroPolicy({
      modelId: 'm',
      targets: { a: 1 },
      variantAnalyses: [],
      scaleToZeroConfig: ENABLED,
      requestCount: -1,
    });
    expect(r.applied).toBe(true);
  });

  it('disabled: keeps one replica of the cheapest variant when all targets are 0', () => {
    const r = enforceScaleToZeroPolicy({
      modelId: 'm',
      targets: { dear: 0, cheap: 0 },
      variantAnalyses: costs,
      scaleToZeroConfig: {},
      requestCount: 0,
    });
    expect(r).toEqual({ targets: { dear: 0, cheap: 1 }, applied: true });
  });

  it('disabled: unknown costs count 10, ties go to the alphabetically first name', () => {
    const r = enforceScaleToZeroPolicy({
      modelId: 'm',
      targets: { zed: 0, known: 0, abe: 0 },
      variantAnalyses: [{ variantName: 'known', cost: 10 }],
      scaleToZeroConfig: { m: { modelId: 'm', enableScaleToZero: false }, ...ENABLED },
      requestCount: 0,
    });
    expect(r.targets).toEqual({ zed: 0, known: 0, abe: 1 });
  });

  it('disabled: leaves targets that serve, and empty targets, alone', () => {
    const serving = {
      modelId: 'm',
      targets: { dear: 1, cheap: 0 },
      variantAnalyses: costs,
      scaleToZeroConfig: {},
      requestCount: 0,
    };
    expect(enforceScaleToZeroPolicy(serving)).toEqual({ targets: { dear: 1, cheap: 0 }, applied: false });
    const empty = { ...serving, targets: {} };
    expect(enforceScaleToZeroPolicy(empty)).toEqual({ targets: {}, applied: false });
  });

  it('returns fresh targets, never negative, and never touches its input', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 5 })),
        fc.option(fc.integer({ min: 0, max: 3 })),
        fc.boolean(),
        (targets, requestCount, on) => {
          const x = {
            modelId: 'm',
            targets,
            variantAnalyses: [{ variantName: 'b', cost: 1 }],
            scaleToZeroConfig: { default: { enableScaleToZero: on } },
            requestCount,
          };
          const before = structuredClone(x);
          const r = enforceScaleToZeroPolicy(x);
          expect(x).toEqual(before);
          expect(r.targets).not.toBe(targets);
          expect(Object.keys(r.targets)).toEqual(Object.keys(targets));
          for (const t of Object.values(r.targets)) expect(t).toBeGreaterThanOrEqual(0);
          if (!on && Object.keys(targets).length > 0) {
            expect(Object.values(r.targets).reduce((s, t) => s + t, 0)).toBeGreaterThan(0);
          }
        },
      ),
    );
  });
});
