/**
 * Quarantine (quarantine.ts), on both engines: what is left set aside once the repeats are
 * dropped and the rows that pass are written is counted by check (findings.ts,
 * countFailures) and quarantined, each row with the rule and field it failed first and its
 * values, trimmed, as JSON.
 */
import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf } from '../../../test/load-stage.ts';
import type { Store } from '../../store/store.ts';
import { countFailures } from './findings.ts';
import { quarantineRows } from './quarantine.ts';
import { removeRepeats } from './repeats.ts';
import { setAside } from './set-aside.ts';
import { stageHeldRows, stageRows } from './stage-rows.ts';

describe.each(testStores())('the quarantine of a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('holds each row that failed a check, with the first it failed, once', async () => {
    const feed = stageFeed([
      'A1,3,2025-04-01', // line 2
      ' C3 ,11,2025-04-03', // line 3: n above its maximum
      ',12,2025-04-04', // line 4: no code, and n above its maximum
      ' C3 ,11,2025-04-03', // line 5: line 3 again, dropped
    ]);
    const quarantined = await store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, 'ld-quarantine');
      const staged = await stageRows(stage, feed);
      await setAside(stage, staged, feed.file);
      await staged.source?.release();
      await removeRepeats(stage);
      await stageHeldRows(stage, staged.tally);
      const failures = await countFailures(stage);
      expect(failures.rows).toBe(2);
      expect(
        stage.checks.flatMap((c, k) =>
          failures.byCheck[k]?.count ? [[c.rule, c.field, failures.byCheck[k]]] : [],
        ),
      ).toEqual([
        ['required', 'code', { count: 1, firstLine: 4 }],
        ['type', 'n', { count: 2, firstLine: 3 }],
      ]);
      await quarantineRows(stage, failures.rows);
      return tx.query<{ source_line: number; rule: string; field: string; row_json: string }>(
        'SELECT source_line, rule, field, row_json FROM load_quarantine WHERE load_id = $1 ORDER BY source_line',
        ['ld-quarantine'],
      );
    });
    expect(quarantined.map((r) => [Number(r.source_line), r.rule, r.field, JSON.parse(r.row_json)])).toEqual([
      [3, 'type', 'n', { code: 'C3', n: '11', seen: '2025-04-03' }],
      [4, 'required', 'code', { code: null, n: '12', seen: '2025-04-04' }],
    ]);
  });
});
