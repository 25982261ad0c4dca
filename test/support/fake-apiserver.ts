// A small in-process fake of the Kubernetes API server, at the HTTP level, for driving the REAL
// @kubernetes/client-node in tests (no real API server can run on these machines). It keeps what
// the controller relies on honest:
// - one global resourceVersion counter; every write bumps it and is recorded as a watch event;
// - list returns the current RV; watch replays events after the RV asked for, then streams new
//   ones as chunked JSON lines; an RV older than the compaction point gets, as the real server
//   does, an ERROR event with a 410 Status and the stream ends;
// - status subresource: PATCH/PUT on .../status changes only `status` (no generation bump); the
//   main resource ignores `status` and bumps `metadata.generation` when `spec` changes;
// - merge-patch only (RFC 7386) for custom resources; other content types get 415;
//   a `metadata.resourceVersion` in a patch or a PUT is a precondition: mismatch → 409;
// - Leases: create (409 AlreadyExists), get, replace with RV precondition; MicroTime fields must
//   have six fractional digits, as the real server's parser demands;
// - Deployments' and StatefulSets' scale subresource (autoscaling/v1 Scale): GET, and merge-patch
//   of spec.replicas, which changes the object's spec.replicas (a generation bump, as the real server);
// - Namespaces (cluster-scoped: list, watch, get); InferencePools (inference.networking.x-k8s.io); Nodes;
// - HorizontalPodAutoscalers (autoscaling/v2) and core/v1 Events (create, list, watch);
// - fieldSelector metadata.name=… and equality labelSelectors on list and watch.
// Test hooks: seed/update/delete objects directly, drop open watches (abruptly or gracefully),
// compact history, inject error replies, and read the request log.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type Obj = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string };
};

interface ResourceDef {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Has a status subresource (status changes only through it). */
  statusSubresource: boolean;
}

/** Kinds with a scale subresource here. */
const SCALABLE = new Set(['deployments', 'statefulsets']);

const RESOURCES: ResourceDef[] = [
  {
    group: 'llmd.ai',
    version: 'v1alpha1',
    plural: 'variantautoscalings',
    kind: 'VariantAutoscaling',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    kind: 'Lease',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'autoscaling',
    version: 'v2',
    plural: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    namespaced: true,
    statusSubresource: true,
  },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, statusSubresource: false },
  {
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
    statusSubresource: true,
  },
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    statusSubresource: false,
  },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, statusSubresource: true },
  {
    group: 'inference.networking.x-k8s.io',
    version: 'v1alpha2',
    plural: 'inferencepools',
    kind: 'InferencePool',
    namespaced: true,
    statusSubresource: true,
  },
];

export type Plural =
  | 'variantautoscalings'
  | 'deployments'
  | 'configmaps'
  | 'leases'
  | 'horizontalpodautoscalers'
  | 'events'
  | 'statefulsets'
  | 'namespaces'
  | 'inferencepools'
  | 'nodes'
  | 'pods';

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  plural?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
  contentType?: string;
  userAgent?: string;
  status: number;
  body?: unknown;
}

export interface Fault {
  method?: string;
  plural?: Plural;
  subresource?: 'status' | 'scale' | '';
  name?: string;
  watch?: boolean;
  /** HTTP status to answer with (409, 500, 503, 410...). */
  status: number;
  /** How many matching requests fail; default 1. Infinity for "until cleared". */
  times?: number;
}

interface WatchEvent {
  rv: number;
  plural: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface OpenWatch {
  res: ServerResponse;
  plural: string;
  namespace?: string;
  match: (o: Obj) => boolean;
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

function clone<T>(v: T): T {
  return structuredClone(v);
}

function statusBody(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function parseSelector(sel: string | undefined): Array<[string, string]> {
  if (!sel) return [];
  return sel
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const [k, v] = term.split(/==?/);
      return [k?.trim() ?? '', v?.trim() ?? ''];
    });
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeApiServer {
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private readonly store = new Map<string, Map<string, Obj>>();
  private readonly history: WatchEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly faults: Array<Fault & { left: number }> = [];
  private rv = 100;
  /** Watches from an RV below this get 410 Gone. */
  private compactedRv = 0;
  /** Every request served, in order. */
  readonly requests: RequestRecord[] = [];
  /** Called as each request is read in full (body parsed), before it is answered; for benchmarks. */
  onRequest: ((rec: RequestRecord) => void) | undefined;
  /** Called with each TCP connection the server accepts (connection reuse tests). */
  onConnection: ((socket: Socket) => void) | undefined;
  port = 0;

  static async start(): Promise<FakeApiServer> {
    const s = new FakeApiServer();
    s.server.on('connection', (socket: Socket) => s.onConnection?.(socket));
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig for this server, as YAML a user would write (plain HTTP needs skip-verify). */
  kubeConfigYaml(user = 'tester'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${user}`,
      '  user:',
      '    token: fake-token',
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      `    user: ${user}`,
      'current-context: fake',
      '',
    ].join('\n');
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeConfigYaml());
    return kc;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  // ---- direct store access for tests -------------------------------------------------------

  private bucket(plural: string): Map<string, Obj> {
    let b = this.store.get(plural);
    if (!b) {
      b = new Map();
      this.store.set(plural, b);
    }
    return b;
  }

  private def(plural: string): ResourceDef {
    const d = RESOURCES.find((r) => r.plural === plural);
    if (!d) throw new Error(`unknown resource ${plural}`);
    return d;
  }

  private record(plural: string, type: WatchEvent['type'], obj: Obj): void {
    const ev: WatchEvent = { rv: this.rv, plural, type, object: clone(obj) };
    this.history.push(ev);
    for (const w of this.watches) {
      if (w.plural !== plural) continue;
      if (w.namespace && w.namespace !== obj.metadata.namespace) continue;
      if (!w.match(obj)) continue;
      w.res.write(`${JSON.stringify({ type, object: ev.object })}\n`);
    }
  }

  /** Creates or replaces an object as a client with full rights would (spec and status). */
  put(plural: Plural, obj: Obj): Obj {
    const d = this.def(plural);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const b = this.bucket(plural);
    const prev = b.get(key);
    const o = clone(obj);
    o.apiVersion = d.group ? `${d.group}/${d.version}` : d.version;
    o.kind = d.kind;
    this.rv++;
    const pm: Record<string, unknown> = prev?.metadata ?? {};
    const specChanged = !prev || !deepEqual(prev.spec, o.spec);
    o.metadata = {
      ...o.metadata,
      uid: (pm.uid as string) ?? randomUUID(),
      creationTimestamp:
        (pm.creationTimestamp as string) ?? new Date().toISOString().slice(0, 19).concat('Z'),
      resourceVersion: String(this.rv),
      generation: ((pm.generation as number) ?? 0) + (specChanged ? 1 : 0),
    };
    b.set(key, o);
    this.record(plural, prev ? 'MODIFIED' : 'ADDED', o);
    return clone(o);
  }

  get(plural: Plural, namespace: string, name: string): Obj | undefined {
    const o = this.bucket(plural).get(`${namespace}/${name}`);
    return o && clone(o);
  }

  list(plural: Plural): Obj[] {
    return [...this.bucket(plural).values()].map(clone);
  }

  delete(plural: Plural, namespace: string, name: string): boolean {
    const b = this.bucket(plural);
    const key = `${namespace}/${name}`;
    const o = b.get(key);
    if (!o) return false;
    b.delete(key);
    this.rv++;
    this.record(plural, 'DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(this.rv) } });
    return true;
  }

  /**
   * Ends every open watch. `abrupt` destroys the sockets (the client sees an error; an informer
   * then stops until start() is called); otherwise the streams end cleanly (the informer
   * re-watches by itself). Returns how many were open.
   */
  dropWatches(how: 'abrupt' | 'graceful' = 'abrupt'): number {
    const n = this.watches.size;
    for (const w of this.watches) {
      if (how === 'abrupt') w.res.socket?.destroy();
      else w.res.end();
    }
    this.watches.clear();
    return n;
  }

  /** Forgets history up to now: a watch from any older RV gets 410 Gone (the newest still works). */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  /** Makes matching requests fail with `status` (once by default). */
  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Requests matching a filter, e.g. status patches. */
  count(
    filter: Partial<Pick<RequestRecord, 'method' | 'plural' | 'name' | 'subresource' | 'watch' | 'status'>>,
  ): number {
    return this.requests.filter((r) =>
      Object.entries(filter).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
    ).length;
  }

  async close(): Promise<void> {
    this.dropWatches('graceful');
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private parsePath(path: string) {
    // /api/v1/... or /apis/{group}/{version}/...
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') {
      group = '';
      version = parts[1] ?? '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis') {
      group = parts[1] ?? '';
      version = parts[2] ?? '';
      rest = parts.slice(3);
    } else throw new HttpError(404, `the server could not find the requested resource ${path}`);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource] = rest;
    const d = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!d) throw new HttpError(404, `the server could not find the requested resource ${path}`);
    return { def: d, namespace, name, subresource };
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'request body is not JSON');
    }
  }

  private send(res: ServerResponse, rec: RequestRecord, code: number, body: unknown): void {
    rec.status = code;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, rec: RequestRecord, code: number, message: string): void {
    this.send(res, rec, code, statusBody(code, REASONS[code] ?? 'Unknown', message));
  }

  private takeFault(rec: RequestRecord): Fault | undefined {
    const f = this.faults.find(
      (x) =>
        x.left > 0 &&
        (x.method === undefined || x.method === rec.method) &&
        (x.plural === undefined || x.plural === rec.plural) &&
        (x.subresource === undefined || x.subresource === (rec.subresource ?? '')) &&
        (x.name === undefined || x.name === rec.name) &&
        (x.watch === undefined || x.watch === rec.watch),
    );
    if (f) f.left--;
    return f;
  }

  private matcher(query: Record<string, string>): (o: Obj) => boolean {
    const fields = parseSelector(query.fieldSelector);
    const labels = parseSelector(query.labelSelector);
    return (o) => {
      for (const [k, v] of fields) {
        if (k === 'metadata.name' && o.metadata.name !== v) return false;
        if (k === 'metadata.namespace' && o.metadata.namespace !== v) return false;
      }
      const l = (o.metadata.labels ?? {}) as Record<string, string>;
      return labels.every(([k, v]) => l[k] === v);
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(u.searchParams);
    const rec: RequestRecord = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query,
      watch: query.watch === 'true' || query.watch === '1',
      contentType: req.headers['content-type'],
      userAgent: req.headers['user-agent'],
      status: 0,
    };
    this.requests.push(rec);
    try {
      const { def, namespace, name, subresource } = this.parsePath(u.pathname);
      rec.plural = def.plural;
      if (namespace !== undefined) rec.namespace = namespace;
      if (name !== undefined) rec.name = name;
      if (subresource !== undefined) rec.subresource = subresource;
      const body = ['POST', 'PUT', 'PATCH'].includes(rec.method) ? await this.readBody(req) : undefined;
      if (body !== undefined) rec.body = body;
      this.onRequest?.(rec);
      const fault = this.takeFault(rec);
      if (fault) {
        this.fail(res, rec, fault.status, `injected fault ${fault.status}`);
        return;
      }
      if (!req.headers.authorization?.startsWith('Bearer ')) {
        this.fail(res, rec, 401, 'Unauthorized');
        return;
      }
      if (subresource === 'scale' && SCALABLE.has(def.plural) && namespace && name) {
        return this.scale(res, rec, def, namespace, name, body);
      }
      if (subresource !== undefined && !(subresource === 'status' && def.statusSubresource)) {
        throw new HttpError(404, `subresource ${subresource} not found`);
      }
      if (name === undefined) {
        if (rec.method === 'GET' && rec.watch) return this.watch(res, rec, def, namespace);
        if (rec.method === 'GET') return this.sendList(res, rec, def, namespace);
        if (rec.method === 'POST' && namespace) return this.create(res, rec, def, namespace, body);
        throw new HttpError(405, `${rec.method} not allowed on a collection`);
      }
      if (!namespace) throw new HttpError(404, 'namespaced resource needs a namespace');
      const key = `${namespace}/${name}`;
      const current = this.bucket(def.plural).get(key);
      if (rec.method === 'GET') {
        if (!current) throw new HttpError(404, `${def.plural} "${name}" not found`);
        return this.send(res, rec, 200, current);
      }
      if (rec.method === 'PATCH' || rec.method === 'PUT') {
        if (!current) throw new HttpError(404, `${def.plural} "${name}" not found`);
        let incoming: Obj;
        if (rec.method === 'PATCH') {
          const ct = (rec.contentType ?? '').split(';')[0]?.trim();
          if (ct !== 'application/merge-patch+json') {
            throw new HttpError(
              415,
              `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got ${ct})`,
            );
          }
          const wantRv = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata
            ?.resourceVersion;
          if (wantRv !== undefined && wantRv !== current.metadata.resourceVersion) {
            throw new HttpError(
              409,
              `Operation cannot be fulfilled on ${def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            );
          }
          incoming = mergePatch(current, body) as Obj;
        } else {
          incoming = body as Obj;
          const wantRv = incoming?.metadata?.resourceVersion;
          if (wantRv !== undefined && wantRv !== current.metadata.resourceVersion) {
            throw new HttpError(
              409,
              `Operation cannot be fulfilled on ${def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            );
          }
        }
        return this.update(res, rec, def, current, incoming, subresource === 'status');
      }
      if (rec.method === 'DELETE') {
        if (!this.delete(def.plural as Plural, namespace, name))
          throw new HttpError(404, `${def.plural} "${name}" not found`);
        return this.send(res, rec, 200, statusBody(200, '', 'deleted'));
      }
      throw new HttpError(405, `${rec.method} not allowed`);
    } catch (err) {
      if (res.headersSent) return;
      if (err instanceof HttpError) this.fail(res, rec, err.code, err.message);
      else this.fail(res, rec, 500, (err as Error).message);
    }
  }

  /** GET or merge-PATCH of a Deployment's or StatefulSet's scale subresource (autoscaling/v1 Scale). */
  private scale(
    res: ServerResponse,
    rec: RequestRecord,
    def: ResourceDef,
    namespace: string,
    name: string,
    body: unknown,
  ): void {
    const current = this.bucket(def.plural).get(`${namespace}/${name}`);
    if (!current) throw new HttpError(404, `${def.plural}.${def.group} "${name}" not found`);
    const toScale = (d: Obj) => {
      const spec = (d.spec ?? {}) as {
        replicas?: number;
        selector?: { matchLabels?: Record<string, string> };
      };
      const status = (d.status ?? {}) as { replicas?: number };
      const sel = Object.entries(spec.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name, namespace, resourceVersion: d.metadata.resourceVersion, uid: d.metadata.uid },
        spec: { replicas: spec.replicas ?? 1 },
        status: { replicas: status.replicas ?? 0, ...(sel ? { selector: sel } : {}) },
      };
    };
    if (rec.method === 'GET') {
      this.send(res, rec, 200, toScale(current));
      return;
    }
    if (rec.method !== 'PATCH') throw new HttpError(405, `${rec.method} not allowed on scale`);
    const ct = (rec.contentType ?? '').split(';')[0]?.trim();
    if (ct !== 'application/merge-patch+json' && ct !== 'application/strategic-merge-patch+json') {
      throw new HttpError(415, `unsupported patch type ${ct} on scale`);
    }
    const replicas = (body as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new HttpError(
        422,
        `Scale.autoscaling "${name}" is invalid: spec.replicas: must be a non-negative integer`,
      );
    }
    const next = clone(current);
    next.spec = { ...((next.spec as Record<string, unknown>) ?? {}), replicas };
    const stored = deepEqual(next.spec, current.spec) ? current : this.put(def.plural as Plural, next);
    this.send(res, rec, 200, toScale(stored));
  }

  private validate(def: ResourceDef, o: Obj): void {
    if (def.plural !== 'leases') return;
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    for (const f of ['acquireTime', 'renewTime']) {
      const v = spec[f];
      if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO_TIME.test(v))) {
        throw new HttpError(
          400,
          `Lease in version "v1" cannot be handled as a Lease: spec.${f}: "${String(v)}" is not a MicroTime`,
        );
      }
    }
  }

  private create(
    res: ServerResponse,
    rec: RequestRecord,
    def: ResourceDef,
    namespace: string,
    body: unknown,
  ): void {
    const o = body as Obj;
    if (!o?.metadata?.name) throw new HttpError(422, 'metadata.name: Required value');
    if (o.metadata.namespace && o.metadata.namespace !== namespace)
      throw new HttpError(400, 'namespace mismatch');
    if (this.bucket(def.plural).has(`${namespace}/${o.metadata.name}`)) {
      throw new HttpError(409, `${def.plural} "${o.metadata.name}" already exists`);
    }
    this.validate(def, o);
    const { resourceVersion: _rv, ...md } = o.metadata;
    const stored = this.put(def.plural as Plural, { ...o, metadata: { ...md, namespace } });
    this.send(res, rec, 201, stored);
  }

  private update(
    res: ServerResponse,
    rec: RequestRecord,
    def: ResourceDef,
    current: Obj,
    incoming: Obj,
    statusOnly: boolean,
  ): void {
    let next: Obj;
    if (def.statusSubresource) {
      // The status subresource changes only status; the main resource never changes status.
      next = statusOnly
        ? { ...clone(current), status: clone(incoming.status) }
        : { ...clone(incoming), status: clone(current.status) };
      if (next.status === undefined) delete next.status;
    } else {
      next = clone(incoming);
    }
    next.metadata = {
      ...(statusOnly ? current.metadata : { ...current.metadata, ...incoming.metadata }),
      name: current.metadata.name,
      namespace: current.metadata.namespace,
    };
    this.validate(def, next);
    if (
      deepEqual({ ...next, metadata: null }, { ...current, metadata: null }) &&
      deepEqual(next.metadata, current.metadata)
    ) {
      // A no-op write changes nothing, not even the resourceVersion (as the real server).
      this.send(res, rec, 200, current);
      return;
    }
    const stored = this.put(def.plural as Plural, next);
    this.send(res, rec, 200, stored);
  }

  private sendList(res: ServerResponse, rec: RequestRecord, def: ResourceDef, namespace?: string): void {
    const match = this.matcher(rec.query);
    const items = [...this.bucket(def.plural).values()].filter(
      (o) => (!namespace || o.metadata.namespace === namespace) && match(o),
    );
    // Pagination as the API server does it (limit + opaque continue token); here the token is an offset.
    const limit = Number(rec.query.limit ?? 0);
    const from = Number(rec.query.continue ?? 0);
    const page = limit > 0 ? items.slice(from, from + limit) : items;
    const next = limit > 0 && from + limit < items.length ? String(from + limit) : undefined;
    this.send(res, rec, 200, {
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      kind: `${def.kind}List`,
      metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) },
      items: page,
    });
  }

  private watch(res: ServerResponse, rec: RequestRecord, def: ResourceDef, namespace?: string): void {
    const match = this.matcher(rec.query);
    const from = Number(rec.query.resourceVersion ?? '0');
    rec.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // As the real server: the status line goes out at once, before any event (node would hold it
    // back until the first write, so a client would not know a quiet watch had opened).
    res.flushHeaders();
    const relevant = (o: Obj) => (!namespace || o.metadata.namespace === namespace) && match(o);
    if (from > 0 && from < this.compactedRv) {
      // As the real server: the stream starts, carries one ERROR event with a 410 Status, and ends.
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`) })}\n`,
      );
      return;
    }
    if (from > 0) {
      for (const ev of this.history) {
        if (ev.rv > from && ev.plural === def.plural && relevant(ev.object)) {
          res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
        }
      }
    } else {
      for (const o of this.bucket(def.plural).values()) {
        if (relevant(o)) res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`);
      }
    }
    const w: OpenWatch = { res, plural: def.plural, match };
    if (namespace) w.namespace = namespace;
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }
}

export function startFakeApiServer(): Promise<FakeApiServer> {
  return FakeApiServer.start();
}
