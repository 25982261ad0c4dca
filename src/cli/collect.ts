// `wva-metrics collect`: one Prometheus call, printed. Without --model, every model/namespace pair
// Prometheus has vLLM metrics for (the fleet query the controller runs each cycle); with --model and
// --namespace, that one model. Prometheus connection settings come from the shared configuration
// (flags, env such as PROMETHEUS_BASE_URL / PROMETHEUS_BEARER_TOKEN, --config file).
import type { Command } from 'commander';
import { availabilityOf, DEFAULT_STALE_AFTER_MS, freshnessRangeSeconds } from '../collector/availability.js';
import {
  collectAggregateMetrics,
  collectFleetMetrics,
  copyMetrics,
  type FleetMetrics,
  showName,
} from '../collector/collect.js';
import { namespaceProblem } from '../kube/types.js';
import { PrometheusClient } from '../prometheus/client.js';
import { checkWindow } from '../prometheus/promql.js';
import { quoteName } from '../safe-text.js';
import type { AggregateMetrics } from '../types.js';
import { addConfigOptions, configSourcesFromOptions, loadCliConfig } from './config-flags.js';
import { action, UsageError } from './errors.js';
import { type Column, renderTable } from './table.js';
import { parseTime } from './time.js';

interface CollectFlags extends Record<string, unknown> {
  model?: string;
  namespace?: string;
  time?: string;
  output: string;
  timeout?: string;
}

/** One row of the output: the metrics, an unknown number absent. */
export interface CollectRow extends AggregateMetrics {
  modelId: string;
  namespace: string;
}

/** A number, or null when unknown: how `--output json` shows a statistic it could not read. */
type Known = number | null;

/** One row of `--output json`: every field always present, unknown ones `null`. */
export interface CollectJsonRow {
  modelId: string;
  namespace: string;
  load: { arrivalRate: Known; completionRate: Known; avgInputTokens: Known; avgOutputTokens: Known };
  ttftAverage: Known;
  itlAverage: Known;
  saturation: { running: Known; waiting: Known; kvCacheUsage: Known };
}

export function jsonRow(r: CollectRow): CollectJsonRow {
  const k = (v: number | undefined): Known => v ?? null;
  const sat = r.saturation ?? {};
  return {
    modelId: r.modelId,
    namespace: r.namespace,
    load: {
      arrivalRate: k(r.load.arrivalRate),
      completionRate: k(r.load.completionRate),
      avgInputTokens: k(r.load.avgInputTokens),
      avgOutputTokens: k(r.load.avgOutputTokens),
    },
    ttftAverage: k(r.ttftAverage),
    itlAverage: k(r.itlAverage),
    saturation: { running: k(sat.running), waiting: k(sat.waiting), kvCacheUsage: k(sat.kvCacheUsage) },
  };
}

/** `-` for an unknown number. */
function fmt(n: number | undefined): string {
  if (n === undefined) return '-';
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

type TableRow = CollectRow & { status?: string };

/** The columns of the collect table, in order; METRICS only for fleet rows (they carry a status). */
const COLUMNS: Array<Column<TableRow>> = [
  { header: 'NAMESPACE', value: (r) => quoteName(r.namespace) },
  { header: 'MODEL', value: (r) => quoteName(r.modelId) },
  { header: 'REQ/MIN', value: (r) => fmt(r.load.arrivalRate) },
  { header: 'DONE/MIN', value: (r) => fmt(r.load.completionRate) },
  { header: 'AVG IN TOK', value: (r) => fmt(r.load.avgInputTokens) },
  { header: 'AVG OUT TOK', value: (r) => fmt(r.load.avgOutputTokens) },
  { header: 'TTFT MS', value: (r) => fmt(r.ttftAverage) },
  { header: 'ITL MS', value: (r) => fmt(r.itlAverage) },
  { header: 'RUNNING', value: (r) => fmt(r.saturation?.running) },
  { header: 'WAITING', value: (r) => fmt(r.saturation?.waiting) },
  {
    header: 'KV CACHE',
    value: (r) => {
      const kv = r.saturation?.kvCacheUsage;
      return kv === undefined ? '-' : `${(kv * 100).toFixed(1)}%`;
    },
  },
];
const STATUS_COLUMN: Column<TableRow> = { header: 'METRICS', value: (r) => r.status ?? '' };

/** A plain-text table (see renderTable: names quoted when unusual, controls escaped, width capped). */
export function formatTable(rows: TableRow[]): string {
  const withStatus = rows.some((r) => r.status !== undefined);
  return renderTable(withStatus ? [...COLUMNS, STATUS_COLUMN] : COLUMNS, rows);
}

// Only the metrics: fleet results carry more (sample times) that the output leaves out.
function row(modelId: string, namespace: string, m: AggregateMetrics): CollectRow {
  return { modelId, namespace, ...copyMetrics(m) };
}

export function registerCollect(program: Command): void {
  const cmd = program
    .command('collect')
    .description(
      'Query Prometheus once and print load and latency per model: the whole fleet, or one model with --model and --namespace.',
    )
    .option('--model <id>', 'one model (vLLM model_name); needs --namespace')
    .option('--namespace <ns>', 'namespace of --model; alone, shows only this namespace of the fleet')
    .option('--time <unix|rfc3339>', 'evaluation time (default: now)')
    .option('--output <format>', 'table or json', 'table')
    .option('--timeout <duration>', 'same as --prometheus-timeout (default: 10s)');
  addConfigOptions(cmd);
  cmd.action(
    action(async (opts: CollectFlags) => {
      if (!['table', 'json'].includes(opts.output)) {
        throw new UsageError(`--output must be table or json, got "${opts.output}"`);
      }
      if (opts.model !== undefined && opts.namespace === undefined) {
        throw new UsageError('--model needs --namespace (a model is looked up in one namespace)');
      }
      const nsProblem =
        opts.namespace === undefined ? undefined : namespaceProblem(opts.namespace, '--namespace');
      if (nsProblem) throw new UsageError(nsProblem);
      if (opts.timeout !== undefined) {
        if (opts.prometheusTimeout !== undefined)
          throw new UsageError('give --timeout or --prometheus-timeout, not both');
        opts.prometheusTimeout = opts.timeout;
      }
      const time = opts.time === undefined ? undefined : parseTime(opts.time);

      const { config, logger } = loadCliConfig(configSourcesFromOptions(opts), { longRunning: false });
      const window = checkWindow(config.collector.window);
      const p = config.prometheus;
      const prom = new PrometheusClient({ ...p, logger });
      try {
        let rows: TableRow[];
        if (opts.model !== undefined && opts.namespace !== undefined) {
          const m = await collectAggregateMetrics(opts.model, opts.namespace, prom, { window, time });
          rows = [row(opts.model, opts.namespace, m)];
        } else {
          const staleAfterMs = config.collector.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
          const fleet = await collectFleetMetrics(prom, {
            window,
            time,
            ...(opts.namespace !== undefined ? { namespaces: [opts.namespace] } : {}),
            freshnessRangeSeconds: freshnessRangeSeconds(staleAfterMs),
          });
          const pairs = [...fleet.values()]
            .filter((f) => opts.namespace === undefined || f.namespace === opts.namespace)
            .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.modelId.localeCompare(b.modelId));
          rows = pairs.map((f: FleetMetrics) => ({
            ...row(f.modelId, f.namespace, f),
            status: statusOf(f, staleAfterMs, window),
          }));
          if (rows.length === 0) {
            process.stderr.write(
              `wva-metrics: Prometheus has no vLLM metrics${opts.namespace ? ` in namespace ${showName(opts.namespace)}` : ''} (no vllm:* series with model_name and namespace labels)\n`,
            );
          }
        }
        if (opts.output === 'json') {
          process.stdout.write(
            `${JSON.stringify(
              rows.map(({ status: _status, ...r }) => jsonRow(r)),
              null,
              2,
            )}\n`,
          );
        } else if (rows.length > 0) {
          process.stdout.write(formatTable(rows));
        }
      } finally {
        prom.close();
      }
    }),
  );
}

const STATUS_WORDS: Record<string, string> = {
  MetricsFound: 'found',
  MetricsStale: 'stale',
  MetricsIncomplete: 'incomplete',
};

function statusOf(f: FleetMetrics, staleAfterMs: number, window: string): string {
  const a = availabilityOf(f.modelId, f.namespace, f, f.newestSample, f.evaluatedAt, staleAfterMs, window);
  return STATUS_WORDS[a.reason] ?? 'no samples';
}
