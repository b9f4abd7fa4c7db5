/**
 * `kernel reference load DIR` and `kernel reference list`: the reference geography's
 * releases (src/reference/, docs/geography.md).
 */
import path from 'node:path';
import { listReferenceReleases, loadReferenceGeography } from '../reference/load-reference-geography.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

export const registerReferenceCommands: RegisterCommands = (program, context) => {
  const reference = program
    .command('reference')
    .description(
      'reference geography with versions: LSOA 2011/2021, IMD, wards and districts, practice PCNs',
    );
  reference
    .command('load')
    .description("load the releases a folder's geography.json names (all or nothing); each becomes current")
    .argument(
      '<dir>',
      'the folder holding geography.json and its files (kernel synth writes WORLD/reference)',
    )
    .option('--json', 'print what was loaded as JSON')
    .action(async (dir: string, options: { json?: boolean }) => {
      const loaded = await context.withStore((store) =>
        loadReferenceGeography(store, path.resolve(dir), context.actor),
      );
      if (options.json) return printJson(context.io, loaded);
      context.io.out(
        formatTable(
          ['kind', 'version', 'file', 'rows', 'status'],
          loaded.map((r) => [r.kind, r.version, r.file, r.rows, r.status]),
        ),
      );
    });
  reference
    .command('list', { isDefault: true })
    .description('every release held, and which of each kind is current')
    .option('--json', 'print the releases as JSON')
    .action(async (options: { json?: boolean }) => {
      const releases = await context.withStore((store) => listReferenceReleases(store));
      if (options.json) return printJson(context.io, releases);
      if (releases.length === 0) {
        context.io.out('No reference geography is loaded: run kernel reference load DIR.');
        return;
      }
      context.io.out(
        formatTable(
          ['kind', 'version', 'current', 'rows', 'loaded', 'source'],
          releases.map((r) => [
            r.kind,
            r.version,
            r.current ? 'yes' : '',
            r.row_count,
            r.loaded_at.slice(0, 16),
            r.source,
          ]),
        ),
      );
    });
};
