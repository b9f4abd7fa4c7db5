/**
 * How an operation that answers a list appears in the CLI. Its output is an object holding
 * the list (`{ organisations: [...] }`), so the API can add a field beside it later without
 * breaking a client; the command prints the list as a table, and `--json` prints the list
 * itself, as the CLI always has.
 */
import { formatTable } from '../console/console.ts';
import type { CliShape } from './operation.ts';

type Cell = string | number | null | undefined;

/**
 * The `print` and `json` of a list operation's command: `...listedAsTable('organisations',
 * ['code', 'name'], (o) => [o.code, o.name])` beside its `command`.
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
