// What a reconcile and a cycle report: per key, the outcome, the status as it stands and what was
// read and decided for it.
import type { ScalingDecision } from '../engines/types.js';
import type { Deployment, VariantAutoscalingStatus } from '../kube/types.js';
import type { Decision } from './decision.js';
import type { MetricsRead } from './status.js';

/** The telemetry hooks the controller moves (Telemetry implements them). */
export interface ControllerTelemetry {
  cycleFinished?(outcome: 'success' | 'error', seconds: number): void;
  statusWrite?(outcome: 'written' | 'unchanged' | 'error'): void;
}

/** What a status write did: stored, or nothing the controller owns changed. */
export type WriteOutcome = 'written' | 'unchanged';

export type ReconcileOutcome = WriteOutcome | 'skipped' | 'gone' | 'error';

export interface ReconcileResult {
  key: string;
  namespace: string;
  name: string;
  modelId?: string;
  outcome: ReconcileOutcome;
  /** The status as it now stands (written or found unchanged). */
  status?: VariantAutoscalingStatus;
  deployment?: Deployment;
  /** What the collector answered (absent for an invalid spec). */
  read?: MetricsRead;
  /** The optimizer's decision (absent without an optimizer or for an invalid spec). */
  decision?: Decision;
  /** The engine seam's decision for this variant (saturation's or the learned SLO engine's), if any. */
  engineDecision?: ScalingDecision;
  /** Which engine's outcome this variant got (also when it decided nothing for it). */
  engine?: string;
  error?: Error;
}

export interface CycleResult {
  startedAt: Date;
  durationMs: number;
  results: ReconcileResult[];
}
