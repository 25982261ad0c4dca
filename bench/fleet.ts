// A whole variant as one aggregate: pods that take a start-up delay before they serve, the load
// shared evenly over the ready ones, and each ready pod a ReplicaQueue. No per-request samples, so
// it runs hours of traffic in well under a second: the autoscale benchmark drives it.
import { ReplicaQueue, type ReplicaWorkload, replicaModel } from './replica-queue.js';

export interface SimulatedFleetOptions {
  workload: ReplicaWorkload;
  /** Pods at time 0, ready from the start. */
  initialReplicas: number;
  /** How long a new pod takes before it serves (model load, warm-up), ms. */
  startupMs: number;
}

/** The fleet over one step. */
export interface FleetStep {
  /** Requests that arrived (the offered load). */
  arrived: number;
  served: number;
  /** Served-weighted TTFT and ITL (ms) of the step's completions; undefined with none. */
  ttftMs: number | undefined;
  itlMs: number | undefined;
  running: number;
  waiting: number;
  /** Pods, starting ones included (what the Deployment has and what costs money). */
  replicas: number;
  ready: number;
}

export class SimulatedFleet {
  /** Time each pod becomes ready, ms; sorted, so the youngest pod is last. */
  private readyAt: number[];
  /** Requests the ready pods hold beyond the model's steady state, all pods together. */
  private backlog = 0;
  private readonly queue: ReplicaQueue;
  private readonly startupMs: number;

  constructor(o: SimulatedFleetOptions) {
    if (!Number.isInteger(o.initialReplicas) || o.initialReplicas < 0)
      throw new RangeError(`initialReplicas must be an integer >= 0, got ${o.initialReplicas}`);
    if (!(o.startupMs >= 0)) throw new RangeError(`startupMs must be >= 0, got ${o.startupMs}`);
    this.readyAt = Array.from({ length: o.initialReplicas }, () => 0);
    this.queue = new ReplicaQueue(replicaModel(o.workload));
    this.startupMs = o.startupMs;
  }

  get replicas(): number {
    return this.readyAt.length;
  }

  /** Ready pods at `nowMs`. */
  readyCount(nowMs: number): number {
    let n = 0;
    for (const t of this.readyAt) if (t <= nowMs) n++;
    return n;
  }

  /** Most requests per second one ready pod completes. */
  get capacityPerReplica(): number {
    return this.queue.capacityPerSecond;
  }

  /**
   * Sets the pod count at `nowMs`. New pods serve after the start-up delay; a scale-down removes
   * the youngest pods first (starting ones before ready ones), as a ReplicaSet does. Requests a
   * removed pod held stay in the fleet's backlog: the gateway retries them on the others.
   */
  setReplicas(n: number, nowMs: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`replicas must be an integer >= 0, got ${n}`);
    while (this.readyAt.length > n) this.readyAt.pop();
    while (this.readyAt.length < n) this.readyAt.push(nowMs + this.startupMs);
  }

  /** Moves the fleet from `nowMs` forward `dtMs` with `arrived` requests offered over the step. */
  step(nowMs: number, dtMs: number, arrived: number): FleetStep {
    const ready = this.readyCount(nowMs);
    const dt = dtMs / 1000;
    const replicas = this.replicas;
    if (ready === 0) {
      this.backlog += arrived;
      return {
        arrived,
        served: 0,
        ttftMs: undefined,
        itlMs: undefined,
        running: 0,
        waiting: this.backlog,
        replicas,
        ready,
      };
    }
    this.queue.backlog = this.backlog / ready;
    const s = this.queue.step(dt, arrived / dt / ready);
    this.backlog = this.queue.backlog * ready;
    const served = s.served * ready;
    return {
      arrived,
      served,
      ttftMs: served > 0 ? s.ttftMs : undefined,
      itlMs: served > 0 ? s.itlMs : undefined,
      running: s.running * ready,
      waiting: s.waiting * ready,
      replicas,
      ready,
    };
  }
}
