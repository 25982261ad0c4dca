import { describe, expect, it } from 'vitest';
import {
  chooseConfigMapData,
  parseSaturationScalingConfigMap,
  saturationConfigForModel,
  saturationEngineSettings,
} from '../../../../src/engines/saturation/index.js';

// The shipped ConfigMap's `default` entry, comments included.
const SHIPPED_DEFAULT = `kvCacheThreshold: 0.80
queueLengthThreshold: 5
kvSpareTrigger: 0.1
queueSpareTrigger: 3
# Enable GPU limiter to constrain scaling based on available cluster resources
enableLimiter: false
`;

const GRANITE = `model_id: ibm/granite-13b
namespace: lab-namespace
kvCacheThreshold: 0.75
queueLengthThreshold: 10
kvSpareTrigger: 0.15
queueSpareTrigger: 5
`;

const LLAMA_PARTIAL = `model_id: meta/llama-70b
namespace: production
kvCacheThreshold: 0.85
kvSpareTrigger: 0.15
`;

describe('parseSaturationScalingConfigMap, as upstream code reads it', () => {
  it('reads the shipped default and keeps overrides under their data key as written', () => {
    const set = parseSaturationScalingConfigMap({ default: SHIPPED_DEFAULT, 'granite-override': GRANITE });
    expect(set.problems).toEqual([]);
    expect(set.builtIn).toBe(false);
    expect(set.default).toMatchObject({
      kvCacheThreshold: 0.8,
      queueLengthThreshold: 5,
      kvSpareTrigger: 0.1,
      queueSpareTrigger: 3,
      enableLimiter: false,
      analyzerName: '',
    });
    expect(set.entries['granite-override']).toMatchObject({
      modelId: 'ibm/granite-13b',
      namespace: 'lab-namespace',
      kvCacheThreshold: 0.75,
      queueLengthThreshold: 10,
    });
  });

  it('uses only `default` for every model, overrides never', () => {
    const set = parseSaturationScalingConfigMap({ default: SHIPPED_DEFAULT, 'granite-override': GRANITE });
    expect(saturationConfigForModel(set, 'ibm/granite-13b', 'lab-namespace')).toBe(set.default);
  });

  it('has no config (model skipped) when the ConfigMap or its default is missing', () => {
    expect(parseSaturationScalingConfigMap(undefined).default).toBeNull();
    expect(parseSaturationScalingConfigMap(null).default).toBeNull();
    const onlyOverride = parseSaturationScalingConfigMap({ 'granite-override': GRANITE });
    expect(saturationConfigForModel(onlyOverride, 'ibm/granite-13b', 'lab-namespace')).toBeNull();
  });

  it('leaves unspecified fields at zero: a partial override is not merged with default', () => {
    const set = parseSaturationScalingConfigMap({ default: SHIPPED_DEFAULT, llama: LLAMA_PARTIAL });
    expect(set.entries['llama']).toMatchObject({
      kvCacheThreshold: 0.85,
      queueLengthThreshold: 0,
      queueSpareTrigger: 0,
    });
  });

  it('drops an invalid entry with a message naming the key, the field and the rule; keeps the rest', () => {
    const set = parseSaturationScalingConfigMap({
      default: SHIPPED_DEFAULT,
      bad: 'model_id: x\nkvCacheThreshold: 1.5\n',
    });
    expect(Object.keys(set.entries)).toEqual(['default']);
    expect(set.problems).toHaveLength(1);
    expect(set.problems[0]).toMatchObject({ key: 'bad', field: 'kvCacheThreshold' });
    expect(set.problems[0]!.message).toBe(
      'wva-saturation-scaling-config key "bad": kvCacheThreshold must be within [0, 1], got 1.5',
    );
  });

  it('refuses wrong types, non-finite numbers, bad YAML and non-mappings', () => {
    const set = parseSaturationScalingConfigMap({
      a: 'kvCacheThreshold: "0.8"\n',
      b: 'enableLimiter: yes\n',
      c: 'kvCacheThreshold: .nan\n',
      d: 'kvCacheThreshold: [\n',
      e: '- 1\n- 2\n',
      f: 'analyzerName: 3\n',
    });
    expect(set.entries).toEqual({});
    const byKey = Object.fromEntries(set.problems.map((p) => [p.key, p]));
    expect(byKey['a']).toMatchObject({ field: 'kvCacheThreshold' });
    expect(byKey['a']!.message).toContain('must be a number');
    expect(byKey['b']).toMatchObject({ field: 'enableLimiter' });
    expect(byKey['c']!.message).toContain('finite');
    expect(byKey['d']).toMatchObject({ field: '' });
    expect(byKey['d']!.message).toContain('not valid YAML');
    expect(byKey['e']!.message).toContain('mapping');
    expect(byKey['f']).toMatchObject({ field: 'analyzerName' });
  });

  it('applies the V2 defaults before validating, so analyzerName saturation alone is kept', () => {
    const set = parseSaturationScalingConfigMap({ default: `${SHIPPED_DEFAULT}analyzerName: saturation\n` });
    expect(set.problems).toEqual([]);
    expect(set.default).toMatchObject({
      analyzerName: 'saturation',
      scaleUpThreshold: 0.85,
      scaleDownBoundary: 0.7,
    });
  });

  it('reads an empty document as all zeros (a valid V1 config) and ignores unknown fields', () => {
    const set = parseSaturationScalingConfigMap({
      default: '# nothing\n',
      other: 'foo: 1\nkvCacheThreshold: 0.5\n',
    });
    expect(set.default).toMatchObject({ kvCacheThreshold: 0, queueLengthThreshold: 0 });
    expect(set.entries['other']).toMatchObject({ kvCacheThreshold: 0.5 });
    expect(set.entries['other']).not.toHaveProperty('foo');
  });

  it('an invalid default leaves no config in the code reading', () => {
    const set = parseSaturationScalingConfigMap({ default: 'kvCacheThreshold: 0.05\nkvSpareTrigger: 0.1\n' });
    expect(set.default).toBeNull();
    expect(set.problems[0]!.message).toContain('kvCacheThreshold (0.05) must be >= kvSpareTrigger (0.1)');
  });
});

describe('parseSaturationScalingConfigMap, product reading (upstream docs)', () => {
  const product = { product: true };

  it('uses the built-in 0.80 / 5 / 0.1 / 3 when the ConfigMap is missing, and says so', () => {
    const set = parseSaturationScalingConfigMap(undefined, product);
    expect(set.builtIn).toBe(true);
    expect(set.default).toMatchObject({
      kvCacheThreshold: 0.8,
      queueLengthThreshold: 5,
      kvSpareTrigger: 0.1,
      queueSpareTrigger: 3,
      enableLimiter: false,
      analyzerName: '',
    });
    expect(saturationConfigForModel(set, 'any', 'ns')).toBe(set.default);
  });

  it('uses the built-ins when default is missing or invalid, reporting the invalid one', () => {
    expect(parseSaturationScalingConfigMap({ x: GRANITE }, product).builtIn).toBe(true);
    const bad = parseSaturationScalingConfigMap({ default: 'queueLengthThreshold: -2\n' }, product);
    expect(bad.builtIn).toBe(true);
    expect(bad.default).toMatchObject({ queueLengthThreshold: 5 });
    expect(bad.problems[0]).toMatchObject({ key: 'default', field: 'queueLengthThreshold' });
  });

  it('fills fields a default leaves out from the built-ins', () => {
    const set = parseSaturationScalingConfigMap(
      { default: 'enableLimiter: true\nkvCacheThreshold: 0.9\n' },
      product,
    );
    expect(set.builtIn).toBe(false);
    expect(set.default).toMatchObject({
      kvCacheThreshold: 0.9,
      queueLengthThreshold: 5,
      enableLimiter: true,
    });
  });

  it('lets a partial override inherit what it leaves out from default', () => {
    const set = parseSaturationScalingConfigMap(
      {
        default:
          'kvCacheThreshold: 0.7\nqueueLengthThreshold: 8\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 2\n',
        llama: LLAMA_PARTIAL,
      },
      product,
    );
    const c = saturationConfigForModel(set, 'meta/llama-70b', 'production');
    expect(c).toMatchObject({
      modelId: 'meta/llama-70b',
      namespace: 'production',
      kvCacheThreshold: 0.85,
      kvSpareTrigger: 0.15,
      queueLengthThreshold: 8,
      queueSpareTrigger: 2,
    });
    // Another namespace, or another model, gets default.
    expect(saturationConfigForModel(set, 'meta/llama-70b', 'staging')).toBe(set.default);
    expect(saturationConfigForModel(set, 'other', 'production')).toBe(set.default);
  });

  it('prefers an override for the namespace over one without a namespace', () => {
    const set = parseSaturationScalingConfigMap(
      {
        default: SHIPPED_DEFAULT,
        any: 'model_id: m\nkvCacheThreshold: 0.6\n',
        exact: 'model_id: m\nnamespace: prod\nkvCacheThreshold: 0.7\n',
      },
      product,
    );
    expect(saturationConfigForModel(set, 'm', 'prod')?.kvCacheThreshold).toBe(0.7);
    expect(saturationConfigForModel(set, 'm', 'dev')?.kvCacheThreshold).toBe(0.6);
  });

  it('validates an override after inheriting, naming the key', () => {
    const set = parseSaturationScalingConfigMap(
      { default: SHIPPED_DEFAULT, tight: 'model_id: m\nkvCacheThreshold: 0.05\n' },
      product,
    );
    expect(set.entries['tight']).toBeUndefined();
    expect(set.problems[0]!.message).toBe(
      'wva-saturation-scaling-config key "tight": kvCacheThreshold (0.05) must be >= kvSpareTrigger (0.1)',
    );
    expect(saturationConfigForModel(set, 'm', 'ns')).toBe(set.default);
  });

  it('an override switching to V2 gets 0.85 / 0.70 when it and default leave them out', () => {
    const set = parseSaturationScalingConfigMap(
      { default: SHIPPED_DEFAULT, v2: 'model_id: m\nanalyzerName: saturation\n' },
      product,
    );
    expect(saturationConfigForModel(set, 'm', 'x')).toMatchObject({
      analyzerName: 'saturation',
      scaleUpThreshold: 0.85,
      scaleDownBoundary: 0.7,
      kvCacheThreshold: 0.8,
    });
  });

  it('never mutates the data it reads', () => {
    const data = { default: SHIPPED_DEFAULT, llama: LLAMA_PARTIAL };
    const copy = structuredClone(data);
    parseSaturationScalingConfigMap(data, product);
    expect(data).toEqual(copy);
  });
});

describe('chooseConfigMapData', () => {
  it('takes the namespace-local copy when it has data, else the global one, never a merge', () => {
    const local = { default: 'a' };
    const global = { default: 'b', other: 'c' };
    expect(chooseConfigMapData(local, global)).toBe(local);
    expect(chooseConfigMapData({}, global)).toBe(global);
    expect(chooseConfigMapData(undefined, global)).toBe(global);
    expect(chooseConfigMapData(null, null)).toBeNull();
  });
});

describe('saturationEngineSettings', () => {
  it('reads the analyser and the limiter switch from the default entry', () => {
    const v2 = parseSaturationScalingConfigMap({ default: `${SHIPPED_DEFAULT}analyzerName: saturation\n` });
    expect(saturationEngineSettings(v2)).toEqual({ analyzer: 'v2', enableLimiter: false });
    const limited = parseSaturationScalingConfigMap({ default: 'enableLimiter: true\n' });
    expect(saturationEngineSettings(limited)).toEqual({ analyzer: 'v1', enableLimiter: true });
  });

  it('falls back to V1 without the limiter when there is no default entry', () => {
    expect(saturationEngineSettings(parseSaturationScalingConfigMap(undefined))).toEqual({
      analyzer: 'v1',
      enableLimiter: false,
    });
    const other = parseSaturationScalingConfigMap({ x: 'model_id: m\nanalyzerName: saturation\n' });
    expect(saturationEngineSettings(other).analyzer).toBe('v1');
  });
});
