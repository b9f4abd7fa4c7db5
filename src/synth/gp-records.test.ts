/**
 * The synthetic world's GP registrations and medications (issue 18) agree with its truth:
 * registrations with the people's addresses, practices, moves and deaths (truth/people.csv,
 * truth/addresses.csv); medications with the people's conditions. Read from the feed files
 * alone, each line's person found through truth/records.csv.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import { NO_DEFECTS } from './defects.ts';
import { generateWorld } from './generate-world.ts';
import { GP_MEDICINES } from './gp-records.ts';
import { listWorldFeeds } from './world-feeds.ts';

type Row = Record<string, string>;

function csv(file: string): Row[] {
  const [header = [], ...rows] = parseCsv(readFileSync(file, 'utf8'));
  return rows
    .filter((r) => r.length > 1)
    .map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

const nextDay = (day: string): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

let dir: string;
let people: Map<string, Row>;
let addressesOf: Map<string, Row[]>;
/** every row of a dataset's feeds, with the file, line and person (truth's person_id) */
let rowsOf: (dataset: string) => (Row & { $file: string; $person: string })[];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-gp-records-'));
  generateWorld({
    out: dir,
    people: 1500,
    seed: 5,
    from: '2021-01',
    to: '2021-04',
    defectRates: NO_DEFECTS,
  });
  people = new Map(csv(path.join(dir, 'truth', 'people.csv')).map((p) => [p.person_id ?? '', p]));
  addressesOf = new Map();
  for (const a of csv(path.join(dir, 'truth', 'addresses.csv'))) {
    const list = addressesOf.get(a.household_id ?? '') ?? [];
    list.push(a);
    addressesOf.set(a.household_id ?? '', list);
  }
  const subject = new Map(
    csv(path.join(dir, 'truth', 'records.csv')).map((r) => [`${r.file}#${r.line}`, r.subject_id ?? '']),
  );
  rowsOf = (dataset) =>
    listWorldFeeds(dir, [dataset]).flatMap((feed) => {
      const relative = path.relative(dir, feed.file).split(path.sep).join('/');
      return csv(feed.file).map((row, i) => ({
        ...row,
        $file: relative,
        $person: subject.get(`${relative}#${i + 2}`) ?? '',
      }));
    });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The practice of the address a person's household lived at on a day, by the truth. */
function practiceOn(person: string, day: string): string | undefined {
  const household = people.get(person)?.household_id ?? '';
  return addressesOf
    .get(household)
    ?.find((a) => (a.from_date ?? '') <= day && (a.to_date === '' || (a.to_date ?? '') >= day))?.practice;
}

describe('GP registrations in the synthetic world', () => {
  it('registers each person at the practice of their address, ending with a move to another practice or death', () => {
    const rows = rowsOf('gp-registrations');
    expect(rows.length).toBeGreaterThan(1000);
    const reasons = new Set<string>();
    for (const row of rows) {
      const person = people.get(row.$person);
      expect(person, row.$file).toBeDefined();
      expect(row.NHS_NUMBER).toBe(person?.nhs_number);
      expect(row.REG_DATE! >= person!.birth_date!).toBe(true);
      expect(row.PRACTICE).toBe(practiceOn(row.$person, row.REG_DATE!));
      expect(row.$file.split('/')[1]).toBe(row.PRACTICE);
      expect(row.REPORTING_PERIOD_END_DATE!.slice(0, 7)).toBe(row.$file.slice(-11, -4));
      if (row.DEREG_DATE === '') continue;
      reasons.add(row.DEREG_REASON!);
      expect(row.DEREG_DATE! > row.REG_DATE!).toBe(true);
      if (row.DEREG_REASON === 'DEATH') expect(row.DEREG_DATE).toBe(person?.death_date);
      else {
        expect(row.DEREG_REASON).toBe('TRANSFER');
        // registered elsewhere from the day the household moved in to an address with another practice
        expect(practiceOn(row.$person, row.DEREG_DATE!)).not.toBe(row.PRACTICE);
        expect(practiceOn(row.$person, row.DEREG_DATE!)).toBeDefined();
      }
    }
    expect([...reasons].sort()).toEqual(['DEATH', 'TRANSFER']);
  });

  it('gives everyone alive on any day exactly one registration (the list-size denominator)', () => {
    // The latest row of each registration holds: an end is sent in the month it happens.
    const latest = new Map<string, Row & { $person: string }>();
    for (const row of rowsOf('gp-registrations'))
      latest.set(`${row.$person}|${row.PRACTICE}|${row.REG_DATE}`, row);
    for (const day of ['2021-01-01', '2021-02-14', '2021-04-30']) {
      const registered = new Map<string, number>();
      for (const r of latest.values())
        if (r.REG_DATE! <= day && (r.DEREG_DATE === '' || r.DEREG_DATE! > day))
          registered.set(r.$person, (registered.get(r.$person) ?? 0) + 1);
      const alive = [...people.values()].filter(
        (p) => p.birth_date! <= day && (p.death_date === '' || p.death_date! > day),
      );
      expect(alive.length).toBeGreaterThan(1000);
      for (const p of alive) expect(registered.get(p.person_id!), `${p.person_id} on ${day}`).toBe(1);
      expect(registered.size).toBe(alive.length);
    }
  });

  it("holds the truth's registrations (truth/registrations.csv) as the feeds carry them", () => {
    const truth = csv(path.join(dir, 'truth', 'registrations.csv'));
    const fed = new Set(rowsOf('gp-registrations').map((r) => `${r.$person}|${r.PRACTICE}|${r.REG_DATE}`));
    // every registration current at some point in the window is in the feeds
    for (const t of truth) {
      const inWindow = t.end_date === '' || t.end_date! >= '2021-01-01';
      if (inWindow && t.start_date! <= '2021-04-30')
        expect(fed.has(`${t.person_id}|${t.practice}|${t.start_date}`)).toBe(true);
      if (t.end_date !== '') expect(nextDay(t.start_date!) <= t.end_date!).toBe(true);
    }
  });
});

describe('GP medications in the synthetic world', () => {
  const conditionOf = new Map(
    Object.entries(GP_MEDICINES.repeats).map(([condition, medicine]) => [
      `${medicine.code}|${medicine.quantity}`,
      condition,
    ]),
  );
  const holds = (person: Row, condition: string, day: string): boolean =>
    (person.conditions_at_start ?? '').split(';').includes(condition) ||
    (person.incident_condition === condition && (person.incident_date ?? '') <= day);

  it('issues repeats only for a condition the person holds on the day, from their practice then', () => {
    const rows = rowsOf('gp-medications');
    expect(rows.length).toBeGreaterThan(500);
    let repeats = 0;
    for (const row of rows) {
      const person = people.get(row.$person)!;
      expect(row.PRACTICE).toBe(practiceOn(row.$person, row.ISSUE_DATE!));
      expect(row.ISSUE_DATE! >= person.birth_date!).toBe(true);
      if (person.death_date) expect(row.ISSUE_DATE! < person.death_date).toBe(true);
      if (row.ISSUE_TYPE !== 'R') continue;
      repeats++;
      const condition = conditionOf.get(`${row.DMD_CODE}|${row.QUANTITY}`);
      expect(condition, row.DMD_CODE).toBeDefined();
      expect(holds(person, condition!, row.ISSUE_DATE!), `${row.$person} ${condition}`).toBe(true);
    }
    expect(repeats).toBeGreaterThan(rows.length / 2);
  });

  it('gives everyone with diabetes throughout the window metformin at least once every twelve weeks', () => {
    const metformin = GP_MEDICINES.repeats.diabetes!.code;
    const issued = new Set(
      rowsOf('gp-medications')
        .filter((r) => r.DMD_CODE === metformin)
        .map((r) => r.$person),
    );
    const diabetic = [...people.values()].filter(
      (p) =>
        (p.conditions_at_start ?? '').split(';').includes('diabetes') &&
        p.birth_date! < '2021-01-01' &&
        (p.death_date === '' || p.death_date! > '2021-04-30'),
    );
    expect(diabetic.length).toBeGreaterThan(20);
    for (const p of diabetic) expect(issued.has(p.person_id!), p.person_id).toBe(true);
  });
});
