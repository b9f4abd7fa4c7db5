/**
 * MHSDS (KMPT) and CSDS (KCHFT) through the real path on both engines (issue 18): a small
 * synthetic world's feeds, de-identified by each trust's agent and loaded, held to the truth
 * (who gets referred, and every contact in truth/care-contacts.csv loaded once); then each
 * dataset's rules: a contact before its referral, a discharge before its admission, a ward stay
 * before its spell, a code not in its list and a date that does not exist are quarantined with
 * their line, rule and field.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import type { Store } from '../store/store.ts';
import { makeKidWorld, openWorldForSuite, type KidWorld } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { hasSeriousMentalIllness } from './mh-community-feeds.ts';
import { csvLine } from '../files/csv-file-writer.ts';

const MHSDS = ['mhsds-referral', 'mhsds-care-contact', 'mhsds-hospital-spell', 'mhsds-ward-stay'];
const CSDS = ['csds-referral', 'csds-care-contact', 'csds-care-activity'];
const DATASETS = [...MHSDS, ...CSDS];
/** the month whose files get the hand-made bad rows; the earlier months load clean */
const BROKEN_MONTH = '2021-06';

let world: KidWorld;
function feedFile(dataset: string, period: string): string {
  const org = dataset.startsWith('mhsds') ? 'RXY' : 'RYY';
  return path.join(world.dir, 'world', 'feeds', org, dataset, `${period}.csv`);
}

function readFeed(file: string): { header: string[]; rows: string[][] } {
  const [header = [], ...rows] = parseCsv(readFileSync(file, 'utf8')).filter((r) => r.length > 1);
  return { header, rows };
}

/** Every row of a dataset's files, as records. */
function rowsOf(dataset: string): Record<string, string>[] {
  const org = dataset.startsWith('mhsds') ? 'RXY' : 'RYY';
  const dir = path.join(world.dir, 'world', 'feeds', org, dataset);
  return readdirSync(dir).flatMap((name) => {
    const { header, rows } = readFeed(path.join(dir, name));
    return rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i] ?? ''])));
  });
}

/**
 * The broken month's file of `dataset`, rewritten: three rows made from its first row (or, for a
 * month with no admissions, from a referral's patient fields), row 2 broken by `breakRow`.
 * Returns the bad line (a file's line 1 is its header).
 */
function breakFeed(dataset: string, breakRow: (set: (field: string, value: string) => void) => void): number {
  const file = feedFile(dataset, BROKEN_MONTH);
  const { header } = readFeed(file);
  const source =
    rowsOf(dataset)[0] ?? rowsOf(dataset.startsWith('mhsds') ? 'mhsds-referral' : 'csds-referral')[0];
  const good: Record<string, string> = {
    ...source,
    HospProvSpellID: 'RXYS00000000001',
    ServiceRequestId: source?.ServiceRequestId ?? 'RXYR00000000001',
    ReferralRequestReceivedDate: '2021-06-01',
    CareContDate: '2021-06-05',
    StartDateHospProvSpell: '2021-06-03',
    DischDateHospProvSpell: '2021-06-20',
    SourceAdmMHHospProvSpell: '19',
    MethAdmMHHospProvSpell: '21',
    DestOfDischHospProvSpell: '19',
    WardStayId: 'RXYS00000000001W1',
    StartDateWardStay: '2021-06-03',
    EndDateWardStay: '2021-06-20',
    WardCode: 'AMH01',
    WardSecLevel: '0',
  };
  const rows = [1, 2, 3].map((n) => {
    const row = { ...good };
    for (const key of [
      'HospProvSpellID',
      'WardStayId',
      'CareContactId',
      'CareActIdentifier',
      'ServiceRequestId',
    ])
      if (row[key]) row[key] = `${row[key]}${n}`.slice(-20);
    if (n === 2) breakRow((field, value) => (row[field] = value));
    return header.map((h) => row[h] ?? '');
  });
  writeFileSync(file, [header, ...rows].map(csvLine).join(''));
  return 3;
}

const broken: Record<string, { line: number; rule: string; field: string }> = {};

beforeAll(async () => {
  world = await makeKidWorld({
    people: 4000,
    from: '2021-01',
    to: BROKEN_MONTH,
    datasets: DATASETS,
    defects: 'none',
  });
  const expect = (
    dataset: string,
    rule: string,
    field: string,
    change: (set: (f: string, v: string) => void) => void,
  ) => (broken[dataset] = { line: breakFeed(dataset, change), rule, field });
  expect('mhsds-referral', 'code', 'SourceOfReferralMH', (set) => set('SourceOfReferralMH', 'Z9'));
  expect('mhsds-care-contact', 'date-order', 'CareContDate', (set) => {
    set('ReferralRequestReceivedDate', '2021-06-10');
    set('CareContDate', '2021-06-02');
  });
  expect('mhsds-hospital-spell', 'date-order', 'DischDateHospProvSpell', (set) =>
    set('DischDateHospProvSpell', '2021-06-01'),
  );
  expect('mhsds-ward-stay', 'date-order', 'StartDateWardStay', (set) =>
    set('StartDateWardStay', '2021-06-01'),
  );
  expect('csds-referral', 'type', 'ReferralRequestReceivedDate', (set) =>
    set('ReferralRequestReceivedDate', '2021-06-31'),
  );
  expect('csds-care-contact', 'code', 'AttendOrDNACode', (set) => set('AttendOrDNACode', '9'));
  expect('csds-care-activity', 'code', 'CodedProcedureSnomed', (set) => set('CodedProcedureSnomed', 'wound'));
}, 180_000);

describe('the synthetic MHSDS and CSDS feeds', () => {
  it('refer people with serious mental illness or dementia to KMPT, and frail people of 65 and over to KCHFT', () => {
    const has = (p: number, condition: string, day: string): boolean => {
      const person = world.people[p];
      return (
        !!person &&
        (person.conditionsAtStart.includes(condition) ||
          (person.incident === condition && (person.incidentDate ?? '9999') <= day))
      );
    };
    const referrals = world.records.filter((r) => r.dataset.endsWith('-referral') && r.period < BROKEN_MONTH);
    const mh = referrals.filter((r) => r.dataset === 'mhsds-referral');
    const community = referrals.filter((r) => r.dataset === 'csds-referral');
    expect(mh.length).toBeGreaterThan(5);
    expect(community.length).toBeGreaterThan(5);
    for (const r of mh) {
      const day = `${r.period}-31`;
      expect(
        hasSeriousMentalIllness(13, r.person ?? -1) || has(r.person ?? -1, 'dementia', day),
        `person ${r.person}`,
      ).toBe(true);
    }
    for (const r of community) {
      const person = world.people[r.person ?? -1];
      expect(has(r.person ?? -1, 'frailty', `${r.period}-31`)).toBe(true);
      expect(Number(r.period.slice(0, 4)) - Number(person?.birthDate.slice(0, 4))).toBeGreaterThanOrEqual(65);
    }
  });

  it('writes each contact after its referral, each activity under its contact, each ward stay inside its spell', () => {
    const referralDay = new Map(
      rowsOf('csds-referral').map((r) => [r.ServiceRequestId, r.ReferralRequestReceivedDate]),
    );
    const contacts = rowsOf('csds-care-contact').filter((c) => !c.CareContDate?.startsWith(BROKEN_MONTH));
    for (const c of contacts) {
      expect((c.CareContDate ?? '') > (c.ReferralRequestReceivedDate ?? '')).toBe(true);
      // a referral of an earlier month than the window's first has its row in the feed
      expect(referralDay.get(c.ServiceRequestId)).toBe(c.ReferralRequestReceivedDate);
    }
    const contactIds = new Set(rowsOf('csds-care-contact').map((c) => c.CareContactId));
    for (const a of rowsOf('csds-care-activity').filter((x) => !x.CareContDate?.startsWith(BROKEN_MONTH)))
      expect(contactIds.has(a.CareContactId)).toBe(true);
  });
});

describe.each(testStores())('MHSDS and CSDS loaded on $engine (issue 18)', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world });

  it('loads every contact of the truth once, as the person it is about', async () => {
    const truth = readFeed(path.join(world.dir, 'world', 'truth', 'care-contacts.csv'));
    const at = (name: string): number => truth.header.indexOf(name);
    const expected = truth.rows.filter((r) => !(r[at('contact_date')] ?? '').startsWith(BROKEN_MONTH));
    for (const dataset of ['mhsds-care-contact', 'csds-care-contact']) {
      const table = `ds_${dataset.replace(/-/g, '_')}`;
      const loaded = await store.query<{ id: string; person_token: string }>(
        `SELECT "CareContactId" AS id, person_token FROM ${table} WHERE "CareContDate" < DATE '${BROKEN_MONTH}-01'`,
      );
      const mine = expected.filter((r) => r[at('dataset')] === dataset);
      expect(mine.length).toBeGreaterThan(10);
      expect(loaded.length).toBe(mine.length);
      const byId = new Map(loaded.map((r) => [r.id, r.person_token]));
      for (const r of mine)
        expect(byId.get(r[at('contact_id')] ?? '')).toBe(world.people[Number(r[at('person_id')])]?.token);
    }
  });

  it.each(DATASETS)(
    'quarantines the bad row of %s with its line, rule and field, and loads the others',
    async (dataset) => {
      const want = broken[dataset];
      const org = dataset.startsWith('mhsds') ? 'RXY' : 'RYY';
      const rows = await store.query<{ source_line: number | string; rule: string; field: string | null }>(
        `SELECT q.source_line, q.rule, q.field FROM load_quarantine q JOIN loads l ON l.load_id = q.load_id
        WHERE l.org_code = $1 AND l.dataset_id = $2 AND l.period = $3`,
        [org, dataset, BROKEN_MONTH],
      );
      expect(rows.map((r) => ({ line: Number(r.source_line), rule: r.rule, field: r.field }))).toEqual([
        want,
      ]);
      const clean = await store.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM load_quarantine q JOIN loads l ON l.load_id = q.load_id
        WHERE l.org_code = $1 AND l.dataset_id = $2 AND l.period < $3`,
        [org, dataset, BROKEN_MONTH],
      );
      expect(Number(clean[0]?.n)).toBe(0);
    },
  );
});
