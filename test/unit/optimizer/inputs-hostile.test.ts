// The optimizer's ConfigMap and profile inputs, written badly: names that are Object methods, costs
// and priorities that only look like numbers, and entries given twice. Each is refused by name, or
// (an accelerator without a cost) left uncosted, never read as a number it is not.
import { describe, expect, it } from 'vitest';
import { decideVariant } from '../../../src/controller/decision.js';
import { OptimizerConfigStore } from '../../../src/controller/optimizer-config.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import type { VariantAutoscaling } from '../../../src/kube/types.js';
import {
  parseModelProfile,
  parseServiceClasses,
  parseUnitCosts,
  resolveSlo,
  sizeGroup,
} from '../../../src/optimizer/index.js';
import { Stabiliser } from '../../../src/optimizer/stabilize.js';

const cls = (extra: string) => `name: Premium\n${extra}data:\n  - model: llama\n    slo-tpot: 24\n`;
const accel = (acc: string, maxBatchSize = 4) => ({
  acc,
  accCount: 1,
  maxBatchSize,
  perfParms: { decodeParms: { alpha: '20', beta: '0.4' }, prefillParms: { gamma: '5', delta: '0.1' } },
});

describe('accelerators named like Object methods', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    '%s has no cost unless given one',
    (acc) => {
      const parsed = parseUnitCosts({ A100: '{ "device": "a", "cost": "35.00" }' });
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      const profile = parseModelProfile({ accelerators: [accel(acc)] });
      if (!profile.ok) throw new Error(profile.problems.join('; '));
      const out = sizeGroup(
        [
          {
            key: 'prod/v',
            options: profile.value,
            slo: { itlMs: 100 },
            minReplicas: 1,
            currentAccelerator: acc,
            currentReplicas: 2,
          },
        ],
        { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 100 },
        parsed.value,
      );
      const v = out.get('prod/v');
      expect(v?.ok).toBe(true);
      if (v?.ok) expect(v.allocation.cost).toBeUndefined();
    },
  );

  it('a VA whose only accelerator is "constructor" is NoUnitCosts, naming it', () => {
    const store = new OptimizerConfigStore({ namespace: 'wva' });
    store.setServiceClasses({ 'premium.yaml': cls('priority: 1\n') });
    store.setUnitCosts({ A100: '{ "device": "a", "cost": "35.00" }' });
    const va = {
      apiVersion: 'llmd.ai/v1alpha1',
      kind: 'VariantAutoscaling',
      metadata: { name: 'v', namespace: 'prod' },
      spec: {
        modelID: 'llama',
        sloClassRef: { name: 'premium', key: 'llama' },
        modelProfile: { accelerators: [accel('constructor')] },
      },
    } as VariantAutoscaling;
    const read = {
      metrics: {
        load: { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 100 },
        ttftAverage: 1,
        itlAverage: 1,
      },
      availability: { available: true, reason: 'MetricsFound', message: 'found' },
    } as MetricsRead;
    const d = decideVariant({
      va,
      read,
      group: [{ va }],
      config: store,
      now: new Date('2026-06-01T00:00:00Z'),
      stabiliser: new Stabiliser(300_000),
      kvCacheThreshold: 0.9,
    });
    expect(d).toMatchObject({
      ok: false,
      reason: 'NoUnitCosts',
      message: expect.stringMatching(/no unit cost for constructor/),
    });
  });

  it('an accelerator really named __proto__ keeps the cost it is given', () => {
    // As the API server hands ConfigMap data: JSON, where __proto__ is an own key.
    const data = JSON.parse('{ "__proto__": "{ \\"cost\\": \\"12\\" }" }') as Record<string, string>;
    const parsed = parseUnitCosts(data);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(Object.getOwnPropertyDescriptor(parsed.value, '__proto__')?.value).toBe(12);
  });

  it('an sloClassRef key named "constructor" is no key of the namespace ConfigMap', () => {
    const r = resolveSlo(
      { namespace: 'prod', modelId: 'llama', sloClassRef: { name: 'slo', key: 'constructor' } },
      undefined,
      { other: 'slo-tpot: 10' },
    );
    expect(r).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/no ConfigMap slo with key constructor/),
    });
  });
});

describe('unit costs: plain decimals only', () => {
  it.each([
    ['""', '""'],
    ['"0x23"', '"0x23"'],
    ['"1e2"', '"1e2"'],
    ['" "', '" "'],
    ['"-3"', '"-3"'],
    ['null', '"null"'],
    ['"Infinity"', '"Infinity"'],
  ])('cost %s is refused by name', (written, shown) => {
    const parsed = parseUnitCosts({ A100: `{ "device": "a", "cost": ${written} }` });
    expect(parsed).toEqual({
      ok: false,
      problems: [`A100.cost: ${shown} is not a number >= 0 written as a plain decimal, such as "40.00"`],
    });
  });

  it('a missing cost says so', () => {
    expect(parseUnitCosts({ A100: '{ "device": "a" }' })).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/A100\.cost: missing is not a number/)],
    });
  });

  it.each([
    ['{ "device": "a", "cost": "40.00" }', 40],
    ['{ "device": "a", "cost": 35 }', 35],
    ['device: a\ncost: 12.5\n', 12.5],
    ['{ "cost": " 7 " }', 7],
  ])('%s reads as %d', (text, cost) => {
    expect(parseUnitCosts({ A100: text })).toEqual({
      ok: true,
      value: expect.objectContaining({ A100: cost }),
    });
  });

  it('a key given twice in one entry is refused, not the last one silently kept', () => {
    const parsed = parseUnitCosts({ A100: '{ "device": "a", "cost": "35", "cost": "1" }' });
    expect(parsed).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^A100: not JSON or YAML \(Map keys must be unique/)],
    });
  });
});

describe('service class priority', () => {
  it.each([
    ['priority: null\n', 'null'],
    ['priority: []\n', '[]'],
    ['priority: ""\n', '""'],
    ['priority: "0x10"\n', '"0x10"'],
    ['priority: {}\n', '{}'],
  ])('%s is refused by name, not read as 0', (line, shown) => {
    expect(parseServiceClasses({ 'premium.yaml': cls(line) })).toEqual({
      ok: false,
      problems: [
        `premium.yaml.priority: ${shown} is not a number; give a number (lowest first) or leave it out (last)`,
      ],
    });
  });

  it('absent is last; a number or a numeric string is that number', () => {
    for (const [line, want] of [
      ['', Number.MAX_SAFE_INTEGER],
      ['priority: 3\n', 3],
      ['priority: "2"\n', 2],
    ] as const) {
      const parsed = parseServiceClasses({ 'premium.yaml': cls(line) });
      expect(parsed.ok && parsed.value[0]?.priority).toBe(want);
    }
  });

  it('an SLO target like "0x10" is refused by name', () => {
    const parsed = parseServiceClasses({
      'premium.yaml': 'name: Premium\ndata:\n  - model: llama\n    slo-tpot: "0x10"\n',
    });
    expect(parsed).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/premium\.yaml\.data\[0\]\.slo-tpot: "0x10" is not a number/)],
    });
  });
});

describe('entries given twice', () => {
  it('the same model twice in one class is refused, naming both places', () => {
    const parsed = parseServiceClasses({
      'premium.yaml':
        'name: Premium\ndata:\n  - model: llama\n    slo-tpot: 24\n  - model: llama\n    slo-tpot: 90\n',
    });
    expect(parsed).toEqual({
      ok: false,
      problems: [
        'premium.yaml.data[1].model: llama is already listed at premium.yaml.data[0]; keep one entry per model',
      ],
    });
  });

  it('two classes with one name (any case) are refused, naming both keys', () => {
    const parsed = parseServiceClasses({
      'a.yaml': 'name: Premium\ndata:\n  - model: llama\n    slo-tpot: 24\n',
      'b.yaml': 'name: premium\ndata:\n  - model: other\n    slo-tpot: 24\n',
    });
    expect(parsed).toEqual({
      ok: false,
      problems: [
        'b.yaml.name: premium is also the name of a.yaml (names match in any case); give each class its own name',
      ],
    });
  });

  it('one accelerator profiled twice in a VA is refused, naming both places', () => {
    expect(parseModelProfile({ accelerators: [accel('H100'), accel('A100'), accel('H100', 8)] })).toEqual({
      ok: false,
      problems: [
        'spec.modelProfile.accelerators[2].acc: H100 is already profiled at accelerators[0]; keep one profile per accelerator',
      ],
    });
  });
});
