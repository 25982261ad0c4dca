// The optimizer's decision in local mode's report: table cells and JSON.

import type { OptimizedAlloc } from '../kube/types.js';
import type { Decision } from './decision.js';

function cell(v: string | number | undefined): string {
  return v === undefined || v === '' ? '-' : String(v);
}

/** What a report row carries of the optimizer. */
export interface DecisionRow {
  /** status.desiredOptimizedAlloc as it now stands. */
  desired?: OptimizedAlloc;
  /** This cycle's decision. */
  decision?: Decision;
}

const predicted = (r: DecisionRow) => (r.decision?.ok ? r.decision.allocation.predicted : undefined);

/**
 * Local mode's optimizer columns: DESIRED and ACCELERATOR as status says them, PRED_TTFT and
 * PRED_ITL at the decided count this cycle, OPTIMIZATION the condition's reason.
 */
export const DECISION_COLUMNS: ReadonlyArray<{ header: string; value: (r: DecisionRow) => string }> = [
  { header: 'DESIRED', value: (r) => cell(r.desired?.numReplicas) },
  { header: 'ACCELERATOR', value: (r) => cell(r.desired?.accelerator) },
  { header: 'PRED_TTFT', value: (r) => cell(predicted(r)?.ttftMs.toFixed(2)) },
  { header: 'PRED_ITL', value: (r) => cell(predicted(r)?.itlMs.toFixed(2)) },
  { header: 'OPTIMIZATION', value: (r) => cell(r.decision?.reason) },
];

export function decisionJson(d: Decision): object {
  if (!d.ok) return { ok: false, reason: d.reason, message: d.message };
  const a = d.allocation;
  return {
    ok: true,
    reason: d.reason,
    accelerator: d.accelerator,
    numReplicas: d.numReplicas,
    recommended: d.recommended,
    ratePerReplica: a.ratePerReplica,
    assignedRate: a.assignedRate,
    predicted: a.predicted,
    slo: d.slo,
    sloSource: d.sloSource,
    message: d.message,
  };
}
