import os from 'node:os';
import type { TestProject } from 'vitest/node';
import { compiledCli } from '../bin/compiled-cli.js';
import { connectStore, openStore } from '../src/store/open-store.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';

let server: PostgresServer | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

/** Starts one real PostgreSQL for the whole run; each test file makes its own databases. */
export async function setup(project: TestProject): Promise<void> {
  // The CLI's compiled copy, made once here rather than by the first few tests that spawn
  // `kernel` at the same time.
  const compiling = compiledCli();
  server = await startPostgres();
  // Each test database is a copy of one migrated template: much faster than migrating each.
  const template = await connectStore({
    store: server.url.replace(/\/[^/]*$/, '/postgres'),
    dataDir: os.tmpdir(),
  });
  await template.exec('CREATE DATABASE kernel_template');
  await template.close();
  const migrated = await openStore({
    store: server.url.replace(/\/[^/]*$/, '/kernel_template'),
    dataDir: os.tmpdir(),
  });
  await migrated.close();
  await compiling;
  project.provide('pgUrl', server.url);
  process.env.KERNEL_TEST_PG_URL = server.url;
}

export function teardown(): void {
  server?.stop();
}
