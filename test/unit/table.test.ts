// Every table the CLI prints (collect, local mode, demo) goes through one formatter: hostile names
// cannot add a row or reach the terminal as escape sequences, one huge value cannot widen every
// row, and 150 000 rows print (no spread of all rows into Math.max).
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/cli/collect.js';
import { cycleReportJson, formatCycleTable } from '../../src/cli/cycle-report.js';
import { formatCycle } from '../../src/cli/demo-format.js';
import { formatSizeTable, type SizeRow } from '../../src/cli/size.js';
import { MAX_CELL_WIDTH, renderTable, safeCell } from '../../src/cli/table.js';
import type { CycleRow } from '../../src/controller/local.js';
import type { DemoCycle } from '../../src/demo/demo.js';
import type { AggregateMetrics } from '../../src/types.js';

const metrics: AggregateMetrics = {
  load: { arrivalRate: 60, avgInputTokens: 100, avgOutputTokens: 20 },
  ttftAverage: 50,
  itlAverage: 10,
};

const HOSTILE = 'evil\nprod  fake/row  1  2  3\u001b]0;title\u0007\u001b[2J\u009b31m\u202eoops';

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

function cycleRow(over: Partial<CycleRow> = {}): CycleRow {
  return {
    name: 'va',
    namespace: 'prod',
    modelId: 'm',
    replicas: 1,
    status: undefined,
    condition: { type: 'MetricsAvailable', status: 'True', reason: 'MetricsFound', message: '' },
    conditions: [],
    metrics,
    outcome: 'written',
    ...over,
  };
}

function demoCycle(modelId: string, rows = 1): DemoCycle {
  return {
    index: 1,
    startedAt: new Date(0),
    durationMs: 1,
    warmingUp: false,
    rows: Array.from({ length: rows }, () => ({
      modelId,
      namespace: 'prod',
      variants: 1,
      replicas: 1,
      metrics,
      emulated: metrics,
      reason: 'MetricsFound',
      hits: 1,
      misses: 0,
      coalesced: 0,
      failureHits: 0,
    })),
    promCalls: 1,
    promCallsTotal: 1,
    originalCalls: 5,
    originalCallsTotal: 5,
  } as DemoCycle;
}

/** The four tables, each with one row whose model id (a name for `size`) is `modelId` (n rows in all). */
function allTables(modelId: string, n = 1): { collect: string; local: string; demo: string; size: string } {
  const collectRows = Array.from({ length: n }, (_, i) => ({
    modelId: i === 0 ? modelId : `m${i}`,
    namespace: 'prod',
    ...metrics,
  }));
  const rows = Array.from({ length: n }, (_, i) => cycleRow({ modelId: i === 0 ? modelId : `m${i}` }));
  return {
    collect: formatTable(collectRows),
    local: formatCycleTable({ startedAt: new Date(0), durationMs: 1, rows }),
    demo: formatCycle(demoCycle(modelId, n)),
    size: formatSizeTable(
      Array.from(
        { length: n },
        (_, i): SizeRow => ({
          name: i === 0 ? modelId : `m${i}`,
          input: {} as SizeRow['input'],
          error: 'no count meets the SLO',
        }),
      ),
    ),
  };
}

describe('tables', () => {
  it('a newline or escape sequence in a model id neither adds a row nor reaches the terminal', () => {
    for (const [name, text] of Object.entries(allTables(HOSTILE))) {
      expect(text, name).not.toMatch(CONTROLS);
      expect(text, name).not.toContain('\nprod  fake/row');
      expect(text, name).toContain('\\u001b]0;title\\u0007');
    }
    // One header, one row (the local table adds its cycle line and footnote, the demo its two heading lines).
    expect(allTables(HOSTILE).collect.trimEnd().split('\n')).toHaveLength(2);
    expect(allTables(HOSTILE).local.trimEnd().split('\n')).toHaveLength(4);
    expect(allTables(HOSTILE).demo.trimEnd().split('\n')).toHaveLength(4);
  });

  it('a 10 MB value is cut to the column cap and does not pad the other rows', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    for (const [name, text] of Object.entries(allTables(huge, 3))) {
      expect(text.length, name).toBeLessThan(2000);
      for (const line of text.split('\n')) expect(line.length, name).toBeLessThan(400);
    }
    expect(safeCell(huge)).toHaveLength(MAX_CELL_WIDTH);
    expect(safeCell(huge).endsWith('…')).toBe(true);
  });

  it('a 1 MB model id over a cycle of 100 rows stays a few kilobytes of output', () => {
    const text = formatCycleTable({
      startedAt: new Date(0),
      durationMs: 1,
      rows: Array.from({ length: 100 }, () => cycleRow({ modelId: 'm'.repeat(1024 * 1024) })),
    });
    expect(text.length).toBeLessThan(100 * 300);
  });

  it('150 000 rows print, in every table', () => {
    for (const [name, text] of Object.entries(allTables('m', 150_000))) {
      expect(text.split('\n').length, name).toBeGreaterThan(150_000);
    }
  });

  it('columns are padded to the widest cell, numbers may align right, trailing spaces trimmed', () => {
    const text = renderTable(
      [
        { header: 'NAME', value: (r: { n: string; v: number }) => r.n },
        { header: 'V', value: (r) => String(r.v), align: 'right' },
        { header: 'LAST', value: () => '' },
      ],
      [
        { n: 'a', v: 1 },
        { n: 'long-name', v: 100 },
      ],
    );
    expect(text).toBe('NAME         V  LAST\na            1\nlong-name  100\n');
  });
});

describe('cycle report as JSON', () => {
  it('carries the learned SLO engine’s prediction where it sized the variant, and none elsewhere', () => {
    const report = {
      startedAt: new Date(0),
      durationMs: 1,
      rows: [
        cycleRow({ name: 'slo', engine: 'slo-queueing', predicted: { ttftMs: 182.9, itlMs: 16.04 } }),
        cycleRow({ name: 'sat', engine: 'saturation-v1' }),
      ],
    };
    const { items } = cycleReportJson(report) as { items: Array<Record<string, unknown>> };
    expect(items[0]?.predicted).toEqual({ ttftMs: 182.9, itlMs: 16.04 });
    expect(items[1]).not.toHaveProperty('predicted');
  });
});
