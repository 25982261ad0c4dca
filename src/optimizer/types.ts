// Shapes of the optimizer's inputs and outputs. Times are milliseconds, rates requests per second
// unless a name says otherwise; the load's arrival rate is per minute, as the collector reads it.
import type { LoadProfile } from '../types.js';

export type { LoadProfile };

/**
 * Performance profile of one replica on one accelerator: prefill(n) = gamma + delta x in x n and
 * decode(n) = alpha + beta x n milliseconds for a batch of n requests.
 */
export interface QueueProfile {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
  /** Most requests in one batch (vLLM's max_num_seqs). */
  maxBatchSize: number;
  /** Most requests waiting for a batch slot; default 10 x maxBatchSize. */
  maxQueueSize?: number;
}

/** Average latency targets, milliseconds; 0 or absent: not considered. */
export interface SloTargets {
  ttftMs?: number;
  itlMs?: number;
}

export interface SizingInput {
  profile: QueueProfile;
  load: LoadProfile;
  slo: SloTargets;
  /** Default 1. */
  minReplicas?: number;
  maxReplicas?: number;
}

export interface PredictedLatency {
  ttftMs: number;
  itlMs: number;
  /** Average requests in service / maxBatchSize, in [0, 1]. */
  utilization: number;
}

export interface Sizing {
  numReplicas: number;
  /** The most requests per second one replica serves within every target (rate*). */
  ratePerReplica: number;
  /** At arrival / numReplicas per replica. */
  predicted: PredictedLatency;
  /** The replicas the SLO needs before maxReplicas; above numReplicas when the cap bit. */
  replicasForSlo: number;
  /** false when maxReplicas keeps the count below what the SLO needs. */
  sloMet: boolean;
}

/** Steady state of one replica at one arrival rate. */
export interface ReplicaAnalysis {
  /** Arrival rate offered, req/s. */
  arrivalRate: number;
  /** Requests served per second (arrivals less those refused by a full queue). */
  throughput: number;
  /** Average requests in the replica, queued or in service. */
  avgInSystem: number;
  /** Average requests in service (in the batch). */
  avgInService: number;
  /** Effective batch size n* the latencies are evaluated at. */
  effectiveBatch: number;
  responseMs: number;
  serviceMs: number;
  waitMs: number;
  prefillMs: number;
  ttftMs: number;
  itlMs: number;
  utilization: number;
  /** Probability an arrival finds the queue full and is refused. */
  blocking: number;
}

export type SloTargetName = 'ttft' | 'itl';

/** An SLO target no arrival rate in the replica's stable range meets. */
export class SloInfeasibleError extends Error {
  override readonly name = 'SloInfeasibleError';
  constructor(
    /** Which target. */
    readonly target: SloTargetName,
    /** The target, ms. */
    readonly targetMs: number,
    /** The lowest the model reaches (at the lowest stable rate), ms. */
    readonly bestMs: number,
  ) {
    super(
      `${target} target ${formatMs(targetMs)} ms cannot be met: even at the lowest stable rate one replica's ` +
        `${target} is ${formatMs(bestMs)} ms; raise the ${target} target to at least ${formatMs(bestMs)} ms ` +
        'or use a faster accelerator profile',
    );
  }
}

function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toPrecision(4);
}
