// Within one cycle many variants share a model, a request shape and an SLO; their rate* is the
// same, so it is computed once. Make one SizingMemo per cycle (shapes drift between cycles).
import { ReplicaModel } from './queue-model.js';
import { planRate, type RatePlan, replicasFor } from './sizing.js';
import type { QueueProfile, Sizing, SizingInput, SloTargets } from './types.js';
import { checkInput } from './validate.js';

function shapeKey(p: QueueProfile, inTokens: number, outTokens: number): string {
  return `${p.alpha}|${p.beta}|${p.gamma}|${p.delta}|${p.maxBatchSize}|${p.maxQueueSize ?? ''}|${inTokens}|${outTokens}`;
}

export class SizingMemo {
  private readonly plans = new Map<string, RatePlan | Error>();

  /** As sizeReplicas, reusing rate* for inputs of the same profile, request shape and SLO. */
  size(input: SizingInput): Sizing {
    const [min, max] = checkInput(input);
    const plan = this.plan(input.profile, input.load.avgInputTokens, input.load.avgOutputTokens, input.slo);
    return replicasFor(plan, input.load, min, max);
  }

  /** Plans held. */
  get planCount(): number {
    return this.plans.size;
  }

  clear(): void {
    this.plans.clear();
  }

  /** rate* for a profile, request shape and SLO, computed once; throws SloInfeasibleError. */
  plan(profile: QueueProfile, inTokens: number, outTokens: number, slo: SloTargets): RatePlan {
    const key = `${shapeKey(profile, inTokens, outTokens)}|${slo.ttftMs ?? 0}|${slo.itlMs ?? 0}`;
    let plan = this.plans.get(key);
    if (plan === undefined) {
      try {
        plan = planRate(new ReplicaModel(profile, inTokens, outTokens), slo);
      } catch (err) {
        plan = err as Error;
      }
      this.plans.set(key, plan);
    }
    if (plan instanceof Error) throw plan;
    return plan;
  }
}
