import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEARNED_RETENTION_MS,
  LEARNED_PROFILES_SCHEMA_VERSION,
  type LearnedProfilesDocument,
  learnedProfilesJson,
  neutralPrior,
  PerformanceEstimator,
  restoreLearnedProfiles,
  serializeLearnedProfiles,
  type VariantKey,
} from '../../../../src/engines/slo/learn/index.js';
import { measure, seeded, TRUE, variedLoad } from './synthetic.js';

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const CYCLE_MS = 30_000;
const KEY: VariantKey = {
  model: 'org/Model-8B',
  namespace: 'llm',
  accelerator: 'H100',
  argsFingerprint: 'aaaa',
};

function trained(key: VariantKey = KEY, cycles = 40, start = T0): PerformanceEstimator {
  const e = new PerformanceEstimator({
    key,
    maxBatchSize: 64,
    neutral: neutralPrior(key.model, key.accelerator),
  });
  const rand = seeded(9);
  for (let i = 0; i < cycles; i++)
    e.observe(measure(TRUE, variedLoad(rand), rand, 0.03), start + i * CYCLE_MS);
  return e;
}

function documentOf(...es: PerformanceEstimator[]): LearnedProfilesDocument {
  return JSON.parse(learnedProfilesJson(serializeLearnedProfiles(es, T0 + 3_600_000)));
}

describe('round trip', () => {
  it('restores an estimator that continues exactly as the original would', () => {
    const original = trained();
    const text = learnedProfilesJson(serializeLearnedProfiles([original], T0 + 40 * CYCLE_MS));
    expect(text.length).toBeLessThan(2000);
    const r = restoreLearnedProfiles(text, { nowMs: T0 + 41 * CYCLE_MS, current: [KEY] });
    expect(r.error).toBeNull();
    expect(r.refused).toEqual([]);
    const [restored] = r.estimators;
    expect(restored!.key).toEqual(KEY);
    expect(restored!.profile()).toEqual(original.profile());
    expect(restored!.status()).toEqual(original.status());
    const rand = seeded(10);
    for (let i = 0; i < 20; i++) {
      const m = measure(TRUE, variedLoad(rand), rand, 0.03);
      original.observe(m, T0 + (41 + i) * CYCLE_MS);
      restored!.observe(m, T0 + (41 + i) * CYCLE_MS);
    }
    expect(restored!.snapshot()).toEqual(original.snapshot());
  });

  it('records when each estimate was made, from the injected clock', () => {
    const doc = serializeLearnedProfiles([trained()], T0 + 3_600_000);
    expect(doc.schemaVersion).toBe(LEARNED_PROFILES_SCHEMA_VERSION);
    expect(doc.savedAt).toBe('2026-12-07T09:00:00.000Z');
    expect(doc.estimates[0]!.estimatedAt).toBe(new Date(T0 + 39 * CYCLE_MS).toISOString());
  });

  it('leaves out estimators that never learned anything', () => {
    const idle = new PerformanceEstimator({
      key: KEY,
      maxBatchSize: 64,
      neutral: neutralPrior(KEY.model, 'H100'),
    });
    idle.observe({ itlMs: 10, batch: 0 }, T0);
    expect(serializeLearnedProfiles([idle], T0).estimates).toEqual([]);
  });
});

describe('another vLLM configuration', () => {
  it('refuses an estimate whose argument fingerprint differs from the variant now', () => {
    const text = learnedProfilesJson(serializeLearnedProfiles([trained()], T0));
    const r = restoreLearnedProfiles(text, {
      nowMs: T0 + 3_600_000,
      current: [{ ...KEY, argsFingerprint: 'bbbb' }],
    });
    expect(r.estimators).toEqual([]);
    expect(r.refused).toEqual([
      {
        entry: 'estimates[0] (llm/org/Model-8B on H100)',
        reason:
          'learned under other vLLM arguments (fingerprint aaaa, now bbbb); its latencies do not describe this ' +
          'server, so learning starts afresh',
      },
    ]);
  });

  it('keeps estimates of variants not listed, and of other accelerators', () => {
    const other = trained({ ...KEY, accelerator: 'A100' });
    const text = learnedProfilesJson(serializeLearnedProfiles([trained(), other], T0));
    const r = restoreLearnedProfiles(text, {
      nowMs: T0 + 3_600_000,
      current: [{ ...KEY, accelerator: 'A100' }],
    });
    expect(r.refused).toEqual([]);
    expect(r.estimators.map((e) => e.key.accelerator).sort()).toEqual(['A100', 'H100']);
  });
});

describe('retention', () => {
  it('drops estimates older than the retention and keeps younger ones', () => {
    const old = trained({ ...KEY, namespace: 'old' }, 10, T0);
    const young = trained({ ...KEY, namespace: 'young' }, 10, T0 + 2 * 3_600_000);
    const text = learnedProfilesJson(serializeLearnedProfiles([old, young], T0));
    const now = T0 + 9 * CYCLE_MS + DEFAULT_LEARNED_RETENTION_MS + 3_600_000;
    const r = restoreLearnedProfiles(text, { nowMs: now });
    expect(r.estimators.map((e) => e.key.namespace)).toEqual(['young']);
    expect(r.refused).toEqual([
      {
        entry: 'estimates[0] (old/org/Model-8B on H100)',
        reason: 'estimated 25.0 h ago, older than the retention of 24.0 h',
      },
    ]);
  });

  it('takes a retention from the caller', () => {
    const text = learnedProfilesJson(serializeLearnedProfiles([trained()], T0));
    const r = restoreLearnedProfiles(text, { nowMs: T0 + 3_600_000, retentionMs: 600_000 });
    expect(r.estimators).toEqual([]);
    expect(r.refused[0]!.reason).toMatch(/older than the retention of 10 min/);
  });

  it('refuses a date far in the future', () => {
    const text = learnedProfilesJson(serializeLearnedProfiles([trained()], T0));
    const r = restoreLearnedProfiles(text, { nowMs: T0 - 86_400_000 });
    expect(r.refused[0]!.reason).toMatch(/in the future/);
  });
});

describe('garbage is refused with a reason, never a crash', () => {
  const whole: [string, unknown, RegExp][] = [
    ['text that is not JSON', '{"schemaVersion": 1, ', /^document is not JSON/],
    ['null', null, /^document: expected an object, got null/],
    ['an array', [], /^document: expected an object, got an array/],
    [
      'another schema version',
      { schemaVersion: 2, kind: 'wva-learned-performance-models', estimates: [] },
      /schemaVersion is 2; this version reads only 1/,
    ],
    ['a missing kind', { schemaVersion: 1, estimates: [] }, /document.kind is absent/],
    [
      'estimates not an array',
      { schemaVersion: 1, kind: 'wva-learned-performance-models', estimates: {} },
      /document.estimates: expected an array/,
    ],
    [
      'a document too large for a ConfigMap',
      'x'.repeat(1024 * 1024 + 1),
      /above the 1048576 a ConfigMap holds/,
    ],
  ];
  for (const [name, input, why] of whole) {
    it(`refuses ${name} whole`, () => {
      const r = restoreLearnedProfiles(input, { nowMs: T0 });
      expect(r.estimators).toEqual([]);
      expect(r.error).toMatch(why);
    });
  }

  const DELETE = Symbol('delete');
  /** Sets (or deletes) the field at a dotted path of a parsed document. */
  function corrupt(root: unknown, path: string, value: unknown): void {
    const names = path.split('.');
    let o = root as Record<string, unknown>;
    for (const n of names.slice(0, -1)) o = o[n] as Record<string, unknown>;
    if (value === DELETE) delete o[names.at(-1)!];
    else o[names.at(-1)!] = value;
  }
  const fields: [string, string, unknown, string][] = [
    [
      'a string for a number',
      'decode.stats.s0',
      'abc',
      'estimates[0].state.decode.stats.s0: expected a finite number, got "abc"',
    ],
    [
      'a negative prior alpha',
      'prior.alpha',
      -1,
      'estimates[0].state.prior.alpha: expected a number > 0, got -1',
    ],
    ['a null line', 'prefill', null, 'estimates[0].state.prefill: expected an object, got null'],
    [
      'an unknown prior source',
      'prior.source',
      'guess',
      'estimates[0].state.prior.source: expected "given" or "neutral", got "guess"',
    ],
    [
      'a fractional cycle count',
      'confidence.cycles',
      1.5,
      'estimates[0].state.confidence.cycles: expected an integer, got 1.5',
    ],
    [
      'a missing fingerprint',
      'key.argsFingerprint',
      DELETE,
      'estimates[0].state.key.argsFingerprint: expected a non-empty string, got undefined',
    ],
    [
      'impossible sums',
      'decode.stats.s1',
      1e9,
      'estimates[0].state.decode.stats: s1² exceeds s0·s2, which no set of observations gives',
    ],
    ['a noise above 1', 'decode.noise', 7, 'estimates[0].state.decode.noise: expected a number <= 1, got 7'],
    [
      'a zero max batch size',
      'maxBatchSize',
      0,
      'estimates[0].state.maxBatchSize: expected a number > 0, got 0',
    ],
  ];
  for (const [name, path, value, message] of fields) {
    it(`refuses an entry with ${name}, naming the field, and keeps the others`, () => {
      const doc = documentOf(trained(), trained({ ...KEY, namespace: 'b' }));
      corrupt(doc.estimates[0]!.state, path, value);
      const r = restoreLearnedProfiles(doc, { nowMs: T0 + 3_600_000 });
      expect(r.error).toBeNull();
      expect(r.refused).toEqual([{ entry: 'estimates[0]', reason: message }]);
      expect(r.estimators.map((e) => e.key.namespace)).toEqual(['b']);
    });
  }

  it('refuses everything, saying why, when the caller passes impossible settings', () => {
    const text = learnedProfilesJson(serializeLearnedProfiles([trained()], T0));
    const r = restoreLearnedProfiles(text, { nowMs: T0, settings: { forgetting: 0 } });
    expect(r).toEqual({
      estimators: [],
      refused: [],
      error: 'settings: forgetting must be in (0, 1], got 0',
    });
  });

  it('refuses an entry whose date does not parse', () => {
    const doc = documentOf(trained());
    doc.estimates[0]!.estimatedAt = 'yesterday';
    expect(restoreLearnedProfiles(doc, { nowMs: T0 }).refused).toEqual([
      { entry: 'estimates[0]', reason: 'estimates[0].estimatedAt: not a date: "yesterday"' },
    ]);
  });

  it('keeps the newest of two estimates of one variant', () => {
    const a = trained(KEY, 10, T0);
    const b = trained(KEY, 10, T0 + 600_000);
    const r = restoreLearnedProfiles(documentOf(a, b), { nowMs: T0 + 3_600_000 });
    expect(r.estimators).toHaveLength(1);
    expect(r.estimators[0]!.snapshot().updatedAtMs).toBe(T0 + 600_000 + 9 * CYCLE_MS);
    expect(r.refused).toEqual([
      {
        entry: 'estimates[0] (llm/org/Model-8B on H100)',
        reason: 'a newer estimate of the same variant is in estimates[1] (llm/org/Model-8B on H100)',
      },
    ]);
  });
});
