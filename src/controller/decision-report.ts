// The optimizer's decision in local mode's report: table cells and JSON.
import type { Decision } from './decision.js';
import type { OptimizedAlloc } from './types.js';

function cell(v: string | number | undefined): string {
  return v === undefined || v === '' ? '-' : String(v);
}

/** DESIRED, ACCELERATOR (as status says them), PRED_TTFT, PRED_ITL (this cycle's), OPTIMIZATION. */
export function decisionCells(desired: OptimizedAlloc | undefined, d: Decision | undefined): string[] {
  const pred = d?.ok ? d.allocation.predicted : undefined;
  return [
    cell(desired?.numReplicas),
    cell(desired?.accelerator),
    cell(pred?.ttftMs.toFixed(2)),
    cell(pred?.itlMs.toFixed(2)),
    cell(d?.reason),
  ];
}

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
