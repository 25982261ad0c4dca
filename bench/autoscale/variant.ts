// One variation of the benchmark's settings, for the tuning log in docs/slo-engine.md:
// `node --import tsx bench/autoscale/variant.ts '<JSON overriding SETTINGS>' [policy,...]` prints each
// row and the mean over the traces (model-minutes, requests by own TTFT (by TTFT and ITL), cost as a share of static-peak's from
// the same run when static-peak is among the policies). Nothing is written.
import { jsonRows, runBenchmark, SETTINGS } from '../autoscale.js';
import type { RunSettings } from './run.js';

const over = JSON.parse(process.argv[2] ?? '{}') as Partial<RunSettings>;
const policies = (process.argv[3] ?? 'learned,static-peak').split(',');
const rows = jsonRows(runBenchmark({ ...SETTINGS, ...over }, undefined, policies)).rows;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
for (const r of rows)
  console.log(
    `${r.trace.padEnd(11)} ${r.policy.padEnd(14)} ${pct(r.minuteAttainment)} / ${pct(r.requestAttainment)} (${pct(r.requestAttainmentStrict)}) / ${r.gpuHours.toFixed(1)}`,
  );
for (const p of policies) {
  const mine = rows.filter((r) => r.policy === p);
  const mean = (f: (r: (typeof rows)[number]) => number) => mine.reduce((a, r) => a + f(r), 0) / mine.length;
  const fixed = rows.filter((r) => r.policy === 'static-peak').reduce((a, r) => a + r.gpuHours, 0);
  const share =
    fixed > 0 ? `, ${pct(mine.reduce((a, r) => a + r.gpuHours, 0) / fixed)} of static-peak's cost` : '';
  console.log(
    `mean ${p}: ${pct(mean((r) => r.minuteAttainment))} of minutes, ${pct(mean((r) => r.requestAttainment))} of requests (${pct(mean((r) => r.requestAttainmentStrict))} strict)${share}`,
  );
}
