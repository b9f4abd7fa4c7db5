/**
 * The profile a load stores (with the parts its scan tallied, where it copies screened rows)
 * is the profile SQL makes from the rows loaded, on both engines: here with repeated unique
 * keys, a key field left empty, rows repeated whole (held back and loaded after the scan) and
 * padded values.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogueSpecs } from '../ingest/catalogue-specs.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { apcFeed, prepareForApc } from '../../test/kill-load.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { profileLoad } from './load-profile.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-tally-'));
const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function spoil(extract: string): void {
  const [header = [], ...rows] = parseCsv(readFileSync(extract, 'utf8')).filter((r) => r.length > 1);
  const at = (name: string): number => header.indexOf(name);
  for (const [i, row] of rows.entries()) {
    if (i % 7 === 0) row[at('Ethnic_Category')] = '';
    if (i % 11 === 0) row[at('Admission_Method')] = ` ${row[at('Admission_Method')]} `;
    if (i < 3) row[at('Admission_Date')] = '2023-01-01'; // stays of over a year
    if (i >= 10 && i < 14) {
      row[at('Hospital_Provider_Spell_Number')] = rows[30]?.[at('Hospital_Provider_Spell_Number')] ?? '';
      row[at('Episode_Number')] = rows[30]?.[at('Episode_Number')] ?? '';
    }
  }
  rows.push([...(rows[40] as string[])], [...(rows[41] as string[])]);
  writeFileSync(extract, [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n');
}

const feed = apcFeed(dir, 'apc-2025-05', 300, '2025-05', 5, undefined, spoil);

describe.each(testStores())('a load’s profile on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('is the profile SQL makes from the rows loaded', async () => {
    const file = await feed;
    await prepareForApc(store, dir);
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    expect(report.status).toBe('loaded');
    const [row] = await store.query<{ profile: string }>(
      'SELECT profile FROM load_profiles WHERE load_id = $1',
      [report.loadId],
    );
    const stored = JSON.parse(row?.profile ?? '{}') as Record<string, unknown>;
    const again = await profileLoad(store, {
      plan: deidPlan(catalogueSpecs.spec('apc')),
      table: 'ds_apc',
      loadId: report.loadId as string,
      rowsRead: report.rowsRead,
      rowsKept: Number(stored.rowsKept),
      rowsLoaded: report.rowsLoaded,
      findings: report.findings,
      completeness: [],
    });
    expect(stored.duplicates).toEqual(again.duplicates);
    expect(stored.top).toEqual(again.top);
    expect(stored.ranges).toEqual(again.ranges);
    expect(stored.implausible).toEqual(again.implausible);
    expect(stored.duplicates).toEqual({ episode: 4 });
    expect(report.findings.find((f) => f.rule === 'duplicate')?.count).toBe(2);
  });
});
