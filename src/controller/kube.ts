// The cluster source: informers (list, then watch) over VariantAutoscalings and Deployments in
// all namespaces or a set, and the watch of the controller's ConfigMap; the informers themselves
// (paged lists, trimmed objects, restarts with backoff) are the kube layer's.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { apiErrorCode, apiErrorMessage, kubeRequest } from '../kube/http.js';
import {
  collectionPath,
  namespaceScopes,
  type ResilientInformer,
  type RestartBackoff,
  type Trim,
  trimDeployment,
  trimmedInformer,
  trimVariant,
} from '../kube/informer.js';
import { type NamespaceLike, outOfScope } from '../kube/scope.js';
import { whenSynced } from '../kube/synced.js';
import { TargetIndex, targetKey } from '../kube/target.js';
import {
  type Deployment,
  GROUP,
  objectKey,
  PLURAL,
  type VariantAutoscaling,
  VERSION,
} from '../kube/types.js';
import { deploymentNameOf, type TargetKind } from '../kube/va-spec.js';
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
  /** CONTROLLER_INSTANCE: only VariantAutoscalings labelled with it are listed. */
  controllerInstance?: string;
  /** Watch Namespaces and leave out VariantAutoscalings in those annotated wva.llmd.ai/exclude. */
  namespaceExclusion?: boolean;
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
  private readonly nsInformer: ResilientInformer<NamespaceLike & KubernetesObject> | undefined;
  private readonly seen = new Map<string, string>();
  /** Which VariantAutoscalings scale each Deployment: a Deployment event finds them without a scan. */
  private readonly targets = new TargetIndex();
  private readonly log: Logger;

  constructor(private readonly o: KubeSourceOptions) {
    this.log = o.logger ?? silentLogger;
    const kc = o.kubeConfig;
    type VA = VariantAutoscaling & KubernetesObject;
    type Dep = Deployment & KubernetesObject;
    const informer = <T extends KubernetesObject>(path: string, trim: Trim<T>) =>
      trimmedInformer<T>({ kubeConfig: kc, path, trim, logger: this.log, backoff: o.backoff });
    for (const ns of namespaceScopes(o.namespaces)) {
      const vi = informer(collectionPath(`/apis/${GROUP}/${VERSION}`, PLURAL, ns), trimVariant as Trim<VA>);
      vi.informer.on('add', (va) => this.vaChanged(va));
      vi.informer.on('update', (va) => this.vaChanged(va));
      vi.informer.on('delete', (va) => {
        // Reconciled as gone: its published series go at once.
        this.seen.delete(objectKey(va));
        this.targets.delete(objectKey(va));
        o.onChange?.(objectKey(va));
      });
      this.vaInformers.push(vi);

      const di = informer(collectionPath('/apis/apps/v1', 'deployments', ns), trimDeployment as Trim<Dep>);
      const depChanged = (d: Deployment) => {
        const target = targetKey(d.metadata.namespace, 'Deployment', d.metadata.name);
        for (const key of this.targets.variantsOf(target)) o.onChange?.(key);
      };
      di.informer.on('add', depChanged);
      di.informer.on('update', depChanged);
      di.informer.on('delete', depChanged);
      this.depInformers.push(di);
    }
    if (o.namespaceExclusion) {
      type Ns = NamespaceLike & KubernetesObject;
      const path = '/api/v1/namespaces';
      const trim = (n: Ns) =>
        ({ metadata: { name: n.metadata.name, annotations: n.metadata.annotations ?? {} } }) as Ns;
      this.nsInformer = informer(path, trim);
      // A Namespace opting in or out: its VariantAutoscalings are reconciled (or forgotten) now.
      const nsChanged = (n: Ns) => {
        for (const i of this.vaInformers)
          for (const va of i.informer.list(n.metadata.name)) o.onChange?.(objectKey(va));
      };
      this.nsInformer.informer.on('add', nsChanged);
      this.nsInformer.informer.on('update', nsChanged);
      this.nsInformer.informer.on('delete', nsChanged);
    }
  }

  /** Why a VariantAutoscaling is not this controller's (excluded namespace, other instance), if so. */
  private outOfScope(va: VariantAutoscaling): string | undefined {
    const namespaces = new Map<string, NamespaceLike>();
    const ns = this.nsInformer?.informer.get(va.metadata.namespace);
    if (ns) namespaces.set(va.metadata.namespace, ns);
    return outOfScope(va, namespaces, this.o.controllerInstance);
  }

  /** A target of another kind, read through its scale subresource (replicas only); 404: none. */
  readonly getScaleTarget = async (
    namespace: string,
    target: TargetKind & { name: string },
  ): Promise<Deployment | undefined> => {
    const path = `/apis/${target.apiVersion}/namespaces/${encodeURIComponent(namespace)}/${target.plural}/${encodeURIComponent(target.name)}/scale`;
    try {
      const scale = await kubeRequest<{ spec?: { replicas?: number }; status?: { replicas?: number } }>(
        this.o.kubeConfig,
        { method: 'GET', path },
      );
      return {
        apiVersion: target.apiVersion,
        kind: target.kind,
        metadata: { name: target.name, namespace },
        spec: { ...(typeof scale.spec?.replicas === 'number' ? { replicas: scale.spec.replicas } : {}) },
        status: {
          ...(typeof scale.status?.replicas === 'number' ? { replicas: scale.status.replicas } : {}),
        },
      };
    } catch (err) {
      if (apiErrorCode(err) === 404) return undefined;
      throw new Error(`cannot read ${target.kind} ${namespace}/${target.name}: ${apiErrorMessage(err)}`);
    }
  };

  private vaChanged(va: VariantAutoscaling): void {
    const key = objectKey(va);
    const fp = fingerprint(va);
    if (this.seen.get(key) === fp) return;
    this.seen.set(key, fp);
    this.targets.set(key, targetKey(va.metadata.namespace, 'Deployment', deploymentNameOf(va)));
    this.o.onChange?.(key);
  }

  get informers(): ResilientInformer<KubernetesObject>[] {
    const all = [...this.vaInformers, ...this.depInformers, ...(this.nsInformer ? [this.nsInformer] : [])];
    return all as unknown as ResilientInformer<KubernetesObject>[];
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
    if (!(await whenSynced(() => this.synced, timeoutMs, signal)))
      throw new Error(`informers not synced after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  listVariants(): VariantAutoscaling[] {
    return this.vaInformers.flatMap((i) => i.informer.list()).filter((va) => !this.outOfScope(va));
  }

  /** An object out of this controller's scope reads as absent: it is left alone, its series go. */
  getVariant(namespace: string, name: string): VariantAutoscaling | undefined {
    for (const i of this.vaInformers) {
      const o = i.informer.get(name, namespace);
      if (o) return this.outOfScope(o) ? undefined : o;
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
    // Kept whole: the one ConfigMap is small and its data is what is read.
    this.informer = trimmedInformer<ConfigMap>({
      kubeConfig: o.kubeConfig,
      path,
      trim: (cm) => cm,
      logger: o.logger ?? silentLogger,
      backoff: o.backoff,
      selector: fieldSelector,
    });
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
