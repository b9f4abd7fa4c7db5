import type { Command } from 'commander';
import type { z } from 'zod';
import type { FieldNamer, Operation } from '../operations/operation.ts';
import type { Principal } from '../operations/principal.ts';
import type { ConfigFlags, ResolvedConfig } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { CliIo } from '../console/console.ts';

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatTable, printJson } from '../console/console.ts';
import { KernelError } from '../errors.ts';

export {
  csvAwareIo,
  formatTable,
  printingCsv,
  printJson,
  printTablesAsCsv,
  type CliIo,
} from '../console/console.ts';

/**
 * Writes a file a command makes (a PDF, a chart, letters), making its folder first. A folder
 * given for the file, or a place that cannot be made or written, is refused as `loads
 * quarantine --out` refuses one (a `config` error, exit 78), never an internal error.
 */
export function writeOut(file: string, content: string | Buffer): void {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, content);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw error;
    throw code === 'EISDIR'
      ? new KernelError('config', `Cannot write ${file}: it is a folder`, {
          hint: 'Give the name of a file to write, not a folder',
        })
      : new KernelError('config', `Cannot write ${file}: ${code}`, {
          hint: 'Check its folder exists (or can be made) and may be written to',
        });
  }
}

/** A list as every command prints one: the items as JSON with --json, else a table of them. */
export function printTable<T>(
  io: CliIo,
  json: boolean | undefined,
  headers: string[],
  items: readonly T[],
  row: (item: T) => (string | number | null | undefined)[],
): void {
  if (json) printJson(io, items);
  else io.out(formatTable(headers, items.map(row)));
}

export interface CliContext {
  io: CliIo;
  /** global flags (--data, --store, --config…) merged with the command's own */
  config(): ResolvedConfig;
  /**
   * Opens the configured store (migrated to the latest version), runs `work` as the operator,
   * and closes it. Opening DuckDB while another process holds the file fails with a `busy`
   * KernelError. With an API token given (KERNEL_TOKEN) it refuses (`forbidden`): the command
   * would otherwise act as the operator while its caller meant to act as the token's user.
   */
  withStore<T>(work: (store: Store) => Promise<T>): Promise<T>;
  /**
   * The operator, for the audit log: `cli:` and the operating-system user running the CLI.
   * Reading it with an API token given refuses the command, as `withStore` does.
   */
  readonly actor: string;
  /** Like `run`, for work that is not an operation (a file to write): the store and the principal. */
  withPrincipal<T>(work: (store: Store, principal: Principal, actor: string) => Promise<T>): Promise<T>;
  /**
   * Runs an operation on the store as the CLI's principal: the user whose API token is in
   * KERNEL_TOKEN, or else the operator (an administrator: they hold the warehouse's files).
   */
  run<O>(
    operation: Operation<z.ZodObject, z.ZodType<O>>,
    input: Record<string, unknown>,
    nameOf?: FieldNamer,
  ): Promise<O>;
}

/** Each command group (one file in src/cli/) exports one of these. */
export type RegisterCommands = (program: Command, context: CliContext) => void;

export type GlobalFlags = ConfigFlags & { debug?: boolean };
