// One cycle of the closed loop as the demo shows it: per variant what the controller decided and
// what the emulator runs, per model the latency read from Prometheus against the SLO it was sized
// for.
import type { CycleReport } from '../controller/local.js';
import type { VllmEmulator } from '../emulator/index.js';
import { ENGINE_NAMES } from '../engines/types.js';
import type { SloTargets } from '../optimizer/index.js';
import {
  type EngineSwitch,
  type LoopCycle,
  type LoopModel,
  type LoopVariant,
  meetsSlo,
} from './loop-ledger.js';
import { EngineTrack } from './loop-tally.js';

export type { EngineSwitch } from './loop-ledger.js';

/** Which engine decided a row: a saturation engine's name, the SLO engine's (with V1's floor when it raised the count), or '-'. */
export function engineOf(r: CycleReport['rows'][number]): string {
  if (r.engine) return r.engine;
  if (!r.decision?.ok) return '-';
  return r.decision.reason === 'SaturationSafetyOverride'
    ? 'slo-queueing + saturation-v1 floor'
    : 'slo-queueing';
}

/** What a model's OptimizationReady message says of the engine choice, before the sizing's detail. */
export function engineWhy(messages: readonly (string | undefined)[]): string | undefined {
  // The SLO engine names the learned model it sized with on the variants it sized.
  for (const m of messages) {
    const slo = m ? /SLO engine: (.*?)(?:; \d|$)/.exec(m) : null;
    if (slo) return slo[1];
  }
  // A saturation engine's message says first why the SLO engine did not decide, when it did not:
  // up to the first "; " outside parentheses (the learner lists its blockers with "; " inside them).
  const sat = /^[a-z0-9-]+: (.*)$/.exec(messages[0] ?? '');
  return sat ? beforeTopLevelSemicolon(sat[1]!) : undefined;
}

/** `s` up to its first "; " outside parentheses; undefined when there is none. */
function beforeTopLevelSemicolon(s: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === ';' && depth === 0 && s[i + 1] === ' ') return s.slice(0, i);
  }
  return undefined;
}

/** The model's engine this cycle: the SLO engine's name if it decided any variant, else the first one's. */
function modelEngine(variants: readonly string[]): string {
  return variants.find((e) => e.startsWith(ENGINE_NAMES.slo)) ?? variants.find((e) => e !== '-') ?? '-';
}

/** The switches between the last of `before` and `c` (models whose engine was known in both). */
export function engineSwitches(before: readonly LoopCycle[], c: LoopCycle): EngineSwitch[] {
  const track = new EngineTrack();
  for (const x of before) track.next(x);
  return track.next(c);
}

/**
 * The loop's view of a controller cycle. `scored`: whether the cycle counts for attainment.
 * `sloOf`: a model's SLO from the service classes, for cycles that no SLO decision sized.
 */
export function loopCycle(
  report: CycleReport,
  emulator: VllmEmulator,
  scored: boolean,
  sloOf: (modelId: string) => SloTargets | undefined = () => undefined,
): LoopCycle {
  const running = new Map(emulator.variants().map((v) => [`${v.namespace}/${v.name}`, v]));
  const variants: LoopVariant[] = [];
  const models = new Map<string, LoopModel>();
  const engines = new Map<string, string[]>();
  const messages = new Map<string, Array<string | undefined>>();
  for (const r of report.rows) {
    const pods = running.get(`${r.namespace}/${r.name}`);
    const d = r.decision;
    const ready = r.conditions.find((c) => c.type === 'OptimizationReady');
    variants.push({
      namespace: r.namespace,
      name: r.name,
      modelId: r.modelId,
      desired: r.desired?.numReplicas,
      ...(d?.ok ? { recommended: d.recommended } : {}),
      current: pods?.replicas ?? r.replicas ?? 0,
      ready: pods?.ready ?? 0,
      predicted: d?.ok
        ? { ttftMs: d.allocation.predicted.ttftMs, itlMs: d.allocation.predicted.itlMs }
        : r.predicted,
      reason: ready?.reason ?? (d ? d.reason : 'no decision'),
      engine: engineOf(r),
      actuated: r.conditions.find((c) => c.type === 'Actuated')?.reason,
    });
    const key = `${r.namespace}/${r.modelId}`;
    engines.set(key, [...(engines.get(key) ?? []), engineOf(r)]);
    messages.set(key, [...(messages.get(key) ?? []), ready?.message]);
    let m = models.get(key);
    if (!m) {
      const load = r.metrics?.load;
      m = {
        namespace: r.namespace,
        modelId: r.modelId,
        slo: undefined,
        arrivalRate: load?.arrivalRate,
        ttftMs: r.metrics?.ttftAverage,
        itlMs: r.metrics?.itlAverage,
        withinSlo: undefined,
        engine: '-',
      };
      models.set(key, m);
    }
    if (!m.slo && d?.ok) m.slo = d.slo;
  }
  for (const [key, m] of models) {
    m.engine = modelEngine(engines.get(key) ?? []);
    const why = engineWhy(messages.get(key) ?? []);
    if (why) m.engineWhy = why;
    m.slo ??= sloOf(m.modelId);
    // Without traffic there is no latency to keep: such a cycle says nothing about the SLO.
    m.withinSlo =
      m.arrivalRate !== undefined && m.arrivalRate > 0 ? meetsSlo(m.slo, m.ttftMs, m.itlMs) : undefined;
  }
  const byName = (a: { namespace: string; modelId: string }, b: { namespace: string; modelId: string }) =>
    a.namespace.localeCompare(b.namespace) || a.modelId.localeCompare(b.modelId);
  return {
    at: report.startedAt,
    scored,
    variants: variants.sort((a, b) => byName(a, b) || a.name.localeCompare(b.name)),
    models: [...models.values()].sort(byName),
  };
}
