// Which variant keeps a model serving while it may not go to zero: the cheapest per replica among
// the variants that can serve (a Deployment that exists and is not being deleted, a profile that
// parses); the others may go to 0 only while that one has ready replicas.
import { describe, expect, it } from 'vitest';
import { LocalSource } from '../../src/controller/local.js';
import type { Deployment, VariantAutoscaling, VariantAutoscalingSpec } from '../../src/kube/types.js';
import { useFakeApiServer } from '../support/api-harness.js';
import { clusterActuation } from '../support/controller-fixtures.js';
import { deploymentObject, vaObject } from '../support/variants.js';

const fake = useFakeApiServer();

const va = (name: string, accelerator: string, spec?: VariantAutoscalingSpec) =>
  vaObject('prod', name, 'org/m', { accelerator, ...(spec ? { spec } : {}) });
const dep = (name: string, ready: number, deleting = false) => {
  const d = deploymentObject('prod', name, ready);
  if (deleting) d.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  return d;
};

function serving(variants: VariantAutoscaling[], deployments: Deployment[]) {
  const source = new LocalSource();
  source.load({ variants, deployments });
  const actuation = clusterActuation(fake.api.kubeConfig(), source, { A100: 10, H100: 40, L40S: 20 });
  return (name: string) =>
    actuation.serving(variants.find((v) => v.metadata.name === name) as VariantAutoscaling);
}

describe('the variant that keeps a model serving', () => {
  it('the cheapest that can serve: not one without a Deployment, with one being deleted, or with a bad profile', () => {
    const badProfile = {
      modelID: 'org/m',
      sloClassRef: { name: 'premium', key: 'org/m' },
      modelProfile: {
        accelerators: [
          {
            acc: 'A100',
            accCount: 1,
            // Beyond what the optimizer accepts (the spec's own check lets it through).
            maxBatchSize: 100_000_000,
            perfParms: {
              decodeParms: { alpha: '20', beta: '0.4' },
              prefillParms: { gamma: '5', delta: '0.1' },
            },
          },
        ],
      },
    };
    const of = serving(
      [va('phantom', 'A100'), va('doomed', 'A100'), va('broken', 'A100', badProfile), va('real', 'H100')],
      [dep('doomed', 2, true), dep('broken', 2), dep('real', 3)],
    );
    expect(of('real')).toEqual({ keeps: true });
    expect(of('phantom')).toEqual({ keeps: false, by: 'real' });
    expect(of('doomed')).toEqual({ keeps: false, by: 'real' });
    expect(of('broken')).toEqual({ keeps: false, by: 'real' });
  });

  it('the others go to 0 only while it has ready replicas', () => {
    const of = serving([va('cheap', 'A100'), va('dear', 'H100')], [dep('cheap', 0), dep('dear', 2)]);
    expect(of('cheap')).toEqual({ keeps: true });
    expect(of('dear')).toEqual({ keeps: false });
  });
});
