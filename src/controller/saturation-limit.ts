// The GPU limiter over saturation V1's decisions, against the GPUs still free this cycle: every
// model given at once is limited together (upstream's order: the fleet's scale-ups by least spare
// capacity, then lowest cost), and what they are granted is taken from `remaining`, so models
// limited later in the cycle never get more than the Nodes hold. Accelerators match by type.
import { normalizeAcceleratorName } from '../engines/saturation/limiter.js';
import { limitFleet } from '../engines/steps.js';
import { ENGINE_NAMES, type ModelDecision, type ScalingDecision } from '../engines/types.js';

/** GPUs per type free now: capacity less what the managed targets hold. */
export function freeGpus(
  capacity: Record<string, number>,
  used: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(capacity).map(([t, n]) => [t, Math.max(0, n - (used[t] ?? 0))]));
}

/** `models` limited together against `remaining` (updated with what they were granted). */
export function limitAgainst(
  models: readonly ModelDecision[],
  remaining: Record<string, number>,
): ModelDecision[] {
  const typed = models.map((m) => ({
    ...m,
    decisions: m.decisions.map((d) => ({
      ...d,
      acceleratorName: normalizeAcceleratorName(d.acceleratorName),
    })),
  }));
  // limitFleet subtracts the decisions' own running GPUs from what it is given: hand those back.
  const avail = { ...remaining };
  for (const m of typed)
    for (const d of m.decisions)
      if (d.acceleratorName in avail)
        avail[d.acceleratorName] = (avail[d.acceleratorName] ?? 0) + d.currentReplicas * d.gpusPerReplica;
  const limited = limitFleet(typed, avail);
  return limited.map((m, mi) => {
    const before = models[mi] as ModelDecision;
    const decisions = m.decisions.map((d, i) => {
      const grown = Math.max(0, d.targetReplicas - d.currentReplicas) * d.gpusPerReplica;
      if (grown > 0 && d.acceleratorName in remaining)
        remaining[d.acceleratorName] = Math.max(0, (remaining[d.acceleratorName] ?? 0) - grown);
      const was = before.decisions[i] as ScalingDecision;
      const reason = d.engine === ENGINE_NAMES.saturationV1 ? `saturation-only mode: ${d.action}` : d.reason;
      const last = d.steps[d.steps.length - 1];
      if (last?.wasConstrained) {
        last.reason = `scale-up to ${was.targetReplicas} cut to ${d.targetReplicas}: not enough free ${d.acceleratorName} GPUs (${last.reason})`;
      }
      return { ...d, reason, acceleratorName: was.acceleratorName };
    });
    return { ...m, decisions };
  });
}
