/**
 * The privacy promise, end to end: after every synthetic feed of a small world has gone
 * through `deid` and `load`, no NHS number, name, full postcode or full date of birth from
 * the extracts appears in any text column of any table of the warehouse store.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../../src/catalogue/catalogue.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import {
  isNilReturn,
  listWorldFeeds,
  worldGpPractices,
  type WorldFeed,
} from '../../src/demo/send-world-feeds.ts';
import { fieldText, readCsv } from '../../src/files/csv-reader.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup, type PostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { newSigningKeyPair, parsePublicKey } from '../../src/privacy/signing-key.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../../src/ingest/trusted-keys.ts';
import { createPrivateKey } from 'node:crypto';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { quoteIdentifier } from '../../src/store/sql.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-privacy-'));
const world = path.join(dir, 'world');
const outbox = path.join(dir, 'outbox');
const linkKey = newLinkKey();
const signingKeys = new Map<string, ReturnType<typeof newSigningKeyPair>>();

const feeds: WorldFeed[] = [];
const identifiers = {
  nhs: new Set<string>(),
  names: new Set<string>(),
  postcodes: new Set<string>(),
  births: new Set<string>(),
};
let postcodes: PostcodeLookup;

/** Every identifier in an extract, by the role its specification gives the column. */
async function collectIdentifiers(feed: WorldFeed): Promise<number> {
  const spec = getDataset(feed.dataset);
  let kinds: ('nhs' | 'names' | 'postcodes' | 'births' | undefined)[] = [];
  const result = await readCsv(feed.file, {
    onHeader(columns) {
      kinds = columns.map((name) => {
        const field = spec.fields.find((f) => f.name === name);
        const rule = field?.role === 'direct-identifier' ? field.pseudonymise : undefined;
        if (rule?.method === 'token' && rule.kind === 'nhs-number') return 'nhs';
        if (rule?.method === 'postcode-geography') return 'postcodes';
        if (rule?.method === 'birth-date') return 'births';
        if (rule?.method === 'drop' && /name/i.test(name)) return 'names';
        return undefined;
      });
    },
    onRecord(record) {
      kinds.forEach((kind, i) => {
        const value = fieldText(record, i).trim();
        if (!kind || value === '') return;
        // Names shorter than four letters ("Li", "Ng") are too common as parts of other text
        // to hunt for as substrings; they are still hunted as whole values.
        identifiers[kind].add(kind === 'postcodes' ? value.toUpperCase() : value);
      });
    },
  });
  return result.rows;
}

beforeAll(async () => {
  generateWorld({ out: world, people: 400, seed: 7, from: '2020-04', to: '2020-05' });
  postcodes = await readPostcodeLookup(path.join(world, 'reference', 'postcodes.csv'));
  for (const feed of listWorldFeeds(world)) {
    if (isNilReturn(feed.file)) continue;
    if ((await collectIdentifiers(feed)) > 0) feeds.push(feed);
  }
  // Pseudonymise once, as each organisation's agent would; both engines load the same files.
  for (const feed of feeds) {
    if (!signingKeys.has(feed.org)) signingKeys.set(feed.org, newSigningKeyPair());
    const pair = signingKeys.get(feed.org) as ReturnType<typeof newSigningKeyPair>;
    const out = path.join(outbox, feed.org, feed.dataset, `${feed.period}.csv`);
    mkdirSync(path.dirname(out), { recursive: true });
    await deidentifyFile({
      spec: getDataset(feed.dataset),
      org: feed.org,
      input: feed.file,
      output: out,
      tokeniser: hmacTokeniser(linkKey),
      postcodes,
      signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
      period: feed.period,
    });
  }
}, 120_000);

/** Every distinct value of every text column of every table, hunted for the extracts' identifiers. */
async function hunt(store: Store): Promise<{ found: string[]; scanned: number; tables: Set<string> }> {
  const textTypes = store.dialect.name === 'duckdb' ? ['VARCHAR'] : ['text', 'character varying'];
  const columns = await store.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = ${store.dialect.name === 'duckdb' ? "'main'" : "'public'"}
       AND data_type IN (${textTypes.map((t) => `'${t}'`).join(', ')})`,
  );
  const tables = new Set(columns.map((c) => c.table_name));
  const nhsLike = /\d{10}|\d{3}[ -]\d{3}[ -]\d{4}/g;
  const postcodeLike = /[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}/gi;
  const found: string[] = [];
  let scanned = 0;
  for (const { table_name: table, column_name: column } of columns) {
    for await (const chunk of store.stream<{ v: string }>(
      `SELECT DISTINCT ${quoteIdentifier(column)} AS v FROM ${quoteIdentifier(table)} WHERE ${quoteIdentifier(column)} IS NOT NULL`,
    )) {
      for (const { v } of chunk) {
        scanned++;
        for (const digits of v.match(nhsLike) ?? []) {
          if (identifiers.nhs.has(digits.replace(/[ -]/g, '')))
            found.push(`NHS number in ${table}.${column}`);
        }
        for (const code of v.match(postcodeLike) ?? []) {
          const upper = code.toUpperCase();
          if (
            identifiers.postcodes.has(upper) ||
            identifiers.postcodes.has(upper.replace(/^(.+?) ?(\d[A-Z]{2})$/, '$1 $2'))
          ) {
            found.push(`postcode in ${table}.${column}`);
          }
        }
        if (identifiers.births.has(v)) found.push(`date of birth in ${table}.${column}`);
        if (identifiers.names.has(v)) found.push(`name in ${table}.${column}`);
      }
    }
  }
  return { found, scanned, tables };
}

describe.each(testStores())('privacy after loading every synthetic feed on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await seedDemoGovernance(store, 'test', { extraOrganisations: worldGpPractices(world) });
    for (const [org, pair] of signingKeys)
      await trustSigningKey(store, org, parsePublicKey(pair.publicKeyPem).publicKeyPem, 'test');
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  it('loads every feed and no identifier from the extracts appears in any text column of any table', async () => {
    expect(feeds.length).toBeGreaterThan(10);
    expect(identifiers.nhs.size).toBeGreaterThan(100);
    expect(identifiers.names.size).toBeGreaterThan(20);
    expect(identifiers.postcodes.size).toBeGreaterThan(20);
    expect(identifiers.births.size).toBeGreaterThan(100);
    let loaded = 0;
    for (const feed of feeds) {
      const file = path.join(outbox, feed.org, feed.dataset, `${feed.period}.csv`);
      expect(existsSync(file)).toBe(true);
      const report = await loadFeed(store, {
        org: feed.org,
        dataset: feed.dataset,
        period: feed.period,
        file,
        actor: 'test',
      });
      expect(report.status).toBe('loaded');
      loaded += report.rowsLoaded;
    }
    expect(loaded).toBeGreaterThan(200);

    const { found, scanned, tables } = await hunt(store);
    expect(tables).toContain('ds_apc');
    expect(tables).toContain('audit_events');
    expect(tables).toContain('load_quarantine');
    expect(scanned).toBeGreaterThan(1000);
    expect([...new Set(found)]).toEqual([]);

    // The hunt itself can fail: a planted NHS number, postcode, birth date and name are found.
    const [nhs] = identifiers.nhs;
    const [postcode] = identifiers.postcodes;
    const [birth] = identifiers.births;
    const [name] = identifiers.names;
    await store.exec('CREATE TABLE privacy_probe (a TEXT, b TEXT, c TEXT)');
    await store.run('INSERT INTO privacy_probe VALUES ($1, $2, $3), ($4, NULL, NULL)', [
      `note: ${nhs?.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3')}`,
      `lives at ${postcode}`,
      birth ?? '',
      name ?? '',
    ]);
    const planted = await hunt(store);
    expect([...new Set(planted.found)].sort()).toEqual([
      'NHS number in privacy_probe.a',
      'date of birth in privacy_probe.c',
      'name in privacy_probe.a',
      'postcode in privacy_probe.b',
    ]);
  }, 240_000);
});
