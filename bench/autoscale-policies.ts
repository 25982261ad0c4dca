// The scaling policies the autoscale benchmark compares. Each sees, every cycle, what a controller
// reading Prometheus would see over its window, and answers a replica count.
import { DEFAULT_CONFIG } from '../src/config/load.js';
import { type QueueProfile, type SloTargets, sizeReplicas, withBacklog } from '../src/optimizer/index.js';
import { Stabiliser, saturationHold } from '../src/optimizer/stabilize.js';

/** What a policy sees each cycle: the collector's view of the model over the last window. */
export interface Observation {
  tMs: number;
  /** Pods the Deployment has (starting ones included). */
  replicas: number;
  readyReplicas: number;
  /** Requests per minute arriving: completions plus the growth of requests in the system. */
  arrivalRate: number;
  /** Requests per minute completed. */
  completionRate: number;
  avgInputTokens: number;
  avgOutputTokens: number;
  /** Averages over the window; undefined when nothing completed in it. */
  ttftMs: number | undefined;
  itlMs: number | undefined;
  /** vllm:num_requests_waiting summed over the pods, now. */
  waiting: number;
  /** KV-cache usage averaged over the ready pods, 0..1 (the share of batch slots in use). */
  kvCacheUsage: number;
}

export interface Policy {
  readonly name: string;
  /** The replica count for the next cycle. */
  decide(o: Observation): number;
}

/** The same count whatever happens: a fleet provisioned once, for the peak. */
export class StaticPolicy implements Policy {
  readonly name = 'static peak';
  constructor(readonly replicas: number) {}
  decide(): number {
    return this.replicas;
  }
}

export interface SaturationRuleOptions {
  /** Scale up when waiting requests per ready replica exceed this. */
  upAbove: number;
  /** Scale down (one replica) when waiting requests per ready replica are under this. */
  downBelow: number;
  minReplicas: number;
  maxReplicas: number;
  /** Scale-down stabilisation, ms (HPA's default: 5 minutes). */
  stabilisationMs: number;
}

/**
 * The rule HPA and KEDA users write on vLLM's queue: target a number of waiting requests per
 * replica. Above the upper threshold it grows in proportion (HPA's ceil(current x metric /
 * target)); under the lower one it gives back a replica.
 */
export class SaturationRule implements Policy {
  readonly name = 'saturation rule';
  private readonly stabiliser: Stabiliser;
  constructor(readonly o: SaturationRuleOptions) {
    this.stabiliser = new Stabiliser(o.stabilisationMs);
  }

  decide(obs: Observation): number {
    const perReplica = obs.waiting / Math.max(1, obs.readyReplicas);
    let want = obs.replicas;
    if (perReplica > this.o.upAbove) want = Math.ceil(obs.replicas * (perReplica / this.o.upAbove));
    else if (perReplica < this.o.downBelow) want = obs.replicas - 1;
    want = Math.min(this.o.maxReplicas, Math.max(this.o.minReplicas, want));
    return this.stabiliser.recommend('variant', obs.tMs, want);
  }
}

export interface OptimizerPolicyOptions {
  profile: QueueProfile;
  slo: SloTargets;
  minReplicas: number;
  maxReplicas: number;
  stabilisationMs: number;
  /**
   * Size for the arrivals forecast this far ahead (a rising trend extrapolated over the last
   * `trendMs`), so pods asked for now are ready when the load arrives. 0: size for now.
   */
  leadMs?: number;
  trendMs?: number;
  /** Serve the waiting requests within this time, as the controller does; default its default. */
  backlogDrainMs?: number;
}

/**
 * Ours, as the controller decides for one variant: the queueing model sizes the fleet for the
 * measured arrivals and tokens at the SLO; a scale-down is held while the replicas are saturated
 * (the queue grows, or KV-cache usage is above the threshold); the stabilisation window publishes
 * the highest count of the window. The hold and the window are the controller's own code.
 */
export class OptimizerPolicy implements Policy {
  readonly name: string;
  private readonly stabiliser: Stabiliser;
  private readonly seen: Array<{ tMs: number; arrivalRate: number }> = [];
  private published: number | undefined;
  constructor(readonly o: OptimizerPolicyOptions) {
    this.stabiliser = new Stabiliser(o.stabilisationMs);
    this.name = o.leadMs ? 'optimizer + lead' : 'optimizer';
  }

  /** The arrival rate to size for: now, or forecast `leadMs` ahead on a rising trend. */
  private arrivalToSize(obs: Observation): number {
    const lead = this.o.leadMs ?? 0;
    if (lead <= 0) return obs.arrivalRate;
    const trendMs = this.o.trendMs ?? 150_000;
    this.seen.push({ tMs: obs.tMs, arrivalRate: obs.arrivalRate });
    while (this.seen.length > 1 && this.seen[0]!.tMs < obs.tMs - trendMs) this.seen.shift();
    const first = this.seen[0]!;
    const span = obs.tMs - first.tMs;
    const slope = span > 0 ? (obs.arrivalRate - first.arrivalRate) / span : 0;
    return obs.arrivalRate + Math.max(0, slope) * lead;
  }

  decide(obs: Observation): number {
    const drainMs = this.o.backlogDrainMs ?? DEFAULT_CONFIG.reconcile.backlogDrainMs;
    const load = {
      arrivalRate: withBacklog(this.arrivalToSize(obs), obs.waiting, drainMs),
      avgInputTokens: obs.avgInputTokens,
      avgOutputTokens: obs.avgOutputTokens,
    };
    let n = obs.replicas;
    if (obs.avgOutputTokens > 0 || obs.arrivalRate === 0) {
      n = sizeReplicas({
        profile: this.o.profile,
        load,
        slo: this.o.slo,
        minReplicas: this.o.minReplicas,
        maxReplicas: this.o.maxReplicas,
      }).numReplicas;
    }
    const current = this.published ?? obs.replicas;
    const hold =
      n < current
        ? saturationHold(
            { ...load, arrivalRate: obs.arrivalRate, completionRate: obs.completionRate },
            { kvCacheUsage: obs.kvCacheUsage },
            KV_CACHE_THRESHOLD,
          )
        : undefined;
    if (hold !== undefined) n = current;
    this.published = this.stabiliser.recommend('variant', obs.tMs, n, this.published);
    return this.published;
  }
}

/** The controller's default WVA_KV_CACHE_THRESHOLD. */
export const KV_CACHE_THRESHOLD = 0.9;
