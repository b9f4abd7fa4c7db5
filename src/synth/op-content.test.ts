/**
 * The synthetic world's OP 1.1.0 content (issue 18): diagnoses follow the person's modelled
 * conditions, procedures come only from clinics that do them, attended appointments are
 * priced under their HRG and tariff year, and appointments not attended are not.
 */
import { describe, expect, it } from 'vitest';
import { getDataset } from '../catalogue/catalogue.ts';
import { personMonth } from './activity-model.ts';
import { opRow, tariffYear } from './feed-rows.ts';
import {
  conditionCodesOn,
  OP_SECONDARY_DIAGNOSES,
  OP_SECONDARY_PROCEDURES,
  opAttended,
} from './op-content.ts';
import { formatDay } from './synth-dates.ts';
import { buildWorld } from './world.ts';

describe("the synthetic world's outpatient coding (OP 1.1.0)", () => {
  const world = buildWorld({
    people: 3000,
    seed: 5,
    from: { year: 2023, month: 1 },
    to: { year: 2023, month: 6 },
  });
  const rows: {
    person: number;
    day: number;
    attended: boolean;
    tf: string;
    values: Record<string, string>;
  }[] = [];
  for (let person = 0; person < world.population.count; person++) {
    world.months.forEach((month, i) => {
      for (const event of personMonth(world, person, month, i)) {
        if (event.kind !== 'op') continue;
        rows.push({
          person,
          day: event.day,
          attended: opAttended(event.status),
          tf: event.treatmentFunction,
          values: opRow(world, person, event),
        });
      }
    });
  }
  const attended = rows.filter((r) => r.attended);
  const diagnoses = (v: Record<string, string>): string[] =>
    [
      v['Primary_Diagnosis_ICD'] ?? '',
      ...Array.from(
        { length: OP_SECONDARY_DIAGNOSES },
        (_, k) => v[`Secondary_Diagnosis_ICD_${k + 1}`] ?? '',
      ),
    ].filter(Boolean);

  it('has the positions the specification carries', () => {
    const names = new Set(getDataset('op').fields.map((f) => f.name));
    expect(names.has(`Secondary_Diagnosis_ICD_${OP_SECONDARY_DIAGNOSES}`)).toBe(true);
    expect(names.has(`Secondary_Diagnosis_ICD_${OP_SECONDARY_DIAGNOSES + 1}`)).toBe(false);
    expect(names.has(`Secondary_Procedure_OPCS_${OP_SECONDARY_PROCEDURES}`)).toBe(true);
    expect(names.has(`Secondary_Procedure_OPCS_${OP_SECONDARY_PROCEDURES + 1}`)).toBe(false);
  });

  it('codes a share of attended appointments, each condition code one the person has that day', () => {
    expect(attended.length).toBeGreaterThan(500);
    const coded = attended.filter((r) => diagnoses(r.values).length > 0);
    expect(coded.length / attended.length).toBeGreaterThan(0.12);
    expect(coded.length / attended.length).toBeLessThan(0.3);
    let withCondition = 0;
    for (const r of coded) {
      const has = new Set(conditionCodesOn(world, r.person, r.day).values());
      const codes = diagnoses(r.values);
      // every code after the primary is one of the person's conditions, none repeated
      for (const code of codes.slice(1)) expect(has.has(code)).toBe(true);
      expect(new Set(codes).size).toBe(codes.length);
      // and every condition the person has is coded
      for (const code of has) expect(codes).toContain(code);
      if (has.size > 0) withCondition++;
    }
    expect(withCondition).toBeGreaterThan(0);
    // an appointment not attended carries no coding and no price
    for (const r of rows.filter((x) => !x.attended)) {
      expect(diagnoses(r.values)).toEqual([]);
      expect(r.values['Core_HRG'] ?? '').toBe('');
      expect(r.values['Tariff_Total_Payment'] ?? '').toBe('');
    }
  });

  it('records procedures only in clinics that do them, with their laterality and a procedure HRG', () => {
    const done = attended.filter((r) => r.values['Primary_Procedure_OPCS']);
    expect(done.length).toBeGreaterThan(0);
    for (const r of done) {
      expect(['101', '330', '502']).toContain(r.tf);
      expect(r.values['Core_HRG']).not.toMatch(/^WF/);
      expect(r.values['Operation_Status']).toBe('1');
    }
    expect(done.some((r) => r.values['Secondary_Procedure_OPCS_1'] === 'Z942')).toBe(true);
  });

  it('prices every attended appointment under its HRG and the financial year of its date', () => {
    for (const r of attended) {
      expect(r.values['Core_HRG']).toMatch(/^[A-Z]{2}[0-9]{2}[A-Z]$/);
      expect(r.values['Tariff_Year']).toBe(tariffYear(r.day));
      expect(Number(r.values['Tariff_Total_Payment'])).toBeGreaterThan(0);
    }
    const january = attended.find((r) => formatDay(r.day) < '2023-04-01');
    expect(january?.values['Tariff_Year']).toBe('2022/23');
    expect(attended.some((r) => r.values['Core_HRG']?.startsWith('WF02'))).toBe(true);
    expect(attended.some((r) => r.values['Multi_Professional_Or_Multi_Disciplinary_Indicator'] === '2')).toBe(
      true,
    );
  });

  it("names the GP practice as the referrer of a GP referral and the trust of a consultant's", () => {
    const sources = new Set(rows.map((r) => r.values['Source_Of_Referral']));
    expect(sources.has('03') && sources.has('05')).toBe(true);
    for (const r of rows) {
      const source = r.values['Source_Of_Referral'];
      if (source === '03') expect(r.values['Referring_Organisation_Code']).toBe(r.values['GP_Practice_Code']);
      if (source === '05') expect(r.values['Referring_Organisation_Code']).toBe(r.values['Provider_Code']);
    }
  });
});
