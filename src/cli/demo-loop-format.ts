// Plain-text rendering of the closed loop: per cycle, what was decided and runs (per variant) and
// measured latency against the SLO (per model); at the end, what it cost and how often it met the
// SLO, beside a static fleet sized for the peak.

import type { LoopSummary } from '../demo/loop.js';
import type { EngineSwitch, FleetScore, LoopCycle } from '../demo/loop-ledger.js';
import { renderTable } from './table.js';

const num = (n: number | undefined, digits = 1) => (n === undefined ? '-' : n.toFixed(digits));

function vsTarget(value: number | undefined, target: number | undefined): string {
  if (target === undefined || target <= 0) return `${num(value)} / -`;
  const mark = value === undefined ? '?' : value <= target ? 'ok' : 'OVER';
  return `${num(value)} / ${target} ${mark}`;
}

export function formatLoopCycle(c: LoopCycle): string {
  const variants = renderTable<LoopCycle['variants'][number]>(
    [
      { header: 'VARIANT', value: (v) => v.name },
      { header: 'NAMESPACE', value: (v) => v.namespace },
      { header: 'ENGINE', value: (v) => v.engine },
      {
        header: 'DECIDED',
        value: (v) => (v.desired === undefined ? '-' : String(v.desired)),
        align: 'right',
      },
      { header: 'PODS (READY)', value: (v) => `${v.current} (${v.ready})`, align: 'right' },
      { header: 'PRED TTFT ms', value: (v) => num(v.predicted?.ttftMs), align: 'right' },
      { header: 'PRED ITL ms', value: (v) => num(v.predicted?.itlMs), align: 'right' },
      { header: 'OPTIMIZER', value: (v) => v.reason },
      { header: 'ACTUATOR', value: (v) => v.actuated ?? '-' },
    ],
    c.variants,
  );
  const models = renderTable<LoopCycle['models'][number]>(
    [
      { header: 'MODEL', value: (m) => m.modelId },
      { header: 'NAMESPACE', value: (m) => m.namespace },
      { header: 'REQ/MIN', value: (m) => num(m.arrivalRate), align: 'right' },
      { header: 'TTFT ms / SLO', value: (m) => vsTarget(m.ttftMs, m.slo?.ttftMs), align: 'right' },
      { header: 'ITL ms / SLO', value: (m) => vsTarget(m.itlMs, m.slo?.itlMs), align: 'right' },
      {
        header: 'COUNTS',
        value: (m) =>
          !c.scored ? 'not yet (warming up)' : m.withinSlo === undefined ? 'no (no traffic or SLO)' : 'yes',
      },
    ],
    c.models,
  );
  const switches = (c.switches ?? []).map((s) => `${formatSwitch(s)}\n`).join('');
  return `${variants}${models}${switches}`;
}

const ENGINE_LABELS: Record<string, string> = { 'slo-queueing': 'SLO engine' };
const engineLabel = (e: string) =>
  ENGINE_LABELS[e] ?? (e.startsWith('slo-queueing') ? `SLO engine (${e.slice(13)})` : e);

/** "cycle 14 (1.1 min): llm-prod/llama -> SLO engine (learned profile (...))". */
export function formatSwitch(s: EngineSwitch): string {
  const when = `${(s.sinceStartMs / 60_000).toFixed(1)} min`;
  const pctText = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)} %`);
  const learned = (s.learned ?? [])
    .map(
      (l) =>
        `${l.variant} ITL error ${pctText(l.itlErrorPct)}, TTFT error ${pctText(l.ttftErrorPct)} over ${l.cycles} cycles`,
    )
    .join('; ');
  const why = [learned ? `learned: ${learned}` : '', s.why ?? ''].filter((x) => x).join(' | ');
  return `>>> cycle ${s.cycle} (${when}): ${s.namespace}/${s.modelId} ${engineLabel(s.from)} -> ${engineLabel(s.to)}${why ? ` (${why})` : ''}`;
}

const pctOf = (met: number, total: number) => (total > 0 ? `${((100 * met) / total).toFixed(1)}%` : '-');

type FleetRow = { name: string; how: string; s: FleetScore };

export function formatLoopSummary(l: LoopSummary): string {
  const rows: FleetRow[] = [
    { name: 'closed loop (ours)', how: 'live, Prometheus', s: l.ours },
    { name: 'static peak fleet', how: 'replayed, virtual time', s: l.staticPeak },
    { name: 'saturation V1 alone', how: 'replayed, virtual time', s: l.saturationV1 },
  ];
  const table = renderTable<FleetRow>(
    [
      { header: 'FLEET', value: (r) => r.name },
      { header: 'RUN', value: (r) => r.how },
      {
        header: 'MODEL-CYCLES IN SLO',
        value: (r) => `${pctOf(r.s.met, r.s.cycles)} (${r.s.met}/${r.s.cycles})`,
        align: 'right',
      },
      {
        header: 'REQUESTS IN SLO',
        value: (r) =>
          r.s.requests ? `${pctOf(r.s.requests.met, r.s.requests.total)} (${r.s.requests.total})` : '-',
        align: 'right',
      },
      { header: 'GPU-HOURS x COST', value: (r) => num(r.s.cost, 2), align: 'right' },
      { header: 'REPLICA-MIN', value: (r) => num(r.s.replicaMinutes), align: 'right' },
      { header: 'ACTIONS', value: (r) => String(r.s.actions), align: 'right' },
    ],
    rows,
  );
  const lines = [
    '  (the three fleets play the same trace: the same scenario and seed; the replays run the emulator in virtual time over the',
    '  same time as the live run. A model-cycle counts once the rates cover the window and a first new pod could serve, and',
    '  only with traffic: measured TTFT and ITL both within the SLO. A request counts when its own TTFT and ITL are within',
    "  it. GPU-HOURS x COST: replica-hours weighted by each VariantAutoscaling's variantCost.)",
  ];
  if (l.switches.length > 0) {
    const earlier = l.switchesTotal - l.switches.length;
    lines.push(
      `  engine switches${earlier > 0 ? ` (the latest ${l.switches.length} of ${l.switchesTotal})` : ''}:`,
    );
    for (const s of l.switches) lines.push(`    ${formatSwitch(s).slice(4)}`);
  } else {
    lines.push('  engine switches: none (no model changed engines)');
  }
  for (const m of l.notSlo)
    lines.push(`  at the end ${m.namespace}/${m.modelId} is with ${m.engine}: ${m.why ?? 'no reason given'}`);
  if (l.actions.length > 0) {
    const earlier = l.ours.actions - l.actions.length;
    lines.push(
      `  scaling actions${earlier > 0 ? ` (the latest ${l.actions.length} of ${l.ours.actions})` : ''}: ${l.actions
        .map((a) => `${a.at.toTimeString().slice(0, 8)} ${a.namespace}/${a.name} ${a.from}->${a.to}`)
        .join(', ')}`,
    );
  }
  return `${table}${lines.join('\n')}\n`;
}
