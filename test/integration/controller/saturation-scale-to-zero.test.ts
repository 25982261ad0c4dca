// Scale to zero in the saturation engine against a REAL Prometheus: backfilled vLLM series with a
// known timeline, the fleet query (one call, with the requests-over-retention term) evaluated at a
// chosen instant, the rule from wva-model-scale-to-zero-config. A profile-less model idle over its
// whole retention period goes to 0; one whose series are younger than the period (unknown
// evidence) keeps its replica; one with scale to zero off keeps it too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../../src/cache/index.js';
import { FleetCollector } from '../../../src/collector/index.js';
import { ScaleToZeroPolicies } from '../../../src/config/scale-to-zero.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { SaturationConfigHolder } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { saturationZeroSource } from '../../../src/controller/saturation-zero.js';
import { PrometheusClient } from '../../../src/prometheus/index.js';
import { type PrometheusServer, startPrometheus, BACKFILL_TIME_S as T } from '../../support/prometheus.js';
import { saturationMember } from '../../support/variants.js';
import { scaleToZeroFleetOpenMetrics } from '../../support/vllm-openmetrics.js';

const NS = 'prod';
const RETENTION_S = 600;

let prom: PrometheusServer;
beforeAll(async () => {
  prom = await startPrometheus({
    // One pod of `<name>-decode` a model (org/<name>), KV 0.1.
    openmetrics: scaleToZeroFleetOpenMetrics(
      (model) => `model_name="${model}",namespace="${NS}",pod="${model.split('/')[1]}-decode-5d8f-a1"`,
      0.1,
    ),
  });
}, 120_000);
afterAll(async () => {
  await prom?.stop();
});

const member = (name: string, model: string): GroupMember => saturationMember(NS, name, model);

describe('scale to zero in the saturation engine (real Prometheus)', () => {
  it('idle over the retention period: 0; unknown evidence or scale to zero off: the replica stays', async () => {
    const collector = new FleetCollector({
      prom: new PrometheusClient({ url: prom.url, timeoutMs: 5000 }),
      cache: new ModelMetricsCache({ ttlMs: 30_000 }),
      evaluationTime: () => new Date(T * 1000),
    });
    const policies = new ScaleToZeroPolicies();
    expect(
      policies.setGlobal(
        {
          default: 'enable_scale_to_zero: false\nretention_period: 10m',
          quiet: 'model_id: org/quiet\nenable_scale_to_zero: true\nretention_period: 10m',
          young: 'model_id: org/young\nenable_scale_to_zero: true',
        },
        'upstream',
        'wva-system/wva-model-scale-to-zero-config',
      ),
    ).toEqual([]);
    const zero = saturationZeroSource(policies, () => false, collector);
    collector.countRequestsOver(() => [RETENTION_S]);
    const decider = new SaturationDecider({
      config: new SaturationConfigHolder('wva-system', 'wva-saturation-scaling-config'),
      stabilizationWindowMs: 0,
      scaleToZero: zero,
    });
    const view = await collector.snapshot();
    decider.beginCycle();
    const decide = async (name: string, model: string) => {
      const m = member(name, model);
      const read = await view.read(model, NS);
      expect(read.pods?.length).toBe(1);
      return decider.decide(m.va, [m], read.pods);
    };

    const quiet = await decide('quiet', 'org/quiet');
    expect(collector.requestsOver('org/quiet', NS, RETENTION_S)).toEqual({ kind: 'count', requests: 0 });
    expect(quiet.decision?.targetReplicas).toBe(0);
    expect(quiet.decision?.steps.find((s) => s.name === 'ScaleToZero')).toMatchObject({
      targetReplicas: 0,
      wasConstrained: true,
    });
    expect(quiet.status.desired).toEqual({ numReplicas: 0, accelerator: 'L4' });

    const young = await decide('young', 'org/young');
    expect(collector.requestsOver('org/young', NS, RETENTION_S).kind).not.toBe('count');
    expect(young.decision?.targetReplicas).toBe(1);

    const on = await decide('always-on', 'org/always-on');
    expect(on.decision?.targetReplicas).toBe(1);
  });
});
