// Keeping what the learner learned across restarts and changes of leader: a ConfigMap the
// controller owns in a cluster, a file in local mode. Loaded at a term's first cycle, saved every
// few cycles and when the term ends; a failure to read or write is logged and learning goes on.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { apiErrorMessage, getConfigMap, kubeRequest } from '../kube/http.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import type { SloLearner } from './slo-learner.js';

/** The ConfigMap (in the controller's namespace) holding the learned models. */
export const LEARNED_CONFIGMAP = 'wva-learned-performance';
/** Its one key: the learner's document (bounded to what a ConfigMap holds). */
export const LEARNED_CONFIGMAP_KEY = 'models.json';
/** Cycles between saves. */
export const DEFAULT_SAVE_EVERY_CYCLES = 10;

/** Where the document lives. */
export interface LearnedStore {
  /** For messages: "ConfigMap ns/name" or "file path". */
  readonly where: string;
  /** The stored text; undefined when nothing was stored yet. */
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

export class FileLearnedStore implements LearnedStore {
  readonly where: string;
  constructor(private readonly path: string) {
    this.where = `file ${path}`;
  }

  async read(): Promise<string | undefined> {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async write(text: string): Promise<void> {
    // Write then rename: a crash mid-write leaves the previous document, never half of one.
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.path);
  }
}

export class ConfigMapLearnedStore implements LearnedStore {
  readonly where: string;
  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly name = LEARNED_CONFIGMAP,
  ) {
    this.where = `ConfigMap ${namespace}/${name}`;
  }

  private path(named: boolean): string {
    const base = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps`;
    return named ? `${base}/${encodeURIComponent(this.name)}` : base;
  }

  async read(): Promise<string | undefined> {
    const data = await getConfigMap(this.kc, this.namespace, this.name, { timeoutMs: 10_000 });
    return data?.[LEARNED_CONFIGMAP_KEY];
  }

  async write(text: string): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'workload-variant-autoscaler' },
      },
      data: { [LEARNED_CONFIGMAP_KEY]: text },
    };
    try {
      // A merge patch replaces our one key whatever the resourceVersion: only the leader writes.
      await kubeRequest(this.kc, {
        method: 'PATCH',
        path: this.path(true),
        body: { data: body.data },
        contentType: 'application/merge-patch+json',
        timeoutMs: 10_000,
      });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      await kubeRequest(this.kc, { method: 'POST', path: this.path(false), body, timeoutMs: 10_000 });
    }
  }
}

export interface SloPersistenceOptions {
  store: LearnedStore;
  learner: SloLearner;
  everyCycles?: number;
  /** Wall clock, ms since the epoch (estimates' ages are judged against it). Default Date.now. */
  now?: () => number;
  logger?: Logger;
}

export class SloPersistence {
  #loaded: Promise<void> | null = null;
  #cycles = 0;
  #saving: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly o: SloPersistenceOptions) {
    this.log = o.logger ?? silentLogger;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** A cycle begins: the term's first loads what was stored, every N-th saves. */
  cycle(): void {
    if (this.#loaded === null) {
      this.#cycles = 0;
      this.#loaded = this.load();
      return;
    }
    this.#cycles++;
    if (this.#cycles % Math.max(1, this.o.everyCycles ?? DEFAULT_SAVE_EVERY_CYCLES) === 0) void this.save();
  }

  /** Resolves once this term's load has finished (at once when none is running). */
  ready(): Promise<void> {
    return this.#loaded ?? Promise.resolve();
  }

  private async load(): Promise<void> {
    const where = this.o.store.where;
    let text: string | undefined;
    try {
      text = await this.o.store.read();
    } catch (err) {
      this.log.warn(
        { where, err: apiErrorMessage(err) },
        'cannot read the learned performance models; learning starts afresh (check RBAC for get on it)',
      );
      return;
    }
    if (text === undefined) {
      this.log.info({ where }, 'no learned performance models stored yet');
      return;
    }
    const r = this.o.learner.restore(text, this.now());
    if (r.error) {
      this.log.warn(
        { where, problem: r.error },
        'learned performance models refused whole; learning starts afresh',
      );
      return;
    }
    for (const x of r.refused)
      this.log.warn({ where, entry: x.entry, reason: x.reason }, 'learned performance model refused');
    this.log.info({ where, restored: r.restored }, 'learned performance models restored');
  }

  /** Writes the learner's document now (after any write already running). */
  save(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      try {
        await this.o.store.write(this.o.learner.serialize(this.now()));
      } catch (err) {
        this.log.warn(
          { where: this.o.store.where, err: apiErrorMessage(err) },
          'cannot save the learned performance models (check RBAC for create and patch on it)',
        );
      }
    });
    return this.#saving;
  }

  /** The term ends (leadership lost, shutdown): save now; the next term loads again. */
  async flush(): Promise<void> {
    if (this.#loaded === null) return this.#saving;
    await this.#loaded;
    this.#loaded = null;
    await this.save();
  }
}
