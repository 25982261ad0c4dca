// The emulator's objects: models, their variants and pods, scrape targets and what was emitted.
import type { ArrivalProcess, EngineSetup, RooflineLatencyModel, TraceEntry } from '../simulator/index.js';
import type { LoadProfile } from '../types.js';
import type { ModelConfig, VariantConfig } from './config.js';
import type { LoadCurve } from './load.js';
import type { EmulatedPod, Totals } from './pod.js';
import type { PairedSampler } from './random.js';

/** What the emulator emitted over a window, as the collector computes it. */
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
  /** The engine its pods run (model, GPU, vLLM arguments, KV size). */
  setup: EngineSetup;
  latency: RooflineLatencyModel;
  /** Pods in creation order (the youngest last), starting ones included; draining ones not. */
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
  /** Every pod of every variant, starting ones included, draining ones not. */
  pods: EmulatedPod[];
  /** Pods removed from their Deployment that still finish their requests. */
  draining: EmulatedPod[];
  /** Everything its pods emitted, removed pods included. */
  totals: Totals;
  /** Requests the gateway failed (flow-control queue full or timed out). */
  failed: number;
  arrivals: ArrivalProcess;
  /** The arrival process runs at rate 1 over the integral of the rate: where it is, and the next. */
  integral: number;
  nextArrival: number;
  random: () => number;
  prompt: PairedSampler;
  output: PairedSampler;
  nextId: number;
  /** Finished requests of the last hour: when, and each one's own TTFT and mean ITL (ms). */
  finished: RequestTruth[];
  /** Requests replayed from the model's trace file, and the next one. */
  trace?: TraceEntry[];
  traceAt: number;
}

/** One finished request as its client saw it (gateway wait included). */
export interface RequestTruth {
  finishedMs: number;
  ttftMs: number;
  /** Mean gap between its tokens; 0 for a single token. */
  itlMs: number;
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
