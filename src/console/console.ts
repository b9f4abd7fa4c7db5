/**
 * Writing to a person at a terminal, shared by the CLI, the demo and the server that runs CLI
 * commands on the CLI's behalf: where output goes (`CliIo`), and tables and JSON written the
 * same way everywhere. Depends on nothing of the warehouse's.
 */
import { csvCell } from '../files/spreadsheet-csv.ts';

/**
 * Where a command writes. Commands never touch `console` or `process.stdout` directly, so
 * the same command can run in a test, or inside a running server on the CLI's behalf.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** true when a person is watching (progress bars, colour) */
  isTTY: boolean;
  stdin: NodeJS.ReadableStream;
}

let tablesAsCsv = false;

/**
 * Whether this run prints its tables as CSV (`--csv`, for a spreadsheet or a script). Set by
 * `main` for the one command it runs; commands run one at a time, in the server too.
 */
export function printTablesAsCsv(on: boolean): void {
  tablesAsCsv = on;
}

/** Prints rows as an aligned plain-text table, or as CSV when the run asked for `--csv`. */
export function formatTable(headers: string[], rows: (string | number | null | undefined)[][]): string {
  if (tablesAsCsv) return [headers, ...rows].map((row) => row.map(csvCell).join(',')).join('\n');
  const cells = [
    headers,
    ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (cell ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
