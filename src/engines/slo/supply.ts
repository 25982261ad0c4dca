// The queue a model will have when the replicas asked for now start serving. A backlog sized from
// the requests waiting now is too small after a step up: until new pods serve (their start-up),
// the ready ones keep falling behind, and the queue they leave is served only by whatever a later
// cycle asks for, another start-up later. Sizing once, on the cycle that asks, for the queue
// expected at readiness gets the drain capacity there with the pods that serve the arrivals.
import { ReplicaModel } from '../../optimizer/queue-model.js';
import type { LoadProfile, QueueProfile } from '../../optimizer/types.js';

export interface ReadySupply {
  /** Replicas serving now. */
  ready: number;
  profile: QueueProfile;
}

/**
 * Requests per minute the ready replicas can serve at most (each at its model's largest stable
 * rate, batch full); 0 when a profile cannot be analysed for this load.
 */
export function readyThroughput(supply: readonly ReadySupply[], load: LoadProfile): number {
  let perMin = 0;
  for (const s of supply) {
    if (!(s.ready > 0)) continue;
    try {
      perMin +=
        s.ready * new ReplicaModel(s.profile, load.avgInputTokens, load.avgOutputTokens).lambdaMax * 60_000;
    } catch {
      // A profile the queueing model refuses serves nothing we can count on.
    }
  }
  return perMin;
}

/**
 * Requests expected to wait when replicas asked for now serve, `startupMs` from now: those waiting
 * now plus what arrives beyond the ready replicas' throughput meanwhile.
 */
export function waitingAtReadiness(
  waiting: number,
  arrivalRate: number,
  supply: readonly ReadySupply[],
  load: LoadProfile,
  startupMs: number,
): number {
  const short = Math.max(0, arrivalRate - readyThroughput(supply, load));
  return Math.max(0, waiting) + (short * startupMs) / 60_000;
}
