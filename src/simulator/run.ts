// A run in virtual time: replicas of one engine set-up behind a least-loaded router, fed by an
// open arrival process (or a trace), or by a fixed number of clients each sending its next request
// when the last one finished (a benchmark's --max-concurrency). Deterministic from the seed.
import { streamFor } from '../emulator/random.js';
import { newRequest, type SimRequest, VllmEngine } from './engine.js';
import { type LatencyModel, RooflineLatencyModel } from './latency.js';
import { report, type SimulationReport } from './stats.js';
import type { EngineSetup } from './vllm-args.js';
import {
  type ArrivalKind,
  ArrivalProcess,
  type LengthDistribution,
  sampleLength,
  type TraceEntry,
} from './workload.js';

export interface SimulationOptions {
  setup: EngineSetup;
  /** Default: the roofline over the set-up's model and GPU. */
  latency?: LatencyModel;
  replicas: number;
  /** Requests are sent until this time (ms); the run then drains. */
  durationMs: number;
  /** Requests per second (open loop). */
  rate?: number;
  /** Requests per second at a time (ms since start), for a load that moves; overrides `rate`. */
  rateAt?: (tMs: number) => number;
  arrivals?: ArrivalKind;
  /** Gap CV of gamma arrivals. */
  cv?: number;
  /** Closed loop: this many clients, each with one request in flight (rate is then ignored). */
  concurrency?: number;
  /** Stop sending after this many requests. */
  maxRequests?: number;
  input: LengthDistribution;
  output: LengthDistribution;
  /** Longest prompt drawn (a benchmark's dataset filter); default: the model length. */
  maxInput?: number;
  trace?: TraceEntry[];
  seed: number;
}

export interface SimulationResult {
  report: SimulationReport;
  requests: SimRequest[];
  engines: VllmEngine[];
}

/** A source of requests: the next send time, or undefined when it is done. */
interface Source {
  peek(): number | undefined;
  take(): SimRequest;
  /** A request finished (closed loop sends the next one). */
  finished(r: SimRequest): void;
}

function makeSource(o: SimulationOptions): Source {
  const random = streamFor(o.seed, 'simulate:lengths');
  const cap = o.setup.maxModelLen;
  const max = o.maxRequests ?? Number.POSITIVE_INFINITY;
  let id = 0;
  const make = (at: number, input?: number, output?: number): SimRequest => {
    const prompt = Math.min(input ?? sampleLength(o.input, random, o.maxInput), cap - 1);
    const out = Math.min(output ?? sampleLength(o.output, random), cap - prompt);
    return newRequest(id++, at, prompt, out);
  };
  if (o.trace) {
    const trace = o.trace;
    let i = 0;
    return {
      peek: () =>
        i < trace.length && i < max && trace[i]!.arrivalMs <= o.durationMs ? trace[i]!.arrivalMs : undefined,
      take: () => {
        const e = trace[i++]!;
        return make(e.arrivalMs, e.inputTokens, e.outputTokens);
      },
      finished: () => {},
    };
  }
  if (o.concurrency !== undefined) {
    const sends: number[] = Array.from({ length: o.concurrency }, () => 0);
    return {
      peek: () => (id < max && sends.length > 0 && sends[0]! <= o.durationMs ? sends[0] : undefined),
      take: () => make(sends.shift()!),
      finished: (r) => {
        const at = r.finishedMs!;
        let k = sends.length;
        while (k > 0 && sends[k - 1]! > at) k--;
        sends.splice(k, 0, at);
      },
    };
  }
  const process = new ArrivalProcess(o.arrivals ?? 'poisson', streamFor(o.seed, 'simulate:arrivals'), o.cv);
  const rateAt = o.rateAt ?? (() => o.rate ?? 0);
  // The process runs at rate 1 over the integral of the rate, walked in slices of a second.
  const SLICE = 1000;
  let t = 0;
  let integral = 0;
  let target = process.nextGap();
  const advance = (): number => {
    while (t <= o.durationMs) {
      const perMs = Math.max(0, rateAt(t + SLICE / 2)) / 1000;
      // The slice stays current (t, integral at its start): the next arrival may come in it too.
      if (perMs > 0 && integral + perMs * SLICE >= target) return t + (target - integral) / perMs;
      integral += perMs * SLICE;
      t += SLICE;
    }
    return Number.POSITIVE_INFINITY;
  };
  let next = advance();
  return {
    peek: () => (id < max && next <= o.durationMs ? next : undefined),
    take: () => {
      const r = make(next);
      target += process.nextGap();
      next = advance();
      return r;
    },
    finished: () => {},
  };
}

export function simulate(o: SimulationOptions): SimulationResult {
  if (!Number.isInteger(o.replicas) || o.replicas < 1)
    throw new RangeError(`replicas must be >= 1, got ${o.replicas}`);
  const s = o.setup;
  const latency = o.latency ?? new RooflineLatencyModel(s.model, s.gpu, s.args.tensorParallelSize);
  const engines = Array.from(
    { length: o.replicas },
    () =>
      new VllmEngine(
        {
          maxNumSeqs: s.args.maxNumSeqs,
          maxNumBatchedTokens: s.args.maxNumBatchedTokens,
          blockSize: s.args.blockSize,
          numGpuBlocks: s.numGpuBlocks,
        },
        latency,
      ),
  );
  const source = makeSource(o);
  const done: SimRequest[] = [];
  let turn = 0;
  let firstSend: number | undefined;
  const collect = (rs: SimRequest[]) => {
    for (const r of rs) {
      done.push(r);
      source.finished(r);
    }
  };
  const route = (r: SimRequest) => {
    firstSend ??= r.arrivalMs;
    // Least (waiting + running), ties broken round robin.
    let best = engines[turn % engines.length]!;
    for (let k = 1; k < engines.length; k++) {
      const c = engines[(turn + k) % engines.length]!;
      if (c.load < best.load) best = c;
    }
    turn++;
    best.enqueue(r);
  };
  if (o.concurrency === undefined) {
    // Open loop: between two arrivals the engines do not interact; each runs up to the next one.
    for (let t = source.peek(); t !== undefined; t = source.peek()) {
      for (const e of engines) collect(e.advanceTo(t));
      route(source.take());
    }
    for (const e of engines) while (e.load > 0) collect(e.stepOnce());
  } else {
    // Closed loop: a completion sends the next request, so engines step in time order.
    for (;;) {
      let e: VllmEngine | undefined;
      let eAt = Number.POSITIVE_INFINITY;
      for (const x of engines) {
        const at = x.nextStepAt();
        if (at !== undefined && at < eAt) {
          e = x;
          eAt = at;
        }
      }
      const t = source.peek();
      if (t !== undefined && t <= eAt) route(source.take());
      else if (e === undefined) break;
      else collect(e.stepOnce());
    }
  }
  const end = done.reduce((m, r) => Math.max(m, r.finishedMs!), 0);
  const span = end - (firstSend ?? 0);
  const busyFor = Math.max(span, 1e-9) * engines.length;
  const g = engines.map((x) => x.gauges());
  const preemptions = g.reduce((a, x) => a + x.preemptions, 0);
  const kvArea = g.reduce((a, x) => a + x.kvUsageMs, 0);
  const kvMax = g.reduce((a, x) => Math.max(a, x.kvUsageMax), 0);
  done.sort((a, b) => a.id - b.id);
  return {
    report: report(done, span, preemptions, { mean: kvArea / busyFor, max: kvMax }),
    requests: done,
    engines,
  };
}
