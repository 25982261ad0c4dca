// deploy/ parses, agrees with the code (types, RBAC for exactly the calls the controller makes,
// config keys) and keeps the CRD identical to the upstream one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SCALE_TO_ZERO_CONFIGMAP } from '../../../src/actuator/scale-to-zero.js';
import { CONFIGMAP_NAME, DEFAULT_NAMESPACE } from '../../../src/cli/run.js';
import { loadConfig, SCALE_TO_ZERO_CONFIGMAP_V05 } from '../../../src/config/index.js';
import { GROUP, KIND, PLURAL, VERSION, validateObject } from '../../../src/kube/types.js';
import { variant } from '../../support/variants.js';

const root = new URL('../../../', import.meta.url);
// Unchanged copies of the upstream files (test/fixtures/upstream/README.md).
const refText = (f: string) => readFileSync(new URL(`test/fixtures/upstream/${f}`, root), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: YAML documents read loosely
type Doc = Record<string, any>;

function docs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(new URL(file, root), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  });
}

/**
 * Where `ours` would refuse something `ref` accepts: a property it lacks, a rule it changes, a field
 * it requires that `ref` does not. Descriptions may differ; `ours` may add optional properties.
 */
function schemaProblems(ref: Doc, ours: Doc, at: string): string[] {
  if (!ours) return [`${at}: missing`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(ref)) {
    if (k === 'description' || k === 'properties' || k === 'items' || k === 'required') continue;
    if (JSON.stringify(ours[k]) !== JSON.stringify(v)) out.push(`${at}: ${k} differs`);
  }
  for (const r of (ours.required ?? []) as string[]) {
    if (!(ref.required ?? []).includes(r)) out.push(`${at}.${r}: required here only`);
  }
  for (const [k, v] of Object.entries((ref.properties ?? {}) as Record<string, Doc>)) {
    out.push(...schemaProblems(v, ours.properties?.[k], `${at}.${k}`));
  }
  if (ref.items) out.push(...schemaProblems(ref.items, ours.items, `${at}[]`));
  return out;
}

function one(file: string, kind: string): Doc {
  const found = docs(file).filter((d) => d.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('deploy/', () => {
  const kustomization = one('deploy/kustomization.yaml', 'Kustomization');

  it('every kustomization resource exists and parses; every object sits in the controller namespace', () => {
    for (const file of kustomization.resources as string[]) {
      for (const d of docs(`deploy/${file}`)) {
        expect(d.apiVersion, file).toBeTypeOf('string');
        expect(d.kind, file).toBeTypeOf('string');
        const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
        if (!clusterScoped.includes(d.kind))
          expect(d.metadata.namespace, `${file} ${d.kind}`).toBe(DEFAULT_NAMESPACE);
      }
    }
  });

  it('the CRD accepts whatever the older and the v0.5 upstream CRDs accept; status subresource, printer columns', () => {
    const crd = one('deploy/crd.yaml', 'CustomResourceDefinition');
    const schema = (d: Doc) => d.spec.versions[0].schema.openAPIV3Schema;
    const older = parseAllDocuments(refText('llmd.ai_variantautoscalings.yaml'))[0]?.toJS();
    const v05 = parseAllDocuments(
      readFileSync(new URL('test/fixtures/upstream-v0.5/llmd.ai_variantautoscalings.yaml', root), 'utf8'),
    )[0]?.toJS();
    for (const ref of [older, v05]) {
      expect(schemaProblems(schema(ref), schema(crd), '')).toEqual([]);
      expect({ ...crd.spec, versions: undefined }).toEqual({ ...ref.spec, versions: undefined });
    }
    expect(crd.metadata.name).toBe(`${PLURAL}.${GROUP}`);
    expect(crd.spec.names.kind).toBe(KIND);
    const v = crd.spec.versions.find((x: Doc) => x.name === VERSION);
    expect(v.subresources).toEqual({ status: {} });
    expect(v.additionalPrinterColumns.map((c: Doc) => c.jsonPath)).toContain(
      ".status.conditions[?(@.type=='MetricsAvailable')].status",
    );
    // What the controller writes fits the schema's required fields and patterns.
    const alloc = v.schema.openAPIV3Schema.properties.status.properties.currentAlloc;
    expect(alloc.required.sort()).toEqual(
      ['accelerator', 'itlAverage', 'load', 'maxBatch', 'numReplicas', 'ttftAverage', 'variantCost'].sort(),
    );
    expect(alloc.properties.ttftAverage.pattern).toBe('^\\d+(\\.\\d+)?$');
  });

  it("the upstream sample validates, and so does the test builders' variant", () => {
    expect(validateObject(parseAllDocuments(refText('sample-variantautoscaling.yaml'))[0]?.toJS())).toEqual(
      [],
    );
    expect(validateObject(variant('llm-d-sim', 'vllme-deployment', 'default/default'))).toEqual([]);
  });

  it('RBAC is least privilege: exactly the verbs the controller uses, status patch only', () => {
    const rbac = docs('deploy/rbac.yaml');
    const cr = rbac.find((d) => d.kind === 'ClusterRole')!;
    const role = rbac.find((d) => d.kind === 'Role')!;
    const rules = (r: Doc) =>
      (r.rules as Doc[]).flatMap((rule) =>
        (rule.resources as string[]).map(
          (res) =>
            `${rule.apiGroups[0] || 'core'}/${res}${rule.resourceNames ? `[${rule.resourceNames.join(',')}]` : ''}: ${[...rule.verbs].sort().join(',')}`,
        ),
      );
    expect(rules(cr).sort()).toEqual([
      'apps/deployments: list,watch',
      'apps/statefulsets/scale: get',
      'core/configmaps: get,list,watch',
      'core/events: create',
      'core/namespaces: list,watch',
      'core/pods: list,watch',
      'llmd.ai/variantautoscalings/status: patch',
      'llmd.ai/variantautoscalings: get,list,watch',
    ]);
    expect(rules(role).sort()).toEqual(
      [
        'coordination.k8s.io/leases: create',
        'coordination.k8s.io/leases[wva-metrics-controller]: get,update',
        `core/configmaps[${SCALE_TO_ZERO_CONFIGMAP_V05},${SCALE_TO_ZERO_CONFIGMAP}]: list,watch`,
        'core/configmaps[service-classes-config,accelerator-unit-costs]: list,watch',
        'core/configmaps[wva-saturation-scaling-config]: list,watch',
        // The learned performance models: created once, then patched.
        'core/configmaps: create',
        'core/configmaps[wva-learned-performance]: get,patch',
        `core/configmaps[${CONFIGMAP_NAME},variantautoscaling-config]: get,list,watch`,
      ].sort(),
    );
    const all = JSON.stringify(rbac);
    expect(all).not.toMatch(/"\*"|delete|escalate|bind|impersonate/);
    for (const b of rbac.filter((d) => d.kind.endsWith('Binding'))) {
      expect(b.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'wva-metrics', namespace: DEFAULT_NAMESPACE },
      ]);
    }
  });

  it('the ConfigMap is upstream-named and loads without a config error', () => {
    const cm = one('deploy/configmap.yaml', 'ConfigMap');
    expect(cm.metadata.name).toBe(CONFIGMAP_NAME);
    const cfg = loadConfig({ configMapData: cm.data }); // throws ConfigError for any problem
    expect(cfg.reconcile.intervalMs).toBe(60_000);
    expect(cfg.telemetry.address).toBe(':8080');
  });

  it('the Deployment runs non-root on a read-only root FS, with resources and probes on :8080', () => {
    const dep = one('deploy/deployment.yaml', 'Deployment');
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.serviceAccountName).toBe('wva-metrics');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.ports[0].containerPort).toBe(8080);
    expect(c.args).toEqual(['run']);
    expect(c.env.map((e: Doc) => e.name).sort()).toEqual(['POD_NAME', 'POD_NAMESPACE']);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10);
    const svc = one('deploy/service.yaml', 'Service');
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
    const sm = one('deploy/servicemonitor.yaml', 'ServiceMonitor');
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
  });
});
