// wva-saturation-scaling-config reaches the controller and is held for the saturation engine: the
// global copy watched (the real client against the fake API server), namespace-local copies
// labelled wva.llmd.ai/config-enabled replacing it for their namespace.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { watchSaturationConfig } from '../../../src/controller/saturation-config.js';
import { FakeApiServer, type Obj } from '../../support/fake-apiserver.js';
import { until } from '../../support/wait.js';

const sample = parse(
  readFileSync(
    new URL('../../fixtures/upstream-v0.5/configmap-saturation-scaling.yaml', import.meta.url),
    'utf8',
  ),
) as Obj & { data: Record<string, string> };
const silent = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};

describe('wva-saturation-scaling-config', () => {
  it("upstream's sample is watched in the controller's namespace and held per model namespace", async () => {
    const api = await FakeApiServer.start();
    const w = watchSaturationConfig(api.kubeConfig(), 'wva-system', 'wva-saturation-scaling-config', silent);
    try {
      w.start();
      api.put('configmaps', {
        ...sample,
        metadata: { name: 'wva-saturation-scaling-config', namespace: 'wva-system' },
      });
      await until(() => w.holder.dataFor('llm').data !== undefined, 'the ConfigMap watched');
      expect(w.holder.dataFor('llm')).toEqual({
        data: sample.data,
        from: 'wva-system/wva-saturation-scaling-config',
      });
      const seen = w.holder.version;
      api.put('configmaps', {
        ...sample,
        metadata: { name: 'wva-saturation-scaling-config', namespace: 'wva-system' },
        data: { default: 'kvCacheThreshold: 0.7' },
      });
      await until(() => w.holder.version > seen, 'the edit watched');
      expect(w.holder.dataFor('llm').data).toEqual({ default: 'kvCacheThreshold: 0.7' });
      w.holder.setLocal([
        {
          metadata: {
            name: 'wva-saturation-scaling-config',
            namespace: 'team-a',
            labels: { 'wva.llmd.ai/config-enabled': 'true' },
          },
          data: { default: 'kvCacheThreshold: 0.5' },
        },
      ]);
      expect(w.holder.dataFor('team-a')).toEqual({
        data: { default: 'kvCacheThreshold: 0.5' },
        from: 'team-a/wva-saturation-scaling-config',
      });
      expect(w.holder.dataFor('llm').from).toBe('wva-system/wva-saturation-scaling-config');
      api.delete('configmaps', 'wva-system', 'wva-saturation-scaling-config');
      await until(() => w.holder.dataFor('llm').data === undefined, 'the deletion watched');
    } finally {
      await w.stop();
      await api.close();
    }
  });
});
