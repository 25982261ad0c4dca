// The text-format reader the scale-from-zero loop reads an EPP's page with.
import { describe, expect, it } from 'vitest';
import { parseTextFormat, queuedFor } from '../../../../src/engines/scale-from-zero/index.js';

describe('parseTextFormat', () => {
  it('reads samples with labels, escapes, special values and timestamps; skips comments', () => {
    const page = [
      '# HELP x help text',
      '# TYPE x gauge',
      'x 1',
      'y{a="1",b="q\\"uote\\\\ and \\n"} 2.5e1 1700000000000',
      'z{le="+Inf",} +Inf',
      'w NaN',
      '',
    ].join('\n');
    const s = parseTextFormat(page);
    expect(s.map((x) => x.name)).toEqual(['x', 'y', 'z', 'w']);
    expect(s[1]).toEqual({ name: 'y', labels: { a: '1', b: 'q"uote\\ and \n' }, value: 25 });
    expect(s[2]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(s[3]?.value)).toBe(true);
  });

  it.each([
    ['<html>', /line 1: a metric name was expected/],
    ['x{a=1} 2', /line 1: label a has no ="value"/],
    ['x{a="1} 2', /line 1: label a's value is not closed/],
    ['# ok\nx lots', /line 2: x has no valid value/],
    ['x 1 2 3', /line 1: x has no valid value/],
  ])('refuses %j naming the line', (page, message) => {
    expect(() => parseTextFormat(page)).toThrow(message);
  });
});

describe('queuedFor', () => {
  const page = (model: string, v: number) =>
    `inference_extension_flow_control_queue_size{target_model_name="${model}"} ${v}\n`;
  it('sees demand only for the model, only above 0', () => {
    expect(queuedFor(page('llama', 2), 'llama')).toBe(true);
    expect(queuedFor(page('llama', 0), 'llama')).toBe(false);
    expect(queuedFor(page('mistral', 5), 'llama')).toBe(false);
    expect(
      queuedFor('inference_extension_flow_control_queue_bytes{target_model_name="llama"} 9\n', 'llama'),
    ).toBe(false);
    expect(queuedFor('', 'llama')).toBe(false);
  });
});
