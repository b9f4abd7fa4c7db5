/**
 * The rows set aside (set-aside.ts), on both engines: every row the first write left out,
 * trimmed, with a flag per check and the first check it fails (none for a held row that
 * passes them all); and a load that cannot account for every row read fails.
 */
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../errors.ts';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf } from '../../../test/load-stage.ts';
import type { Store } from '../../store/store.ts';
import { rereadsLeftOutRows, setAside } from './set-aside.ts';
import { stageRows } from './stage-rows.ts';

const rows = [
  'A1,3,2025-04-01', // line 2
  'B2,4,2025-04-02', // line 3
  'C3,11,2025-04-03', // line 4: n above its maximum
  'A1,3,2025-04-01', // line 5: line 2 again
  ',5,2025-04-04', // line 6: no code
  ' A1 , 3 ,2025-04-01', // line 7: line 2 again, padded
];

describe.each(testStores())('the rows set aside by a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('holds each row left out, trimmed, with its flags and the first check it fails', async () => {
    const feed = stageFeed(rows);
    await store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, 'ld-setaside');
      const staged = await stageRows(stage, feed);
      await setAside(stage, staged, feed.file);
      const failed = (k: unknown): string | null => {
        const check = typeof k === 'number' || typeof k === 'bigint' ? stage.checks[Number(k)] : undefined;
        return check ? `${check.rule} ${check.field}` : null;
      };
      const bad = await tx.query(`SELECT * FROM ${stage.scratch.bad} ORDER BY kernel_line`);
      expect(bad.map((r) => [r.kernel_line, r.code, r.n, failed(r.kernel_check)])).toEqual([
        [2, 'A1', '3', null],
        [4, 'C3', '11', 'type n'],
        [5, 'A1', '3', null],
        [6, null, '5', 'required code'],
        [7, 'A1', '3', null],
      ]);
      // a flag for every check the row fails, not only the first
      const flagged = bad.find((r) => r.kernel_line === 4) ?? {};
      expect(stage.checks.filter((_c, k) => flagged[`k${k}`] === true).map((c) => c.field)).toEqual(['n']);
      await staged.source?.release();
    });
  });

  it('fails the load when a row read is neither loaded nor set aside', async () => {
    const feed = stageFeed(rows);
    const attempt = store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, 'ld-unaccounted');
      const staged = await stageRows(stage, feed);
      await setAside(stage, { ...staged, rowsLoaded: staged.rowsLoaded - 1 }, feed.file).finally(() =>
        staged.source?.release(),
      );
    });
    await expect(attempt).rejects.toThrow(KernelError);
    await expect(attempt).rejects.toThrow(/could not account for every row: 6 read, 0 loaded, 5 set aside/);
  });

  it('reads the rows left out again when they are at most one in ten', () => {
    expect(rereadsLeftOutRows(0, 100)).toBe(false);
    expect(rereadsLeftOutRows(10, 100)).toBe(true);
    expect(rereadsLeftOutRows(11, 100)).toBe(false);
  });
});
