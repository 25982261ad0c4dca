// InvalidConfiguration: a refused wva-saturation-scaling-config entry (watched through the real
// client against the fake API server) is the condition of the VariantAutoscalings it concerns,
// naming the key, the field and the rule, and what stood in; other models are unaffected.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PodMetrics } from '../../../src/collector/pods.js';
import type { GroupMember } from '../../../src/controller/decision.js';
import { watchSaturationConfig } from '../../../src/controller/saturation-config.js';
import { SaturationDecider } from '../../../src/controller/saturation-decider.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { FakeApiServer } from '../../support/fake-apiserver.js';
import { saturationMember } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const NS = 'llm';
const NAME = 'wva-saturation-scaling-config';
const DEFAULT =
  'kvCacheThreshold: 0.80\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n';

let api: FakeApiServer;
beforeEach(async () => {
  api = await FakeApiServer.start();
});
afterEach(async () => {
  await api.close();
});

const member = (name: string, model: string): GroupMember => saturationMember(NS, name, model);
const podOf = (name: string, model: string, kv: number): PodMetrics => ({
  pod: `${name}-decode-5d8f-a1`,
  modelId: model,
  namespace: NS,
  kvCacheUsage: kv,
  queueLength: 0,
});

describe('InvalidConfiguration', () => {
  it('a refused override concerns its model only; a refused default every model; fixed, the conditions clear', async () => {
    const w = watchSaturationConfig(api.kubeConfig(), 'wva-system', NAME, silentLogger);
    const decider = new SaturationDecider({ config: w.holder, stabilizationWindowMs: 0 });
    const bad = member('bad', 'm/bad');
    const good = member('good', 'm/good');
    const decide = () => {
      decider.beginCycle();
      return {
        bad: decider.decide(bad.va, [bad], [podOf('bad', 'm/bad', 0.5)]),
        good: decider.decide(good.va, [good], [podOf('good', 'm/good', 0.5)]),
      };
    };
    const ready = (o: ReturnType<typeof decide>['bad']) =>
      o.status.conditions.find((c) => c.type === 'OptimizationReady');
    const put = (data: Record<string, string>) =>
      api.put('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: NAME, namespace: 'wva-system' },
        data,
      });
    try {
      w.start();
      put({ default: DEFAULT, override: 'model_id: m/bad\nnamespace: llm\nkvCacheThreshold: 1.5\n' });
      await until(() => w.holder.dataFor(NS).data?.override !== undefined, 'the ConfigMap watched');
      let out = decide();
      expect(ready(out.bad)).toEqual({
        type: 'OptimizationReady',
        status: 'False',
        reason: 'InvalidConfiguration',
        message:
          'wva-saturation-scaling-config key "override": kvCacheThreshold must be within [0, 1], got 1.5 (the "default" entry stands in); decided meanwhile: saturation-only mode: no-change (target: 1 replicas)',
      });
      // The decision from what stood in is still published.
      expect(out.bad.status.desired).toEqual({ numReplicas: 1, accelerator: 'L4' });
      expect(ready(out.good)).toMatchObject({ status: 'True', reason: 'SaturationOnlyMode' });

      const seen = w.holder.version;
      put({ default: 'kvCacheThreshold: 0.05\nkvSpareTrigger: 0.1\n' });
      await until(() => w.holder.version > seen, 'the edit watched');
      out = decide();
      for (const o of [out.bad, out.good]) {
        expect(ready(o)).toMatchObject({ status: 'False', reason: 'InvalidConfiguration' });
        expect(ready(o)?.message).toContain(
          'wva-saturation-scaling-config key "default": kvCacheThreshold (0.05) must be >= kvSpareTrigger (0.1)',
        );
        expect(ready(o)?.message).toContain('(the built-in thresholds 0.80 / 5 / 0.1 / 3 stand in)');
      }

      const again = w.holder.version;
      put({ default: DEFAULT });
      await until(() => w.holder.version > again, 'the fix watched');
      out = decide();
      expect(ready(out.bad)).toMatchObject({ status: 'True', reason: 'SaturationOnlyMode' });
      expect(ready(out.good)).toMatchObject({ status: 'True', reason: 'SaturationOnlyMode' });
    } finally {
      await w.stop();
    }
  });
});
