// Plain-text rendering of the demo: one table per cycle and the closing summary.

import type { DemoCycle, DemoInfo, DemoSummary } from '../demo/demo.js';
import { ORIGINAL_CALLS_PER_MODEL } from '../demo/demo.js';
import { quoteName } from '../safe-text.js';
import { formatLoopCycle, formatLoopSummary } from './demo-loop-format.js';
import { type Column, renderTable } from './table.js';

function fixed(n: number | undefined, digits = 1): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

export function formatReady(info: DemoInfo): string {
  return [
    `emulator:   ${info.pods} vLLM pods, ${info.models} models, ${info.variants} variants  (${info.emulatorUrl}/)`,
    `prometheus: ${info.prometheusUrl}  (query it while the demo runs; those queries count too)`,
    `wva_ metrics: ${info.metricsUrl}`,
    `controller: local mode, every ${info.intervalMs / 1000}s, window ${info.window}, cache TTL ${info.cacheTtlMs / 1000}s`,
    '',
    'Columns: what the controller read through the cache; (EMULATED) what the emulator emitted over the same',
    'window; HITS / MISSES / JOINED: cache lookups this cycle (JOINED waited for the one fleet query a miss',
    "started, instead of querying). Prometheus calls come from Prometheus' own request counter.",
    "Per variant, PRED TTFT / PRED ITL: the SLO engine's predicted latency at the count it sized (before V1's",
    "floor and the stabilisation window); '-' where saturation decided (it predicts no latency) or the SLO",
    'engine sized nothing (no arrivals, or no count of the variant meets the SLO).',
    '',
  ].join('\n');
}

type Row = DemoCycle['rows'][number];
const num = (header: string, minWidth: number, value: (r: Row) => string): Column<Row> => ({
  header,
  value,
  minWidth,
  align: 'right',
});

const COLUMNS: Array<Column<Row>> = [
  { header: 'MODEL', value: (r) => quoteName(r.modelId), minWidth: 36 },
  { header: 'NAMESPACE', value: (r) => quoteName(r.namespace), minWidth: 12 },
  num('VAs', 3, (r) => String(r.variants)),
  num('REQ/MIN', 8, (r) => fixed(r.metrics?.load.arrivalRate)),
  num('(EMULATED)', 10, (r) => `(${fixed(r.emulated?.load.arrivalRate)})`),
  num('IN TOK', 7, (r) => fixed(r.metrics?.load.avgInputTokens)),
  num('OUT TOK', 7, (r) => fixed(r.metrics?.load.avgOutputTokens)),
  num('TTFT ms', 8, (r) => fixed(r.metrics?.ttftAverage, 2)),
  num('ITL ms', 7, (r) => fixed(r.metrics?.itlAverage, 2)),
  num('HITS', 4, (r) => String(r.hits + r.failureHits)),
  num('MISSES', 6, (r) => String(r.misses)),
  num('JOINED', 6, (r) => String(r.coalesced)),
  { header: 'STATUS', value: (r) => r.reason },
];

export function formatCycle(c: DemoCycle): string {
  const time = c.startedAt.toTimeString().slice(0, 8);
  const head = [
    `cycle ${c.index}  ${time}  took ${c.durationMs.toFixed(0)} ms` +
      (c.warmingUp ? '  (warming up: series younger than the window, rates read low)' : ''),
    `  Prometheus calls, measured: ${c.promCalls} this cycle, ${c.promCallsTotal} total` +
      `   |   original design, computed (${ORIGINAL_CALLS_PER_MODEL} per model per cycle): ${c.originalCalls} this cycle, ${c.originalCallsTotal} total`,
  ].join('\n');
  const table = `${head}\n${renderTable(COLUMNS, c.rows)}`;
  return c.loop ? `${table}${formatLoopCycle(c.loop)}` : table;
}

export function formatSummary(s: DemoSummary): string {
  const lookups = s.lookups.hit + s.lookups.miss + s.lookups.coalesced + s.lookups.failure_hit;
  const answeredWithoutQuery = s.lookups.hit + s.lookups.failure_hit + s.lookups.coalesced;
  const saved = s.originalCallsTotal > 0 ? 1 - s.promCallsTotal / s.originalCallsTotal : 0;
  const out = [
    `summary: ${s.cycles} cycles in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `  Prometheus calls (Prometheus' own prometheus_http_requests_total{handler="/api/v1/query"}): ${s.promCallsTotal} total, at most ${s.maxPromCallsPerCycle} per cycle`,
    `  original design (computed: ${ORIGINAL_CALLS_PER_MODEL} queries per model and namespace per cycle): ${s.originalCallsTotal} calls -> ${pct(saved)} fewer`,
    `  cache lookups: ${lookups} (${s.lookups.hit} hits, ${s.lookups.miss} misses, ${s.lookups.coalesced} joined a running query, ${s.lookups.failure_hit} cached failures); ${lookups > 0 ? pct(answeredWithoutQuery / lookups) : '-'} answered without a query of their own`,
  ];
  if (s.lastCycleError) {
    const e = s.lastCycleError;
    out.push(
      `  read vs emulated, last settled cycle (worst model): arrival ${pct(e.arrivalRate)}, input tokens ${pct(e.avgInputTokens)}, output tokens ${pct(e.avgOutputTokens)}, TTFT ${pct(e.ttft)}, ITL ${pct(e.itl)}`,
    );
  }
  return `${out.join('\n')}\n${s.loop ? formatLoopSummary(s.loop) : ''}`;
}
