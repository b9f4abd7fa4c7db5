/**
 * An aggregate table an analyst asks to release: counts of people by two dimensions (say
 * practice × sex), built from a query result with one record per combination. The counts
 * here are the true, unrounded ones; disclosure control works on them and publishes
 * something else (`aggregate-disclosure-control.ts`).
 *
 * A combination missing from the result counts 0, as a GROUP BY leaves out empty groups.
 */
import { KernelError, type ErrorLocation } from '../errors.ts';

export interface AggregateTableSpec {
  /** the table's name in the output, unique within a release */
  name: string;
  /** the field whose values become the rows, e.g. `practice` */
  rows: string;
  /** the field whose values become the columns, e.g. `sex` */
  columns: string;
  /** the field holding the count of people */
  count: string;
}

export interface AggregateTable {
  name: string;
  rowDimension: string;
  columnDimension: string;
  /** in order of first appearance, so the analyst's ORDER BY survives */
  rowKeys: string[];
  columnKeys: string[];
  /** true counts, counts[row][column] */
  counts: number[][];
}

/** Where the records came from, so a complaint can name the file, line and column. */
export interface RecordSource {
  file: string;
  /** the line of each record in the file */
  lines: readonly number[];
  /** the file's header, for column numbers */
  columns: readonly string[];
}

export type ResultRecord = Readonly<Record<string, unknown>>;

export function aggregateTable(
  records: readonly ResultRecord[],
  spec: AggregateTableSpec,
  source?: RecordSource,
): AggregateTable {
  checkSpec(spec);
  if (records.length === 0) {
    throw new KernelError('invalid-input', `The result for table "${spec.name}" has no rows`, {
      ...(source ? { where: { file: source.file } } : {}),
      hint: 'An output needs at least one count; check the query returns rows',
    });
  }
  const rowIndex = new Map<string, number>();
  const columnIndex = new Map<string, number>();
  const seen = new Map<string, number>();
  const placed: { row: number; column: number; count: number }[] = [];
  records.forEach((record, index) => {
    const at = (field: string) => locate(index, field, source);
    const rowKey = dimensionValue(record, spec.rows, at(spec.rows));
    const columnKey = dimensionValue(record, spec.columns, at(spec.columns));
    const count = countValue(record, spec.count, at(spec.count));
    const combination = JSON.stringify([rowKey, columnKey]);
    const earlier = seen.get(combination);
    if (earlier !== undefined) {
      throw duplicateCombination(spec, rowKey, columnKey, earlier, index, source);
    }
    seen.set(combination, index);
    placed.push({ row: keyIndex(rowIndex, rowKey), column: keyIndex(columnIndex, columnKey), count });
  });
  const counts = [...rowIndex.keys()].map(() => new Array<number>(columnIndex.size).fill(0));
  for (const { row, column, count } of placed) (counts[row] as number[])[column] = count;
  return {
    name: spec.name,
    rowDimension: spec.rows,
    columnDimension: spec.columns,
    rowKeys: [...rowIndex.keys()],
    columnKeys: [...columnIndex.keys()],
    counts,
  };
}

export function rowTotals(table: AggregateTable): number[] {
  return table.counts.map((row) => row.reduce((sum, count) => sum + count, 0));
}

export function columnTotals(table: AggregateTable): number[] {
  return table.columnKeys.map((_, c) => table.counts.reduce((sum, row) => sum + (row[c] ?? 0), 0));
}

export function grandTotal(table: AggregateTable): number {
  return rowTotals(table).reduce((sum, total) => sum + total, 0);
}

function checkSpec(spec: AggregateTableSpec): void {
  for (const part of ['name', 'rows', 'columns', 'count'] as const) {
    if (typeof spec[part] !== 'string' || spec[part].trim() === '') {
      throw new KernelError('usage', `The table needs a ${part}`, {
        where: { field: part },
        hint: 'Name the table, its row and column dimensions and its count field',
      });
    }
  }
  const twice = [spec.columns, spec.count].find((field, i) =>
    [spec.rows, spec.columns].slice(0, i + 1).includes(field),
  );
  if (twice !== undefined) {
    throw new KernelError('usage', `Table "${spec.name}" uses the field "${twice}" twice`, {
      where: { field: twice },
      hint: 'Rows, columns and count must be three different fields',
    });
  }
}

function keyIndex(index: Map<string, number>, key: string): number {
  const known = index.get(key);
  if (known !== undefined) return known;
  index.set(key, index.size);
  return index.size - 1;
}

interface FieldLocation {
  /** "row 3 of the result" or "line 4 of areas.csv", for the message */
  phrase: string;
  where: ErrorLocation;
}

function locate(index: number, field: string, source: RecordSource | undefined): FieldLocation {
  if (!source) return { phrase: `row ${index + 1} of the result`, where: { field } };
  const line = source.lines[index] ?? index + 2;
  const column = source.columns.indexOf(field) + 1;
  return {
    phrase: `line ${line} of ${source.file}`,
    where: { file: source.file, line, ...(column > 0 ? { column } : {}), field },
  };
}

function dimensionValue(record: ResultRecord, field: string, at: FieldLocation): string {
  const value = record[field];
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (!(field in record)) throw missingField(record, field, at);
  throw new KernelError('invalid-input', `The ${field} on ${at.phrase} is empty`, {
    where: at.where,
    hint: `Label unknown values in the query, e.g. COALESCE(${field}, 'Not known'), so the group has a name`,
  });
}

function countValue(record: ResultRecord, field: string, at: FieldLocation): number {
  const value = record[field];
  if (!(field in record)) throw missingField(record, field, at);
  const count =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint'
        ? Number(value)
        : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
          ? Number(value)
          : NaN;
  if (Number.isSafeInteger(count) && count >= 0) return count;
  throw new KernelError('invalid-input', `The ${field} on ${at.phrase} is ${quoted(value)}, not a count`, {
    where: at.where,
    hint: countHint(value),
  });
}

function countHint(value: unknown): string {
  if (value === '*' || (typeof value === 'string' && value.includes('*'))) {
    return 'Submit the true, unrounded counts: Kernel suppresses and rounds them itself';
  }
  if (typeof value === 'string' && /^\s*\d{1,3}(,\d{3})+\s*$/.test(value)) {
    return 'Write counts without thousands separators (1234, not 1,234)';
  }
  return 'A count is a whole number of 0 or more';
}

function quoted(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'empty';
  return `"${String(value).slice(0, 40)}"`;
}

function missingField(record: ResultRecord, field: string, at: FieldLocation): KernelError {
  return new KernelError('invalid-input', `There is no field "${field}" on ${at.phrase}`, {
    where: at.where,
    hint: `The fields there are: ${Object.keys(record).join(', ') || 'none'}`,
  });
}

function duplicateCombination(
  spec: AggregateTableSpec,
  rowKey: string,
  columnKey: string,
  earlier: number,
  index: number,
  source: RecordSource | undefined,
): KernelError {
  const first = locate(earlier, spec.rows, source).phrase;
  const second = locate(index, spec.rows, source);
  return new KernelError(
    'invalid-input',
    `${spec.rows} ${rowKey} and ${spec.columns} ${columnKey} appear twice in table "${spec.name}" (${first} and ${second.phrase})`,
    {
      where: second.where,
      hint: `A table has one count per combination: group by exactly ${spec.rows} and ${spec.columns}, or add the counts first`,
    },
  );
}
