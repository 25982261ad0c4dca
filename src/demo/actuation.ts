// The demo's half of actuation: the controller's actuator scales "Deployments" through a Scaler,
// and here the Scaler is the emulator, whose pods then start (after their start-up delay) or go.
// The controller sees the Deployments as the emulator has them, as it would see them from the
// API server: spec.replicas as asked, status.replicas the pods, readyReplicas those that serve.

import type { VllmEmulator } from '../emulator/index.js';
import type { Deployment } from '../kube/types.js';
import { Recent } from './loop-tally.js';

/** One change of a variant's replica count. */
export interface ScaleAction {
  at: Date;
  namespace: string;
  name: string;
  from: number;
  to: number;
}

/**
 * Scales the emulator's variants (the actuator's Scaler in the demo); counts every change and keeps
 * the latest `keep` (a run until Ctrl-C keeps no more).
 */
export class EmulatorScaler {
  readonly actions: Recent<ScaleAction>;

  constructor(
    private readonly emulator: VllmEmulator,
    keep = 50,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.actions = new Recent(keep);
  }

  async scale(namespace: string, name: string, replicas: number): Promise<void> {
    const before = this.emulator.variants().find((v) => v.namespace === namespace && v.name === name);
    if (!before) throw new Error(`no Deployment ${namespace}/${name} in the emulator`);
    this.emulator.setReplicas(namespace, name, replicas);
    if (before.replicas !== replicas)
      this.actions.push({ at: this.now(), namespace, name, from: before.replicas, to: replicas });
  }
}

/**
 * The Deployment as the emulator runs it; a Deployment the emulator does not run stays as read.
 * The emulator's count is the truth once the demo started, whatever the manifest says.
 */
export function emulatedDeployment(emulator: VllmEmulator): (d: Deployment) => Deployment {
  return (d) => {
    const v = emulator
      .variants()
      .find((x) => x.namespace === d.metadata.namespace && x.name === d.metadata.name);
    if (!v) return d;
    return {
      ...d,
      spec: { ...d.spec, replicas: v.replicas },
      status: { ...d.status, replicas: v.replicas, readyReplicas: v.ready },
    };
  };
}
