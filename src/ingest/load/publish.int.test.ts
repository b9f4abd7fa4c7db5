/**
 * Publishing a load (publish.ts), on both engines: the previous load of the same
 * organisation, dataset and month is superseded (its rows deleted, its `loads` row marked
 * and pointing at the new one), the rows a failed attempt left go, another organisation's
 * month is untouched, and the new load's `loads` row and audit event say what it loaded.
 */
import { describe, expect, it } from 'vitest';
import { listAudit } from '../../audit/audit-log.ts';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf } from '../../../test/load-stage.ts';
import type { Store } from '../../store/store.ts';
import { publishLoad } from './publish.ts';

describe.each(testStores())('publishing a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  const load = (loadId: string, org: string, status: string, lines: number[]) =>
    store.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, status, started_at, actor, host, pid)
         VALUES ($1, $2, 'stage-test', '2025-04', 'stage-test.csv', $3, '2025-05-01T09:00:00Z', 'test', 'here', 1)`,
        [loadId, org, status],
      );
      for (const line of lines) {
        await tx.run(
          `INSERT INTO ds_stage_test (load_id, org_code, source_line, code, n) VALUES ($1, $2, $3, 'A1', $3)`,
          [loadId, org, line],
        );
      }
    });

  it('supersedes the previous load of the month and removes a failed attempt’s rows', async () => {
    const feed = stageFeed([]);
    await store.transaction((tx) => stageOf(tx, feed.file, 'ld-first')); // makes ds_stage_test
    await load('ld-earlier', 'RWF', 'loaded', [2, 3]);
    await load('ld-failed', 'RWF', 'failed', [2]);
    await load('ld-another', 'RXX', 'loaded', [2]);
    await load('ld-new', 'RWF', 'running', [2, 3, 4]);

    const published = await store.transaction(async (tx) =>
      publishLoad(await stageOf(tx, feed.file, 'ld-new'), {
        findings: [],
        completeness: [],
        rowsRead: 3,
        rowsKept: 3,
        rowsLoaded: 3,
        rowsQuarantined: 0,
        rowsDropped: 0,
        sha256: 'a'.repeat(64),
        manifest: { keyId: 'key-1' },
        actor: 'test',
        pseudonymisedInProcess: false,
        linkage: undefined,
        tally: undefined,
        elapsed: () => 1.25,
      }),
    );
    expect(published).toEqual({ seconds: 1.25, supersedes: ['ld-earlier'] });

    const rows = await store.query(
      'SELECT load_id, count(*) AS n FROM ds_stage_test GROUP BY load_id ORDER BY 1',
    );
    expect(rows.map((r) => [r.load_id, Number(r.n)])).toEqual([
      ['ld-another', 1],
      ['ld-new', 3],
    ]);
    const loads = await store.query(
      'SELECT load_id, status, superseded_by, rows_read, rows_loaded, seconds FROM loads ORDER BY load_id',
    );
    expect(
      loads.map((r) => ({ ...r, rows_read: r.rows_read === null ? null : Number(r.rows_read) })),
    ).toEqual([
      {
        load_id: 'ld-another',
        status: 'loaded',
        superseded_by: null,
        rows_read: null,
        rows_loaded: null,
        seconds: null,
      },
      {
        load_id: 'ld-earlier',
        status: 'superseded',
        superseded_by: 'ld-new',
        rows_read: null,
        rows_loaded: null,
        seconds: null,
      },
      {
        load_id: 'ld-failed',
        status: 'failed',
        superseded_by: null,
        rows_read: null,
        rows_loaded: null,
        seconds: null,
      },
      {
        load_id: 'ld-new',
        status: 'loaded',
        superseded_by: null,
        rows_read: 3,
        rows_loaded: 3,
        seconds: 1.25,
      },
    ]);
    const [completed] = await listAudit(store, { action: 'load.completed', target: 'ld-new' });
    expect(JSON.parse(completed?.details ?? '{}')).toMatchObject({
      org: 'RWF',
      dataset: 'stage-test',
      period: '2025-04',
      rowsLoaded: 3,
      supersedes: ['ld-earlier'],
    });
  });
});
