import { describe, expect, it } from 'vitest';
import {
  datasetsOf,
  describeDefinition,
  emergencyAdmissionMethods,
  kidFieldsOf,
  parseDefinition,
  SEGMENT_BANDS,
  windowStart,
} from './cohort-definition.ts';
import { controlCohortTables, type CohortTables } from './cohort-counts.ts';

describe('a cohort definition', () => {
  it('defaults to everyone, and is checked against the condition register', () => {
    expect(describeDefinition(parseDefinition({}))).toEqual(['Everyone in the population on the day']);
    expect(() => parseDefinition({ conditions: ['gout'] })).toThrow(/no condition "gout"/);
    expect(() => parseDefinition({ ageFrom: 70, ageTo: 60 })).toThrow(/ends \(60\) before it starts \(70\)/);
    expect(() => parseDefinition({ frailty: 'moderate' })).toThrow(/not valid/);
    expect(() => parseDefinition({ imdDeciles: [11] })).toThrow(/not valid/);
  });

  it('keeps one canonical form: lists sorted and without repeats, practice codes upper case', () => {
    const d = parseDefinition({
      conditions: ['hypertension', 'diabetes', 'diabetes'],
      sexes: ['male', 'female'],
      imdDeciles: [3, 1, 3],
      practices: ['g82001', 'A81001'],
      pcns: ['u99002', 'U99001', 'U99002'],
    });
    expect(d).toMatchObject({
      conditions: ['diabetes', 'hypertension'],
      sexes: ['female', 'male'],
      imdDeciles: [1, 3],
      practices: ['A81001', 'G82001'],
      pcns: ['U99001', 'U99002'],
      admissionMonths: 12,
    });
    expect(describeDefinition(d)).toContain('Registered in primary care network: U99001, U99002');
    expect(parseDefinition(JSON.parse(JSON.stringify(d)))).toEqual(d);
  });

  it('names the datasets it needs: only those its criteria read', () => {
    expect(datasetsOf(parseDefinition({ ageFrom: 65 }))).toEqual(['pmi']);
    expect(kidFieldsOf(parseDefinition({ minConditions: 2 }))).toContain('conditions');
    expect(datasetsOf(parseDefinition({ minConditions: 2 }))).toEqual(['gp-events', 'pmi']);
    expect(datasetsOf(parseDefinition({ imdDeciles: [1] }))).toEqual(['asc', 'pmi']);
    expect(datasetsOf(parseDefinition({ emergencyAdmissions: 2 }))).toEqual(['apc', 'pmi']);
  });

  it('reads the emergency admission methods from the catalogue: 21–25, 2A–2D and the legacy 28', () => {
    expect(emergencyAdmissionMethods().sort()).toEqual(
      ['21', '22', '23', '24', '25', '28', '2A', '2B', '2C', '2D'].sort(),
    );
  });

  it('counts admissions over whole months, clamped to a shorter month’s end', () => {
    expect(windowStart('2020-05-31', 12)).toBe('2019-05-31');
    expect(windowStart('2020-03-31', 1)).toBe('2020-02-29');
    expect(windowStart('2021-03-31', 1)).toBe('2021-02-28');
    expect(windowStart('2020-01-15', 3)).toBe('2019-10-15');
  });

  it('says itself in plain English', () => {
    expect(
      describeDefinition(
        parseDefinition({
          conditions: ['copd', 'asthma'],
          conditionsMatch: 'any',
          ageFrom: 65,
          sexes: ['female'],
          emergencyAdmissions: 2,
        }),
      ),
    ).toEqual([
      'Has any of: Asthma, Chronic obstructive pulmonary disease',
      'Aged 65 or over',
      'Sex: Female',
      '2 or more emergency admissions in the 12 months to the day',
    ]);
  });
});

describe('a cohort’s published counts', () => {
  // Hand-made: practice P2 has 3 women, a small count; its row, its column and the age band
  // table (which shares the sex totals) must not give it away.
  const tables: CohortTables = {
    population: 5000,
    byPractice: {
      name: 'by-practice',
      rowDimension: 'practice',
      columnDimension: 'sex',
      rowKeys: ['P1', 'P2', 'P3'],
      columnKeys: ['female', 'male', 'other'],
      counts: [
        [120, 110, 0],
        [3, 40, 0],
        [60, 75, 0],
      ],
    },
    bySegment: {
      name: 'by-segment',
      rowDimension: 'age band',
      columnDimension: 'sex',
      rowKeys: [...SEGMENT_BANDS],
      columnKeys: ['female', 'male', 'other'],
      counts: [
        [20, 25, 0],
        [30, 30, 0],
        [50, 60, 0],
        [40, 50, 0],
        [33, 40, 0],
        [10, 20, 0],
        [0, 0, 0],
      ],
    },
  };

  it('shows a small count as *, rounds the rest to 5, and suppresses a second figure in its row and column', () => {
    const published = controlCohortTables(tables);
    const p2 = published.byPractice.cells[1] ?? [];
    expect(p2[0]).toBe('*');
    expect([...p2, published.byPractice.rowTotals[1]].filter((v) => v === '*').length).toBeGreaterThanOrEqual(
      2,
    );
    const female = [...published.byPractice.cells.map((r) => r[0]), published.byPractice.columnTotals[0]];
    expect(female.filter((v) => v === '*').length).toBeGreaterThanOrEqual(2);
    const figures = [published.byPractice, published.bySegment].flatMap((t) => [
      ...t.cells.flat(),
      ...t.rowTotals,
      ...t.columnTotals,
      t.grandTotal,
    ]);
    expect(figures.every((v) => v === '*' || v % 5 === 0)).toBe(true);
    expect(published.secondarySuppressions).toBeGreaterThan(0);
    expect(published.population).toBe(5000);
    expect(published.people).toBe(410);
  });

  it('publishes an empty cohort as zeros', () => {
    const empty = controlCohortTables({
      population: 12,
      byPractice: { ...tables.byPractice, rowKeys: [], counts: [] },
      bySegment: { ...tables.bySegment, counts: tables.bySegment.counts.map((r) => r.map(() => 0)) },
    });
    expect(empty.people).toBe(0);
    expect(empty.byPractice.rowKeys).toEqual([]);
    expect(empty.population).toBe(10);
  });
});
