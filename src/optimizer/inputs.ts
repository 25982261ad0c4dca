// The optimizer's inputs from the cluster, parsed: SLO classes (service-classes-config), unit costs
// (accelerator-unit-costs), a VariantAutoscaling's modelProfile, and which SLO applies to a VA.
// Pure: callers hand in ConfigMap data; every problem comes back as a sentence naming the key.
import { parse as parseYaml } from 'yaml';
import type { QueueProfile, SloTargets } from './types.js';
import { checkProfile } from './validate.js';

export const SERVICE_CLASSES_CONFIGMAP = 'service-classes-config';
export const UNIT_COSTS_CONFIGMAP = 'accelerator-unit-costs';

export interface ServiceClassEntry {
  model: string;
  slo: SloTargets;
}

export interface ServiceClass {
  /** The ConfigMap key it came from (`premium.yaml`). */
  key: string;
  name: string;
  priority: number;
  entries: ServiceClassEntry[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A plain decimal, as people write costs and targets: no sign, hex, exponent or empty string. */
const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/** A YAML number, or a string holding a plain decimal; NaN for anything else. */
function decimal(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && PLAIN_DECIMAL.test(v.trim())) return Number(v.trim());
  return Number.NaN;
}

/** A millisecond target: a YAML number or a numeric string, finite and >= 0. */
function target(v: unknown, where: string, problems: string[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0) {
    problems.push(`${where}: ${JSON.stringify(v)} is not a number of milliseconds >= 0`);
    return undefined;
  }
  return n;
}

/** `{ slo-tpot, slo-ttft }` (ms; tpot is the ITL target) to SloTargets. */
export function parseSloPair(v: unknown, where: string, problems: string[]): SloTargets {
  if (!isRecord(v)) {
    problems.push(`${where}: must be a mapping with slo-tpot and/or slo-ttft`);
    return {};
  }
  const itl = target(v['slo-tpot'], `${where}.slo-tpot`, problems);
  const ttft = target(v['slo-ttft'], `${where}.slo-ttft`, problems);
  if (itl === undefined && ttft === undefined && problems.length === 0) {
    problems.push(`${where}: neither slo-tpot nor slo-ttft is set`);
  }
  return { ...(ttft === undefined ? {} : { ttftMs: ttft }), ...(itl === undefined ? {} : { itlMs: itl }) };
}

function yamlOf(text: string, where: string, problems: string[]): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    problems.push(`${where}: not YAML (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** service-classes-config data: one YAML class per key. Any bad key refuses the whole edit. */
export function parseServiceClasses(data: Record<string, string>): Parsed<ServiceClass[]> {
  const problems: string[] = [];
  const classes: ServiceClass[] = [];
  for (const [key, text] of Object.entries(data).sort(([a], [b]) => a.localeCompare(b))) {
    const doc = yamlOf(text, key, problems);
    if (doc === undefined) continue;
    if (!isRecord(doc)) {
      problems.push(`${key}: must be a mapping with name, priority and data`);
      continue;
    }
    const name = typeof doc.name === 'string' && doc.name.trim() !== '' ? doc.name.trim() : undefined;
    if (!name) problems.push(`${key}.name: required, a non-empty string`);
    const sameName =
      name === undefined ? undefined : classes.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (sameName) {
      problems.push(
        `${key}.name: ${name} is also the name of ${sameName.key} (names match in any case); give each class its own name`,
      );
    }
    // Absent: last. Present, it must be a number: null, [] or "" are no priority at all, not 0.
    const priority =
      doc.priority === undefined
        ? Number.MAX_SAFE_INTEGER
        : typeof doc.priority === 'number'
          ? doc.priority
          : typeof doc.priority === 'string' && /^-?\d+(\.\d+)?$/.test(doc.priority.trim())
            ? Number(doc.priority.trim())
            : Number.NaN;
    if (!Number.isFinite(priority)) {
      problems.push(
        `${key}.priority: ${JSON.stringify(doc.priority) ?? String(doc.priority)} is not a number; give a number (lowest first) or leave it out (last)`,
      );
    }
    if (!Array.isArray(doc.data)) {
      problems.push(`${key}.data: required, a list of { model, slo-tpot, slo-ttft }`);
      continue;
    }
    const entries: ServiceClassEntry[] = [];
    const seen = new Map<string, number>();
    doc.data.forEach((e: unknown, i) => {
      const where = `${key}.data[${i}]`;
      if (!isRecord(e) || typeof e.model !== 'string' || e.model === '') {
        problems.push(`${where}.model: required, a model ID`);
        return;
      }
      const first = seen.get(e.model);
      if (first !== undefined) {
        problems.push(
          `${where}.model: ${e.model} is already listed at ${key}.data[${first}]; keep one entry per model`,
        );
        return;
      }
      seen.set(e.model, i);
      const own: string[] = [];
      const slo = parseSloPair(e, where, own);
      problems.push(...own);
      if (own.length === 0) entries.push({ model: e.model, slo });
    });
    if (name && !sameName) classes.push({ key, name, priority, entries });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: classes };
}

/**
 * accelerator-unit-costs data: one JSON `{ "device": ..., "cost": "40.00" }` per accelerator. The
 * result has no prototype, so an accelerator named `constructor` or `__proto__` has a cost only
 * if the ConfigMap gives it one.
 */
export function parseUnitCosts(data: Record<string, string>): Parsed<Record<string, number>> {
  const problems: string[] = [];
  const costs: Record<string, number> = Object.create(null);
  for (const [acc, text] of Object.entries(data)) {
    // YAML is a superset of JSON and hand-written files use it. The failsafe schema keeps every
    // value the text it was written as, so only a plain decimal is a cost (not 0x23, 1e2 or
    // ""); the parser refuses a key given twice, where JSON.parse would keep the last silently.
    let doc: unknown;
    try {
      doc = parseYaml(text, { schema: 'failsafe' });
    } catch (err) {
      problems.push(`${acc}: not JSON or YAML (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    if (!isRecord(doc)) {
      problems.push(`${acc}: must be { "device": ..., "cost": "<number>" }`);
      continue;
    }
    const c = decimal(doc.cost);
    if (!Number.isFinite(c) || c < 0) {
      problems.push(
        `${acc}.cost: ${JSON.stringify(doc.cost) ?? 'missing'} is not a number >= 0 written as a plain decimal, such as "40.00"`,
      );
      continue;
    }
    costs[acc] = c;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: costs };
}

/** One accelerator a variant may run on, with its queueing profile. */
export interface AcceleratorOption {
  acc: string;
  accCount: number;
  profile: QueueProfile;
}

interface RawAccelerator {
  acc?: unknown;
  accCount?: unknown;
  maxBatchSize?: unknown;
  perfParms?: { decodeParms?: Record<string, unknown>; prefillParms?: Record<string, unknown> };
}

function parm(v: unknown, where: string, problems: string[]): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isFinite(n)) problems.push(`${where}: ${JSON.stringify(v)} is not a number in a string`);
  return n;
}

/** The VA's `modelProfile.accelerators` (numbers as strings, per the CRD) as queueing profiles. */
export function parseModelProfile(modelProfile: unknown): Parsed<AcceleratorOption[]> {
  const problems: string[] = [];
  const accs = isRecord(modelProfile) ? modelProfile.accelerators : undefined;
  if (!Array.isArray(accs) || accs.length === 0) {
    return { ok: false, problems: ['spec.modelProfile.accelerators: required, at least one accelerator'] };
  }
  const out: AcceleratorOption[] = [];
  const seen = new Map<string, number>();
  (accs as RawAccelerator[]).forEach((a, i) => {
    const at = `spec.modelProfile.accelerators[${i}]`;
    const own: string[] = [];
    if (typeof a?.acc === 'string') {
      const first = seen.get(a.acc);
      if (first !== undefined)
        own.push(
          `${at}.acc: ${a.acc} is already profiled at accelerators[${first}]; keep one profile per accelerator`,
        );
      else seen.set(a.acc, i);
    }
    const d = a?.perfParms?.decodeParms ?? {};
    const p = a?.perfParms?.prefillParms ?? {};
    const profile = {
      alpha: parm(d.alpha, `${at}.perfParms.decodeParms.alpha`, own),
      beta: parm(d.beta, `${at}.perfParms.decodeParms.beta`, own),
      gamma: parm(p.gamma, `${at}.perfParms.prefillParms.gamma`, own),
      delta: parm(p.delta, `${at}.perfParms.prefillParms.delta`, own),
      maxBatchSize: a?.maxBatchSize as number,
    };
    // The CRD's desiredOptimizedAlloc.accelerator has minLength 2: a shorter name could never be written.
    if (typeof a?.acc !== 'string' || a.acc.length < 2)
      own.push(`${at}.acc: required, at least 2 characters`);
    const accCount =
      typeof a?.accCount === 'number' && Number.isInteger(a.accCount) && a.accCount >= 1 ? a.accCount : 0;
    if (accCount === 0) own.push(`${at}.accCount: ${JSON.stringify(a?.accCount)} must be an integer >= 1`);
    if (own.length === 0) {
      try {
        checkProfile(profile);
      } catch (err) {
        own.push(`${at}: ${(err as Error).message.replace(/^profile\./, '')}`);
      }
    }
    problems.push(...own);
    if (own.length === 0) out.push({ acc: a.acc as string, accCount, profile });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
}

interface ClassIndex {
  byName: Map<string, ServiceClass>;
  byKey: Map<string, ServiceClass>;
  /** Per model, the first class by priority (then key) that lists it. */
  firstListing: Map<string, ServiceClass>;
}

// One index per parsed ConfigMap version, so a fleet of thousands of classes resolves in O(1).
const indexes = new WeakMap<ServiceClass[], ClassIndex>();

function indexOf(classes: ServiceClass[]): ClassIndex {
  let index = indexes.get(classes);
  if (index) return index;
  index = { byName: new Map(), byKey: new Map(), firstListing: new Map() };
  const ordered = [...classes].sort((a, b) => a.priority - b.priority || a.key.localeCompare(b.key));
  for (const c of ordered) {
    if (!index.byName.has(c.name.toLowerCase())) index.byName.set(c.name.toLowerCase(), c);
    index.byKey.set(c.key, c);
    for (const e of c.entries) if (!index.firstListing.has(e.model)) index.firstListing.set(e.model, c);
  }
  indexes.set(classes, index);
  return index;
}

export interface SloRef {
  namespace: string;
  modelId: string;
  sloClassRef: { name: string; key: string };
}

export type SloResolution = { ok: true; slo: SloTargets; source: string } | { ok: false; problem: string };

/**
 * Which SLO applies to a VA, in this order: (1) a ConfigMap `sloClassRef.name` in the VA's
 * namespace whose key `sloClassRef.key` holds `{ slo-tpot, slo-ttft }`; (2) the service class
 * named `sloClassRef.name` (any case, or keyed `<name>.yaml`), its entry for model
 * `sloClassRef.key`, else for `spec.modelID`; (3) the first class by priority listing the model.
 * `source` says which applied, for the condition message.
 */
export function resolveSlo(
  ref: SloRef,
  classes: ServiceClass[] | undefined,
  namespaceConfigMap: Record<string, string> | undefined,
): SloResolution {
  const { name, key } = ref.sloClassRef;
  // Own keys only: a key named like an Object method (`constructor`) is no ConfigMap key.
  const text =
    namespaceConfigMap && Object.hasOwn(namespaceConfigMap, key) ? namespaceConfigMap[key] : undefined;
  if (text !== undefined) {
    const problems: string[] = [];
    const where = `ConfigMap ${ref.namespace}/${name} key ${key}`;
    const slo = parseSloPair(yamlOf(text, where, problems), where, problems);
    if (problems.length > 0) return { ok: false, problem: problems.join('; ') };
    return { ok: true, slo, source: where };
  }
  if (!classes) {
    return {
      ok: false,
      problem: `no SLO for model ${ref.modelId}: ${SERVICE_CLASSES_CONFIGMAP} is missing or was never valid, and ${ref.namespace} has no ConfigMap ${name} with key ${key}`,
    };
  }
  const index = indexOf(classes);
  const named = index.byName.get(name.toLowerCase()) ?? index.byKey.get(`${name}.yaml`);
  if (named) {
    const byKey = named.entries.find((e) => e.model === key);
    if (byKey) return { ok: true, slo: byKey.slo, source: `service class ${named.name}, entry ${key}` };
    const byModel = named.entries.find((e) => e.model === ref.modelId);
    if (byModel)
      return { ok: true, slo: byModel.slo, source: `service class ${named.name}, entry ${ref.modelId}` };
  }
  const listing = index.firstListing.get(ref.modelId);
  if (listing) {
    const entry = listing.entries.find((e) => e.model === ref.modelId) as ServiceClassEntry;
    const why = named
      ? `class ${named.name} has no entry for ${key} or ${ref.modelId}`
      : `no class named ${name}`;
    return {
      ok: true,
      slo: entry.slo,
      source: `service class ${listing.name} (first by priority listing ${ref.modelId}; sloClassRef ${name}/${key}: ${why})`,
    };
  }
  return {
    ok: false,
    problem: `no service class lists model ${ref.modelId} and sloClassRef ${name}/${key} matches none: add the model to a class in ${SERVICE_CLASSES_CONFIGMAP}, or a ConfigMap ${name} with key ${key} in ${ref.namespace}`,
  };
}
