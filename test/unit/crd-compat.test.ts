// Our CRD against upstream WVA v0.5's and the older one: it accepts every sample of both verbatim
// (test/fixtures/upstream-v0.5, test/fixtures/upstream) and ours (examples/), shows upstream's
// printer columns, and every status we write is valid under upstream's CRD, so a cluster that keeps
// upstream's CRD installed works with this controller. The spec parser reads both shapes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONTROLLER_INSTANCE_LABEL, DESIRED_REPLICAS, VARIANT_LABELS } from '../../src/actuator/metrics.js';
import type { Decision } from '../../src/controller/decision.js';
import { computeStatus } from '../../src/controller/status.js';
import { resolveAccelerator } from '../../src/kube/accelerator.js';
import { setCondition } from '../../src/kube/conditions.js';
import { parseSpec } from '../../src/kube/va-spec.js';
import { type Manifest, repoRoot, schemaProblem } from '../support/manifests.js';
import { applySchema, crdSchema, printerColumns } from '../support/structural-schema.js';
import { deployment, vaObject } from '../support/variants.js';

const fixtures = join(repoRoot, 'test/fixtures');
const OURS = join(repoRoot, 'deploy/crd.yaml');
const UPSTREAM = join(fixtures, 'upstream-v0.5/llmd.ai_variantautoscalings.yaml');
const OLDER = join(fixtures, 'upstream/llmd.ai_variantautoscalings.yaml');
const ours = crdSchema(OURS);
const upstream = crdSchema(UPSTREAM);
const older = crdSchema(OLDER);

const docs = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Manifest)
    .filter((d) => d?.kind === 'VariantAutoscaling');
const upstreamSamples = docs(join(fixtures, 'upstream-v0.5/variantautoscaling-with-cost.yaml'));
const olderSample = docs(join(fixtures, 'upstream/sample-variantautoscaling.yaml'));
const exampleDirs = ['examples/manifests', 'examples/older-shape/manifests'].filter((d) => {
  try {
    return readdirSync(join(repoRoot, d)).length > 0;
  } catch {
    return false;
  }
});
const ourExamples = exampleDirs.flatMap((d) =>
  readdirSync(join(repoRoot, d))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => docs(join(repoRoot, d, f))),
);

describe('the CRD is a superset of upstream v0.5 and the older CRD', () => {
  it('has fixtures to check: six upstream samples, the older sample, our examples', () => {
    expect(upstreamSamples).toHaveLength(6);
    expect(olderSample).toHaveLength(1);
    expect(ourExamples.length).toBeGreaterThan(3);
  });

  it("shows upstream's printer columns", () => {
    expect(printerColumns(OURS)).toEqual(printerColumns(UPSTREAM));
  });

  it.each(upstreamSamples.map((s) => [s.metadata.name, s]))(
    'accepts upstream sample %s verbatim, as upstream does, defaulting variantCost to "10.0"',
    (_name, sample) => {
      const mine = applySchema(ours, sample);
      expect(mine.problems).toEqual([]);
      expect(mine.pruned).toEqual([]);
      expect(applySchema(upstream, sample).problems).toEqual([]);
      const cost = (mine.value as Manifest).spec.variantCost;
      expect(cost).toBe(sample.spec.variantCost ?? '10.0');
      expect((applySchema(upstream, sample).value as Manifest).spec.variantCost).toBe(cost);
    },
  );

  it('accepts the older sample and our examples without pruning a field', () => {
    for (const o of [...olderSample, ...ourExamples]) {
      const r = applySchema(ours, o);
      expect(r.problems, o.metadata.name).toEqual([]);
      expect(r.pruned, o.metadata.name).toEqual([]);
    }
    // The older CRD accepts the older sample; upstream's requires scaleTargetRef.
    expect(applySchema(older, olderSample[0]).problems).toEqual([]);
    expect(applySchema(upstream, olderSample[0]).problems).toEqual(['.spec.scaleTargetRef: required']);
  });

  it('refuses what upstream refuses: a variantCost that is not a decimal, no modelID, a reference without kind', () => {
    const bad = structuredClone(upstreamSamples[0] as Manifest);
    bad.spec.variantCost = 'cheap';
    delete bad.spec.modelID;
    delete bad.spec.scaleTargetRef.kind;
    const expected = [
      '.spec.scaleTargetRef.kind: required',
      '.spec.variantCost: does not match ^\\d+(\\.\\d+)?$',
      '.spec.modelID: required',
    ];
    expect(applySchema(ours, bad).problems).toEqual(expected);
    expect(applySchema(upstream, bad).problems).toEqual(expected);
  });
});

const T0 = new Date('2026-02-01T00:00:00Z');
const found = { available: true, reason: 'MetricsFound' as const, message: 'metrics found for m in ns' };
const metrics = {
  load: { arrivalRate: 120.456, avgInputTokens: 512, avgOutputTokens: 128 },
  ttftAverage: 45.6,
  itlAverage: 12.3,
};
const decided = {
  ok: true,
  reason: 'OptimizationSucceeded',
  message: 'sized for the SLO',
  accelerator: 'A100',
  numReplicas: 3,
} as unknown as Decision;

/** Statuses the controller writes: decided, metrics missing, target missing, spec invalid, actuated. */
function statuses(): Array<[string, unknown]> {
  const va = vaObject('ns', 'v1', 'm');
  va.metadata.generation = 2;
  const dep = deployment('ns', 'v1', 2) as never;
  const ok = computeStatus({
    va,
    specProblems: [],
    deployment: dep,
    read: { metrics, availability: found },
    now: T0,
    decision: decided,
  });
  const missing = computeStatus({
    va,
    specProblems: [],
    deployment: dep,
    read: { availability: { available: false, reason: 'MetricsMissing', message: 'no series for m in ns' } },
    now: T0,
  });
  const noTarget = computeStatus({
    va,
    specProblems: [],
    deployment: undefined,
    read: { metrics, availability: found },
    now: T0,
  });
  const invalid = computeStatus({
    va,
    specProblems: ['spec.modelID: required'],
    deployment: dep,
    read: undefined,
    now: T0,
  });
  const actuated = {
    ...ok,
    actuation: { applied: true },
    conditions: setCondition(
      ok.conditions ?? [],
      { type: 'Actuated', status: 'True', reason: 'MetricPublished', message: 'wva_desired_replicas=3' },
      T0,
    ),
  };
  return [
    ['decided', ok],
    ['metrics missing', missing],
    ['target missing', noTarget],
    ['invalid spec', invalid],
    ['actuated', actuated],
  ];
}

describe("our status under upstream's CRD", () => {
  it.each(statuses())('%s: valid; only currentAlloc (ours alone) would be pruned', (_what, status) => {
    const r = applySchema(upstream.properties.status, status, '.status');
    expect(r.problems).toEqual([]);
    expect(r.pruned.filter((p) => p !== '.status.currentAlloc')).toEqual([]);
    expect(applySchema(ours.properties.status, status, '.status')).toMatchObject({
      problems: [],
      pruned: [],
    });
  });
});

describe('parseSpec reads both shapes', () => {
  it("upstream's samples: the target from scaleTargetRef, the cost as written or 10.0, left to saturation", () => {
    const parsed = upstreamSamples.map((s) => parseSpec(s.spec, s.metadata.name));
    expect(parsed.every((p) => p.ok)).toBe(true);
    const first = parsed[0] as Extract<(typeof parsed)[0], { ok: true }>;
    expect(first.spec).toEqual({
      modelID: 'meta/llama-3.1-70b',
      target: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        plural: 'deployments',
        name: 'llama-70b-premium-h100',
      },
      targetDefaulted: false,
      variantCost: 80,
      variantCostText: '80.0',
      engine: 'saturation',
    });
    const last = parsed[5] as typeof first;
    expect([last.spec.variantCost, last.spec.variantCostText]).toEqual([10, '10.0']);
  });

  it('the older sample: the Deployment named like the object, sized by the SLO engine', () => {
    const [o] = olderSample as [Manifest];
    const p = parseSpec(o.spec, o.metadata.name);
    expect(p).toMatchObject({
      ok: true,
      spec: {
        target: { kind: 'Deployment', name: 'vllme-deployment' },
        targetDefaulted: true,
        engine: 'slo',
      },
    });
  });

  it('bad input: each problem names the field, what is wrong and what to write', () => {
    const spec = (more: Record<string, unknown>) => ({ modelID: 'm', ...more });
    const problems = (s: unknown) => {
      const p = parseSpec(s, 'va');
      return p.ok ? [] : p.problems;
    };
    expect(problems(spec({ variantCost: 'cheap' }))).toEqual([
      'spec.variantCost: "cheap" is not a non-negative decimal in a string (pattern ^\\d+(\\.\\d+)?$, e.g. "10.0")',
    ]);
    expect(problems(spec({ variantCost: 80 }))[0]).toMatch(/write it quoted: "80"/);
    expect(problems(spec({ scaleTargetRef: { kind: 'CronJob', name: 'x' } }))).toEqual([
      'spec.scaleTargetRef.kind: "CronJob" is not a kind this controller can scale; use one of Deployment, StatefulSet, ReplicaSet, LeaderWorkerSet',
    ]);
    expect(
      problems(spec({ scaleTargetRef: { apiVersion: 'apps/v2', kind: 'Deployment', name: 'x' } }))[0],
    ).toMatch(/apiVersion: "apps\/v2" does not serve Deployment; use apps\/v1/);
    expect(problems(spec({ scaleTargetRef: { kind: 'Deployment' } }))).toEqual([
      'spec.scaleTargetRef.name: required, the name of the object to scale',
    ]);
    expect(problems(spec({ scaleTargetRef: 'x' }))[0]).toMatch(/must be an object with kind and name/);
    expect(problems(spec({ sloClassRef: { name: 'premium', key: 'k' } }))).toEqual([
      'spec.modelProfile: required when spec.sloClassRef is set (the SLO engine needs both; remove both to leave sizing to the saturation engine)',
    ]);
    expect(problems({ scaleTargetRef: { kind: 'Deployment', name: 'd' } })).toEqual([
      'spec.modelID: required, a non-empty string',
    ]);
    expect(problems(null)).toEqual(['spec: required, an object with modelID (and scaleTargetRef)']);
  });

  it('other kinds with a scale subresource: StatefulSet and LeaderWorkerSet', () => {
    const lws = parseSpec({ modelID: 'm', scaleTargetRef: { kind: 'LeaderWorkerSet', name: 'w' } }, 'va');
    expect(lws).toMatchObject({
      ok: true,
      spec: { target: { apiVersion: 'leaderworkerset.x-k8s.io/v1', plural: 'leaderworkersets' } },
    });
    const sts = parseSpec(
      { modelID: 'm', scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's' } },
      'va',
    );
    expect(sts).toMatchObject({ ok: true, spec: { target: { plural: 'statefulsets', name: 's' } } });
  });
});

describe('resolveAccelerator', () => {
  const label = { 'inference.optimization/acceleratorName': 'H100' };
  it('the VA label first, then the node selector, then a required affinity with one product, else unknown', () => {
    const selector = { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' } };
    const affinity = (values: string[][]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: values.map((v) => ({
              matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: v }],
            })),
          },
        },
      },
    });
    expect(resolveAccelerator(label, selector)).toEqual({ accelerator: 'H100', source: 'label' });
    expect(resolveAccelerator({}, selector)).toEqual({
      accelerator: 'NVIDIA-A100-SXM4-80GB',
      source: 'nodeSelector',
    });
    expect(resolveAccelerator(undefined, affinity([['nvidia-l4']]))).toEqual({
      accelerator: 'nvidia-l4',
      source: 'nodeAffinity',
    });
    // Two products possible: the scheduler may pick either, so it is not known.
    expect(resolveAccelerator(undefined, affinity([['nvidia-l4'], ['nvidia-tesla-t4']]))).toEqual({
      accelerator: 'unknown',
      source: 'unknown',
    });
    expect(resolveAccelerator(undefined, undefined)).toEqual({ accelerator: 'unknown', source: 'unknown' });
  });
});

describe("upstream's HPA sample", () => {
  it('is a valid HPA that selects a series we publish, by a label we set', () => {
    const [hpa] = parseAllDocuments(
      readFileSync(join(fixtures, 'upstream-v0.5/hpa-integration.yaml'), 'utf8'),
    ).map((d) => d.toJS() as Manifest);
    expect(schemaProblem(hpa as Manifest)).toBe('');
    const metric = (hpa as Manifest).spec.metrics[0].external.metric;
    expect(metric.name).toBe(DESIRED_REPLICAS);
    for (const label of Object.keys(metric.selector.matchLabels)) {
      expect([...VARIANT_LABELS, CONTROLLER_INSTANCE_LABEL]).toContain(label);
    }
  });
});
