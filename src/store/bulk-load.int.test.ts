import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStores } from '../../test/stores.ts';
import type { Store } from './store.ts';

// A load's checks hold one IN list per coded column (sixty for the SUS APC); under the
// bulk-load settings each must stay a comparison, never a join with a hash table of its own
// (dialect.ts, `bulkLoad`: sixty of them ran a million-row DuckDB load out of memory).
describe.each(testStores())('bulk-load settings on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
  });
  afterAll(async () => store.close());

  const codes = ['01', '02', '03', '04', '05', '06', '07', '08'].map((c) => `'${c}'`).join(', ');
  const checked = `SELECT count(*) AS n FROM (SELECT lpad(CAST(x AS VARCHAR), 2, '0') AS code FROM generate_series(1, 20) AS g(x)) t WHERE code NOT IN (${codes})`;
  const plan = async (): Promise<string> =>
    (await store.query(`EXPLAIN ${checked}`))
      .map((row) => Object.values(row).join(' '))
      .join('\n')
      .toUpperCase();

  it('keep an IN list of codes a comparison, and are put back after', async () => {
    const bulk = store.dialect.bulkLoad;
    if (bulk) {
      // Without them DuckDB plans the list as a join: the case the settings exist for.
      expect(await plan()).toContain('JOIN');
      await store.exec(bulk.before);
    }
    try {
      expect(await plan()).not.toContain('JOIN');
      expect(await store.query(checked)).toEqual([{ n: 12 }]);
    } finally {
      if (bulk) await store.exec(bulk.after);
    }
    if (bulk) expect(await plan()).toContain('JOIN');
  });
});
