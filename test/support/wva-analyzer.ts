// A straightforward rendering of WVA's queue analyzer, as its Go code computes it: float32
// arithmetic (Math.fround after every operation), the full state-probability array over all N+Q
// states, a plain bisection per target over the whole stable range, and replicas as WVA's
// allocation computes them. Tests compare the optimizer with it; the benchmark uses it as the
// baseline. Written from the Go code's behaviour; integer tokens, as WVA's request size has.

const f = Math.fround;
const EPS = f(0.001);
const TOL = f(1e-6);

export interface WvaCase {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
  maxBatchSize: number;
  maxQueueSize: number;
  inTokens: number;
  outTokens: number;
  /** 0: no target. */
  ttftMs: number;
  itlMs: number;
  /** Requests per minute. */
  arrivalPerMin: number;
  minReplicas: number;
}

export interface WvaResult {
  numReplicas: number;
  /** rate*, req/s. */
  rateStar: number;
  ttftMs: number;
  itlMs: number;
  rho: number;
}

interface Solved {
  throughput: number;
  wait: number;
  serv: number;
  inServ: number;
}

class WvaQueue {
  readonly servRate: number[] = [];
  readonly k: number;
  readonly p: Float64Array;
  readonly rateMin: number;
  readonly rateMax: number;

  constructor(readonly c: WvaCase) {
    for (let n = 1; n <= c.maxBatchSize; n++) {
      const prefill = this.prefill(n);
      let numDecode = c.outTokens - 1;
      if (c.inTokens === 0 && c.outTokens === 1) numDecode = 1;
      const decode = f(numDecode * this.decode(n));
      this.servRate.push(f(n / f(prefill + decode)));
    }
    this.rateMin = f(f(this.servRate[0]! * EPS) * 1000);
    this.rateMax = f(f(this.servRate[c.maxBatchSize - 1]! * f(1 - EPS)) * 1000);
    this.k = c.maxQueueSize + c.maxBatchSize;
    this.p = new Float64Array(this.k + 1);
  }

  prefill(batch: number): number {
    if (this.c.inTokens === 0) return 0;
    return f(this.c.gamma + f(f(this.c.delta * this.c.inTokens) * batch));
  }

  decode(batch: number): number {
    return f(this.c.alpha + f(this.c.beta * batch));
  }

  solve(lambda: number): Solved {
    const { p, k } = this;
    const num = this.servRate.length;
    const scale = Number.MAX_VALUE / k;
    p[0] = 1;
    for (let n = 0; n < k; n++) {
      const s = n < num ? this.servRate[n]! : this.servRate[num - 1]!;
      p[n + 1] = (p[n]! * lambda) / s;
      while (p[n + 1]! < 0 || !Number.isFinite(p[n + 1]!)) {
        for (let i = 0; i <= n; i++) p[i] = p[i]! / scale;
        p[n + 1] = (p[n]! * lambda) / s;
      }
    }
    let sum = 0;
    for (let n = 0; n <= k; n++) {
      sum += p[n]!;
      if (sum < 0 || !Number.isFinite(sum)) {
        sum = 0;
        for (let i = 0; i <= k; i++) {
          p[i] = p[i]! / scale;
          if (i <= n) sum += p[i]!;
        }
      }
    }
    for (let n = 0; n <= k; n++) p[n] = p[n]! / sum;
    let inServ = 0;
    let inSys = 0;
    let sumP = p[0]!;
    for (let i = 1; i <= k; i++) {
      inSys += i * p[i]!;
      sumP += p[i]!;
      if (i === num) inServ = inSys + (1 - sumP) * num;
    }
    const throughput = f(lambda * f(1 - f(p[k]!)));
    const resp = f(f(inSys) / throughput);
    const serv = f(f(inServ) / throughput);
    return { throughput, wait: Math.max(f(resp - serv), 0), serv, inServ: f(inServ) };
  }

  effConc(serv: number): number {
    const c = this.c;
    const tokens = f(c.outTokens - 1);
    const numerator = f(serv - f(c.gamma + f(c.alpha * tokens)));
    const denominator = f(f(c.delta * c.inTokens) + f(c.beta * tokens));
    return Math.min(Math.max(f(numerator / denominator), 0), c.maxBatchSize);
  }

  ttft(lambda: number): number {
    const s = this.solve(lambda);
    return f(s.wait + this.prefill(this.effConc(s.serv)));
  }

  itl(lambda: number): number {
    return this.decode(this.effConc(this.solve(lambda).serv));
  }

  analyze(rate: number): { throughput: number; ttft: number; itl: number; rho: number } {
    if (rate > this.rateMax) throw new Error(`rate=${rate}, max allowed rate=${this.rateMax}`);
    const s = this.solve(f(rate / 1000));
    const n = this.effConc(s.serv);
    const rho = Math.min(Math.max(f(s.inServ / this.c.maxBatchSize), 0), 1);
    return {
      throughput: f(s.throughput * 1000),
      ttft: f(s.wait + this.prefill(n)),
      itl: this.decode(n),
      rho,
    };
  }
}

function within(x: number, value: number): boolean {
  if (x === value) return true;
  if (value === 0) return false;
  return Math.abs(f(f(x - value) / value)) <= TOL;
}

function bisect(lo: number, hi: number, target: number, evalAt: (x: number) => number): [number, number] {
  const y0 = evalAt(lo);
  if (within(y0, target)) return [lo, 0];
  const y1 = evalAt(hi);
  if (within(y1, target)) return [hi, 0];
  const increasing = y0 < y1;
  if ((increasing && target < y0) || (!increasing && target > y0)) return [lo, -1];
  if ((increasing && target > y1) || (!increasing && target < y1)) return [hi, 1];
  let x = 0;
  for (let i = 0; i < 100; i++) {
    x = f(0.5 * f(lo + hi));
    const y = evalAt(x);
    if (within(y, target)) break;
    if ((increasing && target < y) || (!increasing && target > y)) hi = x;
    else lo = x;
  }
  return [x, 0];
}

/**
 * WVA found a target "below the bounded region". `flat`: the metric is the same at both ends of
 * the range, which WVA's bisection takes for a decreasing function and so refuses even a target
 * the metric meets everywhere.
 */
export class WvaRefused extends Error {
  constructor(
    readonly target: 'ttft' | 'itl',
    readonly flat: boolean,
  ) {
    super(`${target} target is below the bounded region${flat ? ' (metric flat over the range)' : ''}`);
  }
}

/** WVA's sizing of one case; throws when WVA's analyzer would refuse it (target out of reach). */
export function wvaSize(c: WvaCase): WvaResult {
  const q = new WvaQueue(c);
  const lambdaMin = f(q.rateMin / 1000);
  const lambdaMax = f(q.rateMax / 1000);
  let lTtft = lambdaMax;
  let lItl = lambdaMax;
  if (c.ttftMs > 0) {
    const [x, ind] = bisect(lambdaMin, lambdaMax, f(c.ttftMs), (l) => q.ttft(l));
    if (ind < 0) throw new WvaRefused('ttft', q.ttft(lambdaMin) === q.ttft(lambdaMax));
    lTtft = x;
  }
  if (c.itlMs > 0) {
    const [x, ind] = bisect(lambdaMin, lambdaMax, f(c.itlMs), (l) => q.itl(l));
    if (ind < 0) throw new WvaRefused('itl', q.itl(lambdaMin) === q.itl(lambdaMax));
    lItl = x;
  }
  const rateStar = q.analyze(f(Math.min(lTtft, lItl) * 1000)).throughput;
  const totalRate = f(c.arrivalPerMin / 60);
  if (totalRate === 0) {
    return { numReplicas: c.minReplicas, rateStar, ttftMs: Number.NaN, itlMs: Number.NaN, rho: 0 };
  }
  const numReplicas = Math.max(Math.ceil(totalRate / rateStar), c.minReplicas);
  const at = q.analyze(f(totalRate / numReplicas));
  return { numReplicas, rateStar, ttftMs: at.ttft, itlMs: at.itl, rho: at.rho };
}
