/**
 * The synthetic world's urgent care (issue 18) against its own truth: IC24's 111 and
 * out-of-hours cases (who each is about, the rate by age, untraced callers, dispositions and
 * the services they lead to) and ECDS 1.1's content (arrival modes from the current list,
 * department types, diagnoses, injuries, the ready-to-proceed time).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { codeSet } from '../catalogue/catalogue.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { NO_DEFECTS } from './defects.ts';
import { generateWorld } from './generate-world.ts';
import { OOH_CASES_PER_YEAR } from './ooh-cases.ts';
import { ageBand } from './synth-rates.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-urgent-care-'));
type Row = Record<string, string>;

function table(file: string): Row[] {
  const [header = [], ...rows] = parseCsv(readFileSync(file, 'utf8')).filter((r) => r.length > 1);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}
function feedRows(dataset: string): { file: string; line: number; row: Row }[] {
  const out: { file: string; line: number; row: Row }[] = [];
  for (const org of readdirSync(path.join(dir, 'feeds'))) {
    let names: string[] = [];
    try {
      names = readdirSync(path.join(dir, 'feeds', org, dataset));
    } catch {
      continue;
    }
    for (const name of names) {
      const file = `feeds/${org}/${dataset}/${name}`;
      table(path.join(dir, file)).forEach((row, i) => out.push({ file, line: i + 2, row }));
    }
  }
  return out;
}

let people: Map<string, Row>;
let records: Map<string, Row>;
beforeAll(() => {
  generateWorld({
    out: dir,
    people: 6000,
    seed: 5,
    from: '2019-04',
    to: '2019-09',
    defectRates: NO_DEFECTS,
  });
  people = new Map(table(path.join(dir, 'truth', 'people.csv')).map((r) => [r.person_id ?? '', r]));
  records = new Map(table(path.join(dir, 'truth', 'records.csv')).map((r) => [`${r.file}#${r.line}`, r]));
}, 120_000);

describe("IC24's 111 and out-of-hours cases", () => {
  it('are each about the person truth names, traced or not as truth says, at about 0.33 a person a year', () => {
    const cases = feedRows('ooh-cases');
    expect(new Set(cases.map((c) => c.file.split('/')[1]))).toEqual(new Set(['IC24']));
    let untraced = 0;
    let expected = 0;
    for (const { file, line, row } of cases) {
      const record = records.get(`${file}#${line}`);
      const person = people.get(record?.subject_id ?? '');
      expect(person, `${file}#${line}`).toBeDefined();
      if (record?.nhs_number_recorded === 'Y') expect(row.NHS_Number).toBe(person?.nhs_number);
      else {
        untraced++;
        expect(row.NHS_Number).toBe('');
        expect(row.NHS_Number_Status_Indicator_Code).toBe('03');
      }
      expect(row.Person_Birth_Date).toBe(person?.birth_date);
      expect(row.Provider_Code).toBe('IC24');
    }
    // the rate the world draws from, over the people alive at the start, for six months
    for (const person of people.values()) {
      if ((person.birth_date ?? '') > '2019-04-01') continue;
      const age = Math.floor(
        (Date.parse('2019-04-01') - Date.parse(person.birth_date ?? '')) / (365.25 * 86_400_000),
      );
      expected += (OOH_CASES_PER_YEAR[ageBand(age)] ?? 0) / 2;
    }
    expect(cases.length / expected).toBeGreaterThan(0.85);
    expect(cases.length / expected).toBeLessThan(1.15);
    expect(cases.length / 6000 / 0.5).toBeGreaterThan(0.25);
    expect(untraced / cases.length).toBeGreaterThan(0.02);
    expect(untraced / cases.length).toBeLessThan(0.09);
  });

  it('end with the service their disposition leads to, in time order', () => {
    const cases = feedRows('ooh-cases').map((c) => c.row);
    for (const c of cases) {
      const dx = c.Disposition_Code ?? '';
      if (['Dx01', 'Dx011', 'Dx012', 'Dx013'].includes(dx)) expect(c.Final_Service).toBe('AMBULANCE');
      if (dx === 'Dx02') expect(c.Final_Service).toBe('ED');
      if (dx === 'Dx17') expect(c.Final_Service).toBe('DENTAL');
      if (dx === '') expect(c.Final_Service).toBe('ENDED');
      if (/^Dx1[1-5]$/.test(dx)) expect(c.Clinician_Call_Back_Date_Time).not.toBe('');
      const site = c.Final_Service_Site_Code ?? '';
      expect([c.Final_Service, site !== '']).toEqual([
        c.Final_Service,
        ['ED', 'UTC', 'SDEC'].includes(c.Final_Service ?? ''),
      ]);
      const times = [
        c.Call_Date_Time,
        c.Disposition_Date_Time,
        c.Clinician_Call_Back_Date_Time,
        c.Case_Closed_Date_Time,
      ].filter(Boolean);
      expect([...times].sort()).toEqual(times);
    }
    const services = new Set(cases.map((c) => c.Final_Service));
    for (const s of ['AMBULANCE', 'ED', 'OOH-BASE', 'OWN-GP', 'SELF-CARE', 'PHARMACY'])
      expect(services).toContain(s);
    // most calls fall out of hours: evenings, nights and weekends
    const ooh = cases.filter((c) => {
      const when = new Date(`${c.Call_Date_Time}Z`);
      const minute = when.getUTCHours() * 60 + when.getUTCMinutes();
      return [0, 6].includes(when.getUTCDay()) || minute >= 18 * 60 + 30 || minute < 8 * 60;
    });
    expect(ooh.length / cases.length).toBeGreaterThan(0.5);
  });
});

describe('ECDS 1.1 content', () => {
  it('uses the current arrival mode list, admits only through the ED, and keeps times in order', () => {
    const modes = codeSet('ecds-arrival-mode');
    const rows = feedRows('ecds').map((r) => r.row);
    expect(rows.length).toBeGreaterThan(500);
    const types = new Map<string, number>();
    for (const r of rows) {
      expect(modes.has(r.EC_Arrival_Mode_SNOMED_CT ?? '')).toBe(true);
      types.set(r.EC_Department_Type ?? '', (types.get(r.EC_Department_Type ?? '') ?? 0) + 1);
      if (r.EC_Decision_To_Admit_Date_Time) expect(r.EC_Department_Type).toBe('01');
      expect(r.EC_Diagnosis_01).not.toBe('');
      expect(r.EC_Diagnosis_Qualifier_01).not.toBe('');
      expect(r.EC_Investigation_01).not.toBe('');
      expect(r.EC_Treatment_01).not.toBe('');
      const ready = r.Clinically_Ready_To_Proceed_Timestamp ?? '';
      if (ready) {
        expect(ready >= (r.EC_Arrival_Date_Time ?? '')).toBe(true);
        expect(ready <= (r.EC_Departure_Date_Time ?? '')).toBe(true);
      }
      if (r.EC_Injury_Date_Time) {
        expect(r.EC_Injury_Date_Time <= (r.EC_Arrival_Date_Time ?? '')).toBe(true);
        expect(r.EC_Injury_Intent_SNOMED_CT).not.toBe('');
      } else expect(r.EC_Injury_Intent_SNOMED_CT).toBe('');
      if (r.Person_Stated_Gender_Code === '1')
        expect(
          Object.entries(r).some(([k, v]) => k.startsWith('EC_Investigation_') && v === '167252002'),
        ).toBe(false);
      // positions fill from the first, with no gaps
      const filled = Array.from(
        { length: 12 },
        (_, i) => r[`EC_Diagnosis_${String(i + 1).padStart(2, '0')}`] !== '',
      );
      expect(filled.indexOf(false) === -1 || filled.slice(filled.indexOf(false)).every((f) => !f)).toBe(true);
    }
    expect([...types.keys()].sort()).toEqual(['01', '03', '05']);
    expect((types.get('01') ?? 0) / rows.length).toBeGreaterThan(0.7);
    // walk-ins come by own or public transport, not (as version 1.0 of the world had it) by police
    const police = rows.filter((r) => r.EC_Arrival_Mode_SNOMED_CT === '1048001000000106').length;
    expect(police / rows.length).toBeLessThan(0.05);
  });
});
