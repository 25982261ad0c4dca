// The vLLM emulator: many models, variants and pods in one process, moved forward in simulated
// time. Time comes from an injectable clock; `advanceTo` steps the simulation in ticks of at most
// `config.tick`, so counters grow at the configured rates and rate() over any window reads back
// the load the config asked for (and the latency the model computes for it).
import type { LoadProfile } from '../types.js';
import type { EmulatorConfig, ModelConfig, VariantConfig } from './config.js';
import { LoadCurve } from './load.js';
import { addTotals, EmulatedPod, emptyTotals, type Totals } from './pod.js';
import { podName } from './random.js';

/** What the emulator knows it emitted: every number known (the collector's result, minus unknowns). */
export interface EmulatedMetrics {
  load: LoadProfile;
  ttftAverage: number;
  itlAverage: number;
}

export interface VllmEmulatorOptions {
  /** Millisecond clock; default Date.now. Simulated time starts at its value on construction. */
  now?: () => number;
}

/** One Deployment of a model: its pods come and go as its replica count is set. */
export interface EmulatedVariant {
  namespace: string;
  config: VariantConfig;
  /** Pods in creation order (the youngest last), starting ones included. */
  pods: EmulatedPod[];
  /** Index of the next pod created, for its name. */
  nextIndex: number;
}

/** One model in one namespace and its pods. */
export interface EmulatedModel {
  model: string;
  namespace: string;
  config: ModelConfig;
  curve: LoadCurve;
  variants: EmulatedVariant[];
  /** Every pod of every variant, starting ones included. */
  pods: EmulatedPod[];
  totals: Totals;
  /** Requests of removed pods, arriving again at the next step. */
  retries: number;
}

/** A scrape target for one pod: where to scrape and the labels a ServiceMonitor would attach. */
export interface PodTarget {
  namespace: string;
  pod: string;
  model: string;
  variant: string;
  /** Path on the emulator's listener, `/pods/<namespace>/<pod>/metrics`. */
  metricsPath: string;
}

interface HistoryPoint {
  t: number;
  totals: Map<string, Totals>;
}

const HISTORY_MS = 3_600_000;
/** Most pods one variant may have: a typo must not allocate a million pods. */
export const MAX_REPLICAS = 1000;

export function modelKey(model: string, namespace: string): string {
  return `${model}:${namespace}`;
}

export class VllmEmulator {
  readonly models: EmulatedModel[] = [];
  readonly startMs: number;
  private readonly byPath = new Map<string, EmulatedPod>();
  private readonly byKey = new Map<string, EmulatedModel>();
  private readonly byVariant = new Map<string, { model: EmulatedModel; variant: EmulatedVariant }>();
  private readonly now: () => number;
  private simMs: number;
  private readonly history: HistoryPoint[] = [];

  constructor(
    readonly config: EmulatorConfig,
    options: VllmEmulatorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.startMs = this.now();
    this.simMs = this.startMs;
    for (const mc of config.models) {
      const key = modelKey(mc.model, mc.namespace);
      if (this.byKey.has(key))
        throw new Error(`model ${mc.model} in namespace ${mc.namespace} is defined twice`);
      const em: EmulatedModel = {
        model: mc.model,
        namespace: mc.namespace,
        config: mc,
        curve: new LoadCurve(mc.load, config.seed, key),
        variants: [],
        pods: [],
        totals: emptyTotals(),
        retries: 0,
      };
      for (const v of mc.variants) {
        const variant: EmulatedVariant = { namespace: mc.namespace, config: v, pods: [], nextIndex: 0 };
        em.variants.push(variant);
        this.byVariant.set(`${mc.namespace}/${v.name}`, { model: em, variant });
        // The configured pods are up from the start.
        this.resize(em, variant, v.replicas, this.simMs - config.startupDelay);
      }
      this.models.push(em);
      this.byKey.set(key, em);
    }
    this.record();
  }

  /** Every pod, starting ones included. */
  get pods(): EmulatedPod[] {
    return this.models.flatMap((m) => m.pods);
  }

  /**
   * Sets a variant's pod count, as a scale of its Deployment would. New pods serve (and are
   * scraped) only after `config.startupDelay`; a scale-down removes the youngest pods first.
   * Returns the pods it now has. Throws for an unknown variant or a bad count.
   */
  setReplicas(namespace: string, variant: string, replicas: number): number {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS)
      throw new RangeError(`replicas must be an integer from 0 to ${MAX_REPLICAS}, got ${replicas}`);
    const found = this.byVariant.get(`${namespace}/${variant}`);
    if (!found) throw new Error(`the emulator has no variant ${variant} in namespace ${namespace}`);
    this.sync();
    this.resize(found.model, found.variant, replicas, this.simMs);
    return found.variant.pods.length;
  }

  /** Every variant with its pods and how many of them serve. */
  variants(): Array<{ namespace: string; name: string; model: string; replicas: number; ready: number }> {
    return this.models.flatMap((m) =>
      m.variants.map((v) => ({
        namespace: m.namespace,
        name: v.config.name,
        model: m.model,
        replicas: v.pods.length,
        ready: v.pods.filter((p) => this.isReady(p)).length,
      })),
    );
  }

  private isReady(pod: EmulatedPod): boolean {
    return pod.readyAtMs <= this.simMs;
  }

  private resize(m: EmulatedModel, v: EmulatedVariant, replicas: number, createdAt: number): void {
    let orphaned = 0;
    while (v.pods.length > replicas) {
      const pod = v.pods.pop()!;
      orphaned += pod.replica.backlog;
      this.byPath.delete(podPath(m.namespace, pod.name));
    }
    while (v.pods.length < replicas) {
      const pod = new EmulatedPod(
        m.namespace,
        podName(v.config.name, v.nextIndex++, this.config.seed),
        m.config,
        v.config,
        this.config.engine,
        this.config.seed,
        this.config.jitter,
        m.config.vllmMetrics ?? this.config.vllmMetrics,
        createdAt + this.config.startupDelay,
      );
      v.pods.push(pod);
      this.byPath.set(podPath(m.namespace, pod.name), pod);
    }
    m.pods = m.variants.flatMap((x) => x.pods);
    // Requests a removed pod held are retried by their clients: they arrive again.
    m.retries += orphaned;
  }

  /**
   * Each ready pod's share of the model's traffic, as a load-aware router (llm-d's scheduler)
   * spreads it: a variant gets its `weight` if set, else what its ready pods can serve, and splits
   * it evenly over its ready pods. Starting pods get nothing; with no ready pod nothing is served.
   */
  private shares(m: EmulatedModel): Map<EmulatedPod, number> {
    const ready = m.variants.map((v) => v.pods.filter((p) => this.isReady(p)));
    const weights = m.variants.map((v, i) => {
      const pods = ready[i]!;
      if (pods.length === 0) return 0;
      return v.config.weight ?? pods.reduce((a, p) => a + p.capacityPerSecond, 0);
    });
    const sum = weights.reduce((a, b) => a + b, 0);
    const out = new Map<EmulatedPod, number>();
    ready.forEach((pods, i) => {
      for (const p of pods) out.set(p, sum > 0 ? weights[i]! / sum / pods.length : 0);
    });
    return out;
  }

  /** Milliseconds of simulated time since start. */
  get elapsedMs(): number {
    return this.simMs - this.startMs;
  }

  /** Steps the simulation up to the clock's current time. */
  sync(): void {
    this.advanceTo(this.now());
  }

  /** Steps the simulation up to `tMs` (clock time), in ticks of at most `config.tick`. */
  advanceTo(tMs: number): void {
    while (this.simMs < tMs) {
      const dt = Math.min(this.config.tick, tMs - this.simMs);
      // The rate at the middle of the step: patterns that move (sine, spike edges) integrate well.
      const mid = this.simMs - this.startMs + dt / 2;
      for (const m of this.models) {
        const perSecond = m.curve.rateAt(mid) / 60;
        // With no ready pod the gateway refuses requests: nothing is served or queued.
        const arriving = perSecond * (dt / 1000) + m.retries;
        m.retries = 0;
        const routed = route(this.shares(m), arriving);
        for (const [pod, n] of routed) addTotals(m.totals, pod.step(dt, n / (dt / 1000)));
      }
      this.simMs += dt;
      this.record();
    }
  }

  /** Advances simulated time by `dtMs` (for tests driving the clock themselves). */
  advance(dtMs: number): void {
    this.advanceTo(this.simMs + dtMs);
  }

  private record(): void {
    const totals = new Map<string, Totals>();
    for (const m of this.models) totals.set(modelKey(m.model, m.namespace), { ...m.totals });
    this.history.push({ t: this.simMs, totals });
    while (this.history.length > 2 && this.history[0]!.t < this.simMs - HISTORY_MS) this.history.shift();
  }

  model(model: string, namespace: string): EmulatedModel | undefined {
    return this.byKey.get(modelKey(model, namespace));
  }

  /** The pod served at `/pods/<namespace>/<pod>/metrics`. */
  podAt(path: string): EmulatedPod | undefined {
    return this.byPath.get(path);
  }

  /** Ready pods only: a starting vLLM pod serves no /metrics yet, and is not an endpoint. */
  targets(): PodTarget[] {
    return this.pods
      .filter((p) => this.isReady(p))
      .map((p) => ({
        namespace: p.namespace,
        pod: p.name,
        model: p.model.model,
        variant: p.variant.name,
        metricsPath: podPath(p.namespace, p.name),
      }));
  }

  /**
   * What the collector should read right now for a model: the configured arrival rate at this
   * instant (offered, also when a saturated replica completes fewer and queues the rest: the
   * collector adds the queue's growth to completions), configured token means, and the latency
   * model's TTFT/ITL, weighted over the pods by the requests they complete.
   */
  expected(model: string, namespace: string): EmulatedMetrics {
    const m = this.byKey.get(modelKey(model, namespace));
    if (!m) throw new Error(`the emulator has no model ${model} in namespace ${namespace}`);
    let rate = 0;
    let arriving = 0;
    let ttft = 0;
    let itl = 0;
    const perSecond = m.curve.rateAt(this.elapsedMs) / 60;
    for (const [pod, share] of this.shares(m)) {
      const offered = perSecond * share;
      arriving += offered;
      const served = Math.min(offered, pod.capacityPerSecond);
      const s = pod.replica.stateAt(offered);
      rate += served;
      ttft += served * s.ttftMs;
      itl += served * s.itlMs;
    }
    return {
      load: {
        arrivalRate: arriving * 60,
        avgInputTokens: rate > 0 ? m.config.inputTokens : 0,
        avgOutputTokens: rate > 0 ? m.config.outputTokens : 0,
      },
      ttftAverage: rate > 0 ? ttft / rate : 0,
      itlAverage: rate > 0 ? itl / rate : 0,
    };
  }

  /**
   * What the emulator actually emitted for a model over the last `windowMs` of simulated time,
   * as the five averages the collector computes (the ground truth for `rate()` over that window);
   * `arrivalRate` here counts completed requests.
   */
  observed(model: string, namespace: string, windowMs: number): EmulatedMetrics {
    const key = modelKey(model, namespace);
    if (!this.byKey.has(key)) throw new Error(`the emulator has no model ${model} in namespace ${namespace}`);
    const last = this.history[this.history.length - 1]!;
    const from = last.t - windowMs;
    let first = this.history[0]!;
    for (const h of this.history) {
      if (h.t > from) break;
      first = h;
    }
    const a = first.totals.get(key)!;
    const b = last.totals.get(key)!;
    const seconds = (last.t - first.t) / 1000;
    const d = (x: keyof Totals) => b[x] - a[x];
    const ratio = (num: number, den: number) => (den > 0 ? num / den : 0);
    return {
      load: {
        arrivalRate: seconds > 0 ? (d('requests') / seconds) * 60 : 0,
        avgInputTokens: ratio(d('promptTokens'), d('requests')),
        avgOutputTokens: ratio(d('generationTokens'), d('requests')),
      },
      ttftAverage: ratio(d('ttftSeconds'), d('ttftCount')) * 1000,
      itlAverage: ratio(d('tpotSeconds'), d('tpotCount')) * 1000,
    };
  }
}

/**
 * Where `arriving` requests go, as a load-aware router (llm-d's scheduler) sends them: to the
 * pods with the least queued work for their share, filling them up to one level, so a new or
 * idle pod takes new requests while a backlogged one drains its own queue (requests already
 * queued in a vLLM pod stay there). With no queue anywhere this is exactly the shares.
 */
export function route(shares: Map<EmulatedPod, number>, arriving: number): Map<EmulatedPod, number> {
  const pods = [...shares].filter(([, w]) => w > 0);
  const out = new Map<EmulatedPod, number>();
  if (pods.length === 0) return out;
  // Level L (requests per unit of share): pod i gets max(0, L * w_i - backlog_i).
  pods.sort(([a, wa], [b, wb]) => a.replica.backlog / wa - b.replica.backlog / wb);
  let sumW = 0;
  let sumB = 0;
  let level = 0;
  for (let i = 0; i < pods.length; i++) {
    const [p, w] = pods[i]!;
    sumW += w;
    sumB += p.replica.backlog;
    level = (arriving + sumB) / sumW;
    const next = pods[i + 1];
    if (!next || next[0].replica.backlog / next[1] >= level) break;
  }
  for (const [p, w] of pods) out.set(p, Math.max(0, level * w - p.replica.backlog));
  return out;
}

export function podPath(namespace: string, pod: string): string {
  return `/pods/${namespace}/${pod}/metrics`;
}
