// The cluster source: informers (list, then watch) over VariantAutoscalings and Deployments in
// all namespaces or a set, and the watch of the controller's ConfigMap; the informers themselves
// (paged lists, trimmed objects, restarts with backoff) are the kube layer's.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  listTrimmed,
  ResilientInformer,
  type RestartBackoff,
  type Trim,
  TrimmingWatch,
  trimDeployment,
  trimVariant,
} from '../kube/informer.js';
import {
  type Deployment,
  GROUP,
  objectKey,
  PLURAL,
  type VariantAutoscaling,
  VERSION,
} from '../kube/types.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { VariantSource } from './reconciler.js';

export interface KubeSourceOptions {
  kubeConfig: KubeConfig;
  /** [] or undefined: all namespaces (cluster-wide list/watch). */
  namespaces?: string[];
  logger?: Logger;
  backoff?: RestartBackoff;
  /** Called with "namespace/name" when a VariantAutoscaling's spec or labels, or its Deployment, change. */
  onChange?: (key: string) => void;
  /** Clock (ms) for how long informers have been down. */
  now?: () => number;
}

function fingerprint(va: VariantAutoscaling): string {
  // Our own status writes also arrive as MODIFIED; only spec (generation), labels and deletion matter.
  return JSON.stringify([
    va.metadata.generation,
    va.metadata.labels ?? {},
    va.metadata.deletionTimestamp ?? null,
  ]);
}

export class KubeSource implements VariantSource {
  // Informers list every Deployment: one not found does not exist (or is not watched).
  readonly targetsKnown = true;
  private readonly vaInformers: ResilientInformer<VariantAutoscaling & KubernetesObject>[] = [];
  private readonly depInformers: ResilientInformer<Deployment & KubernetesObject>[] = [];
  private readonly seen = new Map<string, string>();
  private readonly log: Logger;

  constructor(private readonly o: KubeSourceOptions) {
    this.log = o.logger ?? silentLogger;
    const kc = o.kubeConfig;
    type VA = VariantAutoscaling & KubernetesObject;
    type Dep = Deployment & KubernetesObject;
    const scopes: Array<string | undefined> =
      o.namespaces && o.namespaces.length > 0 ? o.namespaces : [undefined];
    for (const ns of scopes) {
      const vaPath = ns
        ? `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(ns)}/${PLURAL}`
        : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
      const vaList = () => listTrimmed<VA>(kc, vaPath, trimVariant as Trim<VA>);
      const vi = new ResilientInformer(
        kc,
        vaPath,
        vaList,
        this.log,
        o.backoff,
        undefined,
        new TrimmingWatch<VA>(kc, trimVariant as Trim<VA>),
      );
      vi.informer.on('add', (va) => this.vaChanged(va));
      vi.informer.on('update', (va) => this.vaChanged(va));
      vi.informer.on('delete', (va) => {
        // Reconciled as gone: its published series go at once.
        this.seen.delete(objectKey(va));
        o.onChange?.(objectKey(va));
      });
      this.vaInformers.push(vi);

      const depPath = ns
        ? `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments`
        : '/apis/apps/v1/deployments';
      const depList = () => listTrimmed<Dep>(kc, depPath, trimDeployment as Trim<Dep>);
      const di = new ResilientInformer(
        kc,
        depPath,
        depList,
        this.log,
        o.backoff,
        undefined,
        new TrimmingWatch<Dep>(kc, trimDeployment as Trim<Dep>),
      );
      const depChanged = (d: Deployment) => {
        const key = objectKey(d);
        if (this.seen.has(key)) o.onChange?.(key);
      };
      di.informer.on('add', depChanged);
      di.informer.on('update', depChanged);
      di.informer.on('delete', depChanged);
      this.depInformers.push(di);
    }
  }

  private vaChanged(va: VariantAutoscaling): void {
    const key = objectKey(va);
    const fp = fingerprint(va);
    if (this.seen.get(key) === fp) return;
    this.seen.set(key, fp);
    this.o.onChange?.(key);
  }

  get informers(): ResilientInformer<KubernetesObject>[] {
    return [...this.vaInformers, ...this.depInformers] as unknown as ResilientInformer<KubernetesObject>[];
  }

  /** True once every informer has listed at least once. */
  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  /** The informer down the longest (its path and since when), or undefined when all are up. */
  outage(): { path: string; sinceMs: number } | undefined {
    let worst: { path: string; sinceMs: number } | undefined;
    for (const i of this.informers) {
      if (i.downSinceMs !== undefined && (!worst || i.downSinceMs < worst.sinceMs)) {
        worst = { path: i.path, sinceMs: i.downSinceMs };
      }
    }
    return worst;
  }

  start(): void {
    for (const i of this.informers) {
      if (this.o.now) i.clock = this.o.now;
      i.start();
    }
  }

  /** Resolves once synced (polls; informers have no synced event), or rejects after timeoutMs. */
  async waitForSync(timeoutMs = 30_000, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced) {
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`informers not synced after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  listVariants(): VariantAutoscaling[] {
    return this.vaInformers.flatMap((i) => i.informer.list());
  }

  getVariant(namespace: string, name: string): VariantAutoscaling | undefined {
    for (const i of this.vaInformers) {
      const o = i.informer.get(name, namespace);
      if (o) return o;
    }
    return undefined;
  }

  getDeployment(namespace: string, name: string): Deployment | undefined {
    for (const i of this.depInformers) {
      const o = i.informer.get(name, namespace);
      if (o) return o;
    }
    return undefined;
  }
}

/** Watches one ConfigMap (by name, in one namespace) and reports its data on every change. */
export class ConfigMapWatch {
  readonly informer: ResilientInformer<KubernetesObject & { data?: Record<string, string> }>;

  constructor(o: {
    kubeConfig: KubeConfig;
    namespace: string;
    name: string;
    onData: (data: Record<string, string> | undefined) => void;
    logger?: Logger;
    backoff?: RestartBackoff;
  }) {
    type ConfigMap = KubernetesObject & { data?: Record<string, string> };
    const fieldSelector = `metadata.name=${o.name}`;
    const path = `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/configmaps`;
    this.informer = new ResilientInformer(
      o.kubeConfig,
      path,
      () => listTrimmed<ConfigMap>(o.kubeConfig, path, (cm) => cm, fieldSelector),
      o.logger ?? silentLogger,
      o.backoff,
      fieldSelector,
    );
    this.informer.informer.on('add', (cm) => o.onData(cm.data ?? {}));
    this.informer.informer.on('update', (cm) => o.onData(cm.data ?? {}));
    this.informer.informer.on('delete', () => o.onData(undefined));
  }

  start(): void {
    this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
