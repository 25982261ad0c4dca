// One replica as a birth-death chain on 0..N+Q requests with state-dependent service rate
// mu(n) = n / (prefill(n) + d x decode(n)): the model of WVA's queue analyzer. Per ms inside.
//
// Above N the service rate is constant, so the states N..N+Q form a geometric tail whose sums have
// closed forms: one evaluation walks N states, not N+Q, and keeps no probability array. The time
// per request in a batch of k, 1/mu(k) = A/k + B, is computed as it is needed, so a model holds a
// few numbers whatever its batch size: memory per variant does not grow with maxBatchSize.
import type { QueueProfile, ReplicaAnalysis } from './types.js';

// Probabilities are kept unnormalised; past this size every running sum is scaled down together.
const RESCALE_ABOVE = 1e250;
const RESCALE_BY = 1e-250;
/** A request served faster than this (1 ns) means a broken profile, and would overflow the rates. */
const MIN_SERVICE_MS = 1e-6;
/** The stable range of arrival rates is [mu(1) x EPSILON, mu(N) x (1 - EPSILON)]. */
export const RATE_RANGE_EPSILON = 0.001;

export class ReplicaModel {
  readonly maxBatch: number;
  readonly maxQueue: number;
  /** Stable arrival rates, requests per ms. */
  readonly lambdaMin: number;
  readonly lambdaMax: number;
  /** 1/mu(k) = fixedMs / k + perRequestMs: the parts of a request's service time that a batch
   *  shares (gamma, alpha per decode step) and that each request adds (delta x in, beta per step). */
  private readonly fixedMs: number;
  private readonly perRequestMs: number;
  private readonly inTokens: number;
  /** Decode steps per request, and d' = out - 1 of the effective batch. */
  private readonly decodes: number;
  private readonly decodesForBatch: number;
  private readonly p: QueueProfile;

  /** Inputs are assumed checked (validate.ts). */
  constructor(profile: QueueProfile, avgInputTokens: number, avgOutputTokens: number) {
    this.p = profile;
    this.maxBatch = profile.maxBatchSize;
    this.maxQueue = profile.maxQueueSize ?? 10 * profile.maxBatchSize;
    this.inTokens = avgInputTokens;
    this.decodesForBatch = avgOutputTokens - 1;
    // A decode-only request of one token still takes one decode step.
    this.decodes = avgInputTokens === 0 && avgOutputTokens === 1 ? 1 : avgOutputTokens - 1;
    const n = this.maxBatch;
    const prefills = avgInputTokens !== 0;
    this.fixedMs = (prefills ? profile.gamma : 0) + this.decodes * profile.alpha;
    this.perRequestMs = (prefills ? profile.delta * avgInputTokens : 0) + this.decodes * profile.beta;
    // A batch's service time rises with its size (every parameter >= 0): checking the smallest and
    // the largest batch checks them all.
    for (const k of [1, n]) {
      const serviceMs = this.prefillMs(k) + this.decodes * this.decodeMs(k);
      if (!(serviceMs >= MIN_SERVICE_MS)) {
        throw new RangeError(
          'profile gives a request no service time (under 1 ns: alpha, beta, gamma and delta are 0 or ' +
            'nearly so for this load); profile the variant: decode time alpha + beta x batch must be positive',
        );
      }
      if (!Number.isFinite(serviceMs) || !Number.isFinite(1 / serviceMs) || !Number.isFinite(this.invMu(k))) {
        throw new RangeError(
          'profile gives a request a service time out of range (parameters far too large)',
        );
      }
    }
    this.lambdaMin = (1 / this.invMu(1)) * RATE_RANGE_EPSILON;
    this.lambdaMax = (1 / this.invMu(n)) * (1 - RATE_RANGE_EPSILON);
  }

  /** 1 / mu(k), ms: a batch of k finishes a request every this many ms on average. */
  private invMu(k: number): number {
    return this.fixedMs / k + this.perRequestMs;
  }

  prefillMs(batch: number): number {
    return this.inTokens === 0 ? 0 : this.p.gamma + this.p.delta * this.inTokens * batch;
  }

  decodeMs(batch: number): number {
    return this.p.alpha + this.p.beta * batch;
  }

  /** The batch size n* at which prefill(n*) + d' x decode(n*) equals the average service time. */
  private effectiveBatch(serviceMs: number, avgInService: number): number {
    const { alpha, beta, gamma, delta } = this.p;
    const slope = delta * this.inTokens + beta * this.decodesForBatch;
    let n: number;
    if (slope > 0) n = (serviceMs - gamma - alpha * this.decodesForBatch) / slope;
    else if (this.decodes > 0 && beta > 0) n = (serviceMs - alpha * this.decodes) / (beta * this.decodes);
    else n = avgInService; // latencies do not depend on the batch here
    return Math.min(Math.max(n, 0), this.maxBatch);
  }

  /** Steady state at `lambda` requests per ms (any rate >= 0, stable or not). */
  analyse(lambda: number): ReplicaAnalysis {
    const n = this.maxBatch;
    if (!(lambda > 0)) return this.finish(0, 0, 0, 0, this.prefillMs(1) + this.decodes * this.decodeMs(1));
    const fixed = this.fixedMs;
    const perRequest = this.perRequestMs;
    let p = 1;
    let total = 1;
    let sumK = 0;
    for (let k = 1; k <= n; k++) {
      p *= lambda * (fixed / k + perRequest);
      total += p;
      sumK += k * p;
      if (total > RESCALE_ABOVE) {
        p *= RESCALE_BY;
        total *= RESCALE_BY;
        sumK *= RESCALE_BY;
      }
    }
    const inServiceK = sumK; // sum of k p(k) over k <= N
    const q = this.maxQueue;
    const r = lambda * this.invMu(n);
    let tail = 0;
    let last = p;
    if (q > 0 && r < 1 - 1e-6) {
      const rq = r ** q;
      const oneMinus = 1 - r;
      tail = (p * r * (1 - rq)) / oneMinus;
      const weighted = (p * r * (1 - (q + 1) * rq + q * rq * r)) / (oneMinus * oneMinus);
      total += tail;
      sumK += n * tail + weighted;
      last = p * rq;
    } else if (q > 0) {
      // Near or past saturation the closed forms lose precision or overflow: walk the tail.
      let inService = inServiceK;
      for (let j = 1; j <= q; j++) {
        p *= r;
        total += p;
        tail += p;
        sumK += (n + j) * p;
        if (total > RESCALE_ABOVE) {
          p *= RESCALE_BY;
          total *= RESCALE_BY;
          tail *= RESCALE_BY;
          sumK *= RESCALE_BY;
          inService *= RESCALE_BY;
        }
      }
      last = p;
      return this.solved(lambda, last / total, sumK / total, (inService + n * tail) / total);
    }
    return this.solved(lambda, last / total, sumK / total, (inServiceK + n * tail) / total);
  }

  private solved(
    lambda: number,
    blocking: number,
    avgInSystem: number,
    avgInService: number,
  ): ReplicaAnalysis {
    const x = lambda * (1 - blocking);
    return this.finish(lambda, x, avgInSystem, avgInService, avgInService / x, avgInSystem / x, blocking);
  }

  private finish(
    lambda: number,
    x: number,
    avgInSystem: number,
    avgInService: number,
    serviceMs: number,
    responseMs = serviceMs,
    blocking = 0,
  ): ReplicaAnalysis {
    const waitMs = Math.max(responseMs - serviceMs, 0);
    const batch = this.effectiveBatch(serviceMs, avgInService);
    const prefillMs = this.prefillMs(batch);
    return {
      arrivalRate: lambda * 1000,
      throughput: x * 1000,
      avgInSystem,
      avgInService,
      effectiveBatch: batch,
      responseMs,
      serviceMs,
      waitMs,
      prefillMs,
      ttftMs: waitMs + prefillMs,
      itlMs: this.decodeMs(batch),
      utilization: Math.min(Math.max(avgInService / this.maxBatch, 0), 1),
      blocking,
    };
  }
}
