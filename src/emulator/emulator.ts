// The vLLM emulator: many models, variants and pods in one process, each pod a simulated vLLM
// engine. Time comes from an injectable clock; `advanceTo` moves in ticks of at most
// `config.tick`: requests arrive (seeded) at the load pattern's rate, the gateway routes each to a
// ready pod as it arrives, and every engine steps up to the tick's end.
import {
  ArrivalProcess,
  loadTrace,
  newRequest,
  RooflineLatencyModel,
  type SimRequest,
} from '../simulator/index.js';
import { type EmulatorConfig, type VariantConfig, variantSetup } from './config.js';
import type {
  EmulatedMetrics,
  EmulatedModel,
  EmulatedVariant,
  PodTarget,
  VllmEmulatorOptions,
} from './emulator-types.js';
import { Gateway } from './gateway.js';
import { LoadCurve } from './load.js';
import { EmulatedPod, emptyTotals, type Totals } from './pod.js';
import { PairedSampler, podName, streamFor } from './random.js';

export type {
  EmulatedMetrics,
  EmulatedModel,
  EmulatedVariant,
  PodTarget,
  RequestTruth,
  VllmEmulatorOptions,
} from './emulator-types.js';

interface HistoryPoint {
  t: number;
  totals: Map<string, Totals>;
}

const HISTORY_MS = 3_600_000;
/** Most pods one variant may have: a typo must not allocate a million pods. */
export const MAX_REPLICAS = 1000;
/** The gateway's /metrics path on the emulator's listener. */
export const GATEWAY_PATH = '/gateway/metrics';

export function modelKey(model: string, namespace: string): string {
  return `${model}:${namespace}`;
}

export class VllmEmulator {
  readonly models: EmulatedModel[] = [];
  readonly startMs: number;
  readonly gateway: Gateway;
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
    this.gateway = new Gateway(config.gateway.queueTimeout, config.gateway.maxQueue, config.gateway.routing);
    for (const mc of config.models) {
      const key = modelKey(mc.model, mc.namespace);
      if (this.byKey.has(key))
        throw new Error(`model ${mc.model} in namespace ${mc.namespace} is defined twice`);
      const random = streamFor(config.seed, `model:${key}`);
      const arrivals = new ArrivalProcess(
        mc.arrivals,
        streamFor(config.seed, `arrivals:${key}`),
        mc.arrivalCv,
      );
      const em: EmulatedModel = {
        model: mc.model,
        namespace: mc.namespace,
        config: mc,
        curve: new LoadCurve(mc.load, config.seed, key),
        variants: [],
        pods: [],
        draining: [],
        totals: emptyTotals(),
        failed: 0,
        arrivals,
        integral: 0,
        nextArrival: arrivals.nextGap(),
        random,
        prompt: new PairedSampler(random, config.jitter),
        output: new PairedSampler(random, config.jitter),
        nextId: 0,
        finished: [],
        ...(mc.trace ? { trace: loadTrace(mc.trace) } : {}),
        traceAt: 0,
      };
      this.gateway.register(mc.model, mc.namespace);
      for (const v of mc.variants) {
        const setup = variantSetup(mc, v);
        const variant: EmulatedVariant = {
          namespace: mc.namespace,
          config: v,
          setup,
          latency: new RooflineLatencyModel(setup.model, setup.gpu, setup.args.tensorParallelSize),
          pods: [],
          nextIndex: 0,
        };
        em.variants.push(variant);
        this.byVariant.set(`${mc.namespace}/${v.name}`, { model: em, variant });
        // The configured pods are up from the start.
        this.resize(em, variant, v.replicas, this.simMs - this.startupDelay(v));
      }
      this.models.push(em);
      this.byKey.set(key, em);
    }
    this.record();
  }

  private startupDelay(v: VariantConfig): number {
    return v.startupDelay ?? this.config.startupDelay;
  }

  /** Every pod, starting and draining ones included. */
  get pods(): EmulatedPod[] {
    return this.models.flatMap((m) => [...m.pods, ...m.draining]);
  }

  /**
   * Sets a variant's pod count, as a scale of its Deployment would. New pods serve (and are
   * scraped) only after their start-up delay; a scale-down removes the youngest pods first, and a
   * removed pod finishes what it holds before it goes. Returns the pods the variant now has.
   * Throws for an unknown variant or a bad count.
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
    while (v.pods.length > replicas) {
      const pod = v.pods.pop()!;
      pod.draining = true;
      if (this.isReady(pod) && pod.load > 0) m.draining.push(pod);
      else this.byPath.delete(podPath(m.namespace, pod.name));
    }
    while (v.pods.length < replicas) {
      const pod = new EmulatedPod(
        m.namespace,
        podName(v.config.name, v.nextIndex++, this.config.seed),
        m.config,
        v.config,
        v.setup,
        v.latency,
        this.config.engine,
        m.config.vllmMetrics ?? this.config.vllmMetrics,
        createdAt + this.startupDelay(v.config),
      );
      v.pods.push(pod);
      this.byPath.set(podPath(m.namespace, pod.name), pod);
    }
    m.pods = m.variants.flatMap((x) => x.pods);
  }

  /** The model's ready pods per variant, as the gateway routes over them. */
  private ready(m: EmulatedModel): Array<{ pods: EmulatedPod[]; weight?: number }> {
    return m.variants.map((v) => ({
      pods: v.pods.filter((p) => this.isReady(p)),
      ...(v.config.weight !== undefined ? { weight: v.config.weight } : {}),
    }));
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
      const t0 = this.simMs;
      const dt = Math.min(this.config.tick, tMs - t0);
      // The rate at the middle of the tick: patterns that move (sine, spike edges) integrate well.
      const mid = t0 - this.startMs + dt / 2;
      for (const m of this.models) this.tick(m, t0, dt, m.curve.rateAt(mid) / 60_000);
      this.simMs = t0 + dt;
      this.record();
    }
  }

  private tick(m: EmulatedModel, t0: number, dt: number, perMs: number): void {
    let ready = this.ready(m);
    m.failed += this.gateway.release(m.model, m.namespace, ready, t0, m.random).length;
    const arrive = (at: number, r: SimRequest) => {
      for (const p of m.pods) this.collect(m, p, at);
      ready = this.ready(m);
      if (!this.gateway.route(m.model, m.namespace, r, ready, at, m.random)) m.failed++;
    };
    const end = m.integral + perMs * dt;
    if (m.trace) {
      const trace = m.trace;
      while (m.traceAt < trace.length && this.startMs + trace[m.traceAt]!.arrivalMs < t0 + dt) {
        const e = trace[m.traceAt++]!;
        const at = Math.max(t0, this.startMs + e.arrivalMs);
        arrive(
          at,
          newRequest(m.nextId++, at, e.inputTokens, e.outputTokens, m.random() < m.config.lengthFraction),
        );
      }
    } else {
      while (perMs > 0 && m.nextArrival <= end) {
        const at = t0 + (m.nextArrival - m.integral) / perMs;
        m.nextArrival += m.arrivals.nextGap();
        const prompt = Math.max(1, Math.round(m.prompt.next(m.config.inputTokens)));
        const output = Math.max(1, Math.round(m.output.next(m.config.outputTokens)));
        arrive(at, newRequest(m.nextId++, at, prompt, output, m.random() < m.config.lengthFraction));
      }
    }
    m.integral = end;
    const t1 = t0 + dt;
    for (const p of m.pods) this.collect(m, p, t1);
    m.draining = m.draining.filter((p) => {
      this.collect(m, p, t1);
      if (p.load > 0) return true;
      this.byPath.delete(podPath(m.namespace, p.name));
      return false;
    });
  }

  /** Moves a pod to `tMs` and adds what it emitted to its model's totals. */
  private collect(m: EmulatedModel, pod: EmulatedPod, tMs: number): void {
    const before = { ...pod.totals };
    for (const r of pod.advanceTo(tMs)) {
      m.finished.push({
        finishedMs: r.finishedMs!,
        ttftMs: r.firstTokenMs! - r.arrivalMs,
        itlMs: r.generated > 1 ? (r.finishedMs! - r.firstTokenMs!) / (r.generated - 1) : 0,
      });
    }
    const a = pod.totals;
    const t = m.totals;
    t.requests += a.requests - before.requests;
    t.promptTokens += a.promptTokens - before.promptTokens;
    t.generationTokens += a.generationTokens - before.generationTokens;
    t.ttftSeconds += a.ttftSeconds - before.ttftSeconds;
    t.ttftCount += a.ttftCount - before.ttftCount;
    t.tpotSeconds += a.tpotSeconds - before.tpotSeconds;
    t.tpotCount += a.tpotCount - before.tpotCount;
  }

  /** Advances simulated time by `dtMs` (for tests driving the clock themselves). */
  advance(dtMs: number): void {
    this.advanceTo(this.simMs + dtMs);
  }

  /**
   * Of a model's requests that finished in [fromMs, toMs) (clock time), how many met both targets
   * each on its own (a target of 0 or undefined is not checked).
   */
  requestsWithin(
    model: string,
    namespace: string,
    slo: { ttftMs?: number; itlMs?: number },
    fromMs: number,
    toMs: number,
  ): { total: number; met: number } {
    const m = this.byKey.get(modelKey(model, namespace));
    let total = 0;
    let met = 0;
    for (const r of m?.finished ?? []) {
      if (r.finishedMs < fromMs || r.finishedMs >= toMs) continue;
      total++;
      const ttftOk = !(slo.ttftMs && slo.ttftMs > 0) || r.ttftMs <= slo.ttftMs;
      const itlOk = !(slo.itlMs && slo.itlMs > 0) || r.itlMs <= slo.itlMs;
      if (ttftOk && itlOk) met++;
    }
    return { total, met };
  }

  private record(): void {
    for (const m of this.models) {
      let drop = 0;
      while (drop < m.finished.length && m.finished[drop]!.finishedMs < this.simMs - HISTORY_MS) drop++;
      if (drop > 0) m.finished.splice(0, drop);
    }
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

  /** Ready pods (draining ones until they finish): a starting vLLM pod serves no /metrics yet. */
  targets(): PodTarget[] {
    return this.pods
      .filter((p) => this.isReady(p) && this.byPath.has(podPath(p.namespace, p.name)))
      .map((p) => ({
        namespace: p.namespace,
        pod: p.name,
        model: p.model.model,
        variant: p.variant.name,
        metricsPath: podPath(p.namespace, p.name),
      }));
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

export function podPath(namespace: string, pod: string): string {
  return `/pods/${namespace}/${pod}/metrics`;
}
