// The learner's knobs and their defaults, with why each default is what it is.

export interface LearnSettings {
  /** Weight an older cycle keeps per new one (0 < λ <= 1); memory ≈ 1 / (1 - λ): 0.97 remembers about 33. */
  forgetting: number;
  /** An accepted innovation larger than this many standard deviations is an outlier. */
  gateSigmas: number;
  /** Least relative standard deviation assumed, so clean data does not gate everything. */
  noiseFloor: number;
  /** Accepted cycles before the gate applies (the prior alone cannot judge outliers). */
  warmup: number;
  /** Outliers in a row taken as a real change: they are accepted and history is discounted. */
  changeRun: number;
  /** Weight history keeps when a change is accepted. */
  changeDiscount: number;
  /** Coefficient of variation of the regressor needed to identify a slope. */
  minSpread: number;
  /** Most the slope's standard error may add to a prediction at half max batch, relative. */
  maxSlopeUncertainty: number;
  /** Weighted cycles needed before a slope or an intercept counts as identified. */
  minWeight: number;
  /** Lowest alpha and gamma, ms (a latency line has a positive fixed cost). */
  minIntercept: number;
  /** Prior weight of the neutral table, in cycles. */
  neutralPriorWeight: number;
  /** Prior weight of a given modelProfile, in cycles (until the measurements contradict it). */
  givenPriorWeight: number;
  /** Rolling relative prediction error below which a model is usable. */
  errorThreshold: number;
  /** Scored cycles needed before a model is usable. */
  minCycles: number;
  /** Span of the rolling error, cycles (EWMA weight 2 / (span + 1)). */
  errorWindow: number;
  /** Rolling error of a given profile above which it contradicts the measurements. */
  contradictionThreshold: number;
  /** Scored cycles before a given profile can be judged contradicted. */
  contradictionCycles: number;
  /** Least fraction of the window a cycle's series must cover. */
  minCoverage: number;
  /** Typical input tokens, to weigh the prefill prior's slope. */
  typicalInputTokens: number;
}

export const DEFAULT_LEARN_SETTINGS: Readonly<LearnSettings> = {
  forgetting: 0.97,
  gateSigmas: 4,
  noiseFloor: 0.03,
  warmup: 5,
  changeRun: 3,
  changeDiscount: 0.1,
  minSpread: 0.1,
  maxSlopeUncertainty: 0.1,
  minWeight: 5,
  minIntercept: 0.001,
  neutralPriorWeight: 0.1,
  givenPriorWeight: 10,
  errorThreshold: 0.15,
  minCycles: 20,
  errorWindow: 20,
  contradictionThreshold: 0.3,
  contradictionCycles: 10,
  minCoverage: 0.8,
  typicalInputTokens: 1000,
};

/**
 * The settings with the defaults filled in.
 * @throws RangeError naming the first setting outside its range.
 */
export function resolveLearnSettings(partial: Partial<LearnSettings> = {}): LearnSettings {
  const s: LearnSettings = { ...DEFAULT_LEARN_SETTINGS, ...partial };
  const fraction = [
    'forgetting',
    'changeDiscount',
    'errorThreshold',
    'contradictionThreshold',
    'minCoverage',
  ] as const;
  for (const k of fraction)
    if (!(Number.isFinite(s[k]) && s[k] > 0 && s[k] <= 1))
      throw new RangeError(`${k} must be in (0, 1], got ${s[k]}`);
  const positive = [
    'gateSigmas',
    'noiseFloor',
    'minSpread',
    'maxSlopeUncertainty',
    'minIntercept',
    'neutralPriorWeight',
    'givenPriorWeight',
    'errorWindow',
    'typicalInputTokens',
  ] as const;
  for (const k of positive)
    if (!(Number.isFinite(s[k]) && s[k] > 0))
      throw new RangeError(`${k} must be a positive number, got ${s[k]}`);
  const counts = ['warmup', 'changeRun', 'minWeight', 'minCycles', 'contradictionCycles'] as const;
  for (const k of counts)
    if (!(Number.isSafeInteger(s[k]) && s[k] >= 1))
      throw new RangeError(`${k} must be an integer >= 1, got ${s[k]}`);
  return s;
}
