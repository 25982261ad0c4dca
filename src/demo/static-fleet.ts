// The fleet the demo is compared with: every variant held at its peak replica count for the whole
// run, same scenario, same seed, played on its own emulator in simulated time (no Prometheus: it
// reads the emulator's own totals over the same window, which the live run showed Prometheus
// reads back).
import { type EmulatorConfig, VllmEmulator } from '../emulator/index.js';
import type { SloTargets } from '../optimizer/index.js';
import { type FleetScore, meetsSlo } from './loop-ledger.js';

export interface StaticFleetOptions {
  /** The emulator config the live run used (scenario applied). */
  config: EmulatorConfig;
  /** Replicas per `namespace/variant`; variants not listed keep the config's count. */
  replicas: Map<string, number>;
  /** SLO per `namespace/model`; models without one are not scored. */
  slo: Map<string, SloTargets>;
  durationMs: number;
  intervalMs: number;
  windowMs: number;
  /** Cycles before this are not scored (as in the live run). */
  warmupMs: number;
  /** A variant's variantCost; default 1. */
  costOf?: (namespace: string, name: string) => number;
}

export function scoreStaticFleet(o: StaticFleetOptions): FleetScore {
  const config: EmulatorConfig = {
    ...o.config,
    models: o.config.models.map((m) => ({
      ...m,
      variants: m.variants.map((v) => ({
        ...v,
        replicas: o.replicas.get(`${m.namespace}/${v.name}`) ?? v.replicas,
      })),
    })),
  };
  let now = 0;
  const emulator = new VllmEmulator(config, { now: () => now });
  let cycles = 0;
  let met = 0;
  for (let t = o.intervalMs; t <= o.durationMs; t += o.intervalMs) {
    now = t;
    emulator.sync();
    if (t < o.warmupMs) continue;
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
  const pods = emulator.pods.length;
  const requests = { total: 0, met: 0 };
  for (const m of emulator.models) {
    const slo = o.slo.get(`${m.namespace}/${m.model}`);
    if (!slo) continue;
    const r = emulator.requestsWithin(m.model, m.namespace, slo, o.warmupMs, o.durationMs + 1);
    requests.total += r.total;
    requests.met += r.met;
  }
  let cost = 0;
  for (const v of emulator.variants()) cost += v.replicas * (o.costOf?.(v.namespace, v.name) ?? 1);
  return {
    cycles,
    met,
    attainment: cycles > 0 ? met / cycles : undefined,
    replicaMinutes: (pods * o.durationMs) / 60_000,
    actions: 0,
    requests,
    cost: (cost * o.durationMs) / 3_600_000,
  };
}
