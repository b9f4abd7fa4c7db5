/**
 * An aggregate table from a CSV file an analyst submits with an output request: one line
 * per combination, with the two dimension columns and the count column named in the spec
 * (other columns are ignored). Structure is checked by the feed reader (`files/csv-reader.ts`),
 * so a broken file gets the same precise message as a broken feed.
 */
import path from 'node:path';
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { aggregateTable, type AggregateTable, type AggregateTableSpec } from './aggregate-table.ts';

export async function readAggregateCsv(file: string, spec: AggregateTableSpec): Promise<AggregateTable> {
  const displayName = path.basename(file);
  const wanted = [spec.rows, spec.columns, spec.count];
  let header: string[] = [];
  let positions: number[] = [];
  const records: Record<string, string>[] = [];
  const lines: number[] = [];
  await readCsv(
    file,
    {
      onHeader(columns, line) {
        header = columns;
        positions = wanted.map((name) => columns.indexOf(name));
        const missing = wanted.filter((_, i) => positions[i] === -1);
        if (missing.length > 0) {
          throw new KernelError(
            'invalid-input',
            `${displayName} has no column ${missing.map((name) => `"${name}"`).join(' or ')}`,
            {
              where: { file: displayName, line, field: missing[0] as string },
              hint: `Its columns are: ${columns.join(', ')}. Name the table's row, column and count columns as they appear in the header`,
            },
          );
        }
      },
      onRecord(record) {
        const values: Record<string, string> = {};
        wanted.forEach((name, i) => (values[name] = fieldText(record, positions[i] as number)));
        records.push(values);
        lines.push(record.line);
      },
    },
    { displayName },
  );
  return aggregateTable(records, spec, { file: displayName, lines, columns: header });
}
