// Reading one ConfigMap data key's YAML document into typed fields, with errors that name the
// field and what it must be. Absent and null fields are left out; unknown fields are ignored.
import { parse } from 'yaml';

export type FieldKind = 'number' | 'boolean' | 'string';

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The document as a mapping; throws FieldError('') when it is not YAML or not a mapping. */
export function readMapping(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new FieldError('', `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  // An empty document decodes to Go's zero struct upstream: every field unset.
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new FieldError('', 'must be a YAML mapping of fields');
  return doc as Record<string, unknown>;
}

/** The fields of `kinds` present in `doc`, checked; keys of the result are the YAML names. */
export function readFields(
  doc: Record<string, unknown>,
  kinds: Record<string, FieldKind>,
): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const [name, kind] of Object.entries(kinds)) {
    const v = doc[name];
    if (v === undefined || v === null) continue;
    if (kind === 'number') {
      if (typeof v !== 'number')
        throw new FieldError(name, `${name} must be a number, got ${JSON.stringify(v)}`);
      if (!Number.isFinite(v)) throw new FieldError(name, `${name} must be a finite number, got ${v}`);
    } else if (typeof v !== kind) {
      const what = kind === 'boolean' ? 'true or false' : 'a string';
      throw new FieldError(name, `${name} must be ${what}, got ${JSON.stringify(v)}`);
    }
    out[name] = v as number | boolean | string;
  }
  return out;
}
