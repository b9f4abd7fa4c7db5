/**
 * A workspace snapshot: a DuckDB file holding one table per workspace view, each the rows of
 * that view's governed SQL (`SELECT * FROM <openGovernedRead's subquery>`) when it was made,
 * and nothing else — no base table, audit log, encoding, or other use case's view, so the
 * sandbox opened on it (duckdb-sandbox.ts) has nothing else to reach, whatever SQL it runs.
 *
 * Why a snapshot file rather than the alternatives (measured with @duckdb/node-api 1.5.6 on this
 * two-core machine, one governed read of 990,000 rows × 34 columns):
 * - attaching the warehouse file read-only to a second instance: DuckDB does not support two
 *   instances on one file while one writes; the reader saw a stale state (it missed a committed
 *   insert), and the attached base tables would be in reach of the analyst's SQL;
 * - views in the warehouse instance itself: file access and extensions are instance-wide
 *   settings the loader needs (read_csv), and DuckDB has no privileges to hide base tables;
 * - an in-memory sandbox filled from the governed read: 425 MB of RAM per workspace (streamed
 *   through JavaScript, 18.6 s; through a Parquet file, 3.3 s);
 * - this: the warehouse instance writes the governed rows straight into a new attached file
 *   (`CREATE TABLE … AS SELECT`, 3.7 s, 208 MB on disk; through Parquet instead, 6.3 s and
 *   393 MB) and the sandbox opens it read-only in 80 ms, reading through a buffer pool bounded
 *   by its memory limit, so many workspaces fit where one in-memory copy would not. A query
 *   on it ran as fast as on the in-memory copy (55 ms warm for a grouped count).
 * The snapshot is as of the moment it was made; duckdb-workspaces.ts remakes it whenever the
 * policy or the data it was made from changes (workspace-version.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quoteIdentifier, quoteLiteral } from '../store/sql.ts';
import type { Store } from '../store/store.ts';
import type { WorkspaceView } from './workspace-plan.ts';

export interface SnapshotFiles {
  /** the owner-only folder holding the snapshot and its spill space; removed with it */
  dir: string;
  file: string;
  spillDir: string;
}

/**
 * Writes the snapshot from the warehouse's own DuckDB instance. The file is attached under a
 * random name only while the tables are written, and detached before anyone opens it.
 */
export async function writeSnapshot(
  store: Store,
  views: readonly WorkspaceView[],
  scratchDir: string = os.tmpdir(),
): Promise<SnapshotFiles> {
  // mkdtemp makes the folder owner-only (0700): the snapshot holds record-level rows.
  const dir = mkdtempSync(path.join(scratchDir, 'kernel-workspace-'));
  const files = { dir, file: path.join(dir, 'workspace.duckdb'), spillDir: path.join(dir, 'spill') };
  const alias = `kernel_workspace_${randomBytes(8).toString('hex')}`;
  try {
    mkdirSync(files.spillDir, { mode: 0o700 });
    await store.exec(`ATTACH ${quoteLiteral(files.file)} AS ${alias}`);
    try {
      for (const view of views) {
        // In person-token order where the view has one: analysts join and partition by person,
        // and DuckDB then meets a person's rows together. Measured on bench/workspace (1.9M
        // people, two threads) on a shared machine, so not settled: a window over the PMI joined
        // to APC took 0.6-0.7 s sorted against 2.5-4.2 s unsorted (load 3-4), then, run in the
        // other order, 5.2-5.5 s against 4.1-4.7 s (load 6-8). Writing the snapshot takes about
        // half as long again.
        const order = view.columns.includes('person_token') ? ' ORDER BY person_token' : '';
        await store.exec(
          `CREATE TABLE ${alias}.main.${quoteIdentifier(view.name)} AS SELECT * FROM ${view.sql} AS governed${order}`,
        );
      }
    } finally {
      await store.exec(`DETACH ${alias}`);
    }
    chmodSync(files.file, 0o600);
    return files;
  } catch (error) {
    removeSnapshot(files);
    throw error;
  }
}

export function removeSnapshot(files: SnapshotFiles): void {
  rmSync(files.dir, { recursive: true, force: true });
}
