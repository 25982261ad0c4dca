// What an API server does with an object under a CRD's structural OpenAPI v3 schema: defaulting,
// pruning of unknown fields (reported, not refused, as the API server drops them silently) and
// validation of the keywords controller-gen emits. No schema library is a dependency of this
// package, and the subset CRDs use is small.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: schemas and objects are read loosely
export type Schema = Record<string, any>;

export interface SchemaResult {
  /** One line per violation: `path: rule`. */
  problems: string[];
  /** Paths of fields the API server would drop. */
  pruned: string[];
  /** The object after defaulting and pruning. */
  value: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function typeOk(type: string | undefined, v: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

function walk(s: Schema, v: unknown, at: string, out: SchemaResult): unknown {
  if (v === null && s.nullable) return v;
  if (!typeOk(s.type, v)) {
    out.problems.push(
      `${at}: must be ${s.type}, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`,
    );
    return v;
  }
  if (s.enum && !s.enum.includes(v)) out.problems.push(`${at}: must be one of ${JSON.stringify(s.enum)}`);
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength)
      out.problems.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && v.length > s.maxLength)
      out.problems.push(`${at}: longer than ${s.maxLength}`);
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v))
      out.problems.push(`${at}: does not match ${s.pattern}`);
    if (s.format === 'date-time' && !DATE_TIME.test(v)) out.problems.push(`${at}: not an RFC 3339 date-time`);
  }
  if (typeof v === 'number' && s.minimum !== undefined && v < s.minimum)
    out.problems.push(`${at}: less than ${s.minimum}`);
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems)
      out.problems.push(`${at}: fewer than ${s.minItems} items`);
    const items = v.map((item, i) => (s.items ? walk(s.items, item, `${at}[${i}]`, out) : item));
    if (s['x-kubernetes-list-type'] === 'map') {
      const keys = (s['x-kubernetes-list-map-keys'] ?? []) as string[];
      const seen = new Set<string>();
      for (const item of items) {
        const id = JSON.stringify(keys.map((k) => (isObject(item) ? item[k] : undefined)));
        if (seen.has(id)) out.problems.push(`${at}: duplicate entry for ${keys.join(',')} ${id}`);
        seen.add(id);
      }
    }
    return items;
  }
  if (isObject(v)) {
    const result: Record<string, unknown> = {};
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const [k, ps] of Object.entries(props)) {
      if (v[k] === undefined && ps.default !== undefined) result[k] = structuredClone(ps.default);
    }
    for (const [k, val] of Object.entries(v)) {
      const ps = props[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
      if (ps) result[k] = walk(ps, val, `${at}.${k}`, out);
      else if (s['x-kubernetes-preserve-unknown-fields'] || s.properties === undefined) result[k] = val;
      else out.pruned.push(`${at}.${k}`);
    }
    for (const k of (s.required ?? []) as string[]) {
      if (result[k] === undefined) out.problems.push(`${at}.${k}: required`);
    }
    if (s.minProperties !== undefined && Object.keys(result).length < s.minProperties)
      out.problems.push(`${at}: fewer than ${s.minProperties} properties`);
    return result;
  }
  return v;
}

/** Validates `value` against `schema` as the API server would; `at` names the root in messages. */
export function applySchema(schema: Schema, value: unknown, at = ''): SchemaResult {
  const out: SchemaResult = { problems: [], pruned: [], value: undefined };
  out.value = walk(schema, value, at, out);
  return out;
}

/** The openAPIV3Schema of a CRD file's first served version. */
export function crdSchema(file: string): Schema {
  const crd = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Schema)
    .find((d) => d?.kind === 'CustomResourceDefinition');
  if (!crd) throw new Error(`${file}: no CustomResourceDefinition`);
  return crd.spec.versions[0].schema.openAPIV3Schema as Schema;
}

/** The CRD's printer columns, as `name jsonPath type`. */
export function printerColumns(file: string): string[] {
  const crd = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Schema)
    .find((d) => d?.kind === 'CustomResourceDefinition');
  return (crd?.spec.versions[0].additionalPrinterColumns ?? []).map(
    (c: Schema) => `${c.name} ${c.jsonPath} ${c.type}`,
  );
}
