// The controller in local mode learns a variant's performance model from a real Prometheus and
// hands the model from saturation to the SLO engine; a restart keeps what was learned.
//
// The world (test/support/slo-world.ts): one model on two emulated vLLM pods (H100) under a load
// swinging over ten-minute "days", scraped every 5 s into a real Prometheus. The controller runs its
// real cycle (manifests, the one fleet query, the learner, the engines, statuses) every 30 s of
// evaluation time: the collector's evaluation time, the controller's clocks and the learner's are
// all the same injected clock.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRow } from '../../src/controller/local.js';
import { FileLearnedStore } from '../../src/controller/slo-setup.js';
import { ENGINE_NAMES } from '../../src/engines/types.js';
import type { PrometheusServer } from '../support/prometheus.js';
import {
  DEPLOYMENT_YAML,
  END_MS,
  FIRST_CYCLE_MS,
  MODEL,
  NS,
  readyMessage,
  SERVICE_CLASS_YAML,
  sloController,
  startSloWorld,
} from '../support/slo-world.js';

const MANIFESTS = `${DEPLOYMENT_YAML}---
apiVersion: llmd.ai/v1alpha1
kind: VariantAutoscaling
metadata:
  name: llama-h100
  namespace: ${NS}
  labels: { inference.optimization/acceleratorName: H100 }
spec:
  modelID: ${MODEL}
  scaleTargetRef: { kind: Deployment, name: llama-h100 }
  variantCost: "70.0"
---${SERVICE_CLASS_YAML}`;

let prom: PrometheusServer;
let dir: string;

beforeAll(async () => {
  prom = await startSloWorld();
  dir = mkdtempSync(join(tmpdir(), 'wva-slo-e2e-'));
  writeFileSync(join(dir, 'fleet.yaml'), MANIFESTS);
}, 240_000);

afterAll(async () => {
  await prom?.stop();
});

/** A controller process: its own collector, learner and decider, all on the clock `t`. */
const controller = (t: { now: number }, learnedFile: string) =>
  sloController(prom, dir, t, new FileLearnedStore(learnedFile));

describe('SLO engine with a learned model, end to end', () => {
  it('decides with saturation (saying why) until the learned model is confident, then with the SLO engine; a restart keeps it', async () => {
    const learnedFile = join(dir, 'learned.json');
    const t = { now: FIRST_CYCLE_MS };
    const first = controller(t, learnedFile);
    const rows: CycleRow[] = [];
    // Until 10 minutes before the data ends: the restarted controller runs in what is left.
    while (t.now < END_MS - 10 * 60_000) rows.push(await first.cycle());
    await first.stop();

    const engines = rows.map((r) => r.engine);
    expect(rows[0]?.engine).toBe(ENGINE_NAMES.saturationV1);
    expect(readyMessage(rows[0])).toMatch(
      /^saturation-v1: learned model for variant llama-h100 not usable yet \(/,
    );
    const switched = engines.indexOf(ENGINE_NAMES.slo);
    expect(switched, `never switched; last message: ${readyMessage(rows.at(-1))}`).toBeGreaterThan(0);
    // Not before the learner has scored its minimum of cycles.
    expect(switched).toBeGreaterThanOrEqual(19);
    expect(readyMessage(rows[switched])).toMatch(/SLO engine: learned profile \(\d+ cycles, ITL error/);
    // Once confident it stays so while the traffic keeps its shape.
    const after = engines.slice(switched);
    expect(after.filter((e) => e === ENGINE_NAMES.slo).length).toBeGreaterThanOrEqual(after.length - 2);
    const [view] = first.slo.learner.views();
    expect(view?.status.usable).toBe(true);

    // A new process on the same file: confident at its first cycle.
    const second = controller(t, learnedFile);
    const row = await second.cycle();
    expect(row.engine).toBe(ENGINE_NAMES.slo);
    expect(second.slo.learner.views()[0]?.status.cycles).toBeGreaterThan(view?.status.cycles as number);
    await second.stop();

    // Without the file the same cycle is saturation's.
    const fresh = controller({ now: t.now }, join(dir, 'none.json'));
    expect((await fresh.cycle()).engine).toBe(ENGINE_NAMES.saturationV1);
    await fresh.stop();
  }, 240_000);
});
