// One cycle of the closed loop as the demo shows it: per variant what the controller decided and
// what the emulator runs, per model the latency read from Prometheus against the SLO it was sized
// for.
import type { CycleReport } from '../controller/local.js';
import type { VllmEmulator } from '../emulator/index.js';
import { type LoopCycle, type LoopModel, type LoopVariant, meetsSlo } from './loop-ledger.js';

/** Which engine decided a row: a saturation engine's name, the SLO engine's (with V1's floor when it raised the count), or '-'. */
export function engineOf(r: CycleReport['rows'][number]): string {
  if (r.engine) return r.engine;
  if (!r.decision?.ok) return '-';
  return r.decision.reason === 'SaturationSafetyOverride'
    ? 'slo-queueing + saturation-v1 floor'
    : 'slo-queueing';
}

/** The loop's view of a controller cycle. `scored`: whether the cycle counts for attainment. */
export function loopCycle(report: CycleReport, emulator: VllmEmulator, scored: boolean): LoopCycle {
  const running = new Map(emulator.variants().map((v) => [`${v.namespace}/${v.name}`, v]));
  const variants: LoopVariant[] = [];
  const models = new Map<string, LoopModel>();
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
        : undefined,
      reason: ready?.reason ?? (d ? d.reason : 'no decision'),
      engine: engineOf(r),
      actuated: r.conditions.find((c) => c.type === 'Actuated')?.reason,
    });
    const key = `${r.namespace}/${r.modelId}`;
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
      };
      models.set(key, m);
    }
    if (!m.slo && d?.ok) m.slo = d.slo;
  }
  for (const m of models.values()) {
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
