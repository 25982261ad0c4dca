// The learner's bookkeeping: at most maxVariants estimates, the one used longest ago dropped first;
// no estimate held for a variant with nothing measured (the given-profile path asks that way).
import { describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import { type LearnerVariant, SloLearner } from '../../../src/controller/slo-learner.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

function measured(name: string): PodMetrics[] {
  return [{ pod: `${name}-abc12-x1`, modelId: MODEL, namespace: 'llm', avgRunning: 8, itlMs: 12 }];
}

function variant(name: string, accelerator: string, pods: PodMetrics[] = measured(name)): LearnerVariant {
  return { model: MODEL, namespace: 'llm', variantName: name, accelerator, deployment: null, pods };
}

describe('SloLearner', () => {
  it('holds at most maxVariants estimates, dropping the one used longest ago', () => {
    const learner = new SloLearner({ maxVariants: 2 });
    learner.observe(variant('a', 'H100'), 1);
    learner.observe(variant('b', 'A100'), 2);
    learner.observe(variant('a', 'H100'), 3); // a used again: b is now the oldest
    learner.observe(variant('c', 'L40S'), 4);
    expect(learner.size).toBe(2);
    expect(
      learner
        .views()
        .map((v) => v.variantName)
        .sort(),
    ).toEqual(['a', 'c']);
  });

  it('keeps no estimate for a variant with nothing measured, until something is', () => {
    const learner = new SloLearner();
    expect(learner.observeMeasured(variant('a', 'H100', []), 1)).toBeUndefined();
    expect(learner.size).toBe(0);
    expect(learner.observeMeasured(variant('a', 'H100'), 2)?.outcome).toBeDefined();
    // Held now: a cycle with nothing measured still returns its state.
    expect(learner.observeMeasured(variant('a', 'H100', []), 3)?.state).toBeDefined();
    expect(learner.size).toBe(1);
  });
});
