// Old-shape variants (a modelProfile and an sloClassRef): the given profile is the learner's prior,
// fed from the same per-pod series as profile-less variants, and the optimizer sizes the variant
// with the profile corrected by what is measured once the learner is confident (the given one until
// then). A profile the measurements contradict is never sized with: the model falls back to
// saturation over its old-shape variants, and the condition names the variant, the errors and the fix.
import type { PodMetrics } from '../collector/pods.js';
import { choosePerformance } from '../engines/slo/index.js';
import { type LearnSettings, resolveLearnSettings } from '../engines/slo/learn/index.js';
import type { ModelDecision } from '../engines/types.js';
import { ACCELERATOR_LABEL, objectKey, type VariantAutoscaling } from '../kube/types.js';
import { type AcceleratorOption, parseModelProfile } from '../optimizer/index.js';
import type { GroupMember } from './decision-types.js';
import type { GivenCorrection, GivenPlan } from './given-types.js';
import type { SaturationDecider, SaturationOutcome } from './saturation-decider.js';
import { variantPart } from './saturation-members.js';
import type { SloLearner } from './slo-learner.js';

export type { GivenCorrection, GivenPlan } from './given-types.js';

/** A model's old-shape variants this cycle: sized by the optimizer with `plan`, or left to saturation. */
export type GivenModel = { plan: GivenPlan } | { why: string; decided: ModelDecision };

/** The SLO decider's `given` (SloDecider.given). */
export type GivenDecider = (
  va: VariantAutoscaling,
  group: GroupMember[],
  pods: readonly PodMetrics[] | undefined,
) => Promise<GivenOutcome>;

/** What the reconciler does with one old-shape variant: the optimizer sizes it (with `plan`), or saturation decided. */
export type GivenOutcome = { plan: GivenPlan } | { fallback: SaturationOutcome };

export interface GivenDeps {
  saturation: Pick<SaturationDecider, 'modelInputFor' | 'decideGiven'>;
  learner: SloLearner;
  nowMs: number;
  learnSettings?: Partial<LearnSettings>;
}

/**
 * The profile entry for the accelerator a variant runs on: its label when the profile lists it,
 * else the accelerator its pods are placed on (case aside), else the only entry when placement is
 * unknown. Undefined: the variant runs on an accelerator the profile does not list.
 */
export function runningOption(
  options: readonly AcceleratorOption[],
  label: string | undefined,
  placed: string,
): AcceleratorOption | undefined {
  const byLabel = label ? options.find((o) => o.acc === label) : undefined;
  if (byLabel) return byLabel;
  const byPlace = options.find((o) => o.acc.toLowerCase() === placed.toLowerCase());
  if (byPlace) return byPlace;
  return !label && (placed === '' || placed === 'unknown') && options.length === 1 ? options[0] : undefined;
}

function pct(f: number | null): string {
  return f === null ? 'unknown' : `${(f * 100).toFixed(1)} %`;
}

/** Which lines of the given profile the measurements contradict, in the CRD's field names. */
function contradictedLines(state: ReturnType<SloLearner['observe']>['state'], threshold: number): string {
  const c = state.confidence;
  const parts: string[] = [];
  if ((c.priorItlError ?? 0) > threshold)
    parts.push(
      `decodeParms (alpha ${state.prior.alpha}, beta ${state.prior.beta}) predict ITL ${pct(c.priorItlError)} off`,
    );
  if ((c.priorTtftError ?? 0) > threshold)
    parts.push(
      `prefillParms (gamma ${state.prior.gamma}, delta ${state.prior.delta}) predict TTFT ${pct(c.priorTtftError)} off`,
    );
  return parts.length > 0
    ? parts.join(', ')
    : `ITL ${pct(c.priorItlError)} and TTFT ${pct(c.priorTtftError)} off`;
}

/**
 * Learns from this cycle for every serving old-shape variant of `va`'s model (once per model per
 * cycle), then chooses per variant: the corrected profile when the learner is confident, the given
 * one while not contradicted; a contradicted one sends the whole model to saturation (V1, or V2 per
 * the saturation config) with the reason. Never throws for a bad profile: the optimizer reports those.
 */
export function decideGivenModel(
  va: VariantAutoscaling,
  group: GroupMember[],
  pods: readonly PodMetrics[],
  d: GivenDeps,
): GivenModel {
  const input = d.saturation.modelInputFor(va, group, pods, 'slo');
  const byName = new Map(group.map((m) => [m.va.metadata.name, m]));
  const corrections = new Map<string, GivenCorrection>();
  const headlines = new Map<string, string>();
  const threshold = resolveLearnSettings(d.learnSettings).contradictionThreshold;
  let why: string | null = null;
  for (const v of input.variants) {
    const m = byName.get(v.variantName);
    if (!m) continue;
    const parsed = parseModelProfile(m.va.spec.modelProfile);
    if (!parsed.ok) continue;
    const key = objectKey(m.va);
    const label = m.va.metadata.labels?.[ACCELERATOR_LABEL];
    const opt = runningOption(parsed.value, label, v.acceleratorName);
    if (!opt) {
      headlines.set(
        key,
        `SLO engine: given profile (not corrected: it runs on ${label || v.acceleratorName || 'an unknown accelerator'}, which the profile does not list)`,
      );
      continue;
    }
    let learned: ReturnType<SloLearner['observe']> | undefined;
    try {
      learned = d.learner.observeMeasured(
        {
          model: va.spec.modelID,
          namespace: va.metadata.namespace,
          variantName: v.variantName,
          accelerator: opt.acc,
          deployment: v.deployment ?? null,
          pods: input.pods.get(v.variantName) ?? [],
          given: { ...opt.profile },
        },
        d.nowMs,
      );
    } catch (err) {
      // A profile the learner cannot take as a prior (e.g. gamma 0) is still the optimizer's to size with.
      const msg = err instanceof Error ? err.message : String(err);
      headlines.set(key, `SLO engine: given profile (not corrected: ${msg})`);
      continue;
    }
    if (!learned) {
      // Nothing measured for it yet: the profile as given, as before anything is learned.
      headlines.set(key, 'SLO engine: given profile');
      continue;
    }
    const c = choosePerformance({
      profile: opt.profile,
      learned: learned.state,
      ...(d.learnSettings ? { learnSettings: d.learnSettings } : {}),
    });
    const note = learned.note ? `; ${learned.note}` : '';
    if (!c.ok) {
      why ??=
        `the given profile of variant ${v.variantName} (${opt.acc}) contradicts the measurements: ` +
        `${contradictedLines(learned.state, threshold)} over ${learned.state.confidence.cycles} cycles; ` +
        `fix spec.modelProfile or remove it (without one the SLO engine learns the model); the learned ` +
        `model is not usable yet either (${c.reason.replace(/^the given profile contradicts[^)]*\); (not yet: )?/, '')})${note}`;
      continue;
    }
    if (c.source === 'learned') corrections.set(key, { acc: opt.acc, profile: c.profile });
    // Why the estimate started afresh matters until it is corrected again, not for ever after.
    headlines.set(key, `SLO engine: ${c.reason}${c.source === 'given' ? note : ''}`);
  }
  if (why === null) return { plan: { corrections, headlines } };
  return { why, decided: d.saturation.decideGiven(va, group, pods) };
}

/** `va`'s part of a model fallen back to saturation: its decision and status, `why` in front. */
export function givenFallback(
  va: VariantAutoscaling,
  group: GroupMember[],
  r: Extract<GivenModel, { why: string }>,
  explain: (sat: SaturationOutcome, why: string) => SaturationOutcome,
): SaturationOutcome {
  return explain(variantPart(r.decided, va, group), r.why);
}

/**
 * The reconciler's call for one old-shape variant: the decider's `given`, when it has one. A
 * failure of the learner is logged and the optimizer sizes with the profile as given (undefined),
 * as before learning existed.
 */
export async function givenOutcome(
  decider: { given?: GivenDecider } | undefined,
  group: () => Promise<GroupMember[]>,
  va: VariantAutoscaling,
  read: { pods?: readonly PodMetrics[] },
  log: { warn(obj: object, msg: string): void },
): Promise<GivenOutcome | undefined> {
  if (!decider?.given) return undefined;
  try {
    return await decider.given(va, await group(), read.pods);
  } catch (err) {
    log.warn(
      { model: va.spec.modelID, err: err instanceof Error ? err.message : String(err) },
      'given profile not corrected this cycle: the learner failed; sized with the profile as given',
    );
    return undefined;
  }
}
