import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { KernelConfig } from '../config/config.ts';
import { KernelError } from '../errors.ts';
import { openDuckDB } from './engines/duckdb-engine.ts';
import { migrate } from './migrate.ts';
import type { Store } from './store.ts';

export const DUCKDB_FILE_NAME = 'kernel.duckdb';

/**
 * Makes the data folder owner-only (0700), creating it so, and refuses one that another
 * account could write to: files planted there (a store, a `server.json`) would be trusted.
 * A folder others can only read is tightened; nothing in it is then reachable by them.
 */
export function secureDataDir(dataDir: string): void {
  try {
    if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const stat = statSync(dataDir);
    if (!stat.isDirectory()) {
      throw new KernelError('config', `The data folder ${dataDir} is not a folder`, {
        where: { file: dataDir },
        hint: 'Give --data a folder (it is created if missing)',
      });
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new KernelError(
        'config',
        `The data folder ${dataDir} can be written by other accounts on this machine, so Kernel will not use it`,
        {
          where: { file: dataDir },
          hint: `Make it owner-only (chmod 700 ${dataDir}) and check nothing in it was placed there by someone else`,
        },
      );
    }
    if ((stat.mode & 0o077) !== 0) chmodSync(dataDir, 0o700);
  } catch (error) {
    if (error instanceof KernelError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new KernelError('config', `Kernel cannot create or use the data folder ${dataDir} (${code})`, {
      where: { file: dataDir },
      hint: 'Choose a folder you can write to with --data (or KERNEL_DATA), or fix its permissions',
    });
  }
}

/** Opens the configured store without migrating it. */
export async function connectStore(config: Pick<KernelConfig, 'store' | 'dataDir'>): Promise<Store> {
  if (config.store === 'duckdb') {
    secureDataDir(config.dataDir);
    const file = path.join(config.dataDir, DUCKDB_FILE_NAME);
    const store = await openDuckDB(file);
    // The file holds password hashes, tokens and use-case salts: owner only (issue 23, H3).
    for (const f of [file, `${file}.wal`]) if (existsSync(f)) chmodSync(f, 0o600);
    return store;
  }
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    // The PostgreSQL driver loads only for a PostgreSQL store: most runs use DuckDB.
    const { openPostgres } = await import('./engines/postgres-engine.ts');
    return openPostgres(config.store);
  }
  throw new KernelError('config', `Unknown store "${config.store}"`, {
    hint: "Use 'duckdb' (the embedded store) or a postgres:// URL",
  });
}

/** Opens the configured store and brings it to the latest migration. */
export async function openStore(config: Pick<KernelConfig, 'store' | 'dataDir'>): Promise<Store> {
  const store = await connectStore(config);
  try {
    await migrate(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * Opens a warehouse that exists (issue 22, item 8): a mistyped `--data` must not quietly
 * start a new, empty warehouse beside the real one. Only `kernel init` (and the demo) create
 * one; an empty folder made for it is taken as the place to create it.
 */
export async function openExistingStore(config: Pick<KernelConfig, 'store' | 'dataDir'>): Promise<Store> {
  if (config.store === 'duckdb' && !existsSync(path.join(config.dataDir, DUCKDB_FILE_NAME))) {
    const hint = `Check --data (or KERNEL_DATA); to create a warehouse there, run kernel init --data ${config.dataDir}`;
    if (!existsSync(config.dataDir)) {
      throw new KernelError(
        'not-found',
        `There is no warehouse at ${config.dataDir}: the folder does not exist`,
        {
          where: { file: config.dataDir },
          hint,
        },
      );
    }
    if (statSync(config.dataDir).isDirectory() && readdirSync(config.dataDir).length > 0) {
      throw new KernelError(
        'not-found',
        `There is no warehouse in ${config.dataDir} (it holds no ${DUCKDB_FILE_NAME})`,
        {
          where: { file: config.dataDir },
          hint,
        },
      );
    }
  }
  return openStore(config);
}
