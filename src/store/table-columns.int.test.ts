import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../test/stores.ts';
import type { Store } from './store.ts';
import { tableColumns } from './table-columns.ts';

describe.each(testStores())('tableColumns on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('answers a table’s columns in the order they were declared, and a column added later last', async () => {
    await store.exec('CREATE TABLE tc_probe (zeta TEXT, alpha INTEGER, mid DATE)');
    await store.exec('ALTER TABLE tc_probe ADD COLUMN added TEXT');
    expect(await tableColumns(store, 'tc_probe')).toEqual(['zeta', 'alpha', 'mid', 'added']);
  });

  it('answers no columns for a table that does not exist (yet)', async () => {
    expect(await tableColumns(store, 'tc_absent')).toEqual([]);
  });
});
