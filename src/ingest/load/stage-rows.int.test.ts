/**
 * The first write of the load (stage-rows.ts), on both engines: the rows that pass every
 * check go in typed, a row that fails a check does not, and the rows that may repeat another
 * are held back from it; the scan it waited for read every row.
 */
import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf } from '../../../test/load-stage.ts';
import type { Store } from '../../store/store.ts';
import { removeRepeats } from './repeats.ts';
import { setAside } from './set-aside.ts';
import { stageHeldRows, stageRows } from './stage-rows.ts';

describe.each(testStores())('the first write of a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('writes the rows that pass, typed, and holds back the rows that may repeat another', async () => {
    const feed = stageFeed([
      'A1,3,2025-04-01', // line 2
      'B2,4,2025-04-02', // line 3
      'C3,11,2025-04-03', // line 4: n above its maximum
      'A1,3,2025-04-01', // line 5: line 2 again
      ',5,2025-04-04', // line 6: no code
    ]);
    await store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, 'ld-stagerows');
      const staged = await stageRows(stage, feed);
      expect(staged.scan.rows).toBe(5);
      expect(staged.mayRepeat.lines).toEqual(expect.arrayContaining([2, 5]));
      const rows = await tx.query(
        `SELECT load_id, org_code, source_line, code, n, seen FROM ${stage.table} WHERE load_id = 'ld-stagerows' ORDER BY source_line`,
      );
      expect(rows).toEqual([
        { load_id: 'ld-stagerows', org_code: 'RWF', source_line: 3, code: 'B2', n: 4, seen: '2025-04-02' },
      ]);
      expect(staged.rowsLoaded).toBe(1);
      await staged.source?.release();
    });
  });

  it('writes the held rows that pass once the repeats among them are dropped, and no others', async () => {
    const feed = stageFeed(['A1,3,2025-04-01', 'C3,11,2025-04-03', 'A1,3,2025-04-01', 'B2,4,2025-04-02']);
    await store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, 'ld-heldrows');
      const staged = await stageRows(stage, feed);
      await setAside(stage, staged, feed.file);
      await staged.source?.release();
      await removeRepeats(stage);
      expect(await stageHeldRows(stage, staged.tally)).toBe(1);
      const lines = await tx.query(
        `SELECT source_line FROM ${stage.table} WHERE load_id = 'ld-heldrows' ORDER BY 1`,
      );
      expect(lines.map((r) => Number(r.source_line))).toEqual([2, 5]);
      // what is left set aside is what failed a check
      const left = await tx.query(`SELECT kernel_line, kernel_check FROM ${stage.scratch.bad}`);
      expect(left.map((r) => Number(r.kernel_line))).toEqual([3]);
    });
  });
});
