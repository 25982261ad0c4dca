// Informers that keep themselves running, over the one HTTP path (http.ts): client-node's informer
// logic (ListWatch) with paged plain-JSON lists and trimmed objects. The informer re-lists by itself
// on 410 Gone and re-watches after a clean end of stream; after an error it stops, so it is started
// again with a capped backoff.
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type Watch,
} from '@kubernetes/client-node';
import type { Logger } from '../types.js';
import { gpuPlacement } from './accelerator.js';
import { HttpWatch, kubeRequest, type WatchCallback } from './http.js';
import type { Deployment, LabelSelector, VariantAutoscaling } from './types.js';

export type Trim<T> = (o: T) => T;

/** What the cache keeps of a VariantAutoscaling: all but the bookkeeping nobody here reads. */
export function trimVariant(va: VariantAutoscaling): VariantAutoscaling {
  const m = va.metadata as VariantAutoscaling['metadata'] & { managedFields?: unknown };
  if (m) {
    delete m.managedFields;
    if (m.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] !== undefined) {
      const { 'kubectl.kubernetes.io/last-applied-configuration': _, ...rest } = m.annotations;
      m.annotations = rest;
    }
  }
  return va;
}

/**
 * What the cache keeps of a Deployment: the fields of our Deployment type. A real Deployment
 * carries its pod template and managedFields (often 5-20 KB); 10 000 of them whole would be
 * 50-200 MB of cache for three numbers each.
 */
export function trimDeployment(d: Deployment): Deployment {
  const m = d.metadata ?? ({} as Deployment['metadata']);
  const meta: Deployment['metadata'] = { name: m.name, namespace: m.namespace };
  if (m.uid !== undefined) meta.uid = m.uid;
  if (m.resourceVersion !== undefined) meta.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) meta.generation = m.generation;
  if (m.labels !== undefined) meta.labels = m.labels;
  if (m.deletionTimestamp !== undefined) meta.deletionTimestamp = m.deletionTimestamp;
  const out: Deployment = { metadata: meta };
  if (d.apiVersion !== undefined) out.apiVersion = d.apiVersion;
  if (d.kind !== undefined) out.kind = d.kind;
  if (d.spec) {
    out.spec = d.spec.replicas === undefined ? {} : { replicas: d.spec.replicas };
    // Which pods are the target's: the saturation engines match pods to variants by it.
    const selector = trimSelector(d.spec.selector);
    if (selector) out.spec.selector = selector;
    const placement = gpuPlacement(d.spec.template?.spec);
    if (placement) out.spec.template = { spec: placement };
    // Scale from zero matches the pod template's labels against InferencePool selectors.
    const labels = d.spec.template?.metadata?.labels;
    // The GPU limiter counts GPUs held (each container's GPU requests), and saturation V2 reads
    // the vLLM engine arguments (command, args, VLLM_* env): nothing else of the containers.
    const containers = servingContainers(d.spec.template?.spec);
    if (containers)
      out.spec.template = { ...out.spec.template, spec: { ...out.spec.template?.spec, containers } };
    if (labels && typeof labels === 'object')
      out.spec.template = { ...out.spec.template, metadata: { labels } };
  }
  if (d.status) {
    out.status = {};
    if (d.status.replicas !== undefined) out.status.replicas = d.status.replicas;
    if (d.status.readyReplicas !== undefined) out.status.readyReplicas = d.status.readyReplicas;
  }
  return out;
}

const GPU_REQUESTS = ['nvidia.com/gpu', 'amd.com/gpu', 'intel.com/gpu'];

/** Bounds on what is kept of the containers: a hostile template must not grow the cache. */
export const CONTAINER_LIMITS = {
  containers: 8,
  /** Tokens of command plus args per container. */
  tokens: 128,
  /** Characters of command plus args over the whole pod template (a `sh -c` script is one token). */
  chars: 8192,
  env: 16,
} as const;

type KeptContainer = NonNullable<
  NonNullable<NonNullable<Deployment['spec']>['template']>['spec']
>['containers'];

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Each container's GPU requests, command, args and literal VLLM_* env values, bounded (tokens past
 * the bounds are dropped whole, never cut, so no flag reads a wrong value); undefined when no
 * container has any of them.
 */
function servingContainers(podSpec: unknown): KeptContainer | undefined {
  const cs = (podSpec as { containers?: unknown } | undefined)?.containers;
  if (!Array.isArray(cs)) return undefined;
  let any = false;
  // The character budget is the template's, shared by its containers.
  let chars = 0;
  const out: NonNullable<KeptContainer> = cs.slice(0, CONTAINER_LIMITS.containers).map((raw) => {
    const c = (raw ?? {}) as {
      command?: unknown;
      args?: unknown;
      env?: unknown;
      resources?: { requests?: Record<string, string | number> };
    };
    const kept: NonNullable<KeptContainer>[number] = {};
    const req = c.resources?.requests ?? {};
    const gpu = Object.fromEntries(
      GPU_REQUESTS.filter((r) => r in req).map((r) => [r, req[r] as string | number]),
    );
    if (Object.keys(gpu).length > 0) kept.resources = { requests: gpu };
    let tokens = 0;
    let full = false;
    // Once a token is dropped nothing after it is kept: a flag's value must not lose its flag.
    const within = (list: string[]): string[] => {
      const taken: string[] = [];
      for (const t of list) {
        if (full || tokens >= CONTAINER_LIMITS.tokens || chars + t.length > CONTAINER_LIMITS.chars) {
          full = true;
          break;
        }
        tokens++;
        chars += t.length;
        taken.push(t);
      }
      return taken;
    };
    const command = within(strings(c.command));
    const args = within(strings(c.args));
    if (command.length > 0) kept.command = command;
    if (args.length > 0) kept.args = args;
    const env = (Array.isArray(c.env) ? c.env : [])
      .filter(
        (e): e is { name: string; value: string } =>
          typeof e?.name === 'string' && e.name.startsWith('VLLM_') && typeof e.value === 'string',
      )
      .slice(0, CONTAINER_LIMITS.env)
      .map((e) => ({ name: e.name, value: e.value.slice(0, 256) }));
    if (env.length > 0) kept.env = env;
    if (Object.keys(kept).length > 0) any = true;
    return kept;
  });
  return any ? out : undefined;
}

/** The selector's matchLabels and matchExpressions, copied; undefined when it has neither. */
function trimSelector(sel: unknown): LabelSelector | undefined {
  if (!sel || typeof sel !== 'object') return undefined;
  const s = sel as LabelSelector;
  const out: LabelSelector = {};
  if (s.matchLabels && typeof s.matchLabels === 'object') out.matchLabels = { ...s.matchLabels };
  if (Array.isArray(s.matchExpressions))
    out.matchExpressions = s.matchExpressions.map((e) => ({
      key: e.key,
      operator: e.operator,
      ...(Array.isArray(e.values) ? { values: [...e.values] } : {}),
    }));
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A watch whose ADDED/MODIFIED/DELETED objects are trimmed before the informer caches them. */
export class TrimmingWatch<T> extends HttpWatch {
  constructor(
    kc: KubeConfig,
    private readonly trim: Trim<T>,
  ) {
    super(kc);
  }

  override watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      params,
      (phase, obj, raw) => {
        const isObject = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
        callback(phase, isObject && obj && typeof obj === 'object' ? this.trim(obj as T) : obj, raw);
      },
      done,
    );
  }
}

/** Page size of informer lists: bounds the JSON text and parse garbage held at once. */
export const LIST_PAGE_SIZE = 500;

/**
 * Lists `path` in pages of LIST_PAGE_SIZE as plain JSON (not client-node's typed models, which
 * copied every Deployment into class instances) and trims each item as it arrives.
 */
export async function listTrimmed<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  trim: Trim<T>,
  selector?: Selector,
): Promise<KubernetesListObject<T>> {
  const { field: fieldSelector, label: labelSelector } = selectors(selector);
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let cont: string | undefined;
  do {
    const q = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) });
    if (fieldSelector) q.set('fieldSelector', fieldSelector);
    if (labelSelector) q.set('labelSelector', labelSelector);
    if (cont) q.set('continue', cont);
    const page = await kubeRequest<KubernetesListObject<T>>(kc, { method: 'GET', path: `${path}?${q}` });
    // Every page of one paginated list is the same snapshot; its version is where the watch starts.
    resourceVersion ??= page.metadata?.resourceVersion;
    for (const it of page.items ?? []) items.push(trim(it));
    cont = page.metadata?._continue ?? (page.metadata as { continue?: string } | undefined)?.continue;
  } while (cont);
  return { metadata: { resourceVersion }, items };
}

/** A field selector (`metadata.name=x`), or field and label selectors. */
export type Selector = string | { field?: string; label?: string };

function selectors(s: Selector | undefined): { field?: string; label?: string } {
  return typeof s === 'string' ? { field: s } : (s ?? {});
}

export interface RestartBackoff {
  /** First delay before restarting a stopped informer; default 500 ms. */
  baseMs?: number;
  /** Cap; default 30 s. */
  maxMs?: number;
}

/**
 * One informer that keeps itself running: errors are logged and the informer restarted after a
 * backoff (reset once a list or watch event succeeds). `synced` turns true after the first list.
 * `downSinceMs` is when it last lost contact with the API server (an error while it was up), until a
 * list succeeds or a watch is open again.
 */
export class ResilientInformer<T extends KubernetesObject> {
  readonly informer: ListWatch<T>;
  synced = false;
  private stopped = true;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly base: number;
  private readonly max: number;
  /** Times the informer was restarted after an error (for tests and logs). */
  restarts = 0;
  /** Clock for `downSinceMs`: milliseconds of a monotonic clock (a wall clock stepped back or forth would fake an outage's length). */
  clock: () => number = () => performance.now();
  /** Set at the first error after being up; cleared by a successful list or an open watch. */
  downSinceMs: number | undefined;

  constructor(
    kc: KubeConfig,
    readonly path: string,
    list: () => Promise<KubernetesListObject<T>>,
    private readonly log: Logger,
    backoff: RestartBackoff = {},
    selector?: Selector,
    watch: HttpWatch = new HttpWatch(kc),
  ) {
    this.base = backoff.baseMs ?? 500;
    this.max = backoff.maxMs ?? 30_000;
    this.delay = this.base;
    const listed = async () => {
      const l = await list();
      this.synced = true;
      this.delay = this.base;
      this.downSinceMs = undefined;
      return l;
    };
    // A watch (re)opened means the API server answers again, also when it resumes without a list.
    // (client-node resolves a refused watch too, having called `done` with the error first.)
    const tracked = {
      watch: async (...[path, params, callback, done]: Parameters<HttpWatch['watch']>) => {
        let failed = false;
        const request = await watch.watch(path, params, callback, (err) => {
          if (err) failed = true;
          done(err);
        });
        if (!failed) this.downSinceMs = undefined;
        return request;
      },
    } as unknown as Watch; // ListWatch only calls watch(); HttpWatch's has the same contract.
    const { field, label } = selectors(selector);
    this.informer = new ListWatch<T>(path, tracked, listed, false, label, field);
    this.informer.on('error', (err?: unknown) => this.onError(err));
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.downSinceMs ??= this.clock();
    const e = err as { message?: string; code?: number; statusCode?: number } | undefined;
    this.log.warn(
      { path: this.path, err: e?.message, code: e?.statusCode ?? e?.code, retryInMs: this.delay },
      'watch stopped; restarting',
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.restarts++;
      void this.informer.start().catch((e2: unknown) => this.onError(e2));
    }, this.delay);
    this.timer.unref?.();
    this.delay = Math.min(this.delay * 2, this.max);
  }

  start(): void {
    this.stopped = false;
    void this.informer.start().catch((e: unknown) => this.onError(e));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.informer.stop();
  }
}

/** Where an informer per namespace runs: each namespace listed, or (undefined) the whole cluster. */
export function namespaceScopes(namespaces: readonly string[] | undefined): Array<string | undefined> {
  return namespaces && namespaces.length > 0 ? [...namespaces] : [undefined];
}

/**
 * The list path of a resource kind in one namespace, or cluster-wide when `ns` is undefined;
 * `api` is `/api/v1` for the core group, else `/apis/<group>/<version>`.
 */
export function collectionPath(api: string, plural: string, ns: string | undefined): string {
  return ns ? `${api}/namespaces/${encodeURIComponent(ns)}/${plural}` : `${api}/${plural}`;
}

export interface TrimmedInformerOptions<T> {
  kubeConfig: KubeConfig;
  path: string;
  trim: Trim<T>;
  logger: Logger;
  backoff?: RestartBackoff;
  selector?: Selector;
  /**
   * Whether watch events are trimmed like the list items (default). Off, the informer caches the
   * objects a watch delivers whole, and resumes its watch at their resourceVersion.
   */
  trimWatch?: boolean;
}

/** A ResilientInformer over `path` whose paged lists (and watch events) are trimmed by `trim`. */
export function trimmedInformer<T extends KubernetesObject>(
  o: TrimmedInformerOptions<T>,
): ResilientInformer<T> {
  return new ResilientInformer<T>(
    o.kubeConfig,
    o.path,
    () => listTrimmed<T>(o.kubeConfig, o.path, o.trim, o.selector),
    o.logger,
    o.backoff,
    o.selector,
    o.trimWatch === false ? undefined : new TrimmingWatch<T>(o.kubeConfig, o.trim),
  );
}

/**
 * One trimmedInformer() per namespace scope (each of `namespaces`, or the whole cluster when none is
 * given) over the collection `plural` of `api` (`/api/v1`, or `/apis/<group>/<version>`).
 */
export function namespacedTrimmedInformers<T extends KubernetesObject>(
  o: Omit<TrimmedInformerOptions<T>, 'path'> & {
    api: string;
    plural: string;
    namespaces: readonly string[] | undefined;
  },
): Array<{ ns: string | undefined; informer: ResilientInformer<T> }> {
  const { api, plural, namespaces, ...rest } = o;
  return namespaceScopes(namespaces).map((ns) => ({
    ns,
    informer: trimmedInformer<T>({ ...rest, path: collectionPath(api, plural, ns) }),
  }));
}
