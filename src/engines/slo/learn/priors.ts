// Where learning starts when no modelProfile is given. These are priors, not measurements: rough
// orders of magnitude per model size class on an H100, scaled by a rough speed factor per
// accelerator, weighted as a tenth of an observation so the first measurements override them. They
// only need to be physically plausible; nothing is trusted until its prediction error is low.

/** Model size classes by parameter count. */
export type ModelSizeClass = 'small' | 'medium' | 'large' | 'xlarge';

/** A performance line pair in the QueueProfile's units: ms, ms per request, ms per token·request. */
export interface PriorParameters {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

/** Prior values on an H100 (bf16, one GPU per replica for small, tensor parallel above). */
export const NEUTRAL_PRIOR_TABLE: Readonly<Record<ModelSizeClass, PriorParameters>> = {
  small: { alpha: 7, beta: 0.08, gamma: 20, delta: 0.003 },
  medium: { alpha: 14, beta: 0.2, gamma: 40, delta: 0.006 },
  large: { alpha: 28, beta: 0.45, gamma: 80, delta: 0.012 },
  xlarge: { alpha: 50, beta: 0.9, gamma: 150, delta: 0.025 },
};

/** Rough time factor per accelerator relative to an H100 (higher: slower). */
export const ACCELERATOR_TIME_FACTOR: Readonly<Record<string, number>> = {
  H100: 1,
  H200: 0.85,
  B200: 0.6,
  A100: 1.6,
  L40S: 2.2,
  L4: 4,
  MI300X: 1,
  MI250: 1.8,
};

/** An accelerator not in the table is assumed somewhat slower than an H100. */
export const UNKNOWN_ACCELERATOR_FACTOR = 1.5;

/** Parameters in billions read from a model name: "Llama-3.1-8B" → 8, "Mixtral-8x7B" → 56. */
export function modelParamsBillions(modelId: string): number | null {
  const moe = /(\d+)x(\d+(?:\.\d+)?)b(?![a-z])/i.exec(modelId);
  if (moe) return Number(moe[1]) * Number(moe[2]);
  const dense = /(\d+(?:\.\d+)?)b(?![a-z])/i.exec(modelId);
  if (dense) return Number(dense[1]);
  return null;
}

/** The size class of a model; medium when its name does not say. */
export function modelSizeClass(modelId: string, paramsBillions?: number): ModelSizeClass {
  const b = paramsBillions ?? modelParamsBillions(modelId);
  if (b === null || !Number.isFinite(b) || b <= 0) return 'medium';
  if (b < 10) return 'small';
  if (b <= 40) return 'medium';
  if (b <= 100) return 'large';
  return 'xlarge';
}

/** The table's factor for an accelerator name ("nvidia-h100-80gb", "H100" → 1). */
export function acceleratorTimeFactor(accelerator: string): number {
  const name = accelerator.toUpperCase();
  // Longest names first, so L40S is not read as L4.
  const keys = Object.keys(ACCELERATOR_TIME_FACTOR).sort((a, b) => b.length - a.length);
  for (const k of keys) if (name.includes(k)) return ACCELERATOR_TIME_FACTOR[k]!;
  return UNKNOWN_ACCELERATOR_FACTOR;
}

/** The neutral prior for a model on an accelerator. */
export function neutralPrior(modelId: string, accelerator: string, paramsBillions?: number): PriorParameters {
  const base = NEUTRAL_PRIOR_TABLE[modelSizeClass(modelId, paramsBillions)];
  const f = acceleratorTimeFactor(accelerator);
  return { alpha: base.alpha * f, beta: base.beta * f, gamma: base.gamma * f, delta: base.delta * f };
}
