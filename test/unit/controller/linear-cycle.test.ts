import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VariantOptimizer } from '../../../src/controller/decision.js';
import { LocalSource } from '../../../src/controller/local.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import type { Deployment, VariantAutoscaling } from '../../../src/kube/types.js';
import { clusterActuation } from '../../support/controller-fixtures.js';
import { cycleDriver } from '../../support/cycles.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { deploymentObject, vaObject } from '../../support/variants.js';

const reading: MetricsRead = {
  metrics: {
    load: { arrivalRate: 600, avgInputTokens: 100, avgOutputTokens: 20 },
    ttftAverage: 50,
    itlAverage: 10,
  },
  availability: { available: true, reason: 'MetricsFound', message: 'found' },
};

let api: FakeApiServer;
beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await api.close();
});

/** One cycle over `models` models of `per` variants each; how often the source was asked what. */
async function cycle(models: number, per: number) {
  const source = new LocalSource();
  const vas: VariantAutoscaling[] = [];
  const deps: Deployment[] = [];
  for (let i = 0; i < models; i++) {
    for (let j = 0; j < per; j++) {
      vas.push(vaObject('prod', `va-${i}-${j}`, `m-${i}`));
      deps.push(deploymentObject('prod', `va-${i}-${j}`, 1));
    }
  }
  source.load({ variants: vas, deployments: deps });
  const calls = { list: 0, deployment: 0 };
  const listVariants = source.listVariants.bind(source);
  const getDeployment = source.getDeployment.bind(source);
  source.listVariants = () => {
    calls.list++;
    return listVariants();
  };
  source.getDeployment = (ns: string, name: string) => {
    calls.deployment++;
    return getDeployment(ns, name);
  };
  const actuation = clusterActuation(api.kubeConfig(), source, { A100: 40 });
  const optimizer = new VariantOptimizer({
    config: {
      serviceClasses: {
        value: [
          {
            key: 'p.yaml',
            name: 'premium',
            priority: 1,
            entries: Array.from({ length: models }, (_, i) => ({
              model: `m-${i}`,
              slo: { ttftMs: 1000, itlMs: 50 },
            })),
          },
        ],
      },
      unitCosts: { value: { A100: 40 } },
    },
    minReplicasDefault: (va) => actuation.minReplicas(va),
  });
  const driver = cycleDriver({
    source,
    writer: source,
    collector: { read: async () => reading, snapshot: async () => ({ read: () => reading }) },
    optimizer,
    actuator: actuation.actuator,
  });
  const res = await driver.runCycle();
  await actuation.stop();
  return { calls, decided: res.results.filter((x) => x.decision?.ok).length };
}

describe('a cycle is linear in the fleet', () => {
  it('one model with 300 variants: each Deployment read a bounded number of times, the fleet listed a few times', async () => {
    const { calls, decided } = await cycle(1, 300);
    expect(decided).toBe(300);
    // Each variant's own Deployment, its group's once, and the actuation's reads (what runs, the
    // variant that keeps the model serving): a few per variant, never one per pair of variants
    // (the code before read 180 300 for these 300).
    expect(calls.deployment).toBeLessThanOrEqual(10 * 300);
    expect(calls.list).toBeLessThanOrEqual(4);
  });

  it('300 models of 2 variants: the fleet is listed a few times per cycle, not once per VariantAutoscaling', async () => {
    const { calls, decided } = await cycle(300, 2);
    expect(decided).toBe(600);
    expect(calls.list).toBeLessThanOrEqual(4);
    expect(calls.deployment).toBeLessThanOrEqual(10 * 600);
  });
});
