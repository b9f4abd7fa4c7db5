/**
 * `kernel deid` counts the dates of birth it cannot read (no such day, or not YYYY-MM-DD)
 * instead of leaving age and birth month empty in silence: in its summary, in the signed
 * manifest, and so in the load's findings, by column with the first line, never the value.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExtract } from '../../bench/ingest/extract-writer.ts';
import { parseCsv } from '../../src/files/csv-file-writer.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { manifestPathFor, readManifest } from '../../src/privacy/manifest.ts';
import type { Store } from '../../src/store/store.ts';
import { runCli, type CliResult } from '../cli.ts';
import { prepareForApc } from '../kill-load.ts';
import { testStores } from '../stores.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-deid-births-'));
const at = (name: string) => path.join(dir, name);
const unread = ['1970-13-26', '26/11/1970', '1970-02-30'];
let deid: CliResult;

beforeAll(async () => {
  await writeExtract({
    spec: catalogueSpecs.spec('apc'),
    codeList: catalogueSpecs.codeList,
    file: at('extract.csv'),
    rows: 30,
    period: '2025-06',
  });
  const [header = [], ...rows] = parseCsv(readFileSync(at('extract.csv'), 'utf8')).filter(
    (r) => r.length > 1,
  );
  const birth = header.indexOf('Person_Birth_Date');
  unread.forEach((value, k) => ((rows[3 + 5 * k] as string[])[birth] = value)); // lines 5, 10, 15
  (rows[20] as string[])[birth] = ''; // missing is not "not read"
  writeFileSync(at('extract.csv'), [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
  expect((await runCli(['keys', 'new', '--out', at('link.key')])).code).toBe(0);
  expect((await runCli(['keys', 'new-signing', '--out', at('rwf.key')])).code).toBe(0);
  deid = await runCli([
    'deid',
    ...['--key', at('link.key'), '--sign', at('rwf.key'), '--org', 'RWF', '--dataset', 'apc'],
    ...['--in', at('extract.csv'), '--out', at('apc.csv')],
  ]);
}, 60_000);

describe('deid counts the dates of birth it cannot read', () => {
  it('says how many, in which column, from which line, and never the values', () => {
    expect(deid.code, deid.stderr).toBe(0);
    expect(deid.stdout).toContain(
      'Dates of birth not read, so age and birth month are empty: 3 in Person_Birth_Date (first on line 5).',
    );
    for (const value of unread) expect(deid.stdout + deid.stderr).not.toContain(value);
  });

  it('carries the count in the signed manifest', () => {
    const manifest = readManifest(manifestPathFor(at('apc.csv')));
    expect(manifest?.birthDateProblems).toEqual({ Person_Birth_Date: { count: 3, firstLine: 5 } });
  });
});

describe.each(testStores())('the load of a feed with dates of birth not read on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await prepareForApc(store, dir);
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  it('loads every row and reports them as a finding', async () => {
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: at('apc.csv'), actor: 'test' });
    expect(report.status).toBe('loaded');
    expect(report.rowsLoaded).toBe(30);
    expect(report.findings).toContainEqual({
      rule: 'birth-date',
      field: 'Person_Birth_Date',
      count: 3,
      firstLine: 5,
    });
  });
});
