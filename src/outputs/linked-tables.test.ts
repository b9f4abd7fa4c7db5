import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import type { AggregateTable } from './aggregate-table.ts';
import { linkTables, type TableSystem } from './linked-tables.ts';

function table(
  name: string,
  rowDimension: string,
  columnDimension: string,
  rowKeys: string[],
  columnKeys: string[],
  counts: number[][],
): AggregateTable {
  return { name, rowDimension, columnDimension, rowKeys, columnKeys, counts };
}

const BY_SEX = table(
  'by-sex',
  'practice',
  'sex',
  ['P1', 'P2'],
  ['F', 'M'],
  [
    [3, 10],
    [20, 30],
  ],
);
const BY_AGE = table(
  'by-age',
  'practice',
  'age',
  ['P1', 'P2'],
  ['0-64', '65+'],
  [
    [8, 5],
    [41, 9],
  ],
);

/** Each line as "total = part + part" in labels, for reading a test by eye. */
function linesInWords(system: TableSystem): string[] {
  const name = (e: number) => `${system.entries[e]?.label} [${system.entries[e]?.count}]`;
  return system.lines.map((line) => `${name(line.total)} = ${line.parts.map(name).join(' + ')}`);
}

describe('linkTables', () => {
  it('writes a table as rows, columns and margin sums', () => {
    const system = linkTables([BY_SEX]);
    expect(system.entries).toHaveLength(4 + 2 + 2 + 1);
    expect(linesInWords(system)).toEqual([
      'total for practice P1 [13] = by-sex: practice P1, sex F [3] + by-sex: practice P1, sex M [10]',
      'total for practice P2 [50] = by-sex: practice P2, sex F [20] + by-sex: practice P2, sex M [30]',
      'total for sex F [23] = by-sex: practice P1, sex F [3] + by-sex: practice P2, sex F [20]',
      'total for sex M [40] = by-sex: practice P1, sex M [10] + by-sex: practice P2, sex M [30]',
      'grand total (by-sex) [63] = total for practice P1 [13] + total for practice P2 [50]',
      'grand total (by-sex) [63] = total for sex F [23] + total for sex M [40]',
    ]);
  });

  it('shares the practice totals and the grand total between tables with practice in common', () => {
    const system = linkTables([BY_SEX, BY_AGE]);
    const [sex, age] = system.layouts;
    expect(sex?.rowTotals).toEqual(age?.rowTotals);
    expect(sex?.grandTotal).toBe(age?.grandTotal);
    // 8 cells, 2 practice + 2 sex + 2 age totals, one grand total
    expect(system.entries).toHaveLength(8 + 6 + 1);
    // the practice totals add up to the grand total once, not once per table
    expect(linesInWords(system).filter((line) => line.includes('= total for practice'))).toHaveLength(1);
    expect(system.lines).toHaveLength(4 + 2 + 4 + 1);
  });

  it('keeps tables with no dimension in common apart', () => {
    const other = table('by-ward', 'ward', 'band', ['W1'], ['a'], [[63]]);
    const system = linkTables([BY_SEX, other]);
    expect(system.layouts[0]?.grandTotal).not.toBe(system.layouts[1]?.grandTotal);
  });

  it('refuses linked tables whose shared totals disagree, naming both and the key', () => {
    const wrong = {
      ...BY_AGE,
      counts: [
        [8, 5],
        [41, 8],
      ],
    };
    expect(() => linkTables([BY_SEX, wrong])).toThrow(
      'Tables "by-sex" and "by-age" both have practice but give practice P2 different totals (50 and 49)',
    );
    const missing = { ...BY_AGE, rowKeys: ['P1'], counts: [[8, 5]] };
    expect(() => linkTables([BY_SEX, missing])).toThrow(/practice P2 different totals \(50 and 0\)/);
  });

  it('refuses two tables of one name, a table crossing a dimension with itself, and no tables', () => {
    const refusal = (tables: AggregateTable[]) => {
      try {
        linkTables(tables);
      } catch (error) {
        expect(error).toBeInstanceOf(KernelError);
        return (error as KernelError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal([BY_SEX, { ...BY_AGE, name: 'by-sex' }])).toBe(
      'Two tables in the release are called "by-sex"',
    );
    expect(refusal([{ ...BY_SEX, columnDimension: 'practice' }])).toBe(
      'Table "by-sex" has practice as rows and columns',
    );
    expect(refusal([])).toBe('A release needs at least one table');
  });
});
