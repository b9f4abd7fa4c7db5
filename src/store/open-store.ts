import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { KernelConfig } from '../config/config.ts';
import { KernelError } from '../errors.ts';
import { openDuckDB } from './engines/duckdb-engine.ts';
import { migrate } from './migrate.ts';
import type { Store } from './store.ts';

export const DUCKDB_FILE_NAME = 'kernel.duckdb';

/** Opens the configured store without migrating it. */
export async function connectStore(config: Pick<KernelConfig, 'store' | 'dataDir'>): Promise<Store> {
  if (config.store === 'duckdb') {
    mkdirSync(config.dataDir, { recursive: true });
    return openDuckDB(path.join(config.dataDir, DUCKDB_FILE_NAME));
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
