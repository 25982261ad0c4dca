import { describe, expect, it } from 'vitest';
import { EmulatorConfigError, LoadCurve, parseEmulatorConfig } from '../../src/emulator/index.js';

function curve(load: unknown): LoadCurve {
  const cfg = parseEmulatorConfig({
    models: [
      {
        model: 'm',
        architecture: 'meta-llama/Llama-3.1-8B-Instruct',
        namespace: 'ns',
        load,
        variants: [{ name: 'v' }],
      },
    ],
  });
  return new LoadCurve(cfg.models[0]!.load, 1, 'm:ns');
}

describe('load patterns', () => {
  it('step: holds each rate from its time until the next step', () => {
    const c = curve({
      pattern: 'step',
      rate: 60,
      steps: [
        { at: '1m', rate: 600 },
        { at: '3m', rate: 30 },
      ],
    });
    expect(c.rateAt(0)).toBe(60);
    expect(c.rateAt(59_999)).toBe(60);
    expect(c.rateAt(60_000)).toBe(600);
    expect(c.rateAt(179_999)).toBe(600);
    expect(c.rateAt(180_000)).toBe(30);
    expect(c.rateAt(3_600_000)).toBe(30);
  });

  it('idle: no traffic at any time', () => {
    const c = curve({ pattern: 'idle' });
    expect([0, 1000, 86_400_000].map((t) => c.rateAt(t))).toEqual([0, 0, 0]);
  });

  it('refuses steps out of time order, naming the field', () => {
    expect(() =>
      curve({
        pattern: 'step',
        rate: 1,
        steps: [
          { at: '2m', rate: 2 },
          { at: '1m', rate: 3 },
        ],
      }),
    ).toThrow(/models\[0\]\.load\.steps: steps must be in increasing `at` order/);
    expect(() => curve({ pattern: 'step', rate: 1, steps: [] })).toThrow(EmulatorConfigError);
  });
});
