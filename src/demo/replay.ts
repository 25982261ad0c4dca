// A fleet the demo is compared with, played on its own emulator in virtual time: same config (the
// scenario applied), same seed, so the same trace. No Prometheus: it reads the emulator's own
// totals over the window, which the live run showed Prometheus reads back. A policy, when given,
// resizes the fleet each cycle; without one the fleet stays as configured (the static fleet).
import { type EmulatorConfig, VllmEmulator } from '../emulator/index.js';
import type { SloTargets } from '../optimizer/index.js';
import { type FleetScore, meetsSlo } from './loop-ledger.js';

export interface ReplayOptions {
  /** The emulator config the live run used (scenario applied), replica counts as they start. */
  config: EmulatorConfig;
  /** SLO per `namespace/model`; models without one are not scored. */
  slo: Map<string, SloTargets>;
  durationMs: number;
  intervalMs: number;
  windowMs: number;
  /** Cycles before this are not scored (as in the live run). */
  warmupMs: number;
  /** A variant's variantCost; default 1. */
  costOf?: (namespace: string, name: string) => number;
  /** Replica-minutes and cost count from here (the live run's first cycle); default 0. */
  costFromMs?: number;
}

/** Resizes the emulator's variants at a cycle (virtual time `nowMs`); returns the scaling actions. */
export interface ReplayPolicy {
  /** Called at every virtual second, before any cycle at that instant (a scrape). */
  sample?(emulator: VllmEmulator, nowMs: number): void;
  cycle(emulator: VllmEmulator, nowMs: number): number;
}

const SAMPLE_MS = 1000;

/** Plays the trace and scores it as the live run is scored (model-cycles, requests, cost). */
export function replayFleet(o: ReplayOptions, policy?: ReplayPolicy): FleetScore {
  let now = 0;
  const emulator = new VllmEmulator(o.config, { now: () => now });
  let cycles = 0;
  let met = 0;
  let actions = 0;
  let replicaMs = 0;
  let costMs = 0;
  let nextCycle = o.intervalMs;
  // Each virtual second: pods (what runs, starting ones included) cost until the next second.
  for (let t = 0; t < o.durationMs; t += SAMPLE_MS) {
    const dt = Math.min(SAMPLE_MS, o.durationMs - t);
    if (t >= (o.costFromMs ?? 0))
      for (const v of emulator.variants()) {
        replicaMs += v.replicas * dt;
        costMs += v.replicas * dt * (o.costOf?.(v.namespace, v.name) ?? 1);
      }
    now = t + dt;
    emulator.sync();
    policy?.sample?.(emulator, now);
    if (now < nextCycle) continue;
    nextCycle += o.intervalMs;
    if (now >= o.warmupMs) {
      for (const m of emulator.models) {
        const slo = o.slo.get(`${m.namespace}/${m.model}`);
        const seen = emulator.observed(m.model, m.namespace, o.windowMs);
        if (!slo || !(seen.load.arrivalRate > 0)) continue;
        const ok = meetsSlo(slo, seen.ttftAverage, seen.itlAverage);
        if (ok === undefined) continue;
        cycles++;
        if (ok) met++;
      }
    }
    if (policy) actions += policy.cycle(emulator, now);
  }
  const requests = { total: 0, met: 0 };
  for (const m of emulator.models) {
    const slo = o.slo.get(`${m.namespace}/${m.model}`);
    if (!slo) continue;
    const r = emulator.requestsWithin(m.model, m.namespace, slo, o.warmupMs, o.durationMs + 1);
    requests.total += r.total;
    requests.met += r.met;
  }
  return {
    cycles,
    met,
    attainment: cycles > 0 ? met / cycles : undefined,
    replicaMinutes: replicaMs / 60_000,
    actions,
    requests,
    cost: costMs / 3_600_000,
  };
}
