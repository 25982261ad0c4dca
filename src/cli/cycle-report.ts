// Local mode's output: a table or one JSON document per cycle, what each VariantAutoscaling's
// status would say.
import { DECISION_COLUMNS, decisionJson } from '../controller/decision-report.js';
import type { CycleReport, CycleRow } from '../controller/local.js';
import type { Allocation } from '../kube/types.js';
import { METRICS_AVAILABLE } from '../kube/types.js';
import { quoteName } from '../safe-text.js';
import type { AggregateMetrics } from '../types.js';
import { type Column, renderTable } from './table.js';

function cell(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}

/** A number column: currentAlloc's value when there is one; else the number read this cycle (marked
 *  *); else '-'. */
function measured(
  header: string,
  written: (a: Allocation) => string,
  read: (m: AggregateMetrics) => number | undefined,
): Column<CycleRow> {
  return {
    header,
    value: (r) => {
      if (r.status) return cell(written(r.status));
      const n = r.metrics ? read(r.metrics) : undefined;
      return n === undefined ? '-' : `${n.toFixed(2)}*`;
    },
  };
}

const loadColumn = (header: string, k: 'arrivalRate' | 'avgInputTokens' | 'avgOutputTokens') =>
  measured(
    header,
    (a) => a.load[k],
    (m) => m.load[k],
  );
const latencyColumn = (header: string, k: 'ttftAverage' | 'itlAverage') =>
  measured(
    header,
    (a) => a[k],
    (m) => m[k],
  );

/** The columns of the local-mode table, in order: what each VariantAutoscaling's status would say. */
export const CYCLE_COLUMNS: Array<Column<CycleRow>> = [
  { header: 'NAMESPACE', value: (r) => quoteName(r.namespace) },
  { header: 'NAME', value: (r) => quoteName(r.name) },
  { header: 'MODEL', value: (r) => quoteName(r.modelId) },
  { header: 'REPLICAS', value: (r) => cell(r.replicas) },
  loadColumn('ARRIVAL/MIN', 'arrivalRate'),
  loadColumn('IN_TOK', 'avgInputTokens'),
  loadColumn('OUT_TOK', 'avgOutputTokens'),
  latencyColumn('TTFT_MS', 'ttftAverage'),
  latencyColumn('ITL_MS', 'itlAverage'),
  { header: 'METRICS', value: (r) => cell(r.conditions.find((c) => c.type === METRICS_AVAILABLE)?.status) },
  { header: 'REASON', value: (r) => cell(r.condition?.reason) },
];

/** The report as a fixed-width table: one row per VariantAutoscaling, what its status would say. */
export function formatCycleTable(report: CycleReport): string {
  let out = `# cycle ${report.startedAt.toISOString()}  ${report.rows.length} VariantAutoscaling(s)  ${report.durationMs.toFixed(0)} ms\n`;
  out += renderTable([...CYCLE_COLUMNS, ...DECISION_COLUMNS], report.rows);
  if (report.rows.some((r) => !r.status && r.metrics)) {
    out += '(* read this cycle but not written to currentAlloc: see REASON)\n';
  }
  return out;
}

/** The report as one JSON document (one line per cycle when printed continuously). */
export function cycleReportJson(report: CycleReport): object {
  return {
    startedAt: report.startedAt.toISOString(),
    durationMs: Math.round(report.durationMs * 10) / 10,
    items: report.rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      modelId: r.modelId,
      replicas: r.replicas,
      outcome: r.outcome,
      status: { currentAlloc: r.status, desiredOptimizedAlloc: r.desired, conditions: r.conditions },
      metrics: r.metrics,
      decision: r.decision && decisionJson(r.decision),
      engine: r.engine ?? (r.decision ? 'slo-queueing' : undefined),
      // The learned SLO engine's prediction at the count it sized (the optimizer's is in `decision`).
      ...(r.predicted ? { predicted: r.predicted } : {}),
    })),
  };
}
