/**
 * A dataset table follows its specification when the specification gains optional fields:
 * the table gains the columns, months loaded before keep their rows, empty in them.
 */
import { describe, expect, it } from 'vitest';
import { getDataset } from '../catalogue/catalogue.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import type { Store } from '../store/store.ts';
import { testStores, openForSuite } from '../../test/stores.ts';
import { ensureDatasetTable } from './dataset-table.ts';

describe.each(testStores())('dataset tables on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('adds the columns a newer specification version brings, keeping the rows already loaded', async () => {
    const current = deidPlan(getDataset('msds-baby'));
    const added = ['NeonatalAdmission', 'AgeAtDeathBaby'];
    // the table as version 1.0.0 made it, without the two fields 1.1.0 added
    const older = { ...current, columns: current.columns.filter((c) => !added.includes(c.name)) };
    const table = await ensureDatasetTable(store, older);
    await store.run(
      `INSERT INTO ${table} (load_id, org_code, source_line, "PregOutcome") VALUES ('L1', 'RWF', 2, '01')`,
    );
    const columnsOf = async (): Promise<string[]> =>
      (
        await store.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
          [table],
        )
      ).map((r) => r.column_name);
    for (const name of added) expect(await columnsOf()).not.toContain(name);

    await ensureDatasetTable(store, current);
    for (const name of added) expect(await columnsOf()).toContain(name);
    const [row] = await store.query<{
      PregOutcome: string;
      NeonatalAdmission: boolean | null;
      AgeAtDeathBaby: number | null;
    }>(`SELECT "PregOutcome", "NeonatalAdmission", "AgeAtDeathBaby" FROM ${table}`);
    expect(row).toEqual({ PregOutcome: '01', NeonatalAdmission: null, AgeAtDeathBaby: null });
    // and again changes nothing
    await ensureDatasetTable(store, current);
    expect((await columnsOf()).length).toBe(current.columns.length + 3);
  });
});
