/**
 * GP registrations and medications (issue 18) through the real path on both engines: a small
 * synthetic world's practice feeds, de-identified by each practice's agent and loaded. A clean
 * world loads every row, and the registrations held in the warehouse give the truth's list
 * sizes; a world with defects has each one quarantined at its line and field, or flagged.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import type { Store } from '../store/store.ts';
import { DEFECT_KINDS, type DefectRates } from '../synth/defects.ts';
import { makeKidWorld, type KidWorld } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';

const GP = ['gp-registrations', 'gp-medications'];

function truthRows(world: KidWorld, file: string): Record<string, string>[] {
  const [header = [], ...rows] = parseCsv(readFileSync(path.join(world.dir, 'world', 'truth', file), 'utf8'));
  return rows
    .filter((r) => r.length > 1)
    .map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

let clean: KidWorld;
let defective: KidWorld;
beforeAll(async () => {
  clean = await makeKidWorld({ people: 1200, from: '2021-01', to: '2021-03', datasets: GP, defects: 'none' });
  const rates = Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])) as DefectRates;
  defective = await makeKidWorld({
    people: 600,
    from: '2021-01',
    to: '2021-02',
    datasets: GP,
    defects: {
      ...rates,
      'code-not-in-list': 0.02,
      'impossible-date': 0.02,
      'missing-mandatory': 0.02,
      'duplicate-row': 0.01,
    },
  });
}, 180_000);

describe.each(testStores())('GP registrations and medications on $engine', (engine) => {
  let store: Store;
  let other: Store;
  beforeAll(async () => {
    store = await engine.open();
    other = await engine.open();
    await clean.load(store);
    await defective.load(other);
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await other?.close();
  });

  it('loads a clean world in full: nothing quarantined, every row of every feed in its table', async () => {
    const loads = await store.query<{ dataset_id: string; n: number | string }>(
      "SELECT dataset_id, count(*) AS n FROM loads WHERE status = 'loaded' GROUP BY dataset_id ORDER BY dataset_id",
    );
    expect(loads.map((l) => l.dataset_id)).toEqual(['gp-medications', 'gp-registrations']);
    const [quarantined] = await store.query<{ n: number | string }>(
      'SELECT count(*) AS n FROM load_quarantine',
    );
    expect(Number(quarantined?.n)).toBe(0);
    for (const dataset of GP) {
      const lines = clean.records.filter((r) => r.dataset === dataset).length;
      const [rows] = await store.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM ds_${dataset.replace('-', '_')}`,
      );
      expect(Number(rows?.n), dataset).toBe(lines);
      expect(lines).toBeGreaterThan(100);
    }
  });

  it('holds tokens and derived fields, never the NHS number, full date of birth or postcode', async () => {
    for (const [table, age] of [
      ['ds_gp_registrations', 'age_at_registration'],
      ['ds_gp_medications', 'age_at_issue'],
    ] as const) {
      const columns = (
        await store.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
          [table],
        )
      ).map((c) => c.column_name);
      expect(columns).toEqual(expect.arrayContaining(['person_token', age, 'birth_year_month', 'lsoa_code']));
      for (const identifier of ['NHS_NUMBER', 'DATE_OF_BIRTH', 'POSTCODE'])
        expect(columns).not.toContain(identifier);
    }
  });

  it("counts each practice's registered list on a day as the truth does (start ≤ day < end)", async () => {
    // The latest row of each registration holds (a registration that ends is sent again with its end).
    const counted = await store.query<{ practice: string; n: number | string }>(
      `WITH latest AS (
         SELECT person_token, "PRACTICE", "REG_DATE", max("DEREG_DATE") AS dereg
         FROM ds_gp_registrations GROUP BY person_token, "PRACTICE", "REG_DATE")
       SELECT "PRACTICE" AS practice, count(*) AS n FROM latest
       WHERE "REG_DATE" <= DATE '2021-03-15' AND (dereg IS NULL OR dereg > DATE '2021-03-15')
       GROUP BY "PRACTICE" ORDER BY "PRACTICE"`,
    );
    const truth = new Map<string, number>();
    for (const r of truthRows(clean, 'registrations.csv')) {
      if (r.start_date! <= '2021-03-15' && (r.end_date === '' || r.end_date! > '2021-03-15'))
        truth.set(r.practice!, (truth.get(r.practice!) ?? 0) + 1);
    }
    expect(counted.map((c) => [c.practice, Number(c.n)])).toEqual([...truth.entries()].sort());
    const alive = clean.people.filter(
      (p) => p.birthDate <= '2021-03-15' && (p.deathDate === null || p.deathDate > '2021-03-15'),
    ).length;
    expect([...truth.values()].reduce((a, b) => a + b, 0)).toBe(alive);
  });

  it('quarantines each injected code, date and mandatory-field defect at its line and field, and flags duplicates', async () => {
    const loads = new Map(
      (
        await other.query<{ load_id: string; org_code: string; dataset_id: string; period: string }>(
          "SELECT load_id, org_code, dataset_id, period FROM loads WHERE status = 'loaded'",
        )
      ).map((l) => [`feeds/${l.org_code}/${l.dataset_id}/${l.period}.csv`, l.load_id]),
    );
    const quarantine = new Set(
      (
        await other.query<{ load_id: string; source_line: number | string; field: string | null }>(
          'SELECT load_id, source_line, field FROM load_quarantine',
        )
      ).map((q) => `${q.load_id}#${Number(q.source_line)}#${q.field ?? ''}`),
    );
    const defects = truthRows(defective, 'defects.csv').filter((d) => GP.includes(d.file!.split('/')[2]!));
    const byKind = new Map<string, number>();
    let duplicates = 0;
    for (const d of defects) {
      byKind.set(d.kind!, (byKind.get(d.kind!) ?? 0) + 1);
      const load = loads.get(d.file!);
      expect(load, d.file).toBeDefined();
      if (d.kind === 'duplicate-row') {
        duplicates++;
        continue;
      }
      // A direct identifier left empty is flagged by the agent's derived field instead.
      const field =
        d.field === 'DATE_OF_BIRTH' ? 'age_at_' : d.field === 'POSTCODE' ? 'lsoa_code' : (d.field ?? '');
      const hit = [...quarantine].some((q) => q.startsWith(`${load}#${d.line}#${field}`));
      expect(hit, `${d.kind} in ${d.field} at ${d.file} line ${d.line}`).toBe(true);
    }
    for (const kind of ['code-not-in-list', 'impossible-date', 'missing-mandatory', 'duplicate-row'])
      expect(byKind.get(kind) ?? 0, kind).toBeGreaterThan(3);
    const [dropped] = await other.query<{ n: number | string }>(
      "SELECT sum(rows_dropped) AS n FROM loads WHERE status = 'loaded' AND dataset_id LIKE 'gp-%'",
    );
    expect(Number(dropped?.n)).toBe(duplicates);
  });
});
