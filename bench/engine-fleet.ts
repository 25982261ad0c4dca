// A variant as simulated vLLM engines, for the autoscale benchmark in virtual time: requests arrive
// one by one (seeded Poisson around the trace's rate), a gateway sends each to the least loaded
// ready pod (holding them while none is ready), new pods serve after their start-up delay and
// removed ones finish what they hold. Nothing here comes from the optimizer's model.
import { streamFor } from '../src/emulator/random.js';
import {
  ArrivalProcess,
  type EngineSetup,
  type LengthDistribution,
  newRequest,
  RooflineLatencyModel,
  type SimRequest,
  sampleLength,
  VllmEngine,
} from '../src/simulator/index.js';
import type { FleetStep } from './fleet.js';

interface Pod {
  engine: VllmEngine;
  readyAt: number;
}

export interface EngineFleetOptions {
  setup: EngineSetup;
  initialReplicas: number;
  startupMs: number;
  input: LengthDistribution;
  output: LengthDistribution;
  seed: number;
}

export class EngineFleet {
  /** Every finished request, with its timestamps: the truth request-level SLO attainment reads. */
  readonly finished: SimRequest[] = [];
  private pods: Pod[] = [];
  private draining: Pod[] = [];
  private pending: SimRequest[] = [];
  private readonly latency: RooflineLatencyModel;
  private readonly arrivals: ArrivalProcess;
  private readonly lengths: () => number;
  private integral = 0;
  private next: number;
  private id = 0;
  private turn = 0;

  constructor(private readonly o: EngineFleetOptions) {
    const s = o.setup;
    this.latency = new RooflineLatencyModel(s.model, s.gpu, s.args.tensorParallelSize);
    this.arrivals = new ArrivalProcess('poisson', streamFor(o.seed, 'fleet:arrivals'));
    this.lengths = streamFor(o.seed, 'fleet:lengths');
    this.next = this.arrivals.nextGap();
    for (let i = 0; i < o.initialReplicas; i++) this.pods.push(this.pod(0));
  }

  private pod(readyAt: number): Pod {
    const a = this.o.setup.args;
    const engine = new VllmEngine(
      {
        maxNumSeqs: a.maxNumSeqs,
        maxNumBatchedTokens: a.maxNumBatchedTokens,
        blockSize: a.blockSize,
        numGpuBlocks: this.o.setup.numGpuBlocks,
      },
      this.latency,
      readyAt,
    );
    return { engine, readyAt };
  }

  get replicas(): number {
    return this.pods.length;
  }

  /** New pods serve after the start-up delay; a scale-down drains the youngest pods. */
  setReplicas(n: number, nowMs: number): void {
    while (this.pods.length > n) this.draining.push(this.pods.pop()!);
    while (this.pods.length < n) this.pods.push(this.pod(nowMs + this.o.startupMs));
  }

  private route(r: SimRequest, at: number): boolean {
    const ready = this.pods.filter((p) => p.readyAt <= at);
    if (ready.length === 0) return false;
    this.turn++;
    let best = ready[this.turn % ready.length]!;
    for (let k = 1; k < ready.length; k++) {
      const p = ready[(this.turn + k) % ready.length]!;
      if (p.engine.load < best.engine.load) best = p;
    }
    r.enqueuedMs = at;
    best.engine.enqueue(r);
    return true;
  }

  private advance(tMs: number, into: SimRequest[]): void {
    for (const p of this.pods) if (p.readyAt <= tMs) into.push(...p.engine.advanceTo(tMs));
    for (const p of this.draining) into.push(...p.engine.advanceTo(tMs));
  }

  /** Moves the fleet over [nowMs, nowMs + dtMs) with `ratePerMin` offered. */
  step(nowMs: number, dtMs: number, ratePerMin: number): FleetStep & { kvUsage: number } {
    const done: SimRequest[] = [];
    let arrived = 0;
    if (this.pending.length > 0) {
      this.advance(nowMs, done);
      this.pending = this.pending.filter((r) => !this.route(r, nowMs));
    }
    const perMs = ratePerMin / 60_000;
    const end = this.integral + perMs * dtMs;
    while (perMs > 0 && this.next <= end) {
      const at = nowMs + (this.next - this.integral) / perMs;
      this.next += this.arrivals.nextGap();
      const r = newRequest(
        this.id++,
        at,
        sampleLength(this.o.input, this.lengths),
        sampleLength(this.o.output, this.lengths),
      );
      arrived++;
      this.advance(at, done);
      if (!this.route(r, at)) this.pending.push(r);
    }
    this.integral = end;
    const t1 = nowMs + dtMs;
    this.advance(t1, done);
    this.draining = this.draining.filter((p) => p.engine.load > 0);
    this.finished.push(...done);
    let ttft = 0;
    let gaps = 0;
    let decodeMs = 0;
    for (const r of done) {
      ttft += r.firstTokenMs! - r.arrivalMs;
      if (r.generated > 1) {
        gaps += r.generated - 1;
        decodeMs += r.finishedMs! - r.firstTokenMs!;
      }
    }
    let running = 0;
    let waiting = this.pending.length;
    let kv = 0;
    let ready = 0;
    for (const p of [...this.pods, ...this.draining]) {
      const g = p.engine.gauges();
      running += g.running;
      waiting += g.waiting;
      if (p.readyAt <= t1) {
        ready++;
        kv += g.kvUsage;
      }
    }
    return {
      arrived,
      served: done.length,
      ttftMs: done.length > 0 ? ttft / done.length : undefined,
      itlMs: gaps > 0 ? decodeMs / gaps : undefined,
      running,
      waiting,
      replicas: this.pods.length,
      ready: this.pods.filter((p) => p.readyAt <= t1).length,
      kvUsage: ready > 0 ? kv / ready : 0,
    };
  }
}
