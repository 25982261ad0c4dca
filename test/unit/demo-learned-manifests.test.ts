// The demo's default manifests are what the issue asks of them: upstream v0.5's shape, an SLO class
// for every model, no profile anywhere, and the same fleet as the emulator's config.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/controller/local.js';
import { sloOfModel } from '../../src/controller/slo-decider.js';
import { findScenario } from '../../src/demo/index.js';
import { loadEmulatorConfig } from '../../src/emulator/index.js';
import { parseServiceClasses } from '../../src/optimizer/index.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const dir = join(examples, findScenario('learned').manifests!);

describe('examples/learned/manifests', () => {
  const m = loadManifests(dir);

  it('has no profile, no sloClassRef and no unit costs outside comments', () => {
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('#'))
        .join('\n');
      expect(text, f).not.toMatch(/modelProfile|perfParms|sloClassRef|accelerator-unit-costs/);
    }
  });

  it('every VariantAutoscaling is in upstream v0.5 shape, and a service class gives its model an SLO', () => {
    const classes = m.configMaps?.get('workload-variant-autoscaler-system/service-classes-config');
    expect(classes).toBeDefined();
    const parsed = parseServiceClasses(classes!);
    expect(parsed.ok).toBe(true);
    expect(m.variants.length).toBeGreaterThan(0);
    for (const va of m.variants) {
      const spec = va.spec as unknown as Record<string, unknown>;
      const who = `${va.metadata.namespace}/${va.metadata.name}`;
      expect((spec.scaleTargetRef as { name?: string })?.name, who).toBe(va.metadata.name);
      expect(Number(spec.variantCost), who).toBeGreaterThan(0);
      expect(parsed.ok && sloOfModel(parsed.value, va.spec.modelID), who).toBeTruthy();
    }
  });

  it('describes the emulator fleet: the same variants, models and replica counts', () => {
    const config = loadEmulatorConfig(join(examples, 'emulator.yaml'));
    const emulated = config.models.flatMap((x) =>
      x.variants.map((v) => `${x.namespace}/${v.name}/${x.model}/${v.replicas}`),
    );
    const declared = m.variants.map((va) => {
      const d = m.deployments.find(
        (x) => x.metadata.namespace === va.metadata.namespace && x.metadata.name === va.metadata.name,
      );
      return `${va.metadata.namespace}/${va.metadata.name}/${va.spec.modelID}/${d?.spec?.replicas}`;
    });
    expect(declared.sort()).toEqual(emulated.sort());
  });
});
