// Leader election over a coordination.k8s.io/v1 Lease, after client-go's leaderelection: a
// candidate takes the Lease when it is free or its holder stopped renewing for leaseDuration
// (judged by our own clock from when we last saw the record change, so clock skew between
// replicas does not matter); the leader renews every retryPeriod and gives up leadership, at
// once and before anything else, when it cannot renew within renewDeadline or sees another
// holder. Writes use the Lease's resourceVersion, so two candidates never both win.
// @kubernetes/client-node 2.x has no leader-election helper, hence this one.
import { ApiException, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { kubeRequest } from '../kube/http.js';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';

export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Lease name; default "wva-metrics-controller". */
  name?: string;
  /** This replica's identity (pod name); must be unique among candidates. */
  identity: string;
  /** Default 15000 (client-go's default). */
  leaseDurationMs?: number;
  /** Default 10000; must be < leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Default 2000. */
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  /** Called synchronously the moment leadership is lost or given up. */
  onStoppedLeading?: () => void;
  logger?: Logger;
  /** Monotonic ms clock, for tests. */
  now?: () => number;
}

function code(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

function timeMs(t: unknown): number | undefined {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The Lease calls, over the one HTTP path to the API server. */
class LeaseApi {
  private readonly base: string;
  constructor(
    private readonly kc: KubeConfig,
    namespace: string,
    private readonly name: string,
  ) {
    this.base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  }

  private path(): string {
    return `${this.base}/${encodeURIComponent(this.name)}`;
  }

  read(signal: AbortSignal): Promise<V1Lease> {
    return kubeRequest<V1Lease>(this.kc, { method: 'GET', path: this.path(), signal });
  }

  create(body: V1Lease, signal: AbortSignal): Promise<V1Lease> {
    return kubeRequest<V1Lease>(this.kc, { method: 'POST', path: this.base, body, signal });
  }

  replace(body: V1Lease, signal: AbortSignal): Promise<V1Lease> {
    return kubeRequest<V1Lease>(this.kc, { method: 'PUT', path: this.path(), body, signal });
  }
}

export class LeaderElector {
  private readonly api: LeaseApi;
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private leading = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private lastRenew = 0;
  /** What we last saw in the Lease, and when (our clock) it last changed. */
  private observed: { key: string; at: number } | undefined;
  private lease: V1Lease | undefined;
  /** Aborts the attempt in flight (its deadline, or stop()). */
  private attempt: AbortController | undefined;

  constructor(private readonly o: LeaderElectorOptions) {
    this.name = o.name ?? 'wva-metrics-controller';
    this.api = new LeaseApi(o.kubeConfig, o.namespace, this.name);
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseMs)
      throw new Error('renewDeadlineMs must be less than leaseDurationMs');
    this.log = (o.logger ?? silentLogger).child({
      lease: `${o.namespace}/${this.name}`,
      identity: o.identity,
    });
    this.now = o.now ?? (() => performance.now());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Attempts to acquire or renew made so far: lets a caller wait for some to have happened. */
  attempts = 0;

  /** Starts campaigning (and renewing once leader) every retryPeriod until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async () => {
      this.timer = undefined;
      if (!this.running) return;
      this.loop = this.tryOnce();
      await this.loop;
      if (this.running) {
        this.timer = setTimeout(() => void tick(), this.retryMs);
        this.timer.unref?.();
      }
    };
    void tick();
  }

  private setLeading(v: boolean, why: string): void {
    if (this.leading === v) return;
    this.leading = v;
    if (v) {
      this.log.info({}, 'became leader');
      this.o.onStartedLeading?.();
    } else {
      this.log.warn({ why }, 'stopped leading');
      this.o.onStoppedLeading?.();
    }
  }

  private spec(acquiring: boolean, prev?: V1Lease) {
    const now = new V1MicroTime(Date.now());
    const prevSpec = prev?.spec ?? {};
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseMs / 1000)),
      acquireTime: acquiring ? now : (prevSpec.acquireTime ?? now),
      renewTime: now,
      // As client-go: every change of holder (a released, empty holder included) is a transition.
      leaseTransitions: (prevSpec.leaseTransitions ?? 0) + (acquiring && prev ? 1 : 0),
    };
  }

  /** One attempt to acquire or renew. Never throws. */
  private async tryOnce(): Promise<void> {
    const t = this.now();
    // An API server that never answers must not keep us leading: the HTTP client's own timeouts
    // are minutes, past the lease duration. A leader's attempt ends at its renew deadline.
    const attempt = new AbortController();
    this.attempt = attempt;
    const budget = this.leading
      ? Math.max(1, this.lastRenew + this.renewDeadlineMs - t)
      : this.renewDeadlineMs;
    const deadline = setTimeout(() => attempt.abort(new Error(`no answer within ${budget} ms`)), budget);
    const signal = attempt.signal;
    try {
      let lease: V1Lease;
      try {
        lease = await this.api.read(signal);
      } catch (err) {
        if (code(err) !== 404) throw err;
        lease = await this.api.create(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name, namespace: this.o.namespace },
            spec: this.spec(true),
          },
          signal,
        );
        this.lease = lease;
        this.lastRenew = t;
        this.setLeading(true, 'created the lease');
        return;
      }
      const holder = lease.spec?.holderIdentity ?? '';
      const key = `${holder}|${timeMs(lease.spec?.renewTime) ?? ''}|${lease.metadata?.resourceVersion ?? ''}`;
      if (!this.observed || this.observed.key !== key) this.observed = { key, at: t };
      const durMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000;
      const mine = holder === this.o.identity;
      if (!mine && holder !== '' && this.observed.at + durMs > t) {
        // Held by someone else and still renewed.
        this.setLeading(false, `lease held by ${holder}`);
        return;
      }
      const updated = await this.api.replace(
        { ...lease, spec: { ...lease.spec, ...this.spec(!mine, lease) } },
        signal,
      );
      this.lease = updated;
      this.lastRenew = t;
      this.setLeading(true, mine ? 'renewed' : 'acquired');
    } catch (err) {
      const c = code(err);
      const late = attempt.signal.aborted || this.now() - this.lastRenew > this.renewDeadlineMs;
      this.log.debug({ err: (err as Error).message.split('\n')[0], code: c }, 'lease attempt failed');
      // An attempt aborted by stop() is not a lost lease: stop() releases it.
      if (this.leading && this.running && (c === 409 || late)) {
        // 409: someone else wrote the Lease since we read it; take no chances.
        this.setLeading(false, c === 409 ? 'lease changed under us' : 'renew deadline passed');
      }
    } finally {
      clearTimeout(deadline);
      if (this.attempt === attempt) this.attempt = undefined;
      this.attempts++;
    }
  }

  /**
   * Stops campaigning; if leader, gives leadership up at once and releases the Lease (holder
   * cleared) so another replica can take over without waiting out the lease duration.
   */
  async stop(): Promise<void> {
    // Read before aborting: the aborted renewal must not make a leader skip its release.
    const wasLeader = this.leading;
    this.running = false;
    clearTimeout(this.timer);
    this.attempt?.abort(new Error('stopping'));
    await this.loop;
    const held = wasLeader || this.leading;
    this.setLeading(false, 'shutting down');
    if (!held || !this.lease) return;
    // Bounded as a renewal is: an unanswered release must not hold up shutdown.
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const current = await this.api.read(signal);
      if (current.spec?.holderIdentity !== this.o.identity) return;
      await this.api.replace(
        {
          ...current,
          spec: {
            ...current.spec,
            holderIdentity: undefined,
            leaseDurationSeconds: 1,
            renewTime: new V1MicroTime(Date.now()),
            acquireTime: new V1MicroTime(Date.now()),
          },
        },
        signal,
      );
      this.log.info({}, 'lease released');
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message.split('\n')[0] },
        'lease release failed; it expires by itself',
      );
    }
  }
}
