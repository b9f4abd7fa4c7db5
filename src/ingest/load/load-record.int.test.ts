/**
 * A load's row in `loads` outside its transaction (load-record.ts), on both engines: the
 * `running` row committed on its own; a file refused before a load began recorded as a
 * `refused` load of its own, with its reason; an attempt that failed or was refused after it
 * began marked so, its rows gone with its transaction; each with its audit event.
 */
import { describe, expect, it } from 'vitest';
import { listAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { FeedManifest } from '../../privacy/manifest.ts';
import type { Store } from '../../store/store.ts';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf, stageSpec } from '../../../test/load-stage.ts';
import type { LoadReport } from '../load-history.ts';
import { LoadRefusedError, newLoadId, recordFailedAttempt, recordRunning } from './load-record.ts';

const reportOf = (file: string): LoadReport => ({
  status: 'refused',
  loadId: null,
  org: 'RWF',
  dataset: stageSpec.id,
  period: '2025-04',
  file,
  sha256: 'a'.repeat(64),
  rowsRead: 0,
  rowsLoaded: 0,
  rowsRejected: 0,
  findings: [],
  seconds: 0.5,
});

const manifest = {
  period: '2025-04',
  specVersion: '1',
  keyId: 'lk-test',
  signingKeyId: 'sk-test',
  geography: { lsoaVintage: '2021', imdVersion: 'IMD2019' },
} as FeedManifest;

const unsigned = new KernelError('refused', 'The manifest is not signed', {
  where: { file: 'sent.csv' },
  hint: 'Run `kernel deid` with --sign and the organisation\u2019s signing key',
});

describe.each(testStores())('the record of a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  const loadRow = async (loadId: string) =>
    (
      await store.query(
        'SELECT status, file_name, sha256, error, finished_at, lsoa_vintage, imd_version FROM loads WHERE load_id = $1',
        [loadId],
      )
    )[0];
  const auditOf = async (loadId: string) =>
    (await listAudit(store, { target: loadId })).map((e) => [e.action, JSON.parse(e.details ?? '{}')]);

  it('records a file refused before a load began, with its reason, under a load id of its own', async () => {
    const report = reportOf('refused-early.csv');
    const thrown = await recordFailedAttempt(store, null, report, unsigned, 'test');

    expect(thrown).toBeInstanceOf(LoadRefusedError);
    expect(thrown).toMatchObject({ code: 'refused', message: 'The manifest is not signed', report });
    expect(report.loadId).toMatch(/^ld-/);
    const loadId = report.loadId as string;
    expect(await loadRow(loadId)).toMatchObject({
      status: 'refused',
      file_name: 'refused-early.csv',
      sha256: 'a'.repeat(64),
      error: 'The manifest is not signed',
    });
    expect(await auditOf(loadId)).toEqual([
      ['load.refused', { org: 'RWF', dataset: stageSpec.id, reason: 'refused' }],
    ]);
  });

  it('records nothing for a failure of the warehouse before a load began, and answers it as thrown', async () => {
    const report = reportOf('busy.csv');
    const busy = new KernelError('busy', 'The warehouse is in use by another process');
    expect(await recordFailedAttempt(store, null, report, busy, 'test')).toBe(busy);
    expect(report.loadId).toBeNull();
  });

  it('marks a refused attempt refused, and its rows are gone with its transaction', async () => {
    const feed = stageFeed([]);
    await store.transaction((tx) => stageOf(tx, feed.file, 'ld-table')); // makes ds_stage_test
    const report = { ...reportOf('refused-late.csv'), loadId: newLoadId() };
    const loadId = report.loadId;
    await recordRunning(store, report, manifest, 'test');
    expect(await loadRow(loadId)).toMatchObject({
      status: 'running',
      finished_at: null,
      lsoa_vintage: '2021',
      imd_version: 'IMD2019',
    });

    const refusedInTransaction = await store
      .transaction(async (tx) => {
        await tx.run(
          `INSERT INTO ds_stage_test (load_id, org_code, source_line, code) VALUES ($1, 'RWF', 2, 'A1')`,
          [loadId],
        );
        throw unsigned;
      })
      .catch((error: unknown) => error);
    const thrown = await recordFailedAttempt(store, loadId, report, refusedInTransaction, 'test');

    expect(thrown).toBeInstanceOf(LoadRefusedError);
    expect(await loadRow(loadId)).toMatchObject({ status: 'refused', error: 'The manifest is not signed' });
    expect((await loadRow(loadId))?.finished_at).toEqual(expect.any(String));
    expect(await store.query('SELECT * FROM ds_stage_test WHERE load_id = $1', [loadId])).toEqual([]);
    expect(await auditOf(loadId)).toEqual([
      ['load.refused', { org: 'RWF', dataset: stageSpec.id, reason: 'refused' }],
    ]);
  });

  it('marks an attempt that failed failed, with the load’s own error rethrown', async () => {
    const report = { ...reportOf('failed.csv'), loadId: newLoadId() };
    const loadId = report.loadId;
    await recordRunning(store, report, manifest, 'test');
    const crash = new Error('disk full');

    expect(await recordFailedAttempt(store, loadId, report, crash, 'test')).toBe(crash);
    expect(await loadRow(loadId)).toMatchObject({ status: 'failed', error: 'The load failed' });
    expect(await auditOf(loadId)).toEqual([
      ['load.failed', { org: 'RWF', dataset: stageSpec.id, reason: 'internal' }],
    ]);
  });
});
