/**
 * The screened copy (screened-copy.ts) sends the rows that pass the screen in PostgreSQL's
 * binary COPY format, typed in JavaScript: what it stores must be exactly what the load's SQL
 * stores for the same values, cast from their text (row-rules.ts `castValue`), for every
 * type, padded and quoted values among them. PostgreSQL only: the copy runs where the engine
 * copies faster than it checks (`Dialect.copiesScreenedRows`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchored } from '../catalogue/catalogue.ts';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { contentField, testSpec } from '../../test/test-spec.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { castValue, trimmedValue } from '../quality/row-rules.ts';
import { rowScreen } from '../quality/row-screen.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Store } from '../store/store.ts';
import { ensureDatasetTable } from './dataset-table.ts';
import { scanFeedFile } from './scan-feed.ts';
import { copyScreenedRows } from './screened-copy.ts';

const field = contentField;
const spec: DatasetSpec = testSpec(
  'binary-copy',
  [
    field('count', 'integer'),
    field('amount', 'decimal'),
    field('day', 'date'),
    field('stamp', 'datetime'),
    field('clock', 'time'),
    field('flag', 'boolean'),
    field('note', 'string'),
    field('colour', 'code', { codeList: 'colour' }),
  ],
  { periodField: 'day', dateOrder: [] },
);
const lists: Record<string, CodeList> = {
  colour: { id: 'colour', title: 'c', source: 's', codes: [{ code: 'R', meaning: 'red' }] },
};
const plan = deidPlan(spec);

/** Each column's values, written as a feed might (padded, quoted, missing). */
const values: string[][] = [
  ['0', '-0', '007', '-5', '999999999999999', '-999999999999999', ' 12 ', '"42"', ''],
  [
    ...[
      '0',
      '-0',
      '-0.0',
      '12.5',
      '0.1',
      '-10.25',
      '123456789012345',
      '0.000000000000001',
      '"2.5"',
      ' 7 ',
      '',
    ],
    // More than 15 digits: read from the text, not from the screen's number.
    ...['12345678.123456789', '-98765.4321098765432', '1.797693134862315', '3.14159265358979'],
  ],
  ['2024-02-29', '0001-01-01', '9999-12-31', '1999-12-31', '2000-01-01', '1970-01-01', '1899-03-01', ''],
  ['2025-04-01T10:11:12', '2025-04-01 10:11:12.123456', ''],
  ['10:11', '23:59:59', ''],
  ['true', 'TRUE', '1', 'Y', 'y', 'false', 'FALSE', '0', 'N', 'n', ''],
  ['plain', 'É and ü', '"quoted, with a comma"', ' padded ', '"  "', ''],
  ['R', ' R ', ''],
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-binary-copy-'));
const file = path.join(dir, 'feed.csv');
// Each value in a row of its own, beside values of the other columns in turn.
const rows = values.flatMap((list, column) =>
  list.map((value, i) =>
    values.map((others, k) => (k === column ? value : (others[(i * 7 + k) % others.length] as string))),
  ),
);
writeFileSync(
  file,
  [plan.accepted.join(','), ...rows.map((r, i) => [String(i + 1), ...r].join(','))].join('\n') + '\n',
);

describe.each(testStores().filter((s) => s.engine === 'postgres'))(
  'the screened copy on $engine',
  (engine) => {
    let store: Store;
    openForSuite(engine, (s) => (store = s));

    it('stores what the load’s SQL stores for the same values, cast from their text', async () => {
      const q = quoteIdentifier;
      const table = await ensureDatasetTable(store, plan);
      const copied = await store.transaction((tx) =>
        copyScreenedRows(tx, {
          table,
          plan,
          leading: { columns: ['load_id', 'org_code'], values: ['binary', 'ORG'] },
          screen: rowScreen(plan, (id) => lists[id], anchored),
          hold: [],
          startScan: (options) => scanFeedFile(file, plan, { displayName: 'feed.csv', ...options }),
        }),
      );
      console.log(
        copied.setAside,
        copied.rowsLoaded,
        await store.query(`SELECT count(*) AS n FROM ${q(table)}`),
      );
      expect(copied.rowsLoaded).toBe(rows.length);
      expect(copied.setAside).toEqual([]);

      await store.exec(`CREATE TABLE feed_text (${plan.accepted.map((c) => `${q(c)} TEXT`).join(', ')})`);
      await store.copyCsv('feed_text', { path: file, columns: plan.accepted });
      const trimmed = `(SELECT s.source_line, ${plan.columns
        .map((c) => `${trimmedValue(c.name, 's.')} AS ${q(c.name)}`)
        .join(', ')} FROM feed_text s)`;
      await store.run(
        `INSERT INTO ${q(table)} (load_id, org_code, source_line, ${plan.columns.map((c) => q(c.name)).join(', ')}) ` +
          `SELECT 'sql', 'ORG', CAST(t.source_line AS BIGINT), ${plan.columns.map((c) => castValue(c, 't.')).join(', ')} FROM ${trimmed} t`,
      );
      const columns = ['org_code', 'source_line', ...plan.columns.map((c) => q(c.name))].join(', ');
      const of = (load: string): string => `SELECT ${columns} FROM ${q(table)} WHERE load_id = '${load}'`;
      expect(await store.query(`${of('binary')} EXCEPT ALL ${of('sql')}`)).toEqual([]);
      expect(await store.query(`${of('sql')} EXCEPT ALL ${of('binary')}`)).toEqual([]);
      // Equal as doubles is not the same bits for zero: the sign of a negative zero is kept too.
      const signs = `SELECT source_line, text(amount) AS amount FROM ${q(table)} WHERE amount = 0 AND load_id = `;
      const bySql = await store.query(`${signs}'sql' ORDER BY 1`);
      expect(await store.query(`${signs}'binary' ORDER BY 1`)).toEqual(bySql);
      expect(bySql.some((r) => r.amount === '-0')).toBe(true);
    });
  },
);
