// The benchmark's world: every model's variants as pods that are simulated vLLM V1 engines
// (src/simulator/), requests arriving one by one, a gateway per model sending each to the ready pod
// with the fewest requests (llm-d's least-requests scorer; held while none is ready), pods serving
// after their start-up delay and draining when removed. Prometheus' view of it is kept as a
// collector would read it: gauges scraped every 15 s, request timings as finished requests report
// them. Nothing here comes from the optimizer or the engines.
import { streamFor } from '../../src/emulator/random.js';
import {
  ArrivalProcess,
  type EngineSetup,
  type LengthDistribution,
  newRequest,
  RooflineLatencyModel,
  type SimRequest,
  sampleLength,
  VllmEngine,
} from '../../src/simulator/index.js';

export const SCRAPE_MS = 15_000;

export interface VariantSpec {
  name: string;
  accelerator: string;
  /** spec.variantCost: the cost of one replica per hour. */
  cost: number;
  setup: EngineSetup;
}

export interface ModelSpec {
  id: string;
  variants: VariantSpec[];
  slo: { ttftMs: number; itlMs: number };
  input: LengthDistribution;
  output: LengthDistribution;
}

interface Scrape {
  tMs: number;
  running: number;
  waiting: number;
  kv: number;
}

export interface Pod {
  name: string;
  engine: VllmEngine;
  readyAt: number;
  scrapes: Scrape[];
}

/** One finished request as the pod's histograms and the client see it. */
export interface Finished {
  variant: string;
  arrivalMs: number;
  finishedMs: number;
  /** From the client's send (gateway wait included): what the SLO is about. */
  clientTtftMs: number;
  /** vLLM's own: from the request reaching the server. */
  ttftMs: number;
  queueMs: number;
  prefillMs: number;
  decodeMs: number;
  gaps: number;
  input: number;
  output: number;
}

export class Variant {
  pods: Pod[] = [];
  draining: Pod[] = [];
  /** Finished requests of the last few minutes, oldest first. */
  recent: Finished[] = [];
  private seq = 0;
  readonly latency: RooflineLatencyModel;
  constructor(
    readonly spec: VariantSpec,
    readonly model: string,
  ) {
    const s = spec.setup;
    this.latency = new RooflineLatencyModel(s.model, s.gpu, s.args.tensorParallelSize);
  }

  addPod(readyAt: number): void {
    const a = this.spec.setup.args;
    const engine = new VllmEngine(
      {
        maxNumSeqs: a.maxNumSeqs,
        maxNumBatchedTokens: a.maxNumBatchedTokens,
        blockSize: a.blockSize,
        numGpuBlocks: this.spec.setup.numGpuBlocks,
      },
      this.latency,
      readyAt,
    );
    this.pods.push({ name: `${this.spec.name}-${this.seq++}`, engine, readyAt, scrapes: [] });
  }

  ready(tMs: number): Pod[] {
    return this.pods.filter((p) => p.readyAt <= tMs);
  }
}

export interface ModelState {
  spec: ModelSpec;
  variants: Variant[];
  /** Requests held by the gateway while no pod is ready. */
  pending: SimRequest[];
  /** Requests in the system (gateway + pods) at each scrape, for the arrival estimate. */
  inSystem: Array<{ tMs: number; n: number }>;
  arrivals: ArrivalProcess;
  lengths: () => number;
  /** The integral of the rate walked so far (arrivals), and where the next arrival falls. */
  integral: number;
  next: number;
  id: number;
  turn: number;
}

export interface FleetOptions {
  models: ModelSpec[];
  initial: Record<string, number>;
  startupMs: number;
  seed: number;
  /** Gaps' coefficient of variation: 1 Poisson, above 1 bursty (gamma). */
  arrivalCv: number;
  /** Called with every finished request (scoring). */
  onFinished: (model: ModelState, f: Finished) => void;
}

/**
 * The world's bounds, the same for every policy: each variant 0..max replicas, and a model never
 * left with none (every variant asked for 0: the cheapest, then the alphabetically first, keeps 1,
 * as upstream's scale-to-zero enforcement does with scale to zero disabled). `want` holds what a
 * policy asked for (variants absent keep theirs); the answer holds every variant of every model.
 */
export function worldBounds(
  models: readonly ModelSpec[],
  current: (variant: string) => number,
  want: ReadonlyMap<string, number>,
  maxReplicas: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of models) {
    let total = 0;
    for (const v of m.variants) {
      const asked = want.get(v.name) ?? current(v.name);
      const n = Math.max(0, Math.min(maxReplicas, Number.isFinite(asked) ? Math.trunc(asked) : 0));
      out.set(v.name, n);
      total += n;
    }
    if (total === 0 && m.variants.length > 0) {
      const cheapest = [...m.variants].sort((a, b) => a.cost - b.cost || a.name.localeCompare(b.name))[0]!;
      out.set(cheapest.name, 1);
    }
  }
  return out;
}

/** How long the fleet keeps finished requests and scrapes: the longest window anyone reads. */
const KEEP_MS = 5 * 60_000;

export class SimFleet {
  readonly models: ModelState[];
  /** Cost-weighted replica-milliseconds so far (starting and draining pods included). */
  costMs = 0;
  constructor(private readonly o: FleetOptions) {
    this.models = o.models.map((spec) => {
      const variants = spec.variants.map((v) => new Variant(v, spec.id));
      for (const v of variants) for (let i = 0; i < (o.initial[v.spec.name] ?? 0); i++) v.addPod(0);
      const arrivals = new ArrivalProcess(
        o.arrivalCv > 1 ? 'gamma' : 'poisson',
        streamFor(o.seed, `arrivals:${spec.id}`),
        o.arrivalCv,
      );
      return {
        spec,
        variants,
        pending: [],
        inSystem: [],
        arrivals,
        lengths: streamFor(o.seed, `lengths:${spec.id}`),
        integral: 0,
        next: arrivals.nextGap(),
        id: 0,
        turn: 0,
      };
    });
  }

  variant(name: string): Variant {
    for (const m of this.models) for (const v of m.variants) if (v.spec.name === name) return v;
    throw new Error(`no variant ${name}`);
  }

  /** New pods serve after the start-up delay; a scale-down drains the youngest pods. */
  setReplicas(name: string, n: number, nowMs: number): void {
    const v = this.variant(name);
    while (v.pods.length > n) v.draining.push(v.pods.pop()!);
    while (v.pods.length < n) v.addPod(nowMs + this.o.startupMs);
  }

  private route(m: ModelState, r: SimRequest, at: number): boolean {
    let best: Pod | undefined;
    const all = m.variants.flatMap((v) => v.ready(at));
    if (all.length === 0) return false;
    m.turn++;
    for (let k = 0; k < all.length; k++) {
      const p = all[(m.turn + k) % all.length]!;
      if (best === undefined || p.engine.load < best.engine.load) best = p;
    }
    r.enqueuedMs = at;
    best!.engine.enqueue(r);
    return true;
  }

  private advance(m: ModelState, tMs: number): void {
    for (const v of m.variants) {
      for (const p of v.pods) if (p.readyAt <= tMs) this.collect(m, v, p.engine.advanceTo(tMs));
      for (const p of v.draining) this.collect(m, v, p.engine.advanceTo(tMs));
    }
  }

  private collect(m: ModelState, v: Variant, done: SimRequest[]): void {
    for (const r of done) {
      const gaps = Math.max(0, r.generated - 1);
      const f: Finished = {
        variant: v.spec.name,
        arrivalMs: r.arrivalMs,
        finishedMs: r.finishedMs!,
        clientTtftMs: r.firstTokenMs! - r.arrivalMs,
        ttftMs: r.firstTokenMs! - r.enqueuedMs,
        queueMs: (r.scheduledMs ?? r.enqueuedMs) - r.enqueuedMs,
        prefillMs: r.firstTokenMs! - (r.scheduledMs ?? r.enqueuedMs),
        decodeMs: gaps > 0 ? r.finishedMs! - r.firstTokenMs! : 0,
        gaps,
        input: r.promptTokens,
        output: r.generated,
      };
      v.recent.push(f);
      this.o.onFinished(m, f);
    }
  }

  /** Moves the fleet over [nowMs, nowMs + dtMs) with each model's rate (requests per minute). */
  step(nowMs: number, dtMs: number, rates: readonly number[]): void {
    this.models.forEach((m, i) => {
      if (m.pending.length > 0) {
        this.advance(m, nowMs);
        m.pending = m.pending.filter((r) => !this.route(m, r, nowMs));
      }
      const perMs = (rates[i] ?? 0) / 60_000;
      const end = m.integral + perMs * dtMs;
      while (perMs > 0 && m.next <= end) {
        const at = nowMs + (m.next - m.integral) / perMs;
        m.next += m.arrivals.nextGap();
        const r = newRequest(
          m.id++,
          at,
          sampleLength(m.spec.input, m.lengths, 8192),
          sampleLength(m.spec.output, m.lengths, 4096),
        );
        this.advance(m, at);
        if (!this.route(m, r, at)) m.pending.push(r);
      }
      m.integral = end;
      const t1 = nowMs + dtMs;
      this.advance(m, t1);
      for (const v of m.variants) {
        v.draining = v.draining.filter((p) => p.engine.load > 0);
        this.costMs += (v.pods.length + v.draining.length) * v.spec.cost * dtMs;
      }
      if (t1 % SCRAPE_MS === 0) this.scrape(m, t1);
    });
  }

  private scrape(m: ModelState, tMs: number): void {
    let n = m.pending.length;
    for (const v of m.variants) {
      for (const p of v.draining) n += p.engine.load;
      for (const p of v.pods) {
        n += p.engine.load;
        if (p.readyAt > tMs) continue;
        const g = p.engine.gauges();
        p.scrapes.push({ tMs, running: g.running, waiting: g.waiting, kv: g.kvUsage });
        while (p.scrapes.length > 0 && p.scrapes[0]!.tMs < tMs - KEEP_MS) p.scrapes.shift();
      }
      while (v.recent.length > 0 && v.recent[0]!.finishedMs < tMs - KEEP_MS) v.recent.shift();
    }
    m.inSystem.push({ tMs, n });
    while (m.inSystem.length > 0 && m.inSystem[0]!.tMs < tMs - KEEP_MS) m.inSystem.shift();
  }

  get replicas(): number {
    return this.models.reduce((a, m) => a + m.variants.reduce((b, v) => b + v.pods.length, 0), 0);
  }

  /** Requests still held or unfinished anywhere. */
  unfinished(): number {
    let n = 0;
    for (const m of this.models) {
      n += m.pending.length;
      for (const v of m.variants) for (const p of [...v.pods, ...v.draining]) n += p.engine.load;
    }
    return n;
  }
}
