// Objects any namespace owner can write, or that reach us malformed: a namespace that is not a
// DNS-1123 label is refused with a reason (manifests) or skipped and logged once (any other
// source), and a status whose conditions are not a list is read as no conditions, logged once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LocalController, loadManifests } from '../../../src/controller/local.js';
import type { MetricsReader, VariantSource } from '../../../src/controller/reconciler.js';
import { computeStatus, type MetricsRead } from '../../../src/controller/status.js';
import { findCondition } from '../../../src/kube/conditions.js';
import type { VariantAutoscalingStatus } from '../../../src/kube/types.js';
import { namespaceProblem } from '../../../src/kube/types.js';
import { captureLogger } from '../../support/capture-logger.js';
import { cycleDriver } from '../../support/cycles.js';
import { deployment, deploymentObject, vaObject, variant } from '../../support/variants.js';

const dir = mkdtempSync(join(tmpdir(), 'wva-hostile-objects-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const found: MetricsRead = {
  metrics: { load: { arrivalRate: 1, avgInputTokens: 1, avgOutputTokens: 1 }, ttftAverage: 1, itlAverage: 1 },
  availability: { available: true, reason: 'MetricsFound', message: 'ok' },
};

function manifest(name: string, objects: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
  return file;
}

describe('namespaces must be DNS-1123 labels', () => {
  it('namespaceProblem says what is wrong', () => {
    expect(namespaceProblem('prod')).toBeUndefined();
    expect(namespaceProblem('team-1')).toBeUndefined();
    expect(namespaceProblem('prod/x')).toMatch(/"prod\/x" is not a DNS-1123 label/);
    expect(namespaceProblem('Prod')).toMatch(/lowercase/);
    expect(namespaceProblem('-a')).toMatch(/starting and ending with a letter or digit/);
    expect(namespaceProblem('a'.repeat(64))).toMatch(/at most 63 characters/);
    expect(namespaceProblem(123)).toBe('metadata.namespace: 123 is a number, not a namespace name');
    expect(namespaceProblem('')).toMatch(/empty/);
  });

  it('a manifest namespace "prod/x" is refused, naming the file, the document, the object and the reason', () => {
    const file = manifest('slash.yaml', [variant('prod/x', 'va', 'm')]);
    expect(() => loadManifests(file)).toThrow(
      `${file}: document 1: VariantAutoscaling va: metadata.namespace: "prod/x" is not a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)`,
    );
  });

  it('a numeric namespace is refused, not read as "default"', () => {
    const va = variant('x', 'va', 'm');
    (va.metadata as Record<string, unknown>).namespace = 123;
    const file = manifest('numeric.yaml', [va]);
    expect(() => loadManifests(file)).toThrow(/metadata\.namespace: 123 is a number, not a namespace name/);
    const dep = deployment('x', 'va', 1);
    (dep.metadata as Record<string, unknown>).namespace = 7;
    const depFile = manifest('numeric-dep.yaml', [variant('x', 'va', 'm'), dep]);
    expect(() => loadManifests(depFile)).toThrow(/Deployment va: metadata\.namespace: 7 is a number/);
  });

  it('a name with a slash is refused too (it would split the key elsewhere)', () => {
    const file = manifest('name-slash.yaml', [variant('prod', 'a/b', 'm')]);
    expect(() => loadManifests(file)).toThrow(/metadata\.name: "a\/b" is not a DNS-1123 subdomain/);
  });

  it('without a namespace a manifest object is in "default", as kubectl would put it', () => {
    const va = variant('x', 'va', 'm');
    delete (va.metadata as Record<string, unknown>).namespace;
    expect(loadManifests(manifest('nons.yaml', [va])).variants[0]?.metadata.namespace).toBe('default');
  });

  it('from any other source (the API): skipped, never read as another namespace, logged once', async () => {
    const good = vaObject('prod', 'va', 'm');
    const bad = vaObject('prod/x', 'va', 'm');
    const source: VariantSource = {
      listVariants: () => [good, bad],
      getVariant: (ns, name) =>
        [good, bad].find((v) => v.metadata.namespace === ns && v.metadata.name === name),
      getDeployment: (ns, name) => deploymentObject(ns, name, 1),
    };
    const asked: string[] = [];
    const collector: MetricsReader = {
      read: async (_m, ns) => {
        asked.push(ns);
        return found;
      },
    };
    const written: string[] = [];
    const { logger, lines } = captureLogger();
    const driver = cycleDriver({
      source,
      collector,
      logger,
      writer: {
        write: async (va, compute) => {
          written.push(`${va.metadata.namespace}/${va.metadata.name}`);
          return { outcome: 'written', status: compute(va) };
        },
      },
    });
    const first = await driver.runCycle();
    await driver.runCycle();
    expect(asked).toEqual(['prod', 'prod']);
    expect(written).toEqual(['prod/va', 'prod/va']);
    expect(first.results.map((x) => x.key)).toEqual(['prod/va']);
    const warns = lines.filter((l) => l.level === 'warn' && /namespace/.test(l.msg ?? ''));
    expect(warns).toHaveLength(1);
    expect(warns[0]?.obj.problem).toMatch(/"prod\/x" is not a DNS-1123 label/);
  });
});

describe('status.conditions that is not a list', () => {
  const now = new Date(1_700_000_000_000);
  for (const conditions of [
    { type: 'MetricsAvailable' },
    'oops',
    42,
    null,
    [1, 'x', null, { status: 'True' }],
  ]) {
    it(`${JSON.stringify(conditions)} is read as no conditions`, () => {
      const va = vaObject('prod', 'va', 'm');
      va.status = { conditions } as unknown as VariantAutoscalingStatus;
      expect(findCondition(va.status, 'MetricsAvailable')).toBeUndefined();
      const next = computeStatus({
        va,
        specProblems: [],
        deployment: deploymentObject('prod', 'va', 1),
        read: found,
        now,
      });
      expect(next.conditions?.map((c) => c.type).sort()).toEqual([
        'MetricsAvailable',
        'Reconciled',
        'TargetResolved',
      ]);
    });
  }

  it('reconciles instead of throwing, and says so once per object', async () => {
    const va = vaObject('prod', 'va', 'm');
    va.status = { conditions: { broken: true } } as unknown as VariantAutoscalingStatus;
    const { logger, lines } = captureLogger();
    const driver = cycleDriver({
      source: {
        listVariants: () => [va],
        getVariant: () => va,
        getDeployment: (ns, name) => deploymentObject(ns, name, 1),
      },
      collector: { read: async () => found },
      logger,
      // The store keeps the malformed status (a writer whose patches do not land, say).
      writer: { write: async (v, compute) => ({ outcome: 'written', status: compute(v) }) },
    });
    const a = await driver.runCycle();
    await driver.runCycle();
    expect(a.results[0]?.outcome).toBe('written');
    const warns = lines.filter((l) => l.level === 'warn' && /conditions/.test(l.msg ?? ''));
    expect(warns).toHaveLength(1);
    expect(warns[0]?.obj).toMatchObject({ namespace: 'prod', name: 'va', conditionsType: 'object' });
  });

  it('local mode prints a manifest whose status.conditions is a string', async () => {
    const va = variant('prod', 'va', 'm');
    (va as Record<string, unknown>).status = { conditions: 'oops' };
    const file = manifest('bad-status.yaml', [va, deployment('prod', 'va', 1)]);
    const local = new LocalController({ manifests: file, collector: { read: async () => found } });
    const report = await local.runCycle();
    expect(report.rows[0]?.outcome).toBe('written');
  });
});
