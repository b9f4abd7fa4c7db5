/**
 * The identifier hunt (privacy/identifier-hunt.ts): one value in a text column unambiguously
 * shaped like a direct identifier (an NHS number written 3-3-4, a postcode with its space, a
 * full date where the specification has no date) refuses the file. `kernel deid` refuses the
 * extract and writes nothing; a file that reaches the load anyway (edited after the agent,
 * signed again) is refused on both engines with nothing stored, not even in the quarantine.
 * The refusal names the column and line, never the value.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import type { Store } from '../store/store.ts';
import { apcFeed, prepareForApc } from '../../test/kill-load.ts';
import { signAgain } from '../../test/signed-feed.ts';
import { testStores } from '../../test/stores.ts';
import { loadFeed } from './load-feed.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-hunt-'));
const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The pseudonymised file with `value` in `field` of its fifth row (line 6), and a row that
 * fails a check (line 3), signed again: `kernel deid` would have refused the extract.
 */
function withOneValue(file: string, field: string, value: string): void {
  const [header = [], ...rows] = parseCsv(readFileSync(file, 'utf8')).filter((r) => r.length > 1);
  (rows[4] as string[])[header.indexOf(field)] = value;
  // Another row the load would quarantine, so a quarantine that stored rows would show.
  (rows[1] as string[])[header.indexOf('Admission_Method')] = 'ZZ';
  writeFileSync(file, [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n');
  signAgain(file);
}

const cases = [
  [
    'an NHS number written 3-3-4',
    'Hospital_Provider_Spell_Number',
    '999 000 0018',
    /NHS numbers written in groups/,
  ],
  [
    'an NHS number written with hyphens',
    'Hospital_Provider_Spell_Number',
    '999-000-0018',
    /NHS numbers written in groups/,
  ],
  ['a full postcode with its space', 'Hospital_Provider_Spell_Number', 'DA4 8NF', /full postcodes/],
  [
    'a full date in a column that is not a date',
    'Hospital_Provider_Spell_Number',
    '1970-11-26',
    /full dates of birth/,
  ],
] as const;

type HuntCase = (typeof cases)[number];

/**
 * The refusal `work` fails with for `huntCase`'s value, checked as both the agent's and the
 * load's must be: a KernelError that names the identifier's shape and where it stands (line 6,
 * the case's field), never the value itself.
 */
async function refusalOf(work: Promise<unknown>, [, field, value, shape]: HuntCase): Promise<KernelError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KernelError);
  const refusal = error as KernelError;
  expect(refusal.code).toBe('refused');
  expect(refusal.message).toMatch(shape);
  expect(refusal.where).toMatchObject({ line: 6, field });
  for (const part of value.split(/[ -]/)) expect(refusal.message).not.toContain(part);
  return refusal;
}

/** Valid NHS numbers (999 range, counting up) as the source_line of a feed's last three rows. */
const nhsNumbers = ['9990001049', '9990001057', '9990001065'];
const sourceLineFeed = (async () => {
  const file = await apcFeed(dir, 'apc-source-line', 40, '2025-01', 9);
  const [header = [], ...rows] = parseCsv(readFileSync(file, 'utf8')).filter((r) => r.length > 1);
  rows.slice(-3).forEach((row, k) => (row[0] = nhsNumbers[k] as string));
  writeFileSync(file, [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n');
  signAgain(file);
  return file;
})();

const feeds = (async () => {
  const files: string[] = [];
  for (const [k, [, field, value]] of cases.entries()) {
    files.push(await apcFeed(dir, `apc-${k}`, 40, '2025-01', k + 1));
    withOneValue(files[k] as string, field, value);
  }
  return files;
})();

describe('kernel deid', () => {
  it.each(cases.map((c, k) => [c[0], k] as const))(
    'refuses an extract with one value shaped like %s and writes nothing',
    async (_name, k) => {
      const huntCase = cases[k] as HuntCase;
      const [, field, value] = huntCase;
      const spoil = (extract: string): void => {
        const [header = [], ...rows] = parseCsv(readFileSync(extract, 'utf8')).filter((r) => r.length > 1);
        (rows[4] as string[])[header.indexOf(field)] = value;
        writeFileSync(extract, [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n');
      };
      await refusalOf(apcFeed(dir, `extract-${k}`, 40, '2025-01', k + 1, undefined, spoil), huntCase);
      expect(existsSync(path.join(dir, `extract-${k}.csv`))).toBe(false);
      expect(existsSync(path.join(dir, `extract-${k}.csv.partial`))).toBe(false);
    },
  );
});

describe.each(testStores())('the identifier hunt on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await prepareForApc(store, dir);
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  it.each(cases.map((c, k) => [c[0], k] as const))(
    'refuses a file with one value shaped like %s',
    async (_name, k) => {
      const huntCase = cases[k] as HuntCase;
      const [, field, value] = huntCase;
      const file = (await feeds)[k] as string;
      const refusal = await refusalOf(
        loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' }),
        huntCase,
      );
      expect(refusal.message).toMatch(new RegExp(`${field} .*\\(1 of 40, first on line 6\\)`));
      for (const part of value.split(/[ -]/)) expect(refusal.hint ?? '').not.toContain(part);
      const [quarantined] = await store.query<{ n: number | string }>(
        'SELECT count(*) AS n FROM load_quarantine',
      );
      expect(Number(quarantined?.n)).toBe(0);
      const tables = await store.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'ds\\_%' ESCAPE '\\'`,
      );
      for (const { table_name: table } of tables) {
        const [rows] = await store.query<{ n: number | string }>(`SELECT count(*) AS n FROM "${table}"`);
        expect(Number(rows?.n), table).toBe(0);
      }
    },
  );

  it('refuses a file whose source_line holds NHS numbers, stores nothing and names no value', async () => {
    const error = await loadFeed(store, {
      org: 'RWF',
      dataset: 'apc',
      file: await sourceLineFeed,
      actor: 'test',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KernelError);
    const refusal = error as KernelError;
    expect(refusal.code).toBe('refused');
    expect(refusal.message).toMatch(
      /source_line holds values shaped like NHS numbers \(3 of 40, first on line 39\)/,
    );
    expect(refusal.where).toMatchObject({ line: 39, field: 'source_line' });
    for (const value of nhsNumbers) expect(`${refusal.message} ${refusal.hint ?? ''}`).not.toContain(value);
    const tables = await store.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'ds\\_%' ESCAPE '\\'`,
    );
    for (const { table_name: table } of tables) {
      const [rows] = await store.query<{ n: number | string }>(`SELECT count(*) AS n FROM "${table}"`);
      expect(Number(rows?.n), table).toBe(0);
    }
  });
});
