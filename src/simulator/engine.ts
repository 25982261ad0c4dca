// One vLLM V1 engine, stepped: each step the scheduler fills a token budget from the running
// requests first (a decode takes one token, a prompt a chunk of what is left), then admits
// waiting requests first come first served while the budget, the seats and the KV blocks allow.
// When a running request needs a block and none is free, the most recently admitted running
// request is preempted: its blocks are freed and it recomputes later (vLLM V1 preempts by
// recompute). The latency model says how long each step takes.
import type { LatencyModel, StepBatch } from './latency.js';

/** One request and, once served, its timestamps (ms on the engine's clock). */
export interface SimRequest {
  id: number;
  /** When the client sent it (before any wait in the gateway). */
  arrivalMs: number;
  /** When it reached this engine's server (vLLM's arrival time). */
  enqueuedMs: number;
  /** When the scheduler sees it, after the front end's processing. */
  readyMs: number;
  promptTokens: number;
  outputTokens: number;
  /** Finished by reaching its length limit (vLLM's finished_reason "length"), else "stop". */
  lengthLimited: boolean;
  /** Tokens whose KV is in the cache. */
  computed: number;
  generated: number;
  blocks: number;
  preemptions: number;
  /** First time the scheduler took it (end of its queue time). */
  scheduledMs?: number;
  firstTokenMs?: number;
  lastTokenMs?: number;
  finishedMs?: number;
}

export function newRequest(
  id: number,
  atMs: number,
  promptTokens: number,
  outputTokens: number,
  lengthLimited = false,
): SimRequest {
  return {
    id,
    arrivalMs: atMs,
    enqueuedMs: atMs,
    readyMs: atMs,
    promptTokens,
    outputTokens,
    lengthLimited,
    computed: 0,
    generated: 0,
    blocks: 0,
    preemptions: 0,
  };
}

export interface EngineConfig {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  blockSize: number;
  numGpuBlocks: number;
}

/** What a pod exports about its engine right now. */
export interface EngineGauges {
  running: number;
  waiting: number;
  /** Share of KV blocks in use, 0..1. */
  kvUsage: number;
  preemptions: number;
  steps: number;
  /** KV-cache usage integrated over the steps run (usage x ms), and its highest value. */
  kvUsageMs: number;
  kvUsageMax: number;
}

/** Hooks a pod uses to observe tokens as vLLM does (per token, not per request). */
export interface EngineListener {
  firstToken?(r: SimRequest): void;
  /** `count` tokens were emitted `intervalMs` after each one's previous token. */
  tokens?(intervalMs: number, count: number): void;
}

/** Requests in FCFS order with O(1) removal at the head and re-insertion there (preemption). */
class Queue {
  private items: SimRequest[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  peek(): SimRequest | undefined {
    return this.items[this.head];
  }
  push(r: SimRequest): void {
    this.items.push(r);
  }
  shift(): SimRequest | undefined {
    const r = this.items[this.head];
    if (r === undefined) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return r;
  }
  unshift(r: SimRequest): void {
    if (this.head > 0) this.items[--this.head] = r;
    else this.items.unshift(r);
  }
  drain(): SimRequest[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

export class VllmEngine {
  /** End of the last step (or the last idle instant), ms. */
  now: number;
  private readonly waiting = new Queue();
  private running: SimRequest[] = [];
  private freeBlocks: number;
  private preemptionsTotal = 0;
  private stepsTotal = 0;
  private kvUsageMs = 0;
  private kvUsageMax = 0;

  constructor(
    readonly config: EngineConfig,
    readonly latency: LatencyModel,
    startMs = 0,
    private readonly listener: EngineListener = {},
  ) {
    this.now = startMs;
    this.freeBlocks = config.numGpuBlocks;
  }

  /**
   * Takes a request that reached the server at `r.enqueuedMs`; the scheduler sees it after the front
   * end's processing (the latency model's `frontendMs`).
   */
  enqueue(r: SimRequest): void {
    r.readyMs = r.enqueuedMs + (this.latency.frontendMs?.(r.promptTokens) ?? 0);
    this.waiting.push(r);
  }

  /** When the next step starts: now if requests run, else when the first waiting one is ready. */
  nextStepAt(): number | undefined {
    if (this.running.length > 0) return this.now;
    const head = this.waiting.peek();
    return head === undefined ? undefined : Math.max(this.now, head.readyMs);
  }

  /** Runs one step (waiting first for a request that is not ready yet); returns what finished. */
  stepOnce(): SimRequest[] {
    const at = this.nextStepAt();
    const done: SimRequest[] = [];
    if (at === undefined) return done;
    this.now = at;
    this.step(done);
    return done;
  }

  /** Requests in the engine (waiting or running). */
  get load(): number {
    return this.waiting.length + this.running.length;
  }

  gauges(): EngineGauges {
    const total = this.config.numGpuBlocks;
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvUsage: total > 0 ? (total - this.freeBlocks) / total : 0,
      preemptions: this.preemptionsTotal,
      steps: this.stepsTotal,
      kvUsageMs: this.kvUsageMs,
      kvUsageMax: this.kvUsageMax,
    };
  }

  /**
   * Runs steps until the engine's clock reaches `tMs`: a step that starts before `tMs` runs to its
   * end (an engine step is not interrupted), so the clock may pass `tMs` by less than one step.
   * Returns the requests that finished.
   */
  advanceTo(tMs: number): SimRequest[] {
    const done: SimRequest[] = [];
    for (;;) {
      const at = this.nextStepAt();
      if (at === undefined || at >= tMs) break;
      this.now = at;
      this.step(done);
    }
    if (this.now < tMs) this.now = tMs;
    return done;
  }

  /** Removes and returns what has not started (for a pod that stops taking work). */
  takeWaiting(): SimRequest[] {
    return this.waiting.drain().filter((r) => {
      if (r.computed === 0 && r.generated === 0) return true;
      this.waiting.push(r);
      return false;
    });
  }

  private allocate(r: SimRequest, tokens: number): boolean {
    const need = Math.ceil(tokens / this.config.blockSize) - r.blocks;
    if (need <= 0) return true;
    if (need > this.freeBlocks) return false;
    this.freeBlocks -= need;
    r.blocks += need;
    return true;
  }

  private release(r: SimRequest): void {
    this.freeBlocks += r.blocks;
    r.blocks = 0;
  }

  private preempt(r: SimRequest): void {
    this.release(r);
    r.computed = 0;
    r.preemptions++;
    this.preemptionsTotal++;
    this.waiting.unshift(r);
  }

  private step(done: SimRequest[]): void {
    const cfg = this.config;
    let budget = cfg.maxNumBatchedTokens;
    const scheduled: SimRequest[] = [];
    const amounts: number[] = [];
    let preempted = false;
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const r = this.running[i]!;
      const n = Math.min(r.promptTokens + r.generated - r.computed, budget);
      let self = false;
      while (!this.allocate(r, r.computed + n)) {
        const victim = this.running.pop()!;
        this.preempt(victim);
        preempted = true;
        if (victim === r) {
          self = true;
          break;
        }
      }
      if (self) break;
      scheduled.push(r);
      amounts.push(n);
      budget -= n;
    }
    // As vLLM V1: no new admissions in a step that had to preempt.
    while (!preempted && budget > 0 && this.running.length < cfg.maxNumSeqs) {
      const r = this.waiting.peek();
      if (r === undefined || r.readyMs > this.now) break;
      const n = Math.min(r.promptTokens + r.generated - r.computed, budget);
      if (!this.allocate(r, r.computed + n)) break;
      this.waiting.shift();
      this.running.push(r);
      r.scheduledMs ??= this.now;
      scheduled.push(r);
      amounts.push(n);
      budget -= n;
    }
    if (scheduled.length === 0) {
      // Nothing fits (KV exhausted by a single request larger than the cache): nothing can move.
      throw new Error('the engine cannot schedule any request: the KV cache is smaller than one request');
    }

    const batch: StepBatch = { prefills: [], decodes: 0, decodeContext: 0 };
    for (let i = 0; i < scheduled.length; i++) {
      const r = scheduled[i]!;
      const n = amounts[i]!;
      if (n === 1 && r.generated > 0 && r.computed === r.promptTokens + r.generated - 1) {
        batch.decodes++;
        batch.decodeContext += r.computed;
      } else
        (batch.prefills as Array<{ tokens: number; context: number }>).push({
          tokens: n,
          context: r.computed,
        });
    }
    const start = this.now;
    const dt = this.latency.stepMs(batch);
    this.now = start + dt;
    this.stepsTotal++;
    // The blocks held while the step runs (allocated for it, freed after it).
    const usage = cfg.numGpuBlocks > 0 ? (cfg.numGpuBlocks - this.freeBlocks) / cfg.numGpuBlocks : 0;
    this.kvUsageMs += usage * dt;
    if (usage > this.kvUsageMax) this.kvUsageMax = usage;

    let steady = 0;
    let finished = false;
    for (let i = 0; i < scheduled.length; i++) {
      const r = scheduled[i]!;
      r.computed += amounts[i]!;
      if (r.computed < r.promptTokens + r.generated) continue;
      r.generated++;
      if (r.generated === 1) {
        r.firstTokenMs = this.now;
        this.listener.firstToken?.(r);
      } else if (r.lastTokenMs === start) steady++;
      else this.listener.tokens?.(this.now - r.lastTokenMs!, 1);
      r.lastTokenMs = this.now;
      if (r.generated >= r.outputTokens) {
        r.finishedMs = this.now;
        this.release(r);
        done.push(r);
        finished = true;
      }
    }
    if (steady > 0) this.listener.tokens?.(dt, steady);
    if (finished) this.running = this.running.filter((r) => r.finishedMs === undefined);
  }
}
