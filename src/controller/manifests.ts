// Local mode's manifests: VariantAutoscalings, Deployments and ConfigMaps from YAML/JSON files,
// read with a bound on their size and one document at a time; every error names the file, the
// document and what is wrong.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Composer, LineCounter, Parser } from 'yaml';
import type { NamespaceLike } from '../kube/scope.js';
import {
  type Deployment,
  KIND,
  nameProblem,
  namespaceProblem,
  type VariantAutoscaling,
  validateObject,
} from '../kube/types.js';

export interface Manifests {
  variants: VariantAutoscaling[];
  deployments: Deployment[];
  /** ConfigMaps by "namespace/name" (the optimizer's, and sloClassRef targets). */
  configMaps?: Map<string, Record<string, string>>;
  /** Namespaces by name (their wva.llmd.ai/exclude annotation is honoured). */
  namespaces?: Map<string, NamespaceLike>;
}

/**
 * Most bytes of manifests local mode reads (a file, or a directory's files together): about 30 000
 * VariantAutoscalings with their Deployments. The objects take several times their YAML in memory,
 * and local mode reads them again every cycle; a larger fleet belongs in a cluster.
 */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function manifestFiles(pathOrDir: string): string[] {
  const st = statSync(pathOrDir);
  const files = !st.isDirectory()
    ? [pathOrDir]
    : readdirSync(pathOrDir)
        .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
        .sort()
        .map((f) => join(pathOrDir, f))
        .filter((f) => statSync(f).isFile());
  const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  if (bytes > MAX_MANIFEST_BYTES) {
    throw new Error(
      `${pathOrDir}: ${mib(bytes)} of manifests, above the ${mib(MAX_MANIFEST_BYTES)} local mode reads ` +
        '(about 30 000 VariantAutoscalings with their Deployments); run the controller in a cluster for a larger fleet',
    );
  }
  return files;
}

/** What a value is, for a message: its kind of YAML node, or the scalar itself. */
function shape(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where each object was first seen, by kind and namespace/name: one given twice is refused, as
 *  either copy winning silently would hide the other. */
type Seen = Map<string, string>;

function once(seen: Seen, kind: string, key: string, where: string): void {
  const first = seen.get(`${kind} ${key}`);
  if (first !== undefined) {
    throw new Error(`${where}: ${kind} ${key} is also defined at ${first}; keep one`);
  }
  seen.set(`${kind} ${key}`, where);
}

/** `where`: the file, the document (from 1) and the List item, for every message. */
function collect(doc: unknown, where: string, out: Manifests, seen: Seen): void {
  if (!isMapping(doc)) return;
  const o = doc;
  const kind = o.kind;
  if (kind === 'List' || (typeof kind === 'string' && kind.endsWith('List') && o.items !== undefined)) {
    if (o.items === undefined || o.items === null) return;
    if (!Array.isArray(o.items)) {
      throw new Error(`${where}: ${kind} items must be a list of objects, got ${shape(o.items)}`);
    }
    o.items.forEach((item, i) => {
      collect(item, `${where}, items[${i}]`, out, seen);
    });
    return;
  }
  if (kind === 'Namespace' && o.apiVersion === 'v1') {
    // Only its annotations are read (wva.llmd.ai/exclude); a Namespace without a name is ignored.
    const md = isMapping(o.metadata) ? o.metadata : {};
    if (typeof md.name !== 'string' || md.name === '') return;
    const annotations = isMapping(md.annotations) ? md.annotations : {};
    out.namespaces ??= new Map();
    out.namespaces.set(md.name, {
      metadata: {
        name: md.name,
        annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [k, String(v)])),
      },
    });
    return;
  }
  const ours =
    kind === KIND ||
    (kind === 'Deployment' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('apps/')) ||
    (kind === 'ConfigMap' && o.apiVersion === 'v1');
  // Other kinds (Services...) may share the file; they are not ours to read.
  if (!ours) return;
  if (o.metadata !== undefined && !isMapping(o.metadata)) {
    throw new Error(
      `${where}: ${kind} metadata must be a mapping with name and namespace, got ${shape(o.metadata)}`,
    );
  }
  const md = o.metadata ?? {};
  // No namespace: "default", as kubectl would apply it. Any other non-name is refused, not defaulted.
  if (md.namespace === undefined || md.namespace === null || md.namespace === '') md.namespace = 'default';
  o.metadata = md;
  if (kind === KIND) {
    const problems = validateObject(o).filter((p) => !p.startsWith('spec'));
    if (problems.length > 0) throw new Error(`${where}: ${KIND} ${String(md.name)}: ${problems.join('; ')}`);
    // Spec problems are not fatal: the object is kept and gets an InvalidSpec condition.
    once(seen, KIND, `${String(md.namespace)}/${String(md.name)}`, where);
    out.variants.push(o as unknown as VariantAutoscaling);
  } else if (kind === 'Deployment') {
    if (typeof md.name !== 'string' || md.name === '')
      throw new Error(`${where}: Deployment without metadata.name`);
    const bad = nameProblem(md.name) ?? namespaceProblem(md.namespace);
    if (bad) throw new Error(`${where}: Deployment ${md.name}: ${bad}`);
    once(seen, 'Deployment', `${String(md.namespace)}/${md.name}`, where);
    out.deployments.push(o as unknown as Deployment);
  } else if (typeof md.name === 'string') {
    const name = `ConfigMap ${String(md.namespace)}/${md.name}`;
    const bad = namespaceProblem(md.namespace);
    if (bad) throw new Error(`${where}: ${name}: ${bad}`);
    const data = o.data ?? {};
    if (!isMapping(data))
      throw new Error(`${where}: ${name}: data must be a mapping of key: text, got ${shape(data)}`);
    const strings: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) {
      // A ConfigMap holds text: a number or true reads as written; a mapping or a list is a mistake.
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new Error(
          `${where}: ${name}: data.${k} must be text, got ${shape(v)}; write it as a block scalar (${k}: |)`,
        );
      }
      strings[k] = String(v);
    }
    once(seen, 'ConfigMap', `${String(md.namespace)}/${md.name}`, where);
    out.configMaps ??= new Map();
    out.configMaps.set(`${md.namespace as string}/${md.name}`, strings);
  }
}

/**
 * Reads VariantAutoscalings and Deployments from a YAML/JSON file or a directory of them
 * (multi-document files and `List`s included; other kinds ignored), at most MAX_MANIFEST_BYTES.
 * Documents are parsed one at a time, so only one document's syntax tree is held at once. Throws
 * one line naming the file, the document and what is wrong.
 */
export function loadManifests(pathOrDir: string): Manifests {
  const out: Manifests = { variants: [], deployments: [] };
  const seen: Seen = new Map();
  for (const file of manifestFiles(pathOrDir)) {
    const text = readFileSync(file, 'utf8');
    const lines = new LineCounter();
    let n = 0;
    for (const doc of new Composer().compose(new Parser(lines.addNewLine).parse(text))) {
      n++;
      const where = `${file}: document ${n}`;
      const err = doc.errors[0];
      if (err) {
        const { line, col } = lines.linePos(err.pos[0]);
        throw new Error(`${where}, line ${line}, column ${col}: ${err.message.split('\n')[0]}`);
      }
      collect(doc.toJS(), where, out, seen);
    }
  }
  return out;
}
