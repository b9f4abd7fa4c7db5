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
  forStandardOutput.clear();
}

/** Whether this run prints its tables as CSV: an empty list is then its header, not a sentence. */
export function printingCsv(): boolean {
  return tablesAsCsv;
}

/** Under `--csv`: the tables (and any JSON) this run has formatted, which alone go to standard output. */
const forStandardOutput = new Set<string>();

/**
 * What a command writes, with `--csv` kept to what a spreadsheet or script reads: a table goes
 * to standard output, and every other line (a count, a caption, a hint) to standard error,
 * where a person still sees it, so `kernel loads --csv > loads.csv` is a CSV file. Without
 * `--csv` every line goes where the command sent it.
 */
export function csvAwareIo(io: CliIo): CliIo {
  return {
    out(text) {
      if (!tablesAsCsv) return io.out(text);
      // A table stands on lines of its own: a one-column header ("load") is no match for a
      // caption that happens to contain the word.
      const lines = `\n${text}\n`;
      const table = [...forStandardOutput].find((t) => lines.includes(`\n${t}\n`));
      if (table === undefined) return io.err(text);
      const at = lines.indexOf(`\n${table}\n`);
      const before = text.slice(0, at).trim();
      const after = text.slice(at + table.length).trim();
      if (before) io.err(before);
      io.out(table);
      if (after) io.err(after);
    },
    err: (text) => io.err(text),
    get isTTY() {
      return io.isTTY;
    },
    stdin: io.stdin,
  };
}

/** Prints rows as an aligned plain-text table, or as CSV when the run asked for `--csv`. */
export function formatTable(headers: string[], rows: (string | number | null | undefined)[][]): string {
  if (tablesAsCsv) {
    const csv = [headers, ...rows].map((row) => row.map(csvCell).join(',')).join('\n');
    forStandardOutput.add(csv);
    return csv;
  }
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
  const json = JSON.stringify(value, null, 2);
  if (tablesAsCsv) forStandardOutput.add(json);
  io.out(json);
}
