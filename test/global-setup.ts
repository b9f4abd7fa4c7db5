import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { compiledCli } from '../bin/compiled-cli.js';
import { connectStore, openStore } from '../src/store/open-store.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';

let server: PostgresServer | undefined;
let runTmp: string | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

/** Starts one real PostgreSQL for the whole run; each test file makes its own databases. */
export async function setup(project: TestProject): Promise<void> {
  // Every temporary folder a test makes (stores, worlds, keys, the test server's data) goes
  // under one folder for the run, removed at its end: tests that fail or are stopped midway
  // leave nothing behind in the machine's /tmp, where thousands of folders a day piled up.
  // The workers and the `kernel` processes they start inherit TMPDIR, which os.tmpdir() reads.
  runTmp = mkdtempSync(path.join(os.tmpdir(), 'kernel-test-run-'));
  // The test server runs as the `postgres` user when the tests run as root: it must pass
  // through this folder to its own (mkdtemp makes it private to its owner).
  chmodSync(runTmp, 0o711);
  process.env.TMPDIR = runTmp;
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
  try {
    server?.stop();
  } finally {
    if (runTmp) rmSync(runTmp, { recursive: true, force: true });
  }
}
