/**
 * Repeats (repeats.ts), on both engines: rows that differ only by padding are one group, the
 * first copy is kept and the later ones dropped and counted; rows that share a digest but
 * not their values are never dropped.
 */
import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf } from '../../../test/load-stage.ts';
import type { Queryable, Store } from '../../store/store.ts';
import type { LoadStage } from './load-stage.ts';
import { removeRepeats } from './repeats.ts';
import { setAside } from './set-aside.ts';
import { stageRows } from './stage-rows.ts';

const rows = [
  'A1,3,2025-04-01', // line 2
  'B2,4,2025-04-02', // line 3
  'C3,11,2025-04-03', // line 4: n above its maximum
  'A1,3,2025-04-01', // line 5: line 2 again
  ' A1 , 3 ,2025-04-01', // line 6: line 2 again, padded
  'C3,11,2025-04-03', // line 7: line 4 again
  'C3,12,2025-04-03', // line 8: like line 4, but not the same
];

/**
 * The same transaction, with a row digest every row shares (the empty text, made from a
 * value so that it can be grouped by): a collision for every pair of rows.
 */
function everyDigestAlike(tx: Queryable): Queryable {
  return {
    dialect: {
      ...tx.dialect,
      rowDigest: (values) => `substr(coalesce(CAST(${values[0]} AS TEXT), ''), 1, 0)`,
    },
    query: (sql, params) => tx.query(sql, params),
    run: (sql, params) => tx.run(sql, params),
    exec: (sql) => tx.exec(sql),
    insertRows: (table, columns, values) => tx.insertRows(table, columns, values),
    copyCsv: (table, source) => tx.copyCsv(table, source),
    copyCsvLines: (table, columns, lines) => tx.copyCsvLines(table, columns, lines),
    csvRelation: (source) => tx.csvRelation(source),
    stream: (sql, params) => tx.stream(sql, params),
  };
}

describe.each(testStores())('repeats in a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  const afterRepeats = (loadId: string, digest: (stage: LoadStage) => LoadStage = (s) => s) => {
    const feed = stageFeed(rows);
    return store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, loadId);
      const staged = await stageRows(stage, feed);
      await setAside(stage, staged, feed.file);
      await staged.source?.release();
      const repeats = await removeRepeats(digest(stage));
      const left = await tx.query<{ kernel_line: number }>(
        `SELECT kernel_line FROM ${stage.scratch.bad} ORDER BY kernel_line`,
      );
      return { repeats, left: left.map((r) => Number(r.kernel_line)) };
    });
  };

  it('drops every copy after the first, padded or not, and says what they held', async () => {
    const { repeats, left } = await afterRepeats('ld-repeats');
    expect(left).toEqual([2, 4, 8]);
    expect(repeats).toEqual({ rows: 3, firstLine: 5, filled: [3, 3, 3] });
  });

  it('never drops a row whose digest another shares but whose values differ', async () => {
    const { repeats, left } = await afterRepeats('ld-collide', (stage) => ({
      ...stage,
      tx: everyDigestAlike(stage.tx),
    }));
    expect(left).toEqual([2, 4, 8]);
    expect(repeats.rows).toBe(3);
  });
});
