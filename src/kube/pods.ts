// Pods as the saturation engines need them to tell which variant a pod serves: an informer over
// Pods trimmed to name, namespace, labels, controlling owners, readiness, GPU requests and how long
// the pod took to become Ready (a few hundred bytes each, where a whole Pod is several KB). Started
// the first time an engine asks.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import {
  namespacedTrimmedInformers,
  type ResilientInformer,
  type RestartBackoff,
  type Trim,
} from './informer.js';
import { whenSynced } from './synced.js';

const GPU_REQUESTS = ['nvidia.com/gpu', 'amd.com/gpu', 'intel.com/gpu'];

/** What the cache keeps of a Pod. */
export interface TrimmedPod extends KubernetesObject {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
  };
  /** The pod's owners (kind and name), from metadata.ownerReferences. */
  owners?: Array<{ kind: string; name: string; controller?: boolean }>;
  status?: { phase?: string; ready?: boolean };
  /** GPU requests summed over the containers, per resource name. */
  gpus?: Record<string, number>;
  /**
   * Creation to the Ready condition's last transition (ms), and when that was (ms since the epoch):
   * only for a pod Ready with no container restarted, whose Ready is then its first.
   */
  startup?: { ms: number; readyAtMs: number };
}

interface RawPod {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }>;
    resourceVersion?: string;
    creationTimestamp?: string;
  };
  spec?: { containers?: Array<{ resources?: { requests?: Record<string, string | number> } }> };
  status?: {
    phase?: string;
    conditions?: Array<{ type?: string; status?: string; lastTransitionTime?: string }>;
    containerStatuses?: Array<{ restartCount?: number }>;
  };
}

/** The pod's start-up, when it is one: Ready, no container restarted, both times readable, in order. */
function startupOf(p: RawPod): TrimmedPod['startup'] | undefined {
  const ready = (p.status?.conditions ?? []).find((c) => c?.type === 'Ready' && c.status === 'True');
  if (!ready || typeof ready.lastTransitionTime !== 'string') return undefined;
  // A restart makes Ready's last transition the restart's, not the start-up's.
  if ((p.status?.containerStatuses ?? []).some((c) => (c?.restartCount ?? 0) !== 0)) return undefined;
  const created = p.metadata?.creationTimestamp;
  const from = typeof created === 'string' ? Date.parse(created) : Number.NaN;
  const to = Date.parse(ready.lastTransitionTime);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) return undefined;
  return { ms: to - from, readyAtMs: to };
}

/** A Pod trimmed for the cache: owners not marked `controller: false` (at most 4), Ready as a boolean, its start-up. */
export function trimPod(p: RawPod): TrimmedPod {
  const m = p.metadata ?? {};
  const meta: TrimmedPod['metadata'] = { name: m.name ?? '', namespace: m.namespace ?? '' };
  if (m.labels && typeof m.labels === 'object') meta.labels = m.labels;
  const owners = (m.ownerReferences ?? [])
    .filter((o) => typeof o?.kind === 'string' && typeof o.name === 'string' && o.controller !== false)
    .slice(0, 4)
    .map((o) => ({
      kind: o.kind as string,
      name: o.name as string,
      ...(o.controller ? { controller: true } : {}),
    }));
  const out: TrimmedPod = { metadata: meta };
  if (owners.length > 0) out.owners = owners;
  if (m.resourceVersion !== undefined)
    (out.metadata as { resourceVersion?: string }).resourceVersion = m.resourceVersion;
  const ready = (p.status?.conditions ?? []).some((c) => c?.type === 'Ready' && c.status === 'True');
  out.status = { ready, ...(typeof p.status?.phase === 'string' ? { phase: p.status.phase } : {}) };
  const gpus: Record<string, number> = {};
  for (const c of p.spec?.containers ?? []) {
    for (const r of GPU_REQUESTS) {
      const v = c?.resources?.requests?.[r];
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : 0;
      if (Number.isInteger(n) && n > 0) gpus[r] = (gpus[r] ?? 0) + n;
    }
  }
  if (Object.keys(gpus).length > 0) out.gpus = gpus;
  const startup = startupOf(p);
  if (startup) out.startup = startup;
  return out;
}

/** The pods the engines look up by namespace and name. */
export interface PodView {
  /** The pod, or undefined when the informer has not seen it (deleted, or not yet listed). */
  pod(namespace: string, name: string): TrimmedPod | undefined;
  /** Whether every informer has listed once; before that a missing pod proves nothing. */
  synced(): boolean;
  /** Resolves true once every informer has listed, false after `timeoutMs` without it. */
  listed?(timeoutMs?: number): Promise<boolean>;
}

/** Pods of the watched namespaces (every namespace when none is given), started on first use. */
export class PodWatch implements PodView {
  private readonly informers: Array<{ ns: string | undefined; informer: ResilientInformer<TrimmedPod> }>;
  private started = false;

  constructor(o: {
    kubeConfig: KubeConfig;
    namespaces?: string[];
    logger?: Logger;
    backoff?: RestartBackoff;
  }) {
    this.informers = namespacedTrimmedInformers<TrimmedPod>({
      kubeConfig: o.kubeConfig,
      api: '/api/v1',
      plural: 'pods',
      namespaces: o.namespaces,
      trim: trimPod as unknown as Trim<TrimmedPod>,
      logger: o.logger ?? silentLogger,
      backoff: o.backoff,
    });
  }

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    for (const { informer } of this.informers) informer.start();
  }

  pod(namespace: string, name: string): TrimmedPod | undefined {
    this.ensureStarted();
    for (const { ns, informer: i } of this.informers) {
      if (ns !== undefined && ns !== namespace) continue;
      const p = i.informer.get(name, namespace);
      if (p) return p;
    }
    return undefined;
  }

  synced(): boolean {
    this.ensureStarted();
    return this.informers.every(({ informer }) => informer.synced);
  }

  listed(timeoutMs = 10_000): Promise<boolean> {
    return whenSynced(() => this.synced(), timeoutMs);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    await Promise.all(this.informers.map(({ informer }) => informer.stop()));
  }
}
