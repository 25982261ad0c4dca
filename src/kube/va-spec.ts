// A VariantAutoscaling's spec in either shape users run: upstream v0.5's (scaleTargetRef, modelID,
// variantCost) and the older one (modelID, modelProfile, sloClassRef, the Deployment named like the
// object). Both may be combined: the profile then lets the SLO engine size the variant, and without
// it the variant is left to the saturation engine. Pure; every problem names the field and the rule.
import { escapeControls } from '../safe-text.js';
import { nameProblem, validateSpec } from './types.js';

/** An HPA-style reference to what is scaled. */
export interface ScaleTargetRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/** Where a kind is served, so its objects and its `scale` subresource can be addressed. */
export interface TargetKind {
  apiVersion: string;
  kind: string;
  /** The resource name in URLs. */
  plural: string;
}

/** The kinds whose replicas we read and scale: Deployments first, then any with a `scale` subresource. */
export const TARGET_KINDS: readonly TargetKind[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets' },
  { apiVersion: 'leaderworkerset.x-k8s.io/v1', kind: 'LeaderWorkerSet', plural: 'leaderworkersets' },
];

/** Upstream's default for an absent variantCost. */
export const DEFAULT_VARIANT_COST = '10.0';
const COST = /^\d+(\.\d+)?$/;

/** The engine that can size the variant from what its spec carries. */
export type SpecEngine = 'slo' | 'saturation';

export interface ParsedSpec {
  modelID: string;
  /** Resolved: an absent reference means the Deployment named like the object. */
  target: ScaleTargetRef & { plural: string };
  /** True when the spec had no scaleTargetRef. */
  targetDefaulted: boolean;
  variantCost: number;
  /** As written (or the default), for status and messages. */
  variantCostText: string;
  /** `slo` when modelProfile and sloClassRef are both present, else `saturation`. */
  engine: SpecEngine;
}

export type SpecResult = { ok: true; spec: ParsedSpec } | { ok: false; problems: string[] };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function shown(v: unknown): string {
  try {
    const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v);
    return escapeControls(JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s));
  } catch {
    return typeof v;
  }
}

const KIND_LIST = TARGET_KINDS.map((k) => k.kind).join(', ');

/** The kind a reference names, or a problem saying which kinds are known. */
export function targetKind(ref: { apiVersion?: unknown; kind: string }): TargetKind | string {
  const known = TARGET_KINDS.find((k) => k.kind === ref.kind);
  if (!known) {
    return `spec.scaleTargetRef.kind: ${shown(ref.kind)} is not a kind this controller can scale; use one of ${KIND_LIST}`;
  }
  const v = ref.apiVersion;
  if (v !== undefined && v !== '' && v !== known.apiVersion) {
    return `spec.scaleTargetRef.apiVersion: ${shown(v)} does not serve ${known.kind}; use ${known.apiVersion} (or leave it out)`;
  }
  return known;
}

function parseTarget(ref: unknown, vaName: string, problems: string[]): ParsedSpec['target'] | undefined {
  if (ref === undefined || ref === null) {
    const d = TARGET_KINDS[0] as TargetKind;
    return { ...d, name: vaName };
  }
  if (!isRecord(ref)) {
    problems.push(
      'spec.scaleTargetRef: must be an object with kind and name, e.g. {kind: Deployment, name: my-model}',
    );
    return undefined;
  }
  const before = problems.length;
  if (typeof ref.kind !== 'string' || ref.kind === '')
    problems.push('spec.scaleTargetRef.kind: required, e.g. Deployment');
  if (typeof ref.name !== 'string' || ref.name === '')
    problems.push('spec.scaleTargetRef.name: required, the name of the object to scale');
  else {
    const bad = nameProblem(ref.name);
    if (bad) problems.push(bad.replace('metadata.name', 'spec.scaleTargetRef.name'));
  }
  if (ref.apiVersion !== undefined && typeof ref.apiVersion !== 'string')
    problems.push('spec.scaleTargetRef.apiVersion: must be a string such as apps/v1');
  if (problems.length > before) return undefined;
  const kind = targetKind({ apiVersion: ref.apiVersion, kind: ref.kind as string });
  if (typeof kind === 'string') {
    problems.push(kind);
    return undefined;
  }
  return { ...kind, name: ref.name as string };
}

function parseCost(v: unknown, problems: string[]): [number, string] {
  if (v === undefined || v === null) return [Number(DEFAULT_VARIANT_COST), DEFAULT_VARIANT_COST];
  if (typeof v === 'string' && COST.test(v)) return [Number(v), v];
  const hint = typeof v === 'number' ? ` (write it quoted: "${v}")` : '';
  problems.push(
    `spec.variantCost: ${shown(v)} is not a non-negative decimal in a string (pattern ^\\d+(\\.\\d+)?$, e.g. "10.0")${hint}`,
  );
  return [Number.NaN, ''];
}

/**
 * Reads a spec of either shape. `vaName` is the object's name (the default target). The SLO
 * engine's fields are checked only when present; present, they must be complete.
 */
export function parseSpec(spec: unknown, vaName: string): SpecResult {
  if (!isRecord(spec))
    return { ok: false, problems: ['spec: required, an object with modelID (and scaleTargetRef)'] };
  const problems: string[] = [];
  if (typeof spec.modelID !== 'string' || spec.modelID === '')
    problems.push('spec.modelID: required, a non-empty string');
  const target = parseTarget(spec.scaleTargetRef, vaName, problems);
  const [variantCost, variantCostText] = parseCost(spec.variantCost, problems);
  const hasProfile = spec.modelProfile !== undefined && spec.modelProfile !== null;
  const hasSlo = spec.sloClassRef !== undefined && spec.sloClassRef !== null;
  if (hasProfile || hasSlo) {
    // The older shape's fields, checked by the older rules (which also want modelID).
    const older = validateSpec({
      modelID: spec.modelID ?? 'x',
      modelProfile: spec.modelProfile,
      sloClassRef: spec.sloClassRef,
    });
    problems.push(
      ...older.map((p) =>
        p.startsWith('spec.modelProfile: required') || p.startsWith('spec.sloClassRef: required')
          ? `${p.split(':')[0]}: required when spec.${hasProfile ? 'modelProfile' : 'sloClassRef'} is set (the SLO engine needs both; remove both to leave sizing to the saturation engine)`
          : p,
      ),
    );
  }
  if (problems.length > 0 || !target) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      modelID: spec.modelID as string,
      target,
      targetDefaulted: spec.scaleTargetRef === undefined || spec.scaleTargetRef === null,
      variantCost,
      variantCostText,
      engine: hasProfile && hasSlo ? 'slo' : 'saturation',
    },
  };
}

/**
 * The name of the Deployment a VariantAutoscaling scales: its scaleTargetRef's when that names a
 * Deployment, its own when it has none. Another kind: the empty name, which no Deployment has, so
 * lookups by it find nothing.
 */
export function deploymentNameOf(va: { metadata: { name: string }; spec?: unknown }): string {
  const ref = isRecord(va.spec) ? va.spec.scaleTargetRef : undefined;
  if (!isRecord(ref)) return va.metadata.name;
  if (ref.kind !== undefined && ref.kind !== 'Deployment') return '';
  return typeof ref.name === 'string' && ref.name !== '' ? ref.name : va.metadata.name;
}

/** The object a variant scales, as its spec names it: scaleTargetRef, else the Deployment of its name. */
export function scaledOf(va: {
  metadata: { name: string };
  spec?: { scaleTargetRef?: { kind?: string; name?: string } };
}): { name: string; kind: TargetKind } {
  const ref = va.spec?.scaleTargetRef;
  const kind =
    TARGET_KINDS.find((k) => k.kind === (ref?.kind ?? 'Deployment')) ?? (TARGET_KINDS[0] as TargetKind);
  return { name: ref?.name || va.metadata.name, kind };
}

/** `Deployment ns/name` of what a variant scales. */
export function describeScaled(va: {
  metadata: { name: string; namespace: string };
  spec?: { scaleTargetRef?: { kind?: string; name?: string } };
}): string {
  const { name, kind } = scaledOf(va);
  return `${kind.kind} ${va.metadata.namespace}/${name}`;
}
