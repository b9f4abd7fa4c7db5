import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStores } from '../../test/stores.ts';
import { KernelError } from '../errors.ts';
import { listMigrations, migrate } from './migrate.ts';
import type { Store } from './store.ts';

// One body, every engine: what Kernel relies on a store for.
describe.each(testStores())('store conformance on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await store.exec(
      'CREATE TABLE things (id INTEGER PRIMARY KEY, label TEXT, day DATE, amount DOUBLE PRECISION, big BIGINT, flag BOOLEAN)',
    );
  });
  afterAll(async () => store.close());

  it('binds parameters and returns engine-neutral rows', async () => {
    await store.run('INSERT INTO things VALUES ($1, $2, $3, $4, $5, $6)', [
      1,
      "O'Brien",
      '2020-02-29',
      1.25,
      9_000_000_000,
      true,
    ]);
    const rows = await store.query('SELECT * FROM things WHERE id = $1', [1]);
    expect(rows).toEqual([
      { id: 1, label: "O'Brien", day: '2020-02-29', amount: 1.25, big: 9_000_000_000, flag: true },
    ]);
  });

  it('commits a transaction whole', async () => {
    await store.transaction(async (tx) => {
      await tx.run('INSERT INTO things (id, label) VALUES (2, $1)', ['a']);
      await tx.run('INSERT INTO things (id, label) VALUES (3, $1)', ['b']);
    });
    const [row] = await store.query<{ n: number }>('SELECT count(*) AS n FROM things WHERE id IN (2, 3)');
    expect(row?.n).toBe(2);
  });

  it('leaves nothing when a transaction fails part-way', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.run('INSERT INTO things (id, label) VALUES (4, $1)', ['c']);
        await tx.insertRows(
          'things',
          ['id', 'label'],
          [
            [5, 'd'],
            [6, 'e'],
          ],
        );
        await tx.copyCsv('things', { path: csvFile('id,label\n7,f\n'), columns: ['id', 'label'] });
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    const [row] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM things WHERE id BETWEEN 4 AND 7',
    );
    expect(row?.n).toBe(0);
  });

  it('reports a broken uniqueness rule as a conflict', async () => {
    const attempt = store.run('INSERT INTO things (id) VALUES (1)');
    await expect(attempt).rejects.toBeInstanceOf(KernelError);
    await expect(attempt).rejects.toMatchObject({ code: 'conflict' });
  });

  it('bulk-inserts a few rows (one statement) with the same casts as many', async () => {
    const rows = [
      [900, 'few "a"', '2021-03-01', 1.5, null, true],
      [901, null, null, 2, null, false],
    ];
    expect(await store.insertRows('things', ['id', 'label', 'day', 'amount', 'big', 'flag'], rows)).toBe(2);
    expect(await store.insertRows('things', ['id'], [])).toBe(0);
    const found = await store.query(
      'SELECT id, label, day, amount, flag FROM things WHERE id IN (900, 901) ORDER BY id',
    );
    expect(found).toEqual([
      { id: 900, label: 'few "a"', day: '2021-03-01', amount: 1.5, flag: true },
      { id: 901, label: null, day: null, amount: 2, flag: false },
    ]);
  });

  it('bulk-inserts many rows, casting text to the column types', async () => {
    const rows = (function* () {
      for (let i = 0; i < 20_000; i++) yield [1000 + i, `row ${i}`, '2021-03-01', i / 2, null, i % 2 === 0];
    })();
    const count = await store.insertRows('things', ['id', 'label', 'day', 'amount', 'big', 'flag'], rows);
    expect(count).toBe(20_000);
    const [sum] = await store.query<{ n: number; s: number; d: string }>(
      'SELECT count(*) AS n, sum(amount) AS s, min(day) AS d FROM things WHERE id >= 1000',
    );
    expect(sum).toEqual({ n: 20_000, s: (19_999 * 20_000) / 4, d: '2021-03-01' });
  });

  it('loads a CSV file, quoted fields and all', async () => {
    const file = csvFile('id,label,day\n50000,"has, comma",2022-01-31\n50001,"has ""quotes""",\n');
    const count = await store.copyCsv('things', { path: file, columns: ['id', 'label', 'day'] });
    expect(count).toBe(2);
    const rows = await store.query('SELECT id, label, day FROM things WHERE id >= 50000 ORDER BY id');
    expect(rows).toEqual([
      { id: 50000, label: 'has, comma', day: '2022-01-31' },
      { id: 50001, label: 'has "quotes"', day: null },
    ]);
  });

  it('copies CSV lines as they arrive, typed by the table, inside a transaction', async () => {
    async function* lines(): AsyncIterable<Buffer> {
      yield Buffer.from('60000,"has, comma",2022-02-28\n60001,');
      yield Buffer.from('"has ""quotes""",\n');
    }
    await store.exec('CREATE TABLE copied_lines (id BIGINT, label TEXT, day DATE)');
    const count = await store.transaction((tx) =>
      tx.copyCsvLines('copied_lines', ['id', 'label', 'day'], lines()),
    );
    expect(count).toBe(2);
    const rows = await store.query('SELECT id, label, day FROM copied_lines ORDER BY id');
    expect(rows).toEqual([
      { id: 60000, label: 'has, comma', day: '2022-02-28' },
      { id: 60001, label: 'has "quotes"', day: null },
    ]);
  });

  it('reads a CSV file as a relation, every column as text, and releases it', async () => {
    const file = csvFile('id,label\n007,"has, comma"\n8,\n');
    const rows = await store.transaction(async (tx) => {
      const relation = await tx.csvRelation({ path: file, columns: ['id', 'label'] });
      const read = await tx.query(`SELECT id, label FROM ${relation.sql} r ORDER BY id`);
      // A second statement reads it again: the relation is not consumed.
      const [again] = await tx.query(`SELECT count(*) AS n FROM ${relation.sql} r`);
      await relation.release();
      return [...read, again];
    });
    expect(rows).toEqual([{ id: '007', label: 'has, comma' }, { id: '8', label: null }, { n: 2 }]);
  });

  it('streams a large result in chunks', async () => {
    let seen = 0;
    let chunks = 0;
    let last = 0;
    for await (const chunk of store.stream<{ id: number }>(
      'SELECT id FROM things WHERE id >= $1 ORDER BY id',
      [1000],
    )) {
      chunks++;
      for (const row of chunk) {
        expect(row.id).toBeGreaterThan(last);
        last = row.id;
        seen++;
      }
    }
    expect(seen).toBe(20_000 + 2);
    expect(chunks).toBeGreaterThan(1);
  });

  it('has the non-throwing casts validation relies on', async () => {
    const d = store.dialect;
    const [row] = await store.query(
      `SELECT ${d.tryDate("'2020-02-30'")} AS bad_date, ${d.tryDate("'2020-02-29'")} AS good_date, ` +
        `${d.tryInteger("'12x'")} AS bad_int, ${d.tryInteger("'42'")} AS good_int, ` +
        `${d.tryNumber("'1.5'")} AS num, ${d.tryTimestamp("'2020-01-01T10:11:12'")} AS ts, ` +
        `${d.regexMatch("'ME16 9QQ'", "'[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}'")} AS matched`,
    );
    expect(row).toEqual({
      bad_date: null,
      good_date: '2020-02-29',
      bad_int: null,
      good_int: 42,
      num: 1.5,
      ts: '2020-01-01T10:11:12',
      matched: true,
    });
  });

  it('never throws on hostile text, and answers only real values (no infinity, no 30 February)', async () => {
    const d = store.dialect;
    const cases: [
      keyof typeof d & ('tryDate' | 'tryInteger' | 'tryNumber' | 'tryTimestamp'),
      string,
      unknown,
    ][] = [
      ['tryDate', '2021-02-29', null],
      ['tryDate', '2024-02-29', '2024-02-29'],
      ['tryDate', '1900-02-29', null],
      ['tryDate', '2000-02-29', '2000-02-29'],
      ['tryDate', '2021-04-31', null],
      ['tryDate', '2021-13-01', null],
      ['tryDate', 'not a date', null],
      ['tryInteger', '9007199254740991', 9007199254740991],
      ['tryInteger', '9223372036854775808', null],
      ['tryInteger', '99999999999999999999', null],
      ['tryInteger', '-42', -42],
      ['tryInteger', ' 17 ', 17],
      ['tryNumber', '1e400', null],
      ['tryNumber', 'NaN', null],
      ['tryNumber', '-2.5e3', -2500],
      ['tryNumber', '.5', 0.5],
      ['tryNumber', '1.2.3', null],
      ['tryTimestamp', '2020-01-01 25:00:00', null],
      ['tryTimestamp', '2020-01-01 10:61:00', null],
      ['tryTimestamp', '2020-02-30T10:00:00', null],
      ['tryTimestamp', '2020-01-01T23:59:59', '2020-01-01T23:59:59'],
    ];
    const columns = cases.map(([fn, text], i) => `${d[fn](`'${text}'`)} AS c${i}`).join(', ');
    const [row] = await store.query(`SELECT ${columns}`);
    cases.forEach(([fn, text, expected], i) => {
      const got = row?.[`c${i}`];
      // BIGINTs come back as bigint or number by engine and size: compare as text.
      const same = (v: unknown) => (v === null || v === undefined ? null : String(v));
      expect(same(got), `${fn}('${text}')`).toBe(same(expected));
    });
  });

  it('applies migrations once and records them', async () => {
    const again = await migrate(store);
    expect(again.applied).toEqual([]);
    expect(again.current).toBe(listMigrations(engine.engine).at(-1)?.version);
    const recorded = await store.query('SELECT version FROM kernel_migrations ORDER BY version');
    expect(recorded.length).toBe(listMigrations(engine.engine).length);
  });
});

function csvFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-csv-')), 'data.csv');
  writeFileSync(file, text);
  return file;
}
