// The vLLM emulator: many models, variants and pods in one process, moved forward in simulated
// time. Time comes from an injectable clock; `advanceTo` steps the simulation in ticks of at most
// `config.tick`, so counters grow at the configured rates and rate() over any window reads back
// the load the config asked for (and the latency the model computes for it).
import type { LoadProfile } from '../types.js';

/** What the emulator knows it emitted: every number known (the collector's result, minus unknowns). */
export interface EmulatedMetrics {
  load: LoadProfile;
  ttftAverage: number;
  itlAverage: number;
}

import type { EmulatorConfig, ModelConfig } from './config.js';
import { LoadCurve } from './load.js';
import { addTotals, EmulatedPod, emptyTotals, type Totals } from './pod.js';
import { podName } from './random.js';

export interface VllmEmulatorOptions {
  /** Millisecond clock; default Date.now. Simulated time starts at its value on construction. */
  now?: () => number;
}

/** One model in one namespace and its pods. */
export interface EmulatedModel {
  model: string;
  namespace: string;
  config: ModelConfig;
  curve: LoadCurve;
  pods: EmulatedPod[];
  /** Fraction of the model's traffic each pod gets (same order as `pods`). */
  shares: number[];
  totals: Totals;
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

export function modelKey(model: string, namespace: string): string {
  return `${model}:${namespace}`;
}

export class VllmEmulator {
  readonly models: EmulatedModel[] = [];
  readonly pods: EmulatedPod[] = [];
  readonly startMs: number;
  private readonly byPath = new Map<string, EmulatedPod>();
  private readonly byKey = new Map<string, EmulatedModel>();
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
      const pods: EmulatedPod[] = [];
      const shares: number[] = [];
      const weights = mc.variants.map((v) => (v.replicas === 0 ? 0 : (v.weight ?? v.replicas)));
      const weightSum = weights.reduce((a, b) => a + b, 0);
      mc.variants.forEach((v, vi) => {
        for (let i = 0; i < v.replicas; i++) {
          const pod = new EmulatedPod(
            mc.namespace,
            podName(v.name, i, config.seed),
            mc,
            v,
            config.engine,
            config.seed,
            config.jitter,
            mc.vllmMetrics ?? config.vllmMetrics,
          );
          pods.push(pod);
          shares.push(weightSum > 0 ? weights[vi]! / weightSum / v.replicas : 0);
          this.pods.push(pod);
          this.byPath.set(podPath(mc.namespace, pod.name), pod);
        }
      });
      const em: EmulatedModel = {
        model: mc.model,
        namespace: mc.namespace,
        config: mc,
        curve: new LoadCurve(mc.load, config.seed, key),
        pods,
        shares,
        totals: emptyTotals(),
      };
      this.models.push(em);
      this.byKey.set(key, em);
    }
    this.record();
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
        m.pods.forEach((pod, i) => {
          addTotals(m.totals, pod.step(dt, perSecond * m.shares[i]!));
        });
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

  targets(): PodTarget[] {
    return this.pods.map((p) => ({
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
    m.pods.forEach((pod, i) => {
      const offered = perSecond * m.shares[i]!;
      arriving += offered;
      const s = pod.computeState(offered);
      const served = Math.min(offered, s.capacityPerSecond);
      const wait = s.capacityPerSecond > 0 ? (pod.queue / s.capacityPerSecond) * 1000 : 0;
      rate += served;
      ttft += served * (s.ttftMs + wait);
      itl += served * s.itlMs;
    });
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

export function podPath(namespace: string, pod: string): string {
  return `/pods/${namespace}/${pod}/metrics`;
}
