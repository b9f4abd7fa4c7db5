import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresServer } from './postgres-server.ts';

let server: PostgresServer | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

/** Starts one real PostgreSQL for the whole run; each test file makes its own databases. */
export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres();
  project.provide('pgUrl', server.url);
  process.env.KERNEL_TEST_PG_URL = server.url;
}

export function teardown(): void {
  server?.stop();
}
