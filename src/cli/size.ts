// `wva-metrics size`: capacity planning without a cluster. The replicas one accelerator profile
// needs for a load within an SLO, and the latencies predicted at that count, from flags or from a
// YAML file holding one sizing input or a list of them.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { showName } from '../collector/collect.js';
import { type Sizing, type SizingInput, SloInfeasibleError, sizeReplicas } from '../optimizer/index.js';
import { action, UsageError } from './errors.js';
import { type Column, renderTable } from './table.js';

interface SizeFlags {
  file?: string;
  profile?: string;
  rate?: string;
  in?: string;
  out?: string;
  sloTtft?: string;
  sloItl?: string;
  minReplicas?: string;
  maxReplicas?: string;
  output: string;
}

/** One sized input, as `--output json` prints it. */
export interface SizeRow {
  name: string;
  input: SizingInput;
  sizing?: Sizing;
  /** Why no count meets the SLO (an infeasible target). */
  error?: string;
}

const PROFILE_KEYS = ['alpha', 'beta', 'gamma', 'delta', 'maxBatchSize', 'maxQueueSize'] as const;

function number(flag: string, text: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${flag} must be a number, got "${text}"`);
  return n;
}

/** `--profile alpha=20.58,beta=0.41,gamma=5.2,delta=0.1,maxBatchSize=4`. */
export function parseProfileFlag(text: string): SizingInput['profile'] {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [key, value, extra] = part.split('=').map((s) => s.trim());
    if (key === undefined || value === undefined || extra !== undefined || key === '') {
      throw new UsageError(`--profile takes key=value pairs separated by commas, got "${part}"`);
    }
    if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`--profile: unknown key "${key}"; keys: ${PROFILE_KEYS.join(', ')}`);
    }
    out[key] = number(`--profile ${key}`, value);
  }
  for (const key of ['alpha', 'beta', 'gamma', 'delta', 'maxBatchSize']) {
    if (out[key] === undefined)
      throw new UsageError(`--profile lacks ${key} (needs alpha, beta, gamma, delta, maxBatchSize)`);
  }
  return out as unknown as SizingInput['profile'];
}

function fromFlags(f: SizeFlags): SizeRow[] {
  if (f.profile === undefined) throw new UsageError('size needs --profile (or --file)');
  if (f.rate === undefined) throw new UsageError('size needs --rate <requests/min> (or --file)');
  const input: SizingInput = {
    profile: parseProfileFlag(f.profile),
    load: {
      arrivalRate: number('--rate', f.rate),
      avgInputTokens: f.in === undefined ? 0 : number('--in', f.in),
      avgOutputTokens: f.out === undefined ? 1 : number('--out', f.out),
    },
    slo: {
      ...(f.sloTtft === undefined ? {} : { ttftMs: number('--slo-ttft', f.sloTtft) }),
      ...(f.sloItl === undefined ? {} : { itlMs: number('--slo-itl', f.sloItl) }),
    },
    ...(f.minReplicas === undefined ? {} : { minReplicas: number('--min-replicas', f.minReplicas) }),
    ...(f.maxReplicas === undefined ? {} : { maxReplicas: number('--max-replicas', f.maxReplicas) }),
  };
  return [{ name: 'flags', input }];
}

function fromFile(path: string): SizeRow[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--file ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc) ? doc : [doc];
  if (list.length === 0) throw new UsageError(`--file ${path}: no sizing input in it`);
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object') {
      throw new UsageError(`--file ${path}: entry ${i + 1} must be a mapping with profile, load and slo`);
    }
    const o = item as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : `#${i + 1}`;
    return { name, input: { slo: {}, ...o } as unknown as SizingInput };
  });
}

/** Sizes every row; a bad input is a UsageError naming the row, an unreachable SLO stays in the row. */
export function sizeRows(rows: SizeRow[]): SizeRow[] {
  return rows.map((row) => {
    try {
      return { ...row, sizing: sizeReplicas(row.input) };
    } catch (err) {
      if (err instanceof SloInfeasibleError) return { ...row, error: err.message };
      if (err instanceof RangeError) {
        throw new UsageError(rows.length > 1 ? `${row.name}: ${err.message}` : err.message);
      }
      throw err;
    }
  });
}

function fmt(n: number, digits = 2): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** Whether the SLO is met, or why not: the SLO column. */
function sloText(r: SizeRow): string {
  const s = r.sizing;
  if (!s) return `unreachable: ${r.error ?? ''}`;
  return s.sloMet
    ? 'met'
    : `not met: needs ${s.replicasForSlo} replicas, maxReplicas caps at ${s.numReplicas}`;
}

/** A sizing number, or '-' for a row whose SLO is unreachable. */
function sized(f: (s: Sizing) => string): (r: SizeRow) => string {
  return (r) => (r.sizing ? f(r.sizing) : '-');
}

/** The columns of the size table, in order (through the shared, terminal-safe formatter). */
const SIZE_COLUMNS: Array<Column<SizeRow>> = [
  { header: 'NAME', value: (r) => showName(r.name) },
  { header: 'REPLICAS', value: sized((s) => String(s.numReplicas)) },
  { header: 'RATE/REPLICA (REQ/S)', value: sized((s) => fmt(s.ratePerReplica, 3)) },
  { header: 'TTFT MS', value: sized((s) => fmt(s.predicted.ttftMs)) },
  { header: 'ITL MS', value: sized((s) => fmt(s.predicted.itlMs)) },
  { header: 'UTILIZATION', value: sized((s) => `${(s.predicted.utilization * 100).toFixed(1)}%`) },
  // The reason an SLO is unreachable is a sentence: wider than a name.
  { header: 'SLO', value: sloText, maxWidth: 200 },
];

export function formatSizeTable(rows: SizeRow[]): string {
  return renderTable(SIZE_COLUMNS, rows);
}

export function registerSize(program: Command): void {
  program
    .command('size')
    .description(
      'replicas one accelerator profile needs for a load within an SLO, and the predicted TTFT/ITL (no cluster needed)',
    )
    .option(
      '--file <yaml>',
      'YAML: { name?, profile, load, slo, minReplicas?, maxReplicas? } or a list of them',
    )
    .option(
      '--profile <k=v,...>',
      'alpha,beta (decode ms), gamma,delta (prefill ms), maxBatchSize[, maxQueueSize]',
    )
    .option('--rate <req/min>', 'arrival rate, requests per minute')
    .option('--in <tokens>', 'average input tokens per request (default 0)')
    .option('--out <tokens>', 'average output tokens per request (default 1)')
    .option('--slo-ttft <ms>', 'average time-to-first-token target (0 or absent: none)')
    .option('--slo-itl <ms>', 'average inter-token latency target (0 or absent: none)')
    .option('--min-replicas <n>', 'fewest replicas (default 1)')
    .option('--max-replicas <n>', 'most replicas')
    .option('--output <format>', 'table or json', 'table')
    .action(
      action((f: SizeFlags) => {
        if (!['table', 'json'].includes(f.output)) {
          throw new UsageError(`--output must be table or json, got "${f.output}"`);
        }
        if (f.file !== undefined && (f.profile !== undefined || f.rate !== undefined)) {
          throw new UsageError('give either --file or --profile/--rate, not both');
        }
        const rows = sizeRows(f.file === undefined ? fromFlags(f) : fromFile(f.file));
        process.stdout.write(
          f.output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : formatSizeTable(rows),
        );
        // An unreachable SLO is an answer, but not a plan: exit 1 so scripts notice.
        if (rows.some((r) => r.error !== undefined)) process.exitCode = 1;
      }),
    );
}
