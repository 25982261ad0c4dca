// What the closed loop did, cycle by cycle, and what it comes to: SLO attainment (cycles whose
// measured TTFT and ITL were within target), replica-minutes and scaling actions.
import type { SloTargets } from '../optimizer/index.js';
import { LoopTally } from './loop-tally.js';

/** One variant in one cycle. */
export interface LoopVariant {
  namespace: string;
  name: string;
  modelId: string;
  /** What the optimizer decided (desiredOptimizedAlloc); undefined without a decision. The
   *  actuator may apply another count: 0 where scale to zero is proven, 1 where it is not allowed. */
  desired: number | undefined;
  /** What the optimizer recommended this cycle, before the stabilisation window; absent without
   *  a decision. */
  recommended?: number;
  /** Pods the emulator runs (starting ones included), and those that serve. */
  current: number;
  ready: number;
  /** The SLO engine's prediction (given or learned profiles) at the count it sized; undefined where
   *  saturation decided or the SLO engine sized nothing. */
  predicted: { ttftMs: number; itlMs: number } | undefined;
  /** OptimizationReady's reason, or why there is none. */
  reason: string;
  /** Which engine decided the variant this cycle ('-' when none did). */
  engine: string;
  /** The Actuated condition's reason (Scaled, NoDecision...); undefined before the actuator ran. */
  actuated: string | undefined;
}

/** One model (in one namespace) in one cycle. */
export interface LoopModel {
  namespace: string;
  modelId: string;
  /** The SLO the controller sized for; undefined when no variant had a decision. */
  slo: SloTargets | undefined;
  /** Requests per minute arriving, as read; undefined when unknown. */
  arrivalRate: number | undefined;
  /** Measured (read from Prometheus) averages; undefined when unknown or without traffic. */
  ttftMs: number | undefined;
  itlMs: number | undefined;
  /** Within both targets; undefined when it cannot be said (no traffic, no SLO, latency unknown). */
  withinSlo: boolean | undefined;
  /** The engine that decided the model this cycle ('-' or absent when none did). */
  engine?: string;
  /** Why that engine, from its condition message. */
  engineWhy?: string;
}

/** Whether measured latency meets the targets; undefined when a number needed is unknown. */
export function meetsSlo(
  slo: SloTargets | undefined,
  ttftMs: number | undefined,
  itlMs: number | undefined,
): boolean | undefined {
  if (!slo) return undefined;
  const checks: Array<[number | undefined, number | undefined]> = [
    [slo.ttftMs, ttftMs],
    [slo.itlMs, itlMs],
  ];
  let ok = true;
  for (const [target, value] of checks) {
    if (!target || target <= 0) continue;
    if (value === undefined) return undefined;
    if (value > target) ok = false;
  }
  return ok;
}

export interface LoopCycle {
  at: Date;
  /** Cycles before the series cover the window, or before the first pods could start, do not count. */
  scored: boolean;
  variants: LoopVariant[];
  models: LoopModel[];
  /** Models that changed engines at this cycle. */
  switches?: EngineSwitch[];
}

/** A model handed from one engine to another between two cycles. */
export interface EngineSwitch {
  /** The cycle (1-based) that decided with the new engine, and when it started. */
  cycle: number;
  at: Date;
  /** Since the loop's first cycle, ms. */
  sinceStartMs: number;
  namespace: string;
  modelId: string;
  from: string;
  to: string;
  /** Why, from the new engine's condition message (e.g. the learned model's errors). */
  why: string | undefined;
  /** The model's learned performance models at the switch, per variant. */
  learned?: Array<{
    variant: string;
    cycles: number;
    itlErrorPct: number | null;
    ttftErrorPct: number | null;
  }>;
}

export interface FleetScore {
  /** Model-cycles with traffic, an SLO and known latency. */
  cycles: number;
  met: number;
  /** met / cycles; undefined with no cycle scored. */
  attainment: number | undefined;
  replicaMinutes: number;
  actions: number;
  /** Requests (of models with an SLO, finished in the scored time) that met both targets on their own. */
  requests?: { total: number; met: number };
  /** Replica-hours weighted by each variant's variantCost. */
  cost?: number;
}

/** Per variant, the most pods it had or was asked for: a static fleet sized for the peak. */
export function peakReplicas(cycles: readonly LoopCycle[]): Map<string, number> {
  const t = new LoopTally();
  for (const c of cycles) t.add(c);
  return t.peak;
}

/**
 * Scores the cycles: attainment over the scored model-cycles, replica-minutes as each cycle's pods
 * held until the next cycle (the last one until `endAt`), and `actions` as given.
 */
export function scoreLoop(
  cycles: readonly LoopCycle[],
  endAt: Date,
  actions: number,
  costOf: (namespace: string, name: string) => number = () => 1,
): FleetScore {
  const t = new LoopTally(costOf);
  for (const c of cycles) t.add(c);
  return t.score(endAt, actions);
}
