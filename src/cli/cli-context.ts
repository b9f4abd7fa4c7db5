import type { Command } from 'commander';
import { csvCell } from '../governance/csv.ts';
import type { ConfigFlags, ResolvedConfig } from '../config/config.ts';
import type { Store } from '../store/store.ts';

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

export interface CliContext {
  io: CliIo;
  /** global flags (--data, --store, --config…) merged with the command's own */
  config(): ResolvedConfig;
  /**
   * Opens the configured store (migrated to the latest version), runs `work`, and closes it.
   * Opening DuckDB while another process holds the file fails with a `busy` KernelError.
   */
  withStore<T>(work: (store: Store) => Promise<T>): Promise<T>;
  /** who is acting, for the audit log: the operating-system user running the CLI */
  actor: string;
}

/** Each command group (one file in src/cli/) exports one of these. */
export type RegisterCommands = (program: Command, context: CliContext) => void;

export type GlobalFlags = ConfigFlags & { debug?: boolean };

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
