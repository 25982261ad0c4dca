// The one plain-text table formatter for everything printed to a terminal (collect, local mode,
// demo). Cells come from objects anyone may write (a model id in a VariantAutoscaling, a label
// value in Prometheus), so every cell is made safe here, not by each caller: control characters
// and display-reordering characters are escaped (no fake rows, no escape sequences reaching the
// terminal), and each column is capped in width (a 1 MB label value does not pad every row).
import { escapeControls } from '../safe-text.js';

/** Widest a column gets unless it says otherwise; longer cells end in `…`. */
export const MAX_CELL_WIDTH = 80;

export interface Column<R> {
  header: string;
  /** The cell's text; made safe and cut to width by the formatter. */
  value: (row: R) => string;
  /** Numbers read better right-aligned. Default left. */
  align?: 'left' | 'right';
  /** Pad to at least this width (a layout that stays put from one cycle to the next). */
  minWidth?: number;
  /** Default MAX_CELL_WIDTH. */
  maxWidth?: number;
}

/** `text` with controls escaped and cut to `max` characters (the last one `…`). */
export function safeCell(text: string, max = MAX_CELL_WIDTH): string {
  // Only the start of a huge value can be shown: escaping all of it would be wasted work.
  const head = text.length > max + 1 ? text.slice(0, max + 1) : text;
  const safe = escapeControls(head);
  return safe.length > max ? `${safe.slice(0, Math.max(0, max - 1))}…` : safe;
}

/**
 * Rows under a header line, columns two spaces apart, trailing spaces trimmed, ending in a newline.
 * Widths are found with a loop over the rows (no spread of a 150 000-row array into Math.max).
 */
export function renderTable<R>(columns: ReadonlyArray<Column<R>>, rows: readonly R[]): string {
  const cells: string[][] = [columns.map((c) => safeCell(c.header, c.maxWidth ?? MAX_CELL_WIDTH))];
  for (const row of rows)
    cells.push(columns.map((c) => safeCell(c.value(row), c.maxWidth ?? MAX_CELL_WIDTH)));
  const widths = columns.map((c) => c.minWidth ?? 0);
  for (const line of cells) {
    for (let i = 0; i < line.length; i++) {
      const n = (line[i] as string).length;
      if (n > (widths[i] as number)) widths[i] = n;
    }
  }
  let out = '';
  for (const line of cells) {
    const padded = line.map((cell, i) =>
      columns[i]?.align === 'right' ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number),
    );
    out += `${padded.join('  ').trimEnd()}\n`;
  }
  return out;
}
