// Direct actuation: patch a Deployment's scale subresource (over the controller's one HTTP path to
// the API server, client-node's KubeConfig for credentials), and know every HPA (autoscaling/v2)
// so that a Deployment an HPA or KEDA already scales is never touched.
import { type KubeConfig, type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import { apiErrorMessage, kubeRequest } from '../kube/http.js';
import { collectionPath, namespaceScopes, ResilientInformer, type RestartBackoff } from '../kube/informer.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';

export interface HorizontalPodAutoscaler extends KubernetesObject {
  metadata: { name: string; namespace: string };
  spec?: { scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string } };
}

/** What the actuator needs of HPAs: which one (if any) scales a Deployment. */
export interface HpaLookup {
  readonly synced: boolean;
  hpaFor(namespace: string, target: string, kind?: string): string | undefined;
}

/** An informer over HPAs in all namespaces or a set (list + watch; RBAC: list, watch). */
export class HpaWatch implements HpaLookup {
  private readonly informers: ResilientInformer<HorizontalPodAutoscaler>[] = [];

  constructor(o: {
    kubeConfig: KubeConfig;
    namespaces?: string[];
    logger?: Logger;
    backoff?: RestartBackoff;
  }) {
    const kc = o.kubeConfig;
    for (const ns of namespaceScopes(o.namespaces)) {
      const path = collectionPath('/apis/autoscaling/v2', 'horizontalpodautoscalers', ns);
      this.informers.push(
        new ResilientInformer<HorizontalPodAutoscaler>(
          kc,
          path,
          () => kubeRequest(kc, { method: 'GET', path }),
          o.logger ?? silentLogger,
          o.backoff,
        ),
      );
    }
  }

  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** "namespace/name" of an HPA whose scaleTargetRef is this object (a Deployment by default), if any. */
  hpaFor(namespace: string, deployment: string, kind = 'Deployment'): string | undefined {
    for (const i of this.informers) {
      for (const h of i.informer.list(namespace)) {
        const t = h.spec?.scaleTargetRef;
        const apps = (t?.apiVersion ?? 'apps/v1').startsWith('apps/') || kind === 'LeaderWorkerSet';
        if (t?.kind === kind && apps && t?.name === deployment) return `${namespace}/${h.metadata.name}`;
      }
    }
    return undefined;
  }
}

/** Where a kind's scale subresource is served. */
export interface ScaledKind {
  apiVersion: string;
  kind: string;
  plural: string;
}
const DEPLOYMENTS: ScaledKind = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' };

/** Sets the replicas of a Deployment (or, given `kind`, another object with a scale subresource). */
export interface Scaler {
  scale(
    namespace: string,
    name: string,
    replicas: number,
    signal?: AbortSignal,
    kind?: ScaledKind,
  ): Promise<void>;
}

export class DeploymentScaler implements Scaler {
  private readonly log: Logger;
  /** Patches sent: for tests and logs. */
  patches = 0;

  constructor(private readonly o: { kubeConfig: KubeConfig; logger?: Logger }) {
    this.log = o.logger ?? silentLogger;
  }

  async scale(
    namespace: string,
    name: string,
    replicas: number,
    signal?: AbortSignal,
    kind: ScaledKind = DEPLOYMENTS,
  ): Promise<void> {
    this.patches++;
    try {
      await kubeRequest(this.o.kubeConfig, {
        method: 'PATCH',
        path: `/apis/${kind.apiVersion}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}/${encodeURIComponent(name)}/scale?fieldManager=wva-metrics`,
        body: { spec: { replicas } },
        contentType: PatchStrategy.MergePatch,
        signal,
      });
      this.log.info({ namespace, name, kind: kind.kind, replicas }, 'scaled');
    } catch (err) {
      throw new Error(
        `scale of ${kind.kind} ${namespace}/${name} to ${replicas} failed: ${apiErrorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}
