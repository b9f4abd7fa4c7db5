import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../test/stores.ts';
import { listAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { listWorldFeeds } from '../demo/send-world-feeds.ts';
import { datasetSpec } from '../governance/datasets.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { newLinkKey } from '../privacy/link-key.ts';
import { newLinkageSecret } from '../privacy/linkage-secret.ts';
import { newSigningKeyPair } from '../privacy/signing-key.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import type { Store } from '../store/store.ts';
import { generateWorld } from '../synth/generate-world.ts';
import { blockPairs } from './blocking.ts';
import { loadLinkageFile, readLinkageEncodings } from './linkage-store.ts';
import { personLinkageSetup } from './person-linkage.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-linkage-store-'));
const world = path.join(dir, 'world');
const secret = newLinkageSecret();
let linkageFile = '';
let org = '';
let period = '';
const identifiers = new Set<string>();

beforeAll(async () => {
  generateWorld({ out: world, people: 3000, seed: 5, from: '2020-04', to: '2020-05' });
  const feed = listWorldFeeds(world, ['asc']).sort(
    (a, b) => statSync(b.file).size - statSync(a.file).size,
  )[0]!;
  org = feed.org;
  period = feed.period;
  const pair = newSigningKeyPair();
  const result = await deidentifyFile({
    spec: getDataset('asc'),
    org,
    input: feed.file,
    output: path.join(dir, 'asc.csv'),
    tokeniser: hmacTokeniser(newLinkKey()),
    signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
    period,
    linkageSecret: secret,
  });
  linkageFile = result.linkage!.file;
  // What the store must never hold: every name, date of birth, address and postcode of the extract.
  const columns = ['Person_Given_Name', 'Person_Family_Name', 'Date_Of_Birth', 'Address_Line_1', 'Postcode'];
  let at: number[] = [];
  await readCsv(feed.file, {
    onHeader: (header) => void (at = columns.map((c) => header.indexOf(c))),
    onRecord: (record) => at.forEach((i) => identifiers.add(fieldText(record, i).trim())),
  });
  identifiers.delete('');
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testStores())('linkage encodings in the store on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('loads a linkage file, audited, and a second file for the month replaces the first', async () => {
    const first = await loadLinkageFile(store, {
      org,
      dataset: 'asc',
      period,
      file: linkageFile,
      actor: 'cli:test',
    });
    expect(first.rows).toBeGreaterThan(0);
    expect(first.replaced).toBe(0);
    const again = await loadLinkageFile(store, {
      org,
      dataset: 'asc',
      period,
      file: linkageFile,
      actor: 'cli:test',
    });
    expect(again.replaced).toBe(first.rows);
    const [{ n }] = (await store.query<{ n: number }>('SELECT count(*) AS n FROM linkage_encodings')) as [
      { n: number },
    ];
    expect(Number(n)).toBe(first.rows);
    const events = (await listAudit(store)).filter((e) => e.action === 'linkage.encodings-loaded');
    expect(events).toHaveLength(2);
    const details = events.map((e) => JSON.parse(e.details) as { replaced: number; secretId: string });
    expect(details.map((d) => d.replaced).sort()).toEqual([0, first.rows].sort());
    expect(details.every((d) => d.secretId === secret.keyId)).toBe(true);
  });

  it('holds no name, date of birth, address or postcode in any column', async () => {
    const columns = await store.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'linkage_encodings'`,
    );
    expect(columns.length).toBeGreaterThan(10);
    let scanned = 0;
    const found: string[] = [];
    for (const { column_name: column } of columns) {
      const values = await store.query<{ v: string | number | null }>(
        `SELECT DISTINCT CAST(${column} AS TEXT) AS v FROM linkage_encodings`,
      );
      for (const { v } of values) {
        scanned++;
        if (typeof v === 'string' && identifiers.has(v)) found.push(column);
      }
    }
    expect(scanned).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });

  it('reads back as a side the engine blocks on, and no governed read can name the table', async () => {
    const { keys, side } = await readLinkageEncodings(store, { dataset: 'asc', org });
    expect(keys.length).toBe(side.length);
    expect(side.filters.get('family_name')?.present.some((p) => p === 1)).toBe(true);
    const pairs = blockPairs(side, side, personLinkageSetup().blocking).pairs;
    expect(pairs.length).toBeGreaterThanOrEqual(side.length); // each record blocks with itself
    expect(() => datasetSpec('linkage_encodings')).toThrow();
    expect(() => datasetSpec('linkage-encodings')).toThrow();
  });

  it('refuses a dataset without encodings, a damaged file, and a second secret', async () => {
    await expect(
      loadLinkageFile(store, { org, dataset: 'apc', period, file: linkageFile, actor: 'cli:test' }),
    ).rejects.toThrow(/does not take linkage encodings/);
    const damaged = path.join(dir, 'damaged.linkage.csv');
    writeFileSync(damaged, 'source_line,secret_id\n1,ls-x\n');
    await expect(
      loadLinkageFile(store, { org, dataset: 'asc', period, file: damaged, actor: 'cli:test' }),
    ).rejects.toThrow(/not a linkage file/);
    const other = path.join(dir, 'other.linkage.csv');
    const text = readFileSync(linkageFile, 'utf8').replaceAll(secret.keyId, 'ls-0000000000000000');
    writeFileSync(other, text);
    await expect(
      loadLinkageFile(store, { org: 'Y99001', dataset: 'asc', period, file: other, actor: 'cli:test' }),
    ).rejects.toThrow(/another linkage secret/);
  });
});
