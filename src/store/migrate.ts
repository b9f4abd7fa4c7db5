import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from '../errors.ts';
import type { Store } from './store.ts';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The migrations for an engine, in order. `NNN-name.sql` runs on both engines;
 * `NNN-name.duckdb.sql` / `NNN-name.postgres.sql` run on that engine only.
 */
export function listMigrations(engine: 'duckdb' | 'postgres', dir: string = MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<number, Migration>();
  for (const file of readdirSync(dir).sort()) {
    const match = /^(\d{3})-([a-z0-9-]+?)(?:\.(duckdb|postgres))?\.sql$/.exec(file);
    if (!match) continue;
    const [, number, name, only] = match;
    if (only && only !== engine) continue;
    const version = Number(number);
    const existing = byVersion.get(version);
    if (existing && existing.name !== name) {
      throw new KernelError(
        'internal',
        `Two migrations share number ${number}: ${existing.name} and ${name}`,
      );
    }
    const sql = readFileSync(path.join(dir, file), 'utf8');
    byVersion.set(version, {
      version,
      name: name as string,
      sql: existing ? `${existing.sql}\n${sql}` : sql,
    });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

export interface MigrationResult {
  applied: Migration[];
  current: number;
}

/**
 * Applies every migration not yet recorded, each in its own transaction with its record,
 * so a failed migration leaves the store at the previous version. Running it again is a no-op.
 */
export async function migrate(store: Store, dir?: string): Promise<MigrationResult> {
  await store.exec(
    'CREATE TABLE IF NOT EXISTS kernel_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const done = new Set(
    (await store.query<{ version: number }>('SELECT version FROM kernel_migrations')).map((r) => r.version),
  );
  const applied: Migration[] = [];
  for (const migration of listMigrations(store.dialect.name, dir)) {
    if (done.has(migration.version)) continue;
    await store.transaction(async (tx) => {
      await tx.exec(migration.sql);
      await tx.run(
        'INSERT INTO kernel_migrations (version, name, applied_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [migration.version, migration.name, new Date().toISOString()],
      );
    });
    applied.push(migration);
  }
  const [row] = await store.query<{ current: number | null }>(
    'SELECT max(version) AS current FROM kernel_migrations',
  );
  return { applied, current: row?.current ?? 0 };
}
