import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../bench/autoscale.js';
import {
  type Observation,
  OptimizerPolicy,
  SaturationRule,
  StaticPolicy,
} from '../../bench/autoscale-policies.js';
import { replicasNeeded, type SimSettings, simulate, type Trace } from '../../bench/autoscale-sim.js';
import { SimulatedFleet } from '../../bench/fleet.js';
import { sizeReplicas } from '../../src/optimizer/index.js';

const MINUTE = 60_000;
// The benchmark's fleet and SLO, with a lower cap and another seed.
const settings: SimSettings = { ...SETTINGS, maxReplicas: 20, seed: 3 };
const optimizer = (backlogDrainMs = 0) =>
  new OptimizerPolicy({
    profile: settings.workload.profile,
    slo: settings.slo,
    minReplicas: 1,
    maxReplicas: 20,
    stabilisationMs: 5 * MINUTE,
    backlogDrainMs,
  });

function obs(over: Partial<Observation>): Observation {
  return {
    tMs: 0,
    replicas: 2,
    readyReplicas: 2,
    arrivalRate: 3000,
    completionRate: 3000,
    avgInputTokens: 512,
    avgOutputTokens: 128,
    ttftMs: 80,
    itlMs: 12,
    waiting: 0,
    kvCacheUsage: 0.2,
    ...over,
  };
}

// 1200 req/min, up to 9000 at 20 min, back to 1200 at 40 min; one hour.
const stepTrace: Trace = {
  name: 'unit-step',
  durationMs: 60 * MINUTE,
  load: {
    pattern: 'step',
    rate: 1200,
    steps: [
      { at: 20 * MINUTE, rate: 9000 },
      { at: 40 * MINUTE, rate: 1200 },
    ],
  },
};

describe('SaturationRule', () => {
  const rule = () =>
    new SaturationRule({ upAbove: 10, downBelow: 2, minReplicas: 1, maxReplicas: 20, stabilisationMs: 0 });
  it('grows in proportion to waiting requests per ready replica above the threshold', () => {
    expect(rule().decide(obs({ replicas: 2, readyReplicas: 2, waiting: 60 }))).toBe(6);
    // Starting pods do not count as capacity: 60 waiting over 1 ready pod.
    expect(rule().decide(obs({ replicas: 2, readyReplicas: 1, waiting: 60 }))).toBe(12);
    expect(rule().decide(obs({ replicas: 4, waiting: 1000 }))).toBe(20);
  });
  it('gives back one replica under the lower threshold, holds in between, never below the minimum', () => {
    expect(rule().decide(obs({ replicas: 5, readyReplicas: 5, waiting: 5 }))).toBe(4);
    expect(rule().decide(obs({ replicas: 5, readyReplicas: 5, waiting: 25 }))).toBe(5);
    expect(rule().decide(obs({ replicas: 1, readyReplicas: 1, waiting: 0 }))).toBe(1);
  });
});

describe('OptimizerPolicy', () => {
  it('asks for what the queueing model sizes for the measured load', () => {
    const want = sizeReplicas({
      profile: settings.workload.profile,
      load: { arrivalRate: 9000, avgInputTokens: 512, avgOutputTokens: 128 },
      slo: settings.slo,
    }).numReplicas;
    expect(want).toBeGreaterThan(2);
    expect(optimizer().decide(obs({ arrivalRate: 9000 }))).toBe(want);
  });
  it('holds a scale-down while the queue grows or the KV cache is nearly full, as the controller does', () => {
    const down = (o: Partial<Observation>) =>
      optimizer().decide(obs({ replicas: 6, arrivalRate: 1200, ...o }));
    expect(down({ completionRate: 1200 })).toBeLessThan(6);
    expect(down({ completionRate: 1000 })).toBe(6);
    expect(down({ completionRate: 1200, kvCacheUsage: 0.95 })).toBe(6);
  });
  it('a fall waits for the stabilisation window, a rise does not', () => {
    const p = optimizer();
    const high = p.decide(obs({ tMs: 0, arrivalRate: 9000, replicas: 2 }));
    expect(high).toBeGreaterThan(2);
    expect(p.decide(obs({ tMs: 60_000, arrivalRate: 1200, completionRate: 1200, replicas: high }))).toBe(
      high,
    );
    // The window runs from the first lower recommendation (60 s), not from the high one (0 s).
    expect(
      p.decide(obs({ tMs: 5 * MINUTE + 1, arrivalRate: 1200, completionRate: 1200, replicas: high })),
    ).toBe(high);
    expect(
      p.decide(obs({ tMs: 6 * MINUTE - 1, arrivalRate: 1200, completionRate: 1200, replicas: high })),
    ).toBe(high);
    expect(p.decide(obs({ tMs: 6 * MINUTE, arrivalRate: 1200, completionRate: 1200, replicas: high }))).toBe(
      1,
    );
  });
  it('on a step trace: scales up within start-up delay plus two cycles, down only after the window', () => {
    const decisions: Array<{ tMs: number; replicas: number }> = [];
    const p = optimizer();
    const spy = {
      name: p.name,
      decide(o: Observation) {
        const n = p.decide(o);
        decisions.push({ tMs: o.tMs, replicas: n });
        return n;
      },
    };
    const r = simulate(stepTrace, spy, settings);
    const low = replicasNeeded(settings, 1200);
    const high = replicasNeeded(settings, 9000);
    const firstHigh = decisions.find((d) => d.replicas >= high)!;
    expect(firstHigh.tMs).toBeGreaterThan(20 * MINUTE);
    expect(firstHigh.tMs).toBeLessThanOrEqual(20 * MINUTE + 2 * settings.cycleMs);
    const firstLowAfter = decisions.find((d) => d.tMs > 40 * MINUTE && d.replicas === low)!;
    expect(firstLowAfter.tMs).toBeGreaterThanOrEqual(40 * MINUTE + 5 * MINUTE);
    expect(firstLowAfter.tMs).toBeLessThanOrEqual(40 * MINUTE + 5 * MINUTE + 3 * settings.cycleMs);
    // Up in at most three moves, down in at most three: no flapping.
    expect(r.actions).toBeLessThanOrEqual(6);
    // Misses only after the step: while the new pods start, then while the queue that built up
    // meanwhile drains (sized for the arrivals, the fleet has only its headroom to drain it).
    expect(r.cycles - r.cyclesMet).toBeGreaterThan(settings.startupMs / settings.cycleMs);
    expect(r.cycles - r.cyclesMet).toBeLessThanOrEqual((15 * MINUTE) / settings.cycleMs);
  });
  it('sizing for the backlog too: fewer missed cycles on the same step, no move down before the window', () => {
    const run = (drainMs: number) => {
      const moves: Array<{ tMs: number; from: number; to: number }> = [];
      const p = optimizer(drainMs);
      let last: number | undefined;
      const spy = {
        name: p.name,
        decide(o: Observation) {
          const n = p.decide(o);
          if (last !== undefined && n !== last) moves.push({ tMs: o.tMs, from: last, to: n });
          last = n;
          return n;
        },
      };
      return { r: simulate(stepTrace, spy, settings), moves };
    };
    const arrivalsOnly = run(0);
    const withQueue = run(2 * MINUTE);
    expect(withQueue.r.cycles - withQueue.r.cyclesMet).toBeLessThan(
      arrivalsOnly.r.cycles - arrivalsOnly.r.cyclesMet,
    );
    // Up only while the step's queue builds (the term grows each cycle the new pods are starting),
    // then nothing until the drained queue has been low for a whole window: no flapping.
    const ups = withQueue.moves.filter((m) => m.to > m.from);
    const downs = withQueue.moves.filter((m) => m.to < m.from);
    expect(
      ups.every(
        (m) => m.tMs > 20 * MINUTE && m.tMs <= 20 * MINUTE + settings.startupMs + 2 * settings.cycleMs,
      ),
    ).toBe(true);
    expect(downs[0]!.tMs).toBeGreaterThan(ups.at(-1)!.tMs + 5 * MINUTE);
    expect(downs.length).toBeLessThanOrEqual(3);
  });
});

describe('simulate', () => {
  it('a static fleet sized for the peak keeps the SLO in every cycle and costs replicas x time', () => {
    const n = replicasNeeded(settings, 9000);
    const r = simulate(stepTrace, new StaticPolicy(n), settings);
    expect(r.attainment).toBe(1);
    expect(r.actions).toBe(1); // from the start's sizing for 1200/min to n
    const low = replicasNeeded(settings, 1200);
    expect(r.replicaMinutes).toBeCloseTo(low * 0.5 + n * 59.5, 6);
    expect(r.floorReplicaMinutes).toBe(40 * low + 20 * n);
  });
  it('a fleet that never grows misses every cycle of the step and queues without bound', () => {
    const low = replicasNeeded(settings, 1200);
    const r = simulate(stepTrace, new StaticPolicy(low), settings);
    const stepCycles = (20 * MINUTE) / settings.cycleMs;
    expect(r.cycles - r.cyclesMet).toBeGreaterThanOrEqual(stepCycles);
    expect(r.worstTtftMs).toBeGreaterThan(60_000);
  });
});

describe('SimulatedFleet', () => {
  const workload = settings.workload;
  it('a new pod costs from the start and serves nothing until its start-up delay has passed', () => {
    const f = new SimulatedFleet({ workload, initialReplicas: 1, startupMs: 120_000 });
    const cap = f.capacityPerReplica;
    f.setReplicas(2, 0);
    const before = f.step(119_000, 1000, 1.5 * cap);
    expect(before).toMatchObject({ replicas: 2, ready: 1 });
    expect(before.served).toBeCloseTo(cap, 6);
    const after = f.step(120_000, 1000, 1.5 * cap);
    expect(after.ready).toBe(2);
    expect(after.served).toBeGreaterThan(1.5 * cap);
  });
  it('past capacity the queue grows and every request behind it waits longer', () => {
    const f = new SimulatedFleet({ workload, initialReplicas: 1, startupMs: 0 });
    const cap = f.capacityPerReplica;
    const a = f.step(0, 1000, 2 * cap);
    const b = f.step(1000, 1000, 2 * cap);
    expect(b.waiting).toBeGreaterThan(a.waiting + 0.9 * cap);
    expect(b.ttftMs!).toBeGreaterThan(a.ttftMs! + 900);
    const none = new SimulatedFleet({ workload, initialReplicas: 0, startupMs: 0 }).step(0, 1000, 10);
    expect(none).toMatchObject({ served: 0, ttftMs: undefined, waiting: 10 });
  });
});
