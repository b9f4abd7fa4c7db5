import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { readAggregateCsv } from './aggregate-csv.ts';
import {
  aggregateTable,
  columnTotals,
  grandTotal,
  rowTotals,
  type AggregateTableSpec,
  type ResultRecord,
} from './aggregate-table.ts';

const SPEC: AggregateTableSpec = { name: 'by-sex', rows: 'practice', columns: 'sex', count: 'people' };

function refusal(records: readonly ResultRecord[], spec: AggregateTableSpec = SPEC): KernelError {
  try {
    aggregateTable(records, spec);
  } catch (error) {
    expect(error).toBeInstanceOf(KernelError);
    return error as KernelError;
  }
  throw new Error('expected the records to be refused');
}

describe('aggregateTable', () => {
  it('places each record by its two dimensions, keeps their order, and counts missing combinations 0', () => {
    const table = aggregateTable(
      [
        { practice: 'B2', sex: 'M', people: 12 },
        { practice: 'A1', sex: 'F', people: 3n }, // DuckDB answers COUNT(*) as a bigint
        { practice: 'A1', sex: 'M', people: '40' },
      ],
      SPEC,
    );
    expect(table).toEqual({
      name: 'by-sex',
      rowDimension: 'practice',
      columnDimension: 'sex',
      rowKeys: ['B2', 'A1'],
      columnKeys: ['M', 'F'],
      counts: [
        [12, 0],
        [40, 3],
      ],
    });
    expect(rowTotals(table)).toEqual([12, 43]);
    expect(columnTotals(table)).toEqual([52, 3]);
    expect(grandTotal(table)).toBe(55);
  });

  it('names the row and field of a count that is not a whole number of 0 or more', () => {
    const rows = (people: unknown): ResultRecord[] => [
      { practice: 'A1', sex: 'F', people: 10 },
      { practice: 'A1', sex: 'M', people },
    ];
    for (const bad of [-1, 2.5, 'ten', null, Infinity]) {
      const error = refusal(rows(bad));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toMatch(/people on row 2 of the result/);
      expect(error.where).toEqual({ field: 'people' });
    }
    expect(refusal(rows('*')).hint).toMatch(/true, unrounded counts/);
    expect(refusal(rows('1,234')).hint).toMatch(/thousands separators/);
  });

  it('refuses an empty dimension value with a hint to label it', () => {
    const error = refusal([{ practice: null, sex: 'F', people: 4 }]);
    expect(error.message).toBe('The practice on row 1 of the result is empty');
    expect(error.hint).toMatch(/COALESCE\(practice, 'Not known'\)/);
  });

  it('refuses a missing field, listing the fields there are', () => {
    const error = refusal([{ practice: 'A1', gender: 'F', people: 4 }]);
    expect(error.message).toBe('There is no field "sex" on row 1 of the result');
    expect(error.hint).toBe('The fields there are: practice, gender, people');
  });

  it('refuses the same combination twice, naming both rows', () => {
    const error = refusal([
      { practice: 'A1', sex: 'F', people: 4 },
      { practice: 'A1', sex: 'M', people: 9 },
      { practice: 'A1', sex: 'F', people: 5 },
    ]);
    expect(error.message).toBe(
      'practice A1 and sex F appear twice in table "by-sex" (row 1 of the result and row 3 of the result)',
    );
    expect(error.hint).toMatch(/group by exactly practice and sex/);
  });

  it('refuses no rows, and a spec that names a field twice or not at all', () => {
    expect(refusal([]).message).toBe('The result for table "by-sex" has no rows');
    expect(refusal([{ practice: 'A1', people: 1 }], { ...SPEC, columns: 'practice' })).toMatchObject({
      code: 'usage',
      message: 'Table "by-sex" uses the field "practice" twice',
    });
    expect(refusal([{ practice: 'A1', people: 1 }], { ...SPEC, count: 'sex' }).where).toEqual({
      field: 'sex',
    });
    expect(refusal([{ practice: 'A1', people: 1 }], { ...SPEC, count: '' }).where).toEqual({
      field: 'count',
    });
  });
});

describe('readAggregateCsv', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-outputs-'));
  const csv = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads the named columns and ignores the rest', async () => {
    const file = csv('ok.csv', 'sex,note,practice,people\nF,x,A1,3\nM,"y, z",A1,40\nF,,B2,0\n');
    const table = await readAggregateCsv(file, SPEC);
    expect(table.rowKeys).toEqual(['A1', 'B2']);
    expect(table.counts).toEqual([
      [3, 40],
      [0, 0],
    ]);
  });

  it('names the file, line, column and field of a bad count', async () => {
    const file = csv('bad-count.csv', 'practice,sex,people\nA1,F,3\nA1,M,*\n');
    await expect(readAggregateCsv(file, SPEC)).rejects.toMatchObject({
      code: 'invalid-input',
      message: 'The people on line 3 of bad-count.csv is "*", not a count',
      where: { file: 'bad-count.csv', line: 3, column: 3, field: 'people' },
    });
  });

  it('names a missing column and lists the header', async () => {
    const file = csv('no-count.csv', 'practice,sex,n\nA1,F,3\n');
    await expect(readAggregateCsv(file, SPEC)).rejects.toMatchObject({
      message: 'no-count.csv has no column "people"',
      where: { file: 'no-count.csv', line: 1, field: 'people' },
      hint: expect.stringMatching(/^Its columns are: practice, sex, n\./),
    });
  });

  it('passes on the reader’s complaint about a broken file', async () => {
    const file = csv('ragged.csv', 'practice,sex,people\nA1,F\n');
    await expect(readAggregateCsv(file, SPEC)).rejects.toMatchObject({
      code: 'invalid-input',
      where: { file: 'ragged.csv', line: 2 },
    });
  });
});
