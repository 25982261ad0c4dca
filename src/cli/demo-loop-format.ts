// Plain-text rendering of the closed loop: per cycle, what was decided and runs (per variant) and
// measured latency against the SLO (per model); at the end, what it cost and how often it met the
// SLO, beside a static fleet sized for the peak.

import type { LoopSummary } from '../demo/loop.js';
import type { FleetScore, LoopCycle } from '../demo/loop-ledger.js';
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
  return `${variants}${models}`;
}

function score(s: FleetScore): string {
  const att = s.attainment === undefined ? '-' : `${(s.attainment * 100).toFixed(1)}%`;
  const req = s.requests
    ? `, request SLO attainment ${s.requests.total > 0 ? `${((100 * s.requests.met) / s.requests.total).toFixed(1)}%` : '-'} (${s.requests.met}/${s.requests.total} requests)`
    : '';
  const cost = s.cost !== undefined ? `, cost ${s.cost.toFixed(2)} (replica-hours x variantCost)` : '';
  return `SLO attainment ${att} (${s.met}/${s.cycles} model-cycles)${req}, ${s.replicaMinutes.toFixed(1)} replica-minutes${cost}, ${s.actions} scaling actions`;
}

export function formatLoopSummary(l: LoopSummary): string {
  const saved = l.staticPeak.replicaMinutes > 0 ? 1 - l.ours.replicaMinutes / l.staticPeak.replicaMinutes : 0;
  const lines = [
    `  closed loop:       ${score(l.ours)}`,
    `  static peak fleet: ${score(l.staticPeak)}  (every variant at its peak count all along, replayed on the emulator; ours used ${(saved * 100).toFixed(0)}% fewer replica-minutes)`,
    '  (a model-cycle counts once the rates cover the window and a first new pod could serve, and only with traffic: measured TTFT and ITL both within the SLO)',
  ];
  if (l.actions.length > 0) {
    lines.push(
      `  scaling actions: ${l.actions
        .map((a) => `${a.at.toTimeString().slice(0, 8)} ${a.namespace}/${a.name} ${a.from}->${a.to}`)
        .join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
