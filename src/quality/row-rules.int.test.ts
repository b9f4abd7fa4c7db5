/**
 * The rules with each typed value cast once (row-rules.ts, TypedValues), as the load's
 * validating insert reads them, against the rules as written, on both engines: the same
 * verdict for every check of every row, and the same stored values for the rows that pass.
 */
import { describe, expect, it } from 'vitest';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { quoteIdentifier as q, quoteLiteral } from '../store/sql.ts';
import type { Store } from '../store/store.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import { contentField, testCodeList, testSpec } from '../../test/test-spec.ts';
import {
  anyCheckFails,
  castValue,
  rowChecks,
  trimmedValue,
  typedColumns,
  typedValues,
  type RowCheck,
} from './row-rules.ts';

const field = contentField;

// A date in several rules, as the SUS APC's admission date is in 26.
const spec: DatasetSpec = testSpec(
  'typed-once-test',
  [
    field('age', 'integer', { minimum: 0, maximum: 115, required: true }),
    field('amount', 'decimal', { minimum: -10.5, maximum: 10.5 }),
    field('admitted', 'date'),
    field('procedure_on', 'date'),
    field('discharged', 'date'),
    field('stamp', 'datetime'),
    field('later_stamp', 'datetime'),
    field('unit_days', 'integer', { minimum: 0, maximum: 999 }),
    field('flag', 'boolean'),
    field('note', 'string', { maxLength: 4 }),
  ],
  {
    periodField: 'admitted',
    dateOrder: [
      { start: 'admitted', end: 'discharged' },
      { start: 'admitted', end: 'procedure_on' },
      { start: 'procedure_on', end: 'discharged' },
      { start: 'stamp', end: 'later_stamp' },
      { start: 'admitted', end: 'later_stamp' },
    ],
    daysWithin: [{ days: 'unit_days', start: 'stamp', end: 'later_stamp' }],
  },
);
const plan = deidPlan(spec);
const names = plan.columns.map((c) => c.name);

/** Each row's values by column; unnamed columns empty, `age` 40 unless given. */
const rows: Record<string, string>[] = [
  {},
  { age: '' },
  { age: '116' },
  { age: '-1' },
  { age: ' 7 ' },
  { age: '1.5' },
  { age: '99999999999999999999' },
  { amount: '10.5' },
  { amount: '10.6' },
  { amount: 'NaN' },
  { amount: 'Infinity' },
  { amount: '1e400' },
  { amount: 'x' },
  { admitted: '2024-02-29', procedure_on: '2024-03-01', discharged: '2024-03-02' },
  { admitted: '2023-02-29' },
  { admitted: '2025-4-01' },
  { admitted: '20250401' },
  { admitted: ' 2025-04-01 ', discharged: '2025-03-31' },
  { admitted: '2025-04-02', procedure_on: '2025-04-01', discharged: '2025-04-03' },
  { admitted: '2025-04-01', procedure_on: '2025-04-05', discharged: '2025-04-03' },
  { admitted: '2025-04-01', procedure_on: '2025-13-01', discharged: '2025-04-03' },
  { admitted: '2025-04-01', procedure_on: '', discharged: '2025-04-01' },
  { stamp: '2025-04-01T10:00:00', later_stamp: '2025-04-01T09:00:00' },
  { stamp: '2025-04-01T10:00:00', later_stamp: '2025-04-03T09:00:00', unit_days: '3' },
  { stamp: '2025-04-01T10:00:00', later_stamp: '2025-04-03T09:00:00', unit_days: '4' },
  { stamp: '2025-04-01T24:00:00', later_stamp: '2025-04-03T09:00:00', unit_days: '4' },
  { admitted: '2025-04-02', later_stamp: '2025-04-01T23:00:00' },
  { discharged: '2025-02-30' },
  { stamp: 'x', later_stamp: 'y' },
  { unit_days: '-1' },
  { flag: 'Y', note: 'abcd' },
  { flag: 'maybe', note: 'abcde' },
];

const csvRows = rows.map((r, i) => [
  String(i + 1),
  ...names.map((n) => (n === 'age' && r.age === undefined ? '40' : (r[n] ?? ''))),
]);

describe.each(testStores())('the rules with typed values cast once on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('reach the same verdict for every check and row, and store the same values', async () => {
    await store.exec(`CREATE TABLE typed_rows (${plan.accepted.map((c) => `${q(c)} VARCHAR`).join(', ')})`);
    await store.exec(
      `INSERT INTO typed_rows VALUES ${csvRows.map((r) => `(${r.map(quoteLiteral).join(', ')})`).join(', ')}`,
    );
    const lists = () => undefined;
    const plain = rowChecks(plan, lists, store.dialect);
    const typed = typedValues(plan);
    const once = rowChecks(plan, lists, store.dialect, typed);
    expect(once.map((c) => [c.rule, c.field])).toEqual(plain.map((c) => [c.rule, c.field]));
    // Every try-cast is in the typed columns, none left in the checks themselves.
    const tryCast = store.dialect.tryDate('x').split('(')[0] as string;
    expect(once.filter((c) => c.condition.includes(tryCast))).toEqual([]);
    expect(plain.some((c) => c.condition.includes(tryCast))).toBe(true);

    const trimmed = `(SELECT CAST(s.source_line AS BIGINT) AS line, ${names
      .map((c) => `${trimmedValue(c, 's.')} AS ${q(c)}`)
      .join(', ')} FROM typed_rows s)`;
    const withTyped = `(SELECT u.*, ${typedColumns(plan, typed, store.dialect, 'u.').join(', ')} FROM ${trimmed} u)`;
    const flags = (checks: typeof plain, from: string) =>
      store.query(
        `SELECT t.line${checks.map((c, k) => `, COALESCE(${c.condition}, FALSE) AS k${k}`).join('')} FROM ${from} t ORDER BY t.line`,
      );
    const expected = await flags(plain, trimmed);
    expect(await flags(once, withTyped)).toEqual(expected);
    // The rows that fail differ in what they fail, so the comparison says something.
    const failed = new Set(expected.flatMap((r) => plain.flatMap((_c, k) => (r[`k${k}`] ? [k] : []))));
    expect(failed.size).toBe(plain.length);

    // The insert's statement: the rows that pass, with their stored values, are the same
    // (on DuckDB with its optimizer on and filter pushdown off, as a large load runs it).
    const passing = async (
      checks: typeof plain,
      from: string,
      cast: (c: (typeof plan.columns)[number]) => string,
    ) => {
      const settings = store.dialect.computedOnceBelowFilter;
      const sql =
        `SELECT t.line, ${plan.columns.map((c) => `${cast(c)} AS ${q(c.name)}`).join(', ')} FROM ${from} t ` +
        `WHERE (${checks.map((c) => `(${c.condition})`).join(' OR ')}) IS NOT TRUE ORDER BY t.line`;
      if (from === trimmed || !settings) return store.query(sql);
      await store.exec(settings.before);
      try {
        return await store.query(sql);
      } finally {
        await store.exec(settings.after);
      }
    };
    const kept = await passing(plain, trimmed, (c) => castValue(c, 't.'));
    expect(kept.length).toBeGreaterThan(4);
    expect(await passing(once, withTyped, (c) => castValue(c, 't.', typed))).toEqual(kept);
  });
});

// Shapes as the SUS APC has them: a field's pattern within its length, a subset code list
// whose scheme's shape covers the field's length, a field whose pattern is its list's shape,
// and a pattern no glob can spell.
const shapeSpec: DatasetSpec = testSpec(
  'shape-test',
  [
    field('site', 'string', { maxLength: 6, pattern: '[A-Z0-9]{3,6}' }),
    field('diagnosis', 'code', { maxLength: 6, codeList: 'diagnosis' }),
    field('group', 'code', { maxLength: 5, codeList: 'group', pattern: '[A-Z]{2}[0-9]{2}[A-Z]' }),
    field('practice', 'string', { maxLength: 6, pattern: '[A-Z][0-9]{5}' }),
    field('postcode_area', 'string', { maxLength: 4, pattern: '[A-Z]{1,2}[0-9]+' }),
    field('episode', 'string', { maxLength: 2, pattern: '[0-9]{1,2}' }),
  ],
  { periodField: 'site', dateOrder: [] },
);
const shapeLists: Record<string, CodeList> = {
  // Q1 and the seven-character LONGER1 are not of the scheme's shape, so they are listed.
  diagnosis: testCodeList('diagnosis', ['Q1', 'A01'], '[A-Z][0-9]{2}[0-9A-Z]{0,3}'),
  group: testCodeList('group', ['AA01A'], '[A-Z]{2}[0-9]{2}[A-Z]'),
};
const shapePlan = deidPlan(shapeSpec);
const shapeNames = shapePlan.columns.map((c) => c.name);
/** Values each shape must judge as its regular expression does: lengths, cases, non-ASCII. */
const shapeValues = [
  'A01',
  'A011',
  'A01X',
  'A01XYZ',
  'A01XYZW',
  'a01',
  'A0',
  'Q1',
  'Q2',
  'AB12C',
  'ab12c',
  'AB12CD',
  'ABC',
  'A1B2C3',
  'A1B2C3D',
  'A12345',
  'A1234',
  'É0123',
  'A0É',
  'AÉ12C',
  '1',
  '12',
  '123',
  'AB1',
  'AB123',
  'A0 1',
  'A-01',
  '[A]01',
  'A*1',
  '??',
];

/** The rules as written before any shape was a glob: each check's regular expression and length. */
function writtenChecks(store: Store): Map<string, string> {
  const re = (v: string, p: string) => store.dialect.regexMatch(v, quoteLiteral(p));
  return new Map([
    ['type site', `site IS NOT NULL AND (length(site) > 6 OR NOT ${re('site', '[A-Z0-9]{3,6}')})`],
    ['type diagnosis', 'diagnosis IS NOT NULL AND length(diagnosis) > 6'],
    [
      'code diagnosis',
      `diagnosis IS NOT NULL AND diagnosis NOT IN ('Q1') AND NOT ${re('diagnosis', '[A-Z][0-9]{2}[0-9A-Z]{0,3}')}`,
    ],
    [
      'type group',
      `"group" IS NOT NULL AND (length("group") > 5 OR NOT ${re('"group"', '[A-Z]{2}[0-9]{2}[A-Z]')})`,
    ],
    ['code group', `"group" IS NOT NULL AND NOT ${re('"group"', '[A-Z]{2}[0-9]{2}[A-Z]')}`],
    [
      'type practice',
      `practice IS NOT NULL AND (length(practice) > 6 OR NOT ${re('practice', '[A-Z][0-9]{5}')})`,
    ],
    [
      'type postcode_area',
      `postcode_area IS NOT NULL AND (length(postcode_area) > 4 OR NOT ${re('postcode_area', '[A-Z]{1,2}[0-9]+')})`,
    ],
    ['type episode', `episode IS NOT NULL AND (length(episode) > 2 OR NOT ${re('episode', '[0-9]{1,2}')})`],
  ]);
}

describe.each(testStores())('the shape checks on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('reach the verdict of each regular expression and length, and the same rows fail', async () => {
    const checks = rowChecks(shapePlan, (id) => shapeLists[id], store.dialect);
    const written = writtenChecks(store);
    expect(checks.map((c) => `${c.rule} ${c.field}`)).toEqual([...written.keys()]);
    // On DuckDB the simple shapes are globs; the one no glob can spell stays a regular expression.
    const globs = checks.filter((c) => c.condition.includes('GLOB')).map((c) => `${c.rule} ${c.field}`);
    expect(globs).toEqual(
      store.dialect.globMatch
        ? ['type site', 'code diagnosis', 'type group', 'code group', 'type practice', 'type episode']
        : [],
    );
    // A length the shape implies is left to the shape.
    expect(checks.find((c) => c.field === 'site')?.condition).not.toContain('length(');
    expect(checks.find((c) => c.field === 'postcode_area')?.condition).toContain('length(');
    // Whether a row fails any check can leave out the diagnosis's length (its code check
    // fails every value too long) and the group's code check (its type check is the same shape).
    expect(checks.filter((c) => c.covered).map((c) => `${c.rule} ${c.field}`)).toEqual([
      'type diagnosis',
      'code group',
    ]);

    await store.exec(
      `CREATE TABLE shape_rows (line INTEGER, ${shapeNames.map((c) => `${q(c)} VARCHAR`).join(', ')})`,
    );
    await store.exec(
      `INSERT INTO shape_rows VALUES ${shapeValues
        .map((value, i) => `(${i + 1}, ${shapeNames.map(() => quoteLiteral(value)).join(', ')})`)
        .join(', ')}, (${shapeValues.length + 1}, ${shapeNames.map(() => 'NULL').join(', ')})`,
    );
    const flags = (conditions: string[]) =>
      store.query(
        `SELECT line${conditions.map((c, k) => `, COALESCE(${c}, FALSE) AS k${k}`).join('')} FROM shape_rows ORDER BY line`,
      );
    const expected = await flags([...written.values()]);
    expect(await flags(checks.map((c) => c.condition))).toEqual(expected);
    // Every check fails some value and passes another, so the comparison says something.
    for (let k = 0; k < checks.length; k++) {
      expect(new Set(expected.map((r) => r[`k${k}`]))).toEqual(new Set([true, false]));
    }
    const failing = (condition: string) =>
      store.query(`SELECT line FROM shape_rows t WHERE (${condition}) IS TRUE ORDER BY line`);
    const orOf = (of: RowCheck[]) => of.map((c) => `(${c.condition})`).join(' OR ');
    expect(await failing(anyCheckFails(checks))).toEqual(await failing(orOf(checks)));
    expect(await failing(anyCheckFails(checks))).toEqual(
      await failing([...written.values()].map((c) => `(${c})`).join(' OR ')),
    );
  });
});
