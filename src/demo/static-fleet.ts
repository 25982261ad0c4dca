// The fleet the demo is compared with first: every variant held at its peak replica count for the
// whole run, replayed on its own emulator in virtual time (replay.ts).
import type { EmulatorConfig } from '../emulator/index.js';
import type { FleetScore } from './loop-ledger.js';
import { type ReplayOptions, replayFleet } from './replay.js';

export interface StaticFleetOptions extends ReplayOptions {
  /** Replicas per `namespace/variant`; variants not listed keep the config's count. */
  replicas: Map<string, number>;
}

/** The config with each variant's replica count from `replicas` (others as configured). */
export function withReplicas(config: EmulatorConfig, replicas: Map<string, number>): EmulatorConfig {
  return {
    ...config,
    models: config.models.map((m) => ({
      ...m,
      variants: m.variants.map((v) => ({
        ...v,
        replicas: replicas.get(`${m.namespace}/${v.name}`) ?? v.replicas,
      })),
    })),
  };
}

export function scoreStaticFleet(o: StaticFleetOptions): FleetScore {
  return replayFleet({ ...o, config: withReplicas(o.config, o.replicas) });
}
