// Renders deploy/ with the real `kubectl kustomize` and validates objects against the published
// Kubernetes, KEDA and prometheus-operator OpenAPI schemas (the kubernetes-models packages).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as keda from '@kubernetes-models/keda';
import * as promOp from '@kubernetes-models/prometheus-operator';
import * as k8s from 'kubernetes-models';
import { parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read loosely
export type Manifest = Record<string, any>;

/** Every kustomization.yaml under `dir` (relative to the repository), with its kind. */
export function kustomizations(dir: string): Array<{ path: string; kind: 'Kustomization' | 'Component' }> {
  const out: Array<{ path: string; kind: 'Kustomization' | 'Component' }> = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f === 'kustomization.yaml') {
        const doc = parseAllDocuments(readFileSync(p, 'utf8'))[0]?.toJS() as Manifest | undefined;
        out.push({
          path: relative(repoRoot, d),
          kind: doc?.kind === 'Component' ? 'Component' : 'Kustomization',
        });
      }
    }
  };
  walk(join(repoRoot, dir));
  return out;
}

/** `kubectl kustomize` of a directory; throws with kubectl's message on failure. */
export function kustomize(dir: string): Manifest[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`kubectl kustomize ${dir}: ${r.error.message} (is kubectl >= 1.21 on PATH?)`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr.trim()}`);
  return parseAllDocuments(r.stdout).map((d) => {
    if (d.errors.length > 0) throw new Error(`kubectl kustomize ${dir}: ${d.errors[0]?.message}`);
    return d.toJS() as Manifest;
  });
}

/** A component renders only inside a kustomization: the base deploy/ plus those components. */
export function kustomizeComponent(...componentDirs: string[]): Manifest[] {
  const dir = mkdtempSync(join(tmpdir(), 'wva-kustomize-'));
  const overlay = join(dir, 'overlay');
  mkdirSync(overlay);
  writeFileSync(
    join(overlay, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(overlay, join(repoRoot, 'deploy'))}`,
      'components:',
      ...componentDirs.map((c) => `  - ${relative(overlay, join(repoRoot, c))}`),
      '',
    ].join('\n'),
  );
  return kustomize(overlay);
}

// biome-ignore lint/suspicious/noExplicitAny: model namespaces are indexed by name
type ModelTree = Record<string, Record<string, Record<string, any>>>;

/** `rbac.authorization.k8s.io` → `rbacAuthorizationK8sIo`, as the packages name their exports. */
function groupKey(group: string): string {
  return group.replace(/[.-]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const trees: ModelTree[] = [k8s, keda, promOp] as unknown as ModelTree[];

/** The model class of an object's apiVersion and kind, or undefined when no package knows it. */
function modelFor(apiVersion: string, kind: string) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  for (const tree of trees) {
    const ns = group ? tree[groupKey(group as string)] : tree;
    const cls = ns?.[version as string]?.[kind];
    if (typeof cls === 'function') return cls as new (o: Manifest) => { validate(): void };
  }
  return undefined;
}

/** Validates one object against its schema; returns the problem ('' when valid). */
export function schemaProblem(o: Manifest): string {
  const name = `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const Model = modelFor(String(o.apiVersion), String(o.kind));
  if (!Model) return `${name}: no schema known for ${o.apiVersion} ${o.kind}`;
  try {
    new Model(o).validate();
    return '';
  } catch (err) {
    return `${name}: ${(err as Error).message}`;
  }
}
