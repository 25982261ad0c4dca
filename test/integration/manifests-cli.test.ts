// Broken manifests in local mode, through the real CLI: one line on stderr naming the file, the
// document and what is wrong (never a bare JavaScript error), exit 2; and a manifest set above the
// size local mode reads is refused before it is parsed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MAX_MANIFEST_BYTES } from '../../src/controller/local.js';
import { runCli } from '../support/cli.js';
import { variant } from '../support/variants.js';

let dir: string;
const PROM = ['--prometheus-url', 'http://127.0.0.1:1'];
const good = () => stringify(variant('prod', 'llama', 'meta/llama'));

const files: Record<string, string> = {
  'list-items-mapping.yaml': `${good()}---\napiVersion: v1\nkind: List\nitems:\n  a: 1\n`,
  'configmap-value-mapping.yaml': `${good()}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: accelerator-unit-costs\ndata:\n  A100:\n    toString: 1\n`,
  'configmap-data-list.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: costs\ndata:\n  - a\n',
  'metadata-string.yaml':
    'apiVersion: llmd.ai/v1alpha1\nkind: VariantAutoscaling\nmetadata: llama\nspec: {}\n',
  'list-item-metadata.yaml': `apiVersion: v1\nkind: List\nitems:\n  - ${JSON.stringify(variant('prod', 'ok', 'm'))}\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: [x]\n`,
  'syntax.yaml': `${good()}---\nkind: ConfigMap\nmetadata: { name: x\n`,
  'twice.yaml': `${good()}---\n${good()}`,
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wva-manifests-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cases: Array<[string, RegExp]> = [
  [
    'list-items-mapping.yaml',
    /list-items-mapping\.yaml: document 2: List items must be a list of objects, got a mapping$/,
  ],
  [
    'configmap-value-mapping.yaml',
    /configmap-value-mapping\.yaml: document 2: ConfigMap default\/accelerator-unit-costs: data\.A100 must be text, got a mapping; write it as a block scalar \(A100: \|\)$/,
  ],
  [
    'configmap-data-list.yaml',
    /configmap-data-list\.yaml: document 1: ConfigMap default\/costs: data must be a mapping of key: text, got a list$/,
  ],
  [
    'metadata-string.yaml',
    /metadata-string\.yaml: document 1: VariantAutoscaling metadata must be a mapping with name and namespace, got "llama"$/,
  ],
  [
    'list-item-metadata.yaml',
    /list-item-metadata\.yaml: document 1, items\[1\]: Deployment metadata must be a mapping with name and namespace, got a list$/,
  ],
  ['syntax.yaml', /syntax\.yaml: document 2, line \d+, column \d+: /],
  [
    'twice.yaml',
    /twice\.yaml: document 2: VariantAutoscaling prod\/llama is also defined at \S+twice\.yaml: document 1; keep one$/,
  ],
];

describe('local mode: a broken manifest is named, with its document', () => {
  it.each(cases)(
    '%s',
    async (file, pattern) => {
      const r = await runCli(['run', '--manifests', join(dir, file), ...PROM, '--once'], {
        env: { LOG_LEVEL: 'error' },
      });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^wva-metrics: cannot read manifests: /);
      expect(lines[0]).toMatch(pattern);
      expect(lines[0]).not.toMatch(/not iterable|convert object to primitive|TypeError|\bat \S+:\d+:\d+/);
      expect(r.stdout).toBe('');
    },
    30_000,
  );
});

describe('local mode: the size of the manifests is bounded', () => {
  it('a file above MAX_MANIFEST_BYTES is refused before it is read, saying how large and the bound', async () => {
    mkdirSync(join(dir, 'big'));
    const big = join(dir, 'big', 'fleet.yaml');
    // One comment line 1 MiB over the bound: cheap to write, and nothing in it to parse.
    writeFileSync(big, `# ${'x'.repeat(MAX_MANIFEST_BYTES + 1024 * 1024)}\n`);
    const r = await runCli(['run', '--manifests', big, ...PROM, '--once'], { env: { LOG_LEVEL: 'error' } });
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /fleet\.yaml: 33\.0 MiB of manifests, above the 32\.0 MiB local mode reads \(about 30 000 VariantAutoscalings with their Deployments\); run the controller in a cluster for a larger fleet$/,
    );
  }, 60_000);
});
