// The learned-model gauges: read from the learner at each scrape, one series per variant and
// parameter; a variant not scored yet has no error series (unknown is not 0), and one the learner
// no longer holds loses its series.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { LearnedModelSample } from '../../src/telemetry/learned-metrics.js';
import { registerLearnedModelMetrics } from '../../src/telemetry/learned-metrics.js';

const sample = (o: Partial<LearnedModelSample> = {}): LearnedModelSample => ({
  namespace: 'llm',
  variant: 'llama-h100',
  accelerator: 'H100',
  parameters: { alpha: 7.2, beta: 0.1, gamma: 30, delta: 0.002 },
  itlErrorPct: 3.5,
  ttftErrorPct: 8,
  usable: true,
  ...o,
});

describe('learned-model gauges', () => {
  it('publishes parameters, errors as fractions and usability; nothing for what is unknown', async () => {
    const registry = new Registry();
    let samples: LearnedModelSample[] = [
      sample(),
      sample({
        variant: 'llama-a100',
        accelerator: 'A100',
        itlErrorPct: null,
        ttftErrorPct: null,
        usable: false,
      }),
      // Restored but not seen this term: no variant name to label it with.
      sample({ variant: '' }),
    ];
    registerLearnedModelMetrics(registry, () => samples);
    const text = await registry.metrics();
    expect(text).toContain(
      'wva_model_parameter{namespace="llm",variant="llama-h100",accelerator="H100",parameter="beta"} 0.1',
    );
    expect(text).toContain(
      'wva_model_prediction_error{namespace="llm",variant="llama-h100",accelerator="H100",metric="itl"} 0.035',
    );
    expect(text).toContain(
      'wva_model_prediction_error{namespace="llm",variant="llama-h100",accelerator="H100",metric="ttft"} 0.08',
    );
    expect(text).not.toMatch(/wva_model_prediction_error\{[^}]*variant="llama-a100"/);
    expect(text).toContain('wva_model_usable{namespace="llm",variant="llama-a100",accelerator="A100"} 0');
    expect(text).toContain('wva_model_usable{namespace="llm",variant="llama-h100",accelerator="H100"} 1');
    expect(text).not.toContain('variant=""');

    samples = [sample({ variant: 'llama-a100', accelerator: 'A100' })];
    const later = await registry.metrics();
    expect(later).not.toContain('variant="llama-h100"');
    expect(later).toContain('wva_model_usable{namespace="llm",variant="llama-a100",accelerator="A100"} 1');
  });

  it('every gauge is documented in docs/metrics.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const registry = new Registry();
    registerLearnedModelMetrics(registry, () => [sample()]);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toHaveLength(3);
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});
