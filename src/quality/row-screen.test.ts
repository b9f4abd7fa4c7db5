/**
 * The screen's tests on bytes (row-screen.ts) against what they stand for: a pattern tested on
 * bytes accepts exactly what the pattern's RegExp accepts; a code's verdict remembered from an
 * earlier row is the verdict a first look gives; the numbers it notes for the profile are the
 * values' own. (row-screen.int.test.ts holds its verdicts to the rules in SQL.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchored, catalogue } from '../catalogue/catalogue.ts';
import type { CodeList } from '../catalogue/dataset-spec.ts';
import { contentField, testCodeList, testSpec } from '../../test/test-spec.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { BytePattern, rowScreen, type ScreenedRow } from './row-screen.ts';

const matches = (pattern: BytePattern, value: string): boolean => {
  const buf = Buffer.from(value);
  return pattern.matches(buf, 0, buf.length);
};

/** A pattern of the plainest kind: atoms of letters, digits and bracketed sets, counted. */
const atom = fc
  .tuple(
    fc.constantFrom('A', '7', '[A-C]', '[0-9]', '[A-Z0-9]', '[0-9A-Z]', '[B1X]', '[a-c]', '[XY]'),
    fc.constantFrom('', '?', '*', '+', '{2}', '{0,3}', '{1,2}', '{2,}', '{0,1}'),
  )
  .map(([set, count]) => `${set}${count}`);
const pattern = fc.array(atom, { minLength: 1, maxLength: 5 }).map((atoms) => atoms.join(''));
/** Values near such patterns: short, mostly from the same few characters, some not ASCII. */
const value = fc
  .array(fc.constantFrom('A', 'B', 'C', 'X', 'Y', '1', '7', '0', 'a', 'z', 'É', ' ', '-'), { maxLength: 9 })
  .map((chars) => chars.join(''));

describe('BytePattern', () => {
  it('accepts exactly what the RegExp accepts (property)', () => {
    fc.assert(
      fc.property(pattern, fc.array(value, { minLength: 1, maxLength: 20 }), (source, values) => {
        const bytes = new BytePattern(source, anchored);
        expect(bytes.compiled).toBe(true);
        const re = anchored(source);
        for (const v of values)
          expect({ source, v, matches: matches(bytes, v) }).toEqual({ source, v, matches: re.test(v) });
      }),
      { numRuns: 400 },
    );
  });

  it('accepts exactly what the RegExp accepts for every pattern of the catalogue', () => {
    const sources = new Set<string>();
    const { datasets, codeLists } = catalogue();
    for (const spec of datasets.values())
      for (const field of spec.fields) if (field.pattern) sources.add(field.pattern);
    for (const list of codeLists.values()) if (list.pattern) sources.add(list.pattern);
    expect(sources.size).toBeGreaterThan(5);
    const samples = [
      'A01',
      'A011',
      'A01X',
      'Z999ZZ',
      'AB12C',
      'A12345',
      '123',
      '12',
      'E01024003',
      'G451',
      'K401A',
    ];
    for (const source of sources) {
      const bytes = new BytePattern(source, anchored);
      const re = anchored(source);
      fc.assert(
        fc.property(fc.oneof(value, fc.constantFrom(...samples), fc.stringMatching(re)), (v) => {
          expect({ source, v, matches: matches(bytes, v) }).toEqual({ source, v, matches: re.test(v) });
        }),
        { numRuns: 200 },
      );
    }
  });
});

const field = contentField;
const lists: Record<string, CodeList> = {
  // A subset of a scheme, one code not of the scheme's shape; and a plain list with a long code.
  diagnosis: testCodeList('diagnosis', ['Q1'], '[A-Z][0-9]{2}[0-9A-Z]{0,3}'),
  colour: testCodeList('colour', ['R', 'G', 'BB', 'AB12', 'A1B2C3D4', 'A1B2C3D4E', 'É1']),
};
const spec = testSpec(
  'screen-unit',
  [
    field('first', 'code', { codeList: 'diagnosis', maxLength: 6 }),
    field('second', 'code', { codeList: 'diagnosis', maxLength: 6 }),
    field('colour', 'code', { codeList: 'colour' }),
    field('shaped', 'code', { codeList: 'colour', pattern: '[A-Z][0-9A-Z]{0,7}' }),
    field('count', 'integer', { minimum: -5, maximum: 1e12 }),
    field('amount', 'decimal'),
    field('day', 'date'),
    field('stamp', 'datetime'),
  ],
  { periodField: 'day', dateOrder: [] },
);
const plan = deidPlan(spec);

/** A row of `values` (plan column order), laid out in one buffer as the scan gives it. */
function row(values: readonly string[]): ScreenedRow {
  const bytes = values.map((v) => Buffer.from(v));
  const starts = new Int32Array(values.length);
  const ends = new Int32Array(values.length);
  let at = 0;
  bytes.forEach((b, k) => {
    starts[k] = at;
    ends[k] = at += b.length;
  });
  return { buf: Buffer.concat(bytes), starts, ends, numbers: new Float64Array(values.length).fill(-7) };
}

describe('rowScreen', () => {
  it('gives a code the verdict a first look gives, however often it comes (property)', () => {
    const code = fc.constantFrom(
      ...[
        '',
        'Q1',
        'Q2',
        'A01',
        'A011',
        'A01X',
        'A01XYZ',
        'A01XYZ9',
        'a01',
        'A0',
        'R',
        'G',
        'BB',
        'B',
        'AB12',
      ],
      ...['A1B2C3D4', 'A1B2C3DX', 'A1B2C3D4E', 'A1B2C3D', 'A01X-Z', 'É1', 'É', 'R ', 'AB1', 'AB12C'],
    );
    const anyCode = fc.oneof(code, fc.stringMatching(/^[A-C0-9]{1,9}$/));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), anyCode), { minLength: 1, maxLength: 200 }), (looks) => {
        const screen = rowScreen(plan, (id) => lists[id], anchored);
        const alone = (k: number, value: string): ScreenedRow =>
          row(plan.columns.map((_c, i) => (i === k ? value : '')));
        for (const [k, value] of looks) {
          const firstLook = rowScreen(plan, (id) => lists[id], anchored).passes(alone(k, value));
          expect({ k, value, passes: screen.passes(alone(k, value)) }).toEqual({
            k,
            value,
            passes: firstLook,
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('notes, for a row it passes, each number and date as the profile reads it', () => {
    const screen = rowScreen(plan, (id) => lists[id], anchored);
    const values = ['', '', '', '', '-5', '12345678.12345', '2024-02-29', '2025-12-31 23:59:59.5'];
    const passed = row(values);
    expect(screen.passes(passed)).toBe(true);
    expect([...(passed.numbers as Float64Array)].slice(4)).toEqual([-5, 12345678.12345, 20240229, 20251231]);
    // Digits beyond what a double holds exactly: the profile reads the text itself (NaN here).
    const long = row(['', '', '', '', '999999999999', '10.123456789012345', '0001-01-01', '']);
    expect(screen.passes(long)).toBe(true);
    const noted = [...(long.numbers as Float64Array)].slice(4);
    expect(noted.slice(0, 1)).toEqual([999999999999]);
    expect(Number.isNaN(noted[1])).toBe(true);
    expect(noted.slice(2)).toEqual([10101, -7]);
  });

  it('reads a decimal as JavaScript reads its text (property)', () => {
    const screen = rowScreen(plan, (id) => lists[id], anchored);
    const decimal = fc
      .tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,8}$/), fc.option(fc.stringMatching(/^[0-9]{1,7}$/)))
      .map(([minus, whole, part]) => `${minus ? '-' : ''}${whole}${part === null ? '' : `.${part}`}`);
    fc.assert(
      fc.property(decimal, (text) => {
        const one = row(['', '', '', '', '', text, '', '']);
        expect(screen.passes(one)).toBe(true);
        expect(Object.is(one.numbers?.[5], Number(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
