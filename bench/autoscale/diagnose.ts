// Where one policy loses on one trace: `node --import tsx bench/autoscale/diagnose.ts <trace> <policy>`
// prints, per model, the requests that missed by cause (TTFT, ITL, both, never finished), by prompt
// length and by minute of arrival next to the replicas and the rate the policy saw, and the spread
// of per-request ITL and TTFT against the minute averages the engines size for.
import { DURATION_MS, SETTINGS } from '../autoscale.js';
import { SloPolicy } from './policies.js';
import { type RunProbe, runOne } from './run.js';
import { benchModels, benchTraces } from './traces.js';

const [traceName = 'step', policy = 'learned'] = process.argv.slice(2);
const trace = benchTraces(DURATION_MS, SETTINGS.seed).find((t) => t.name === traceName);
if (!trace)
  throw new Error(`unknown trace ${traceName}: use one of step, diurnal, spike, bursty, azure-conv`);
const models = benchModels();
const MIN = 60_000;
const minutes = DURATION_MS / MIN;

interface Tally {
  n: number;
  ttft: number;
  itl: number;
  both: number;
}
const tally = (): Tally => ({ n: 0, ttft: 0, itl: 0, both: 0 });
const perModel = models.map(() => ({
  all: tally(),
  byMinute: Array.from({ length: minutes }, tally),
  byInput: new Map<string, Tally>(),
  itls: [] as number[],
  ttfts: [] as number[],
  replicas: Array.from({ length: minutes }, () => ''),
  rate: Array.from({ length: minutes }, () => 0),
  lost: 0,
}));
const bucket = (n: number) => (n < 1000 ? '<1k' : n < 2000 ? '1-2k' : n < 4000 ? '2-4k' : '>=4k');

const probe: RunProbe = {
  request(i, f, ttftOk, itlOk) {
    if (f.arrivalMs >= DURATION_MS - MIN) return;
    const m = perModel[i]!;
    const add = (t: Tally) => {
      t.n++;
      if (!ttftOk && !itlOk) t.both++;
      else if (!ttftOk) t.ttft++;
      else if (!itlOk) t.itl++;
    };
    add(m.all);
    add(m.byMinute[Math.floor(f.arrivalMs / MIN)]!);
    const b = bucket(f.input);
    if (!m.byInput.has(b)) m.byInput.set(b, tally());
    add(m.byInput.get(b)!);
    if (f.gaps > 0) m.itls.push(f.decodeMs / f.gaps);
    m.ttfts.push(f.clientTtftMs);
  },
  cycle(tMs, fleet, views, policy) {
    if (process.env.REASONS && policy instanceof SloPolicy) {
      const [from, to] = process.env.REASONS.split('-').map(Number);
      if (tMs >= from! * MIN && tMs <= to! * MIN)
        for (const [v, r] of policy.reasons) console.log(`${(tMs / MIN).toFixed(1)} ${v}: ${r}`);
    }
    if (tMs % MIN !== 0) return;
    const k = tMs / MIN - 1;
    fleet.models.forEach((m, i) => {
      perModel[i]!.replicas[k] = m.variants.map((v) => `${v.ready(tMs).length}/${v.pods.length}`).join(' ');
      perModel[i]!.rate[k] = views[i]!.arrivalRate;
    });
  },
  end(lost) {
    lost.forEach((n, i) => {
      perModel[i]!.lost = n;
    });
  },
};

const out = runOne(trace, policy, models, SETTINGS, probe);
const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)} %`;
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
console.log(JSON.stringify(out.row));
models.forEach((spec, i) => {
  const m = perModel[i]!;
  const a = m.all;
  console.log(
    `\n${spec.id} (SLO TTFT ${spec.slo.ttftMs} ms, ITL ${spec.slo.itlMs} ms; variants ${spec.variants.map((v) => v.name).join(', ')})`,
  );
  console.log(
    `  ${a.n} finished: missed TTFT only ${pct(a.ttft, a.n)}, ITL only ${pct(a.itl, a.n)}, both ${pct(a.both, a.n)}; never finished ${m.lost}`,
  );
  console.log(
    `  per-request ITL p50 ${q(m.itls, 0.5).toFixed(1)} p90 ${q(m.itls, 0.9).toFixed(1)} p99 ${q(m.itls, 0.99).toFixed(1)} ms; ` +
      `TTFT p50 ${q(m.ttfts, 0.5).toFixed(0)} p90 ${q(m.ttfts, 0.9).toFixed(0)} p99 ${q(m.ttfts, 0.99).toFixed(0)} ms`,
  );
  for (const [b, t] of [...m.byInput].sort())
    console.log(
      `  input ${b.padEnd(5)}: ${String(t.n).padStart(6)} requests, missed TTFT ${pct(t.ttft + t.both, t.n)}, ITL ${pct(t.itl + t.both, t.n)}`,
    );
  console.log('  minute  trace-rate  seen-rate  ready/asked per variant   missed (ttft/itl/both of n)');
  m.byMinute.forEach((t, k) => {
    console.log(
      `  ${String(k).padStart(6)}  ${trace
        .rate(i, (k + 0.5) * MIN)
        .toFixed(0)
        .padStart(
          10,
        )}  ${m.rate[k]!.toFixed(0).padStart(9)}  ${m.replicas[k]!.padEnd(24)}  ${t.ttft}/${t.itl}/${t.both} of ${t.n}`,
    );
  });
});
