// Every kustomization under deploy/ and examples/deploy/ (components inside the base) renders with
// the real `kubectl kustomize`, and every object it yields validates against the Kubernetes, KEDA
// and prometheus-operator schemas; the PromQL in alerts, the adapter rule and the KEDA trigger is
// accepted by Prometheus' own parser (promtool).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ActuationMetrics } from '../../src/actuator/metrics.js';
import { Telemetry } from '../../src/telemetry/metrics.js';
import {
  kustomizations,
  kustomize,
  kustomizeComponent,
  type Manifest,
  repoRoot,
  schemaProblem,
} from '../support/manifests.js';

const all = [...kustomizations('deploy'), ...kustomizations('examples/deploy')];
const rendered = new Map<string, Manifest[]>(
  all.map((k) => [
    k.path,
    k.kind === 'Component' ? kustomizeComponent(k.path) : kustomize(join(repoRoot, k.path)),
  ]),
);
const component = (name: string) => rendered.get(`deploy/components/${name}`) ?? [];
const find = (objs: Manifest[], kind: string) => objs.filter((o) => o.kind === kind);
/** The one object of a kind (fails the test when there is not exactly one). */
function only(objs: Manifest[], kind: string): Manifest {
  const found = find(objs, kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
}

/** `promtool check rules` over expressions; returns its output and exit status. */
function promtoolCheck(exprs: Array<{ record: string; expr: string }>): { ok: boolean; out: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'wva-promql-')), 'rules.yml');
  writeFileSync(file, JSON.stringify({ groups: [{ name: 'check', rules: exprs }] }));
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/ manifests', () => {
  it('finds the base, the six components and the three example overlays', () => {
    expect(all.map((k) => `${k.kind} ${k.path}`).sort()).toEqual([
      'Component deploy/components/alerts',
      'Component deploy/components/direct-scale',
      'Component deploy/components/gpu-limiter',
      'Component deploy/components/hpa',
      'Component deploy/components/keda',
      'Component deploy/components/scale-from-zero',
      'Kustomization deploy',
      'Kustomization examples/deploy/direct-scale',
      'Kustomization examples/deploy/hpa',
      'Kustomization examples/deploy/keda',
    ]);
  });

  it.each(all.map((k) => k.path))('%s: every object validates against its schema', (path) => {
    const objs = rendered.get(path) ?? [];
    expect(objs.length).toBeGreaterThan(5);
    expect(objs.map(schemaProblem).filter(Boolean)).toEqual([]);
  });

  it('the validator is live: a wrong type, a missing required field and an unknown kind are caught', () => {
    const hpa = structuredClone(only(component('hpa'), 'HorizontalPodAutoscaler'));
    hpa.spec.maxReplicas = '10';
    expect(schemaProblem(hpa)).toMatch(/maxReplicas must be integer/);
    const so = structuredClone(only(component('keda'), 'ScaledObject'));
    delete so.spec.scaleTargetRef.name;
    expect(schemaProblem(so)).toMatch(/name/);
    expect(schemaProblem({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).toMatch(
      /no schema known/,
    );
  });

  it('HPA: External wva_desired_replicas selected by variant_name and exported_namespace, AverageValue 1', () => {
    const hpa = only(component('hpa'), 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: hpa.metadata.name,
    });
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'External',
        external: {
          metric: {
            name: 'wva_desired_replicas',
            selector: {
              matchLabels: { variant_name: hpa.metadata.name, exported_namespace: hpa.metadata.namespace },
            },
          },
          target: { type: 'AverageValue', averageValue: '1' },
        },
      },
    ]);
  });

  it('prometheus-adapter rule: an external rule for wva_desired_replicas whose query Prometheus parses', () => {
    const cm = only(
      component('hpa').filter((c) => c.data?.['config.yaml']),
      'ConfigMap',
    );
    const cfg = parse(cm.data['config.yaml']) as { externalRules: Manifest[] };
    expect(cfg.externalRules).toHaveLength(1);
    const rule = cfg.externalRules[0] as Manifest;
    expect(rule.name.as).toBe('wva_desired_replicas');
    expect(rule.resources.overrides.exported_namespace).toEqual({ resource: 'namespace' });
    expect(rule.metricsQuery).toContain('<<.LabelMatchers>>');
    const expr = rule.metricsQuery.replace('<<.LabelMatchers>>', 'variant_name="v",exported_namespace="ns"');
    const check = promtoolCheck([
      { record: 'adapter:series', expr: rule.seriesQuery },
      { record: 'adapter:query', expr },
    ]);
    expect(check.out).toContain('SUCCESS: 2 rules found');
  });

  it('KEDA: a prometheus trigger on the same variant, threshold 1, query Prometheus parses', () => {
    const so = only(component('keda'), 'ScaledObject');
    expect(so.spec.scaleTargetRef.name).toBe(so.metadata.name);
    const [trigger] = so.spec.triggers;
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.threshold).toBe('1');
    expect(trigger.metadata.query).toContain(`variant_name="${so.metadata.name}"`);
    expect(trigger.metadata.query).toContain(`exported_namespace="${so.metadata.namespace}"`);
    expect(promtoolCheck([{ record: 'keda:query', expr: trigger.metadata.query }]).out).toContain(
      'SUCCESS: 1 rules found',
    );
  });

  it('alerts: the PrometheusRule covers controller down, optimization failing, metrics unavailable, thrashing', async () => {
    const rule = only(component('alerts'), 'PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g: Manifest) => g.rules) as Manifest[];
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'WVAControllerDown',
        'WVAOptimizationFailing',
        'WVAMetricsUnavailable',
        'WVAReplicaThrashing',
      ]),
    );
    for (const a of alerts) expect(a.annotations.summary, a.alert).toBeTruthy();
    // Every wva_ series an alert reads is one the controller registers.
    const telemetry = new Telemetry({ collectDefaultMetrics: false });
    new ActuationMetrics(telemetry.registry);
    const registered = new Set((await telemetry.registry.getMetricsAsJSON()).map((m) => m.name));
    const read = new Set(alerts.flatMap((a) => (a.expr as string).match(/\bwva_[a-z_]+/g) ?? []));
    expect(read.size).toBeGreaterThan(2);
    for (const name of read) expect(registered.has(name), name).toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'wva-alerts-')), 'alerts.yml');
    writeFileSync(file, JSON.stringify({ groups: rule.spec.groups }));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('deployments/scale is granted only where direct actuation is switched on', () => {
    const grantsScale = (objs: Manifest[]) =>
      find(objs, 'ClusterRole').some((r) =>
        r.rules.some((rule: Manifest) => rule.resources.includes('deployments/scale')),
      );
    const args = (objs: Manifest[]) =>
      find(objs, 'Deployment').find((d) => d.metadata.name === 'wva-metrics')?.spec.template.spec
        .containers[0].args as string[];
    for (const [path, objs] of rendered) {
      const direct = path.endsWith('direct-scale');
      expect(grantsScale(objs), path).toBe(direct);
      expect(args(objs).includes('--actuator=scale'), path).toBe(direct);
    }
  });

  // The optional features' RBAC: each component adds one ClusterRole granting only its feature's
  // reads, bound to the controller's ServiceAccount (that these are used and suffice is checked
  // against the requests the features make, in test/integration/controller/).
  const featureRoles = {
    'scale-from-zero': {
      role: 'wva-metrics-scale-from-zero',
      rules: [
        {
          apiGroups: ['inference.networking.x-k8s.io'],
          resources: ['inferencepools'],
          verbs: ['list', 'watch'],
        },
      ],
    },
    'gpu-limiter': {
      role: 'wva-metrics-gpu-limiter',
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] }],
    },
  } as const;

  it.each(Object.entries(featureRoles))(
    '%s: adds exactly one ClusterRole with its rules, bound to the controller ServiceAccount',
    (name, { role, rules }) => {
      const base = kustomize(join(repoRoot, 'deploy'));
      const objs = component(name);
      const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
      const added = objs.filter((o) => !base.some((b) => key(b) === key(o)));
      expect(added.map(key).sort()).toEqual([`ClusterRole/${role}`, `ClusterRoleBinding/${role}`]);
      expect(only(added, 'ClusterRole').rules).toEqual(rules);
      const binding = only(added, 'ClusterRoleBinding');
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role,
      });
      const sa = only(base, 'ServiceAccount');
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
      ]);
      // Nothing else of the base changes (no args, no other grants).
      for (const b of base)
        expect(
          objs.find((o) => key(o) === key(b)),
          key(b),
        ).toEqual(b);
    },
  );

  it('scale from zero renders with direct-scale (its --actuator=scale) and the GPU limiter, all valid', () => {
    const objs = kustomizeComponent(
      'deploy/components/direct-scale',
      'deploy/components/scale-from-zero',
      'deploy/components/gpu-limiter',
    );
    expect(objs.map(schemaProblem).filter(Boolean)).toEqual([]);
    expect(
      find(objs, 'ClusterRole')
        .map((r) => r.metadata.name)
        .sort(),
    ).toEqual(['wva-metrics', 'wva-metrics-gpu-limiter', 'wva-metrics-scale', 'wva-metrics-scale-from-zero']);
    const args = only(objs, 'Deployment').spec.template.spec.containers[0].args as string[];
    expect(args.filter((a) => a === '--actuator=scale')).toHaveLength(1);
  });
});
