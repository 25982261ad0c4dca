// One replica's requests over time, with the optimizer's queueing model as its steady state: below
// capacity the replica shows the model's TTFT, ITL and queue at the rate it serves; past capacity
// the excess piles up in a backlog that vLLM would hold in its waiting queue, and every request
// behind it waits for it to drain. The emulator's pods and the autoscale benchmark's fleet both
// move on this, so what the benchmark reports is what the emulated pods would show.
import { type QueueProfile, ReplicaModel } from '../src/optimizer/index.js';

/** What one replica serves, for the latency model. */
export interface ReplicaWorkload {
  profile: QueueProfile;
  inputTokens: number;
  outputTokens: number;
}

/** One replica over one step. */
export interface ReplicaStep {
  /** Requests completed in the step (fractional: the caller turns them into whole requests). */
  served: number;
  /** Average TTFT of those requests, ms (the model's at the served rate plus the backlog's wait). */
  ttftMs: number;
  itlMs: number;
  /** Requests in the running batch. */
  running: number;
  /** Requests waiting for a batch slot (the model's queue plus the backlog). */
  waiting: number;
  /** Offered load was above what the replica can serve. */
  saturated: boolean;
}

/**
 * The share of the model's top stable rate up to which a replica shows the model's steady state.
 * Closer to the top that steady state holds a queue near its bound (10 x the batch), which a pod
 * that just became busy has not had time to build; so from here on the pod shows this share's
 * latency and queue, and what arrives beyond its full-batch rate piles up in the backlog, whose
 * wait is added. At 95 % the model's queue is about a sixth of the batch.
 */
export const STEADY_STATE_SHARE = 0.95;

/** The optimizer's model of one replica serving `w`. */
export function replicaModel(w: ReplicaWorkload): ReplicaModel {
  return new ReplicaModel(w.profile, w.inputTokens, w.outputTokens);
}

/** A replica's state between steps: the requests it holds beyond the model's steady state. */
export class ReplicaQueue {
  /** Requests beyond what the model's queue holds at capacity. */
  backlog = 0;

  /** The most requests per second the replica completes: the top of the model's stable range. */
  readonly capacityPerSecond: number;

  constructor(readonly model: ReplicaModel) {
    this.capacityPerSecond = model.lambdaMax * 1000;
  }

  /** Moves the replica forward `dtSeconds` with `arrivalPerSecond` offered to it. */
  step(dtSeconds: number, arrivalPerSecond: number): ReplicaStep {
    const cap = this.capacityPerSecond;
    const offered = Math.max(0, arrivalPerSecond) * dtSeconds + this.backlog;
    const served = Math.min(offered, cap * dtSeconds);
    this.backlog = offered - served;
    return { ...this.stateAt(arrivalPerSecond), served };
  }

  /** TTFT, ITL, batch and queue with `arrivalPerSecond` offered now (nothing moves). */
  stateAt(arrivalPerSecond: number): ReplicaStep {
    const cap = this.capacityPerSecond;
    // The model's steady state at the offered rate (capped): while a backlog drains the replica
    // works flat out, but the backlog's own wait is added below, not counted twice.
    const a = this.model.analyse(Math.min(Math.max(arrivalPerSecond, 0), STEADY_STATE_SHARE * cap) / 1000);
    const behindMs = cap > 0 ? (this.backlog / cap) * 1000 : 0;
    return {
      served: 0,
      ttftMs: a.ttftMs + behindMs,
      itlMs: a.itlMs,
      // With a backlog the batch is full: the replica works flat out to drain it.
      running: this.backlog > 0 ? this.model.maxBatch : a.avgInService,
      waiting: Math.max(0, a.avgInSystem - a.avgInService) + this.backlog,
      saturated: arrivalPerSecond >= cap,
    };
  }
}
