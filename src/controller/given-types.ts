// What the optimizer is handed for old-shape variants whose given profile the measurements corrected
// (decided in slo-given.ts): plain data, so the optimizer's path imports nothing of the learner's.
import type { QueueProfile } from '../optimizer/types.js';

/** The profile the optimizer sizes an accelerator option of a variant with, instead of the given one. */
export interface GivenCorrection {
  acc: string;
  profile: QueueProfile;
}

/** Per variant (object key): the corrected option, and the condition's headline (which engine, which source). */
export interface GivenPlan {
  corrections: ReadonlyMap<string, GivenCorrection>;
  headlines: ReadonlyMap<string, string>;
}
