import { describe, expect, it } from 'vitest';
import * as root from '../../../../src/index.js';

describe('the package root', () => {
  it('exports the learning core', () => {
    for (const name of [
      'PerformanceEstimator',
      'neutralPrior',
      'modelSizeClass',
      'vllmArgsFingerprint',
      'maxBatchSizeFromArgs',
      'serializeLearnedProfiles',
      'restoreLearnedProfiles',
      'learnedProfilesJson',
      'DEFAULT_LEARN_SETTINGS',
      'LEARNED_PROFILES_SCHEMA_VERSION',
      'createSloEngine',
      'choosePerformance',
    ])
      expect(root, name).toHaveProperty(name);
  });
});
