import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';

export type EngineName = 'duckdb' | 'postgres';

export interface TestStore {
  engine: EngineName;
  /** A fresh, migrated, empty store: a new DuckDB file, or a new PostgreSQL database. */
  open(): Promise<Store>;
  /** Where a CLI process should point to reach the same store: `--data` and `--store`. */
  fresh(): Promise<{ dataDir: string; store: string }>;
}

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function createDatabase(): Promise<string> {
  const url = inject('pgUrl');
  const name = `kt_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE kernel_template`);
  } finally {
    await client.end();
  }
  return url.replace(/\/[^/]*$/, `/${name}`);
}

const ENGINES: Record<EngineName, TestStore> = {
  duckdb: {
    engine: 'duckdb',
    async fresh() {
      return { dataDir: tempDir('kernel-test-'), store: 'duckdb' };
    },
    async open() {
      return openStore(await this.fresh());
    },
  },
  postgres: {
    engine: 'postgres',
    async fresh() {
      return { dataDir: tempDir('kernel-test-'), store: await createDatabase() };
    },
    async open() {
      return openStore(await this.fresh());
    },
  },
};

/**
 * The engines every store test runs on: both, unless KERNEL_TEST_ENGINES narrows them
 * (e.g. `KERNEL_TEST_ENGINES=duckdb`). Use with `describe.each(testStores())('… on $engine', …)`.
 */
export function testStores(): TestStore[] {
  const wanted = (process.env.KERNEL_TEST_ENGINES ?? 'duckdb,postgres').split(',').map((s) => s.trim());
  return (Object.keys(ENGINES) as EngineName[]).filter((e) => wanted.includes(e)).map((e) => ENGINES[e]);
}

/**
 * A store for one suite: opened (and prepared, e.g. with the members registered) before its
 * tests, closed after them. `use` receives it: `openForSuite(engine, (s) => (store = s), seed)`.
 */
export function openForSuite(
  engine: TestStore,
  use: (store: Store) => void,
  prepare: (store: Store) => Promise<unknown> = async () => undefined,
  /** for a `prepare` that loads a world: milliseconds, beyond the default hook timeout */
  timeout?: number,
): void {
  let opened: Store | undefined;
  beforeAll(async () => {
    opened = await engine.open();
    await prepare(opened);
    use(opened);
  }, timeout);
  afterAll(async () => {
    await opened?.close();
  });
}
