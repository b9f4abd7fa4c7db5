/**
 * How an operation that answers a list appears in the CLI. Its output is an object holding
 * the list (`{ organisations: [...] }`); the command prints the list as a table, one row an
 * item, and `--json` prints the list itself, as the CLI always has.
 */
import { formatTable } from '../console/console.ts';
import type { CliShape } from './operation.ts';

type Cell = string | number | null | undefined;

/**
 * The `print` and `json` of a list operation's command, spread beside its `command`:
 * `...listedAsTable('organisations', ['code', 'name'], (o: Organisation) => [o.code, o.name])`.
 * The row names its item's type: TypeScript does not carry the operation's output into a
 * spread. A key the output does not hold fails to compile.
 */
export function listedAsTable<Key extends string, Item>(
  key: Key,
  headers: string[],
  row: (item: Item) => Cell[],
): Required<Pick<CliShape<unknown, Record<Key, Item[]>>, 'print' | 'json'>> {
  return {
    json: (output) => output[key],
    print: (output) => formatTable(headers, output[key].map(row)),
  };
}
