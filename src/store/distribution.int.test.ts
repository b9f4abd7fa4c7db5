/**
 * Every person-level table carries its distribution key (distribution.ts, docs/scale.md):
 * read from the schema of a migrated store, with a table made for every dataset of the
 * catalogue, on both engines. A new `ds_*` or `kid_*` table without `person_token` fails
 * here until it has one, or is listed with what it is distributed by and why.
 */
import { describe, expect, it } from 'vitest';
import { listDatasets } from '../catalogue/catalogue.ts';
import { ensureDatasetTable } from '../ingest/dataset-table.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import { DISTRIBUTION_KEY, NOT_BY_PERSON } from './distribution.ts';
import type { Store } from './store.ts';

describe.each(testStores())('distribution keys on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('every ds_* and kid_* table carries person_token, or is listed with its own key', async () => {
    for (const spec of listDatasets()) await ensureDatasetTable(store, deidPlan(spec));
    const rows = await store.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`,
    );
    const columns = new Map<string, Set<string>>();
    for (const { table_name: table, column_name: column } of rows) {
      if (!/^(ds|kid)_/.test(table)) continue;
      columns.set(table, (columns.get(table) ?? new Set()).add(column));
    }
    expect(columns.has('ds_apc') && columns.has('kid_person')).toBe(true);
    const missing = [...columns]
      .filter(([table, has]) => !has.has(DISTRIBUTION_KEY) && !NOT_BY_PERSON[table])
      .map(([table]) => table);
    expect(missing).toEqual([]);
    // Each exception is a table that exists and holds the key it names.
    for (const [table, { by }] of Object.entries(NOT_BY_PERSON)) {
      expect(columns.has(table), table).toBe(true);
      if (by !== 'reference') expect(columns.get(table)?.has(by), `${table}.${by}`).toBe(true);
    }
  });
});
