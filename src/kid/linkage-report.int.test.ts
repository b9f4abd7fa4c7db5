import { describe, expect, it } from 'vitest';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { linkageReport, linkedDatasets } from './linkage-report.ts';
import { buildSpine } from './person-spine.ts';

const DATASETS = [
  'pmi',
  'apc',
  'op',
  'ecds',
  'gp-events',
  'asc',
  'msds-booking',
  'msds-delivery',
  'msds-baby',
];
const WINDOW_START = '2020-04-01';
const world = kidWorldForFile({
  people: 400,
  from: '2020-04',
  to: '2020-06',
  datasets: DATASETS,
  defects: 'none',
  timeout: 180_000,
});

type Cell = {
  rows: number;
  withToken: number;
  matched: number;
  noToken: number;
  notOnSpine: number;
  notRegistered: number;
};

/**
 * What the truth says each row should do, when every feed is loaded except the PMI of the
 * practice `missing`: a row links when the person had an NHS number recorded, some loaded
 * PMI holds them, and a loaded GP record registered them (alive) by the activity date.
 */
async function expectedCells(store: Store, missing: string | null): Promise<Map<string, Cell>> {
  const byLine = new Map(world.records.map((r) => [`${r.org}/${r.dataset}/${r.period}/${r.line}`, r]));
  const inPmi = new Set(
    world.records
      .filter((r) => r.dataset === 'pmi' && r.org !== missing && r.person !== null)
      .map((r) => r.person),
  );
  const registeredOn = (person: number, day: string): boolean => {
    const p = world.people[person];
    if (!p || (p.deathDate !== null && p.deathDate < day)) return false;
    return world.addresses.some(
      (a) =>
        a.household === p.household &&
        a.practice !== missing &&
        (a.to === null || a.to >= WINDOW_START) &&
        (a.from > p.birthDate ? a.from : p.birthDate) <= day,
    );
  };
  const cells = new Map<string, Cell>();
  const tables = new Set(
    (await store.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables`)).map(
      (r) => r.t,
    ),
  );
  for (const dataset of linkedDatasets()) {
    if (!DATASETS.includes(dataset.id) || !tables.has(dataset.table)) continue;
    const rows = await store.query<{ org_code: string; period: string; source_line: number; day: string }>(
      `SELECT d.org_code, l.period, d.source_line, substr(CAST(d."${dataset.activityDate}" AS TEXT), 1, 10) AS day
       FROM ${dataset.table} d JOIN loads l ON l.load_id = d.load_id`,
    );
    for (const row of rows) {
      const key = `${dataset.id}/${row.org_code}/${row.day.slice(0, 7)}`;
      const cell = cells.get(key) ?? {
        rows: 0,
        withToken: 0,
        matched: 0,
        noToken: 0,
        notOnSpine: 0,
        notRegistered: 0,
      };
      cells.set(key, cell);
      cell.rows++;
      const truth = byLine.get(`${row.org_code}/${dataset.id}/${row.period}/${row.source_line}`);
      expect(truth, 'every loaded row is in the truth').toBeDefined();
      if (!truth || truth.person === null || !truth.nhsRecorded) {
        cell.noToken++;
        continue;
      }
      cell.withToken++;
      if (!inPmi.has(truth.person)) cell.notOnSpine++;
      else if (!registeredOn(truth.person, row.day)) cell.notRegistered++;
      else cell.matched++;
    }
  }
  return cells;
}

async function reportedCells(store: Store): Promise<Map<string, Cell>> {
  return new Map(
    (await linkageReport(store)).map((r) => [
      `${r.dataset}/${r.org}/${r.month}`,
      {
        rows: r.rows,
        withToken: r.withToken,
        matched: r.matched,
        noToken: r.unmatched.noToken,
        notOnSpine: r.unmatched.notOnSpine,
        notRegistered: r.unmatched.notRegistered,
      },
    ]),
  );
}

describe.each(testStores())('the linkage report on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });

  it('agrees with the truth, cell by cell, when every feed is loaded', async () => {
    const expected = await expectedCells(store, null);
    const reported = await reportedCells(store);
    expect(reported).toEqual(expected);
    const total = [...reported.values()].reduce(
      (sum, c) => ({
        rows: sum.rows + c.rows,
        matched: sum.matched + c.matched,
        noToken: sum.noToken + c.noToken,
      }),
      { rows: 0, matched: 0, noToken: 0 },
    );
    expect(total.rows).toBeGreaterThan(500);
    // Council records without an NHS number are the rows that cannot link by token.
    expect(total.noToken).toBeGreaterThan(0);
    expect(total.matched).toBe(total.rows - total.noToken);
  });

  it('names the reason when one practice\u2019s patient list is missing', async () => {
    const partial = await engine.open();
    try {
      const missing = world.addresses[0]?.practice ?? '';
      await world.load(partial, DATASETS, (org) => !(org === missing));
      await buildSpine(partial);
      const expected = await expectedCells(partial, missing);
      const reported = await reportedCells(partial);
      expect(reported).toEqual(expected);
      // Both reasons occur: people only that practice knew, and people another provider knows.
      expect([...reported.values()].reduce((n, c) => n + c.notOnSpine, 0)).toBeGreaterThan(0);
      expect([...reported.values()].reduce((n, c) => n + c.notRegistered, 0)).toBeGreaterThan(0);
    } finally {
      await partial.close();
    }
  }, 120_000);
});
