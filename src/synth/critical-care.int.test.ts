/**
 * Issue 18, critical care periods (`apc-critical-care`) through the real path on both
 * engines: a synthetic world's acute trusts send their APC episodes and critical care
 * periods, each organisation's agent de-identifies them, and both load clean, every period
 * joined to a spell in `ds_apc`. Then hand-made rows: a period ending before it starts, level 3
 * days longer than the period, a unit function not in the Data Dictionary's list, a period
 * starting before its spell's admission.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import type { Store } from '../store/store.ts';
import { kidWorldForFile, openWorldForSuite, sendHandMadeRows } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';

const DATASETS = ['apc', 'apc-critical-care'] as const;

const world = kidWorldForFile({
  people: 6000,
  from: '2021-01',
  to: '2021-12',
  datasets: DATASETS,
  defects: 'none',
  timeout: 300_000,
});

describe.each(testStores())('critical care periods on $engine (issue 18)', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world });

  it('loads every period clean, each in a spell the same trust sent as APC', async () => {
    const sent = world.records.filter((r) => r.dataset === 'apc-critical-care');
    expect(sent.length).toBeGreaterThan(5);
    // every period is a person the truth knows
    expect(sent.every((r) => r.person !== null)).toBe(true);
    const quarantined = await store.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM load_quarantine q JOIN loads l ON l.load_id = q.load_id
        WHERE l.dataset_id IN ('apc', 'apc-critical-care')`,
    );
    expect(Number(quarantined[0]?.n)).toBe(0);
    const [periods] = await store.query<{
      n: number | string;
      joined: number | string;
      same_person: number | string;
      adults: number | string;
    }>(
      `SELECT count(*) AS n,
              count(s.spell) AS joined,
              sum(CASE WHEN s.person_token = c.person_token THEN 1 ELSE 0 END) AS same_person,
              sum(CASE WHEN c.age_at_critical_care_start >= 18 THEN 1 ELSE 0 END) AS adults
         FROM ds_apc_critical_care c
         LEFT JOIN (SELECT DISTINCT org_code, "Hospital_Provider_Spell_Number" AS spell, person_token FROM ds_apc) s
           ON s.org_code = c.org_code AND s.spell = c."Hospital_Provider_Spell_Number"`,
    );
    expect(Number(periods?.n)).toBe(sent.length);
    expect(Number(periods?.joined)).toBe(sent.length);
    expect(Number(periods?.same_person)).toBe(sent.length);
    expect(Number(periods?.adults)).toBe(sent.length);
    // the period's admission date is the spell's, and its start is not before it
    const [dates] = await store.query<{ wrong: number | string }>(
      `SELECT count(*) AS wrong FROM ds_apc_critical_care c JOIN ds_apc a
          ON a.org_code = c.org_code AND a."Hospital_Provider_Spell_Number" = c."Hospital_Provider_Spell_Number"
       WHERE a."Admission_Date" <> c."Admission_Date"`,
    );
    expect(Number(dates?.wrong)).toBe(0);
  });

  it('quarantines hand-made faults with their lines and fields', async () => {
    const source = world.records.find((r) => r.dataset === 'apc-critical-care');
    const org = source?.org ?? '';
    const period = source?.period ?? '';
    const file = path.join(world.dir, 'world', 'feeds', org, 'apc-critical-care', `${period}.csv`);
    const [header = [], first = []] = parseCsv(readFileSync(file, 'utf8')).filter((r) => r.length > 1);
    const at = (f: string): number => header.indexOf(f);
    const rows = Array.from({ length: 6 }, () => [...first]);
    const row = (i: number): string[] => rows[i] as string[];
    const start = first[at('Critical_Care_Start_Date_Time')] ?? '';
    row(0)[at('Critical_Care_Discharge_Date_Time')] = '2001-01-01T00:00:00';
    row(1)[at('Critical_Care_Level_3_Days')] = '400';
    row(2)[at('Critical_Care_Unit_Function')] = '55';
    row(3)[at('Admission_Date')] = `${start.slice(0, 4)}-12-31`.replace(/^(\d{4})/, (y) =>
      String(Number(y) + 1),
    );
    rows.forEach((r, i) => (r[at('Critical_Care_Local_Identifier')] = `T${i}`));
    const { report, quarantined } = await sendHandMadeRows(world, store, {
      org,
      dataset: 'apc-critical-care',
      name: `${engine.engine}-cc-faults`,
      rows: [header, ...rows],
    });
    expect(report.status).toBe('loaded');
    expect(quarantined).toEqual([
      { source_line: 2, rule: 'date-order', field: 'Critical_Care_Discharge_Date_Time' },
      { source_line: 3, rule: 'days-within', field: 'Critical_Care_Level_3_Days' },
      { source_line: 4, rule: 'code', field: 'Critical_Care_Unit_Function' },
      { source_line: 5, rule: 'date-order', field: 'Critical_Care_Start_Date_Time' },
    ]);
  });
});
