// Runs one policy over one load trace on the simulated fleet, in simulated time: every step the
// trace's arrivals (seeded noise) reach the fleet; every cycle the policy sees the collector's
// view of the last window and sets the replica count. Scores what the issue asks for.

import { type LoadConfig, LoadCurve } from '../src/emulator/index.js';
import { streamFor } from '../src/emulator/random.js';
import { type SloTargets, sizeReplicas } from '../src/optimizer/index.js';
import type { EngineSetup, LengthDistribution } from '../src/simulator/index.js';
import type { Observation, Policy } from './autoscale-policies.js';
import { EngineFleet } from './engine-fleet.js';
import { type FleetStep, SimulatedFleet } from './fleet.js';
import type { ReplicaWorkload } from './replica-queue.js';

export interface Trace {
  name: string;
  load: LoadConfig;
  durationMs: number;
}

export interface SimSettings {
  workload: ReplicaWorkload;
  slo: SloTargets;
  minReplicas: number;
  maxReplicas: number;
  /** Simulation step, ms. */
  stepMs: number;
  /** Controller cycle, ms. */
  cycleMs: number;
  /** The collector's rate() window, ms. */
  windowMs: number;
  /** Pod start-up delay, ms. */
  startupMs: number;
  seed: number;
  /**
   * The world the policies act on: simulated vLLM engines (requests one by one, no model handed to
   * anyone); without it, pods that follow the optimizer's queueing model.
   */
  engines?: { setup: EngineSetup; input: LengthDistribution; output: LengthDistribution };
}

export interface RunResult {
  policy: string;
  trace: string;
  /** Cycles scored: those ending after the first start-up delay. */
  cycles: number;
  /** Of those, cycles whose measured TTFT and ITL were both within target. */
  cyclesMet: number;
  attainment: number;
  replicaMinutes: number;
  /** Replica-minutes the load needed: per minute, the model's count for that minute's arrivals. */
  floorReplicaMinutes: number;
  /** Cycles where the policy changed the replica count. */
  actions: number;
  maxReplicas: number;
  /** Worst cycle TTFT (ms); Infinity when a cycle had arrivals and no completions. */
  worstTtftMs: number;
  /** On simulated engines: the share of requests whose own TTFT and ITL were within target. */
  requestAttainment?: number;
}

/** Replicas the model needs for `arrivalPerMinute` at the SLO. */
export function replicasNeeded(s: SimSettings, arrivalPerMinute: number): number {
  return sizeReplicas({
    profile: s.workload.profile,
    load: {
      arrivalRate: arrivalPerMinute,
      avgInputTokens: s.workload.inputTokens,
      avgOutputTokens: s.workload.outputTokens,
    },
    slo: s.slo,
    minReplicas: s.minReplicas,
    maxReplicas: s.maxReplicas,
  }).numReplicas;
}

/** Highest request rate (per minute) of a trace, sampled at every step. */
export function peakRate(trace: Trace, s: SimSettings): number {
  const curve = new LoadCurve(trace.load, s.seed, trace.name);
  let peak = 0;
  for (let t = 0; t < trace.durationMs; t += s.stepMs) peak = Math.max(peak, curve.rateAt(t + s.stepMs / 2));
  return peak;
}

/**
 * Seeded counting noise: a count of `mean` expected events, drawn as Poisson would spread it
 * (normal approximation). The fleet gets the trace's mean arrivals (its queueing model already
 * is the Poisson steady state); the controller's reading of a window gets this noise.
 */
function counting(random: () => number): (mean: number) => number {
  return (mean) => {
    if (mean <= 0) return 0;
    const u = Math.max(random(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(0, mean + Math.sqrt(mean) * z);
  };
}

interface Sample extends FleetStep {
  tMs: number;
  /** KV-cache usage averaged over the ready pods, when the fleet knows it. */
  kvUsage?: number;
}

function weighted(samples: Sample[], pick: (s: Sample) => number | undefined): number | undefined {
  let num = 0;
  let den = 0;
  for (const s of samples) {
    const v = pick(s);
    if (v === undefined || s.served <= 0) continue;
    num += v * s.served;
    den += s.served;
  }
  return den > 0 ? num / den : undefined;
}

/** What the controller reads at the end of a window: the collector's fields. */
export function observe(
  samples: Sample[],
  windowMs: number,
  s: SimSettings,
  noise: (mean: number) => number = (m) => m,
): Observation {
  const last = samples.at(-1)!;
  const fromT = last.tMs + s.stepMs - windowMs;
  const inWindow = samples.filter((x) => x.tMs >= fromT);
  const before = samples.filter((x) => x.tMs < fromT).at(-1);
  // As rate() does, a window longer than the history reads over the history there is.
  const minutes = Math.min(windowMs, last.tMs + s.stepMs) / 60_000;
  const served = noise(inWindow.reduce((a, x) => a + x.served, 0));
  const inSystem = (x: Sample | undefined) => (x ? x.running + x.waiting : 0);
  const growth = inSystem(last) - inSystem(before);
  const completionRate = served / minutes;
  return {
    tMs: last.tMs + s.stepMs,
    replicas: last.replicas,
    readyReplicas: last.ready,
    completionRate,
    arrivalRate: Math.max(0, completionRate + growth / minutes),
    avgInputTokens: served > 0 ? s.workload.inputTokens : 0,
    avgOutputTokens: served > 0 ? s.workload.outputTokens : 0,
    ttftMs: weighted(inWindow, (x) => x.ttftMs),
    itlMs: weighted(inWindow, (x) => x.itlMs),
    waiting: last.waiting,
    kvCacheUsage:
      last.kvUsage ??
      (last.ready > 0 ? Math.min(1, last.running / last.ready / s.workload.profile.maxBatchSize) : 0),
  };
}

/** Runs `policy` over `trace`; the same seed gives every policy the same arrivals. */
export function simulate(trace: Trace, policy: Policy, s: SimSettings): RunResult {
  const curve = new LoadCurve(trace.load, s.seed, trace.name);
  const noise = counting(streamFor(s.seed, `arrivals:${trace.name}`));
  const initial = replicasNeeded(s, curve.rateAt(0));
  const engines = s.engines
    ? new EngineFleet({ ...s.engines, initialReplicas: initial, startupMs: s.startupMs, seed: s.seed })
    : undefined;
  const fleet =
    engines ??
    new SimulatedFleet({
      workload: s.workload,
      initialReplicas: initial,
      startupMs: s.startupMs,
    });
  const keep = Math.ceil(Math.max(s.windowMs, s.cycleMs) / s.stepMs) + 1;
  let samples: Sample[] = [];
  let replicaMs = 0;
  let actions = 0;
  let cycles = 0;
  let met = 0;
  let worstTtft = 0;
  let maxReplicas = initial;
  let minuteArrived = 0;
  let floorMinutes = 0;
  let cycleArrived = 0;
  const ttftTarget = s.slo.ttftMs && s.slo.ttftMs > 0 ? s.slo.ttftMs : Infinity;
  const itlTarget = s.slo.itlMs && s.slo.itlMs > 0 ? s.slo.itlMs : Infinity;

  for (let t = 0; t < trace.durationMs; t += s.stepMs) {
    const rate = curve.rateAt(t + s.stepMs / 2);
    const arrived = (rate / 60_000) * s.stepMs;
    const step = engines
      ? engines.step(t, s.stepMs, rate)
      : (fleet as SimulatedFleet).step(t, s.stepMs, arrived);
    samples.push({ ...step, tMs: t });
    if (samples.length > 2 * keep) samples = samples.slice(-keep);
    replicaMs += step.replicas * s.stepMs;
    minuteArrived += arrived;
    cycleArrived += arrived;
    const end = t + s.stepMs;
    if (end % 60_000 === 0) {
      floorMinutes += replicasNeeded(s, minuteArrived);
      minuteArrived = 0;
    }
    if (end % s.cycleMs !== 0) continue;
    // Score the cycle just ended, as Prometheus' rate over the cycle would show it.
    if (end > s.startupMs) {
      const cycleSamples = samples.filter((x) => x.tMs >= end - s.cycleMs);
      const ttft = weighted(cycleSamples, (x) => x.ttftMs);
      const itl = weighted(cycleSamples, (x) => x.itlMs);
      const stuck = ttft === undefined && cycleArrived > 0;
      cycles++;
      if (stuck) worstTtft = Infinity;
      else if (ttft !== undefined) worstTtft = Math.max(worstTtft, ttft);
      if (!stuck && (ttft ?? 0) <= ttftTarget && (itl ?? 0) <= itlTarget) met++;
    }
    cycleArrived = 0;
    // Engines already arrive one by one: their counts carry their own noise.
    const want = policy.decide(observe(samples, s.windowMs, s, engines ? undefined : noise));
    if (want !== fleet.replicas) {
      actions++;
      fleet.setReplicas(want, end);
      maxReplicas = Math.max(maxReplicas, want);
    }
  }
  return {
    policy: policy.name,
    trace: trace.name,
    cycles,
    cyclesMet: met,
    attainment: cycles > 0 ? met / cycles : 1,
    replicaMinutes: replicaMs / 60_000,
    floorReplicaMinutes: floorMinutes,
    actions,
    maxReplicas,
    worstTtftMs: worstTtft,
    ...(engines ? { requestAttainment: requestAttainment(engines, ttftTarget, itlTarget, s.startupMs) } : {}),
  };
}

/** Share of the requests (sent after the first start-up delay) within both targets, each its own. */
function requestAttainment(f: EngineFleet, ttftTarget: number, itlTarget: number, fromMs: number): number {
  let n = 0;
  let ok = 0;
  for (const r of f.finished) {
    if (r.arrivalMs < fromMs) continue;
    n++;
    const itl = r.generated > 1 ? (r.finishedMs! - r.firstTokenMs!) / (r.generated - 1) : 0;
    if (r.firstTokenMs! - r.arrivalMs <= ttftTarget && itl <= itlTarget) ok++;
  }
  return n > 0 ? ok / n : 1;
}
