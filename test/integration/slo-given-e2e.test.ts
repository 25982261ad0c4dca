// The controller in local mode over a real Prometheus, for an older-shape VariantAutoscaling
// (spec.modelProfile + sloClassRef): the given profile is the learner's prior, fed from the same
// per-pod series of the one fleet query as profile-less variants. A profile near what the emulator
// measures stays with the optimizer and is corrected; one far off is contradicted, and the model
// falls back to saturation with the condition saying why.
//
// The world is slo-learning-e2e's (test/support/slo-world.ts); the controller's cycle every 30 s
// of evaluation time on one injected clock.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRow } from '../../src/controller/local.js';
import { ENGINE_NAMES } from '../../src/engines/types.js';
import type { PrometheusServer } from '../support/prometheus.js';
import {
  DEPLOYMENT_YAML,
  FIRST_CYCLE_MS,
  MODEL,
  NS,
  readyMessage,
  SERVICE_CLASS_YAML,
  sloController,
  startSloWorld,
} from '../support/slo-world.js';

const CYCLES = 50;

interface Lines {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

function manifests(p: Lines): string {
  return `${DEPLOYMENT_YAML}---
apiVersion: llmd.ai/v1alpha1
kind: VariantAutoscaling
metadata:
  name: llama-h100
  namespace: ${NS}
  labels: { inference.optimization/acceleratorName: H100 }
spec:
  modelID: ${MODEL}
  sloClassRef: { name: premium, key: ${MODEL} }
  modelProfile:
    accelerators:
      - acc: H100
        accCount: 1
        maxBatchSize: 64
        perfParms:
          decodeParms: { alpha: "${p.alpha}", beta: "${p.beta}" }
          prefillParms: { gamma: "${p.gamma}", delta: "${p.delta}" }
---${SERVICE_CLASS_YAML}---
apiVersion: v1
kind: ConfigMap
metadata: { name: accelerator-unit-costs, namespace: workload-variant-autoscaler-system }
data:
  H100: '{ "device": "H100", "cost": "70.00" }'
`;
}

let prom: PrometheusServer;
let dir: string;

beforeAll(async () => {
  prom = await startSloWorld();
  dir = mkdtempSync(join(tmpdir(), 'wva-slo-given-e2e-'));
}, 240_000);

afterAll(async () => {
  await prom?.stop();
});

/** A controller process over manifests with the profile `p`, on the clock `t`; nothing persisted. */
function controller(name: string, p: Lines, t: { now: number }) {
  const at = join(dir, name);
  mkdirSync(at);
  writeFileSync(join(at, 'fleet.yaml'), manifests(p));
  const c = sloController(prom, at, t);
  return {
    slo: c.slo,
    async run(n: number): Promise<CycleRow[]> {
      const rows: CycleRow[] = [];
      for (let i = 0; i < n; i++) rows.push(await c.cycle());
      await c.stop();
      return rows;
    },
  };
}

describe('a given modelProfile corrected by what is measured, end to end', () => {
  it('a profile near the measurements is corrected; one far off falls back to saturation, saying why', async () => {
    // Near: 20 % slower than a first learned run measured this world (alpha 7.3, beta 0.10,
    // gamma 38, delta 0.0007); far: alpha 5 times that.
    const near = { alpha: 8.8, beta: 0.12, gamma: 45, delta: 0.00083 };
    const good = controller('near', near, { now: FIRST_CYCLE_MS });
    const rows = await good.run(CYCLES);
    // The optimizer sized it every cycle (never saturation), first with the profile as given.
    expect(rows.map((r) => r.engine ?? 'optimizer')).toEqual(rows.map(() => 'optimizer'));
    expect(rows.every((r) => r.decision?.ok)).toBe(true);
    expect(readyMessage(rows[0])).toMatch(/^SLO engine: given profile; \d+ replica\(s\) of H100/);
    const corrected = rows.findIndex((r) =>
      readyMessage(r).startsWith('SLO engine: given profile, corrected'),
    );
    expect(corrected, `never corrected; last: ${readyMessage(rows.at(-1))}`).toBeGreaterThanOrEqual(19);
    const [view] = good.slo.learner.views();
    expect(view?.status).toMatchObject({ priorSource: 'given', contradicted: false, usable: true });
    // Corrected towards what was measured: the decode intercept down from the slow given one.
    expect(view?.profile.alpha).toBeLessThan(near.alpha);

    const bad = controller('far', { ...near, alpha: near.alpha * 5 }, { now: FIRST_CYCLE_MS });
    const badRows = await bad.run(CYCLES);
    const fell = badRows.findIndex((r) => r.engine === ENGINE_NAMES.saturationV1);
    expect(fell, `never fell back; last: ${readyMessage(badRows.at(-1))}`).toBeGreaterThanOrEqual(9);
    expect(badRows.slice(0, fell).every((r) => r.engine === undefined)).toBe(true);
    expect(readyMessage(badRows[fell])).toMatch(
      /^saturation-v1: the given profile of variant llama-h100 \(H100\) contradicts the measurements: decodeParms \(alpha 44, beta 0.12\) predict ITL [\d.]+ % off over \d+ cycles; fix spec.modelProfile or remove it/,
    );
    // Never sized with the contradicted profile again: saturation, or the learned model that replaces it.
    for (const r of badRows.slice(fell))
      if (r.engine === undefined)
        expect(readyMessage(r)).toMatch(/^SLO engine: learned profile \(.*\) replaces the given one/);
  }, 240_000);
});
