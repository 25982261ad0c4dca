// One emulated vLLM pod: a simulated vLLM V1 engine and its own prom-client registry with vLLM's
// metric names, label set and bucket boundaries, observed as vLLM observes them (TTFT at the first
// token, inter-token latency per token, the rest when a request finishes).
import { Registry } from 'prom-client';
import { type EngineSetup, type LatencyModel, type SimRequest, VllmEngine } from '../simulator/index.js';
import type { ModelConfig, VariantConfig } from './config.js';
import { createPodMetrics, type PodMetrics, type VllmMetricNames } from './vllm-metrics.js';

export { buckets125, VLLM_BUCKETS, VLLM_METRICS, type VllmMetricNames } from './vllm-metrics.js';

/** Running totals of what a pod (or a model) has emitted: the truth rate() should read back. */
export interface Totals {
  requests: number;
  promptTokens: number;
  generationTokens: number;
  ttftSeconds: number;
  ttftCount: number;
  tpotSeconds: number;
  tpotCount: number;
}

export function emptyTotals(): Totals {
  return {
    requests: 0,
    promptTokens: 0,
    generationTokens: 0,
    ttftSeconds: 0,
    ttftCount: 0,
    tpotSeconds: 0,
    tpotCount: 0,
  };
}

export function addTotals(into: Totals, t: Totals): void {
  into.requests += t.requests;
  into.promptTokens += t.promptTokens;
  into.generationTokens += t.generationTokens;
  into.ttftSeconds += t.ttftSeconds;
  into.ttftCount += t.ttftCount;
  into.tpotSeconds += t.tpotSeconds;
  into.tpotCount += t.tpotCount;
}

export class EmulatedPod {
  readonly registry = new Registry();
  /** Everything this pod emitted since it started. */
  readonly totals: Totals = emptyTotals();
  readonly engine: VllmEngine;
  /** Removed from its Deployment: takes no new requests, finishes what it holds. */
  draining = false;
  private readonly m: PodMetrics;
  private preemptionsSeen = 0;

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly model: ModelConfig,
    readonly variant: VariantConfig,
    readonly setup: EngineSetup,
    latency: LatencyModel,
    engineLabel: string,
    names: VllmMetricNames = 'current',
    /** Clock time (ms) from which the pod serves; before, it starts up and is not scraped. */
    readonly readyAtMs = 0,
  ) {
    this.m = createPodMetrics(this.registry, { model_name: model.model, engine: engineLabel }, names, {
      blockSize: setup.args.blockSize,
      numGpuBlocks: setup.numGpuBlocks,
      gpuMemoryUtilization: setup.args.gpuMemoryUtilization,
    });
    const m = this.m;
    const totals = this.totals;
    this.engine = new VllmEngine(
      {
        maxNumSeqs: setup.args.maxNumSeqs,
        maxNumBatchedTokens: setup.args.maxNumBatchedTokens,
        blockSize: setup.args.blockSize,
        numGpuBlocks: setup.numGpuBlocks,
      },
      latency,
      readyAtMs,
      {
        firstToken(r) {
          const s = (r.firstTokenMs! - r.enqueuedMs) / 1000;
          m.ttft.observe(s);
          totals.ttftSeconds += s;
          totals.ttftCount += 1;
        },
        tokens(intervalMs, count) {
          const s = intervalMs / 1000;
          for (const h of m.itl) if (h) for (let i = 0; i < count; i++) h.observe(s);
          totals.tpotSeconds += s * count;
          totals.tpotCount += count;
        },
      },
    );
    // Zero-valued series exist from the first scrape, as in vLLM.
    m.stop.inc(0);
    m.length.inc(0);
    m.promptTotal.inc(0);
    m.generationTotal.inc(0);
    m.preemptions.inc(0);
    this.updateGauges();
  }

  /** Requests in the pod (waiting or running). */
  get load(): number {
    return this.engine.load;
  }

  /** Hands the pod a request at clock time `atMs` (its prompt cut to what vLLM accepts). */
  enqueue(r: SimRequest, atMs: number): void {
    const maxLen = this.setup.maxModelLen;
    r.promptTokens = Math.min(r.promptTokens, maxLen - 1);
    r.outputTokens = Math.max(1, Math.min(r.outputTokens, maxLen - r.promptTokens));
    r.enqueuedMs = atMs;
    this.engine.enqueue(r);
    this.updateGauges();
  }

  /** Runs the engine up to clock time `tMs`, observing what finished; returns those requests. */
  advanceTo(tMs: number): SimRequest[] {
    if (tMs < this.readyAtMs) return [];
    const done = this.engine.advanceTo(tMs);
    const m = this.m;
    for (const r of done) {
      (r.lengthLimited ? m.length : m.stop).inc();
      m.prompt.observe(r.promptTokens);
      m.generation.observe(r.generated);
      m.promptTotal.inc(r.promptTokens);
      m.generationTotal.inc(r.generated);
      m.e2e.observe((r.finishedMs! - r.enqueuedMs) / 1000);
      m.queue.observe((r.scheduledMs! - r.readyMs) / 1000);
      m.prefill.observe((r.firstTokenMs! - r.scheduledMs!) / 1000);
      m.decode.observe((r.finishedMs! - r.firstTokenMs!) / 1000);
      this.totals.requests += 1;
      this.totals.promptTokens += r.promptTokens;
      this.totals.generationTokens += r.generated;
    }
    this.updateGauges();
    return done;
  }

  private updateGauges(): void {
    const g = this.engine.gauges();
    this.m.running.set(g.running);
    this.m.waiting.set(g.waiting);
    for (const k of this.m.kvCache) k?.set(g.kvUsage);
    if (g.preemptions > this.preemptionsSeen) {
      this.m.preemptions.inc(g.preemptions - this.preemptionsSeen);
      this.preemptionsSeen = g.preemptions;
    }
  }

  /** The pod's exposition, in Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
