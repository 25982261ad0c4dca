// wva-saturation-scaling-config reaches the controller and is held for the saturation engine: the
// global copy watched (the real client against the fake API server), namespace-local copies
// labelled wva.llmd.ai/config-enabled replacing it for their namespace.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ruleFor } from '../../../src/actuator/scale-to-zero.js';
import { type ConfigMapLike, ScaleToZeroPolicies } from '../../../src/config/scale-to-zero.js';
import { watchUpstreamConfigMaps } from '../../../src/controller/config-copies.js';
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

  it('namespace-local copies: labelled ones outside the controller namespace reach the scale-to-zero policy and the holder', async () => {
    const api = await FakeApiServer.start();
    const local: ConfigMapLike[][] = [];
    const w = watchUpstreamConfigMaps({
      kubeConfig: api.kubeConfig(),
      namespace: 'wva-system',
      logger: silent,
      scaleToZeroCopies: (l) => local.push(l),
    });
    const cm = (namespace: string, name: string, data: Record<string, string>, labelled = true): Obj => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace,
        ...(labelled ? { labels: { 'wva.llmd.ai/config-enabled': 'true' } } : {}),
      },
      data,
    });
    try {
      w.start();
      api.put(
        'configmaps',
        cm('team-a', 'wva-model-scale-to-zero-config', { default: 'enable_scale_to_zero: true' }),
      );
      api.put(
        'configmaps',
        cm('team-b', 'wva-model-scale-to-zero-config', { default: 'enable_scale_to_zero: true' }, false),
      );
      api.put(
        'configmaps',
        cm('team-a', 'wva-saturation-scaling-config', { default: 'kvCacheThreshold: 0.6' }),
      );
      api.put(
        'configmaps',
        cm('wva-system', 'wva-saturation-scaling-config', { default: 'kvCacheThreshold: 0.8' }),
      );
      // The global copy alone already gives team-a data: wait for team-a's own copy, not for any.
      await until(
        () =>
          w.saturation.dataFor('team-a').from === 'team-a/wva-saturation-scaling-config' &&
          w.saturation.dataFor('llm').data !== undefined &&
          local.at(-1)?.length === 1,
        'copies and the global one watched',
      );
      expect(w.saturation.dataFor('team-a').from).toBe('team-a/wva-saturation-scaling-config');
      expect(w.saturation.dataFor('llm').from).toBe('wva-system/wva-saturation-scaling-config');
      expect(local.at(-1)?.map((c) => c.metadata.namespace)).toEqual(['team-a']);
      // As the actuator takes them: team-a's copy replaces the global policy there only.
      const policies = new ScaleToZeroPolicies();
      policies.setLocal(new Map((local.at(-1) ?? []).map((c) => [c.metadata.namespace, c.data ?? {}])));
      expect(ruleFor(policies.forNamespace('team-a'), false, 'm', 'team-a').enabled).toBe(true);
      expect(ruleFor(policies.forNamespace('team-b'), false, 'm', 'team-b').enabled).toBe(false);
      // Only labelled ConfigMaps were listed and watched.
      const reads = api.requests.filter((r) => r.plural === 'configmaps' && !r.query.fieldSelector);
      expect(reads.length).toBeGreaterThan(0);
      for (const r of reads) expect(r.query.labelSelector).toBe('wva.llmd.ai/config-enabled=true');
    } finally {
      await w.stop();
      await api.close();
    }
  });
});
