import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postcodeLookupCsv, writeExtract, type ExtractFaults } from '../../bench/ingest/extract-writer.ts';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { KernelError } from '../../src/errors.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { getLoadReport, listLoads, writeQuarantine } from '../../src/ingest/load-history.ts';
import { loadFeed, LoadRefusedError, type LoadRequest } from '../../src/ingest/load-feed.ts';
import { rereadsLeftOutRows } from '../../src/ingest/load/set-aside.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import {
  canonicalJson,
  manifestPathFor,
  signManifest,
  type FeedManifest,
} from '../../src/privacy/manifest.ts';
import { readPostcodeLookup, type PostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import {
  newSigningKeyPair,
  readSigningPrivateKey,
  writeSigningKeyPair,
} from '../../src/privacy/signing-key.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../../src/ingest/trusted-keys.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';

const spec = catalogueSpecs.spec('apc');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-feeds-'));
const linkKey = newLinkKey();
writeSigningKeyPair(path.join(dir, 'rwf.key'), newSigningKeyPair());
const signing = readSigningPrivateKey(path.join(dir, 'rwf.key'));
writeSigningKeyPair(path.join(dir, 'other.key'), newSigningKeyPair());
const otherSigning = readSigningPrivateKey(path.join(dir, 'other.key'));
writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
let postcodes: PostcodeLookup;
let fileNo = 0;

/** An identifiable extract through the agent: answers the pseudonymised file. */
async function feed(rows: number, faults: ExtractFaults = {}, seed = 1, period = '2025-04'): Promise<string> {
  const name = `apc-${fileNo++}`;
  const extract = path.join(dir, `${name}.extract.csv`);
  await writeExtract({ spec, codeList: catalogueSpecs.codeList, file: extract, rows, period, seed, faults });
  const out = path.join(dir, `${name}.csv`);
  await deidentifyFile({
    spec,
    org: 'RWF',
    input: extract,
    output: out,
    tokeniser: hmacTokeniser(linkKey),
    postcodes,
    signing,
  });
  return out;
}

function readManifestFile(file: string): FeedManifest {
  return JSON.parse(readFileSync(manifestPathFor(file), 'utf8')) as FeedManifest;
}

async function refusal(work: Promise<unknown>): Promise<LoadRefusedError> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(LoadRefusedError);
    return error as LoadRefusedError;
  }
  throw new Error('expected the load to be refused');
}

beforeAll(async () => {
  postcodes = await readPostcodeLookup(path.join(dir, 'postcodes.csv'));
});

describe.each(testStores())('feeds: deid and load on $engine', (engine) => {
  let store: Store;
  const request = (file: string, extra: Partial<LoadRequest> = {}): LoadRequest => ({
    org: 'RWF',
    dataset: 'apc',
    file,
    actor: 'test',
    ...extra,
  });
  const rowsIn = async (): Promise<number> =>
    Number((await store.query<{ n: number }>('SELECT count(*) AS n FROM ds_apc'))[0]?.n ?? 0);

  beforeAll(async () => {
    store = await engine.open();
    await seedOrganisations(store, 'test');
    await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
    await trustSigningKey(store, 'RWF', readFileSync(path.join(dir, 'rwf.key.pub'), 'utf8'), 'test');
  });
  afterAll(async () => {
    await store.close();
  });

  let first: string;
  let firstLoadId: string;

  it('loads a feed: good rows in, each rule found with its count and first line, all audited', async () => {
    first = await feed(40, {
      required: [3],
      type: [5, 6],
      code: [8],
      dateOrder: [10],
      duplicate: [12],
      nhsMissing: [14],
      nhsCheckDigit: [15, 16],
    });
    const report = await loadFeed(store, request(first));
    expect(report.status).toBe('loaded');
    firstLoadId = report.loadId as string;
    // 40 rows plus one duplicate copy; the planted faults are on data rows (line = row + 1,
    // shifted by one after the duplicate at row 12).
    expect(report.rowsRead).toBe(41);
    expect(report.rowsRejected).toBe(5 + 1);
    expect(report.rowsLoaded).toBe(41 - 6);
    const finding = (rule: string) => report.findings.filter((f) => f.rule === rule);
    expect(finding('required')).toEqual([
      { rule: 'required', field: 'Person_Stated_Gender_Code', count: 1, firstLine: 4 },
    ]);
    expect(finding('type')).toEqual([{ rule: 'type', field: 'Admission_Date', count: 2, firstLine: 6 }]);
    expect(finding('code')).toEqual([
      { rule: 'code', field: 'NHS_Number_Status_Indicator_Code', count: 1, firstLine: 9 },
    ]);
    expect(finding('date-order').map((f) => f.firstLine)).toContain(11);
    expect(finding('duplicate')).toEqual([{ rule: 'duplicate', field: null, count: 1, firstLine: 14 }]);
    expect(finding('nhs-number')).toEqual([
      { rule: 'nhs-number', field: 'NHS_Number', count: 3, firstLine: 16 },
    ]);
    expect(await rowsIn()).toBe(35);
    // rows with an NHS number problem are loaded, without a token
    const [noToken] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM ds_apc WHERE person_token IS NULL',
    );
    expect(Number(noToken?.n)).toBe(3);
    const [withArea] = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM ds_apc WHERE lsoa_code LIKE 'E01%' AND imd_decile BETWEEN 1 AND 10 AND age_on_admission >= 0",
    );
    expect(Number(withArea?.n)).toBe(35);

    const details = await getLoadReport(store, firstLoadId);
    expect(details).toMatchObject({ state: 'loaded', rowsQuarantined: 5, rowsDropped: 1, period: '2025-04' });
    expect(details.completeness.find((c) => c.field === 'person_token')?.filled).toBe(37);
    const events = await listAudit(store, { action: 'load.completed' });
    expect(events.at(-1)?.target).toBe(firstLoadId);
    expect((await verifyAudit(store)).ok).toBe(true);

    const out = path.join(dir, `quarantine-${engine.engine}.csv`);
    expect(await writeQuarantine(store, firstLoadId, out)).toBe(5);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^line,rule,field,person_token,NHS_Number_Status_Indicator_Code,/);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      '4,required,Person_Stated_Gender_Code',
      '6,type,Admission_Date',
      '7,type,Admission_Date',
      '9,code,NHS_Number_Status_Indicator_Code',
      '11,date-order,Discharge_Date',
    ]);
  });

  it('reports the same file again as a duplicate and changes nothing', async () => {
    const loadsBefore = (await listLoads(store)).length;
    const report = await loadFeed(store, request(first));
    expect(report).toMatchObject({ status: 'duplicate', loadId: firstLoadId });
    expect((await listLoads(store)).length).toBe(loadsBefore);
    expect(await rowsIn()).toBe(35);
  });

  it('refuses an altered manifest, an unsigned file, another key, and a manifest for another file', async () => {
    const before = await rowsIn();
    const tampered = path.join(dir, `tampered-${engine.engine}.csv`);
    copyFileSync(first, tampered);
    const manifest = readManifestFile(first);
    writeFileSync(manifestPathFor(tampered), JSON.stringify({ ...manifest, nhsNumberProblems: {} }));
    expect((await refusal(loadFeed(store, request(tampered)))).message).toMatch(/altered after signing/);

    writeFileSync(
      manifestPathFor(tampered),
      JSON.stringify({ ...manifest, signature: null, signingKeyId: null }),
    );
    expect((await refusal(loadFeed(store, request(tampered)))).message).toMatch(/not signed/);

    writeFileSync(
      manifestPathFor(tampered),
      JSON.stringify(signManifest(manifest, otherSigning.keyId, otherSigning.privateKey)),
    );
    expect((await refusal(loadFeed(store, request(tampered)))).message).toMatch(/not trusted for RWF/);

    const other = await feed(5, {}, 99);
    copyFileSync(manifestPathFor(other), manifestPathFor(tampered));
    const error = await refusal(loadFeed(store, request(tampered)));
    expect(error.message).toMatch(/manifest is for another file/);
    expect(error.report.status).toBe('refused');
    expect(await rowsIn()).toBe(before);
  });

  it('refuses a file with no manifest, and one for an organisation with no agreement', async () => {
    const bare = path.join(dir, `bare-${engine.engine}.csv`);
    copyFileSync(first, bare);
    expect((await refusal(loadFeed(store, request(bare)))).message).toMatch(/no manifest, so it is unsigned/);
    const refused = await refusal(loadFeed(store, request(first, { org: 'RVV' })));
    expect(refused.message).toMatch(/manifest is for organisation RWF, not RVV/);
  });

  it('refuses a signed file that still carries NHS numbers, naming the column', async () => {
    const before = await rowsIn();
    // A faulty agent: the NHS number copied into a content column, then signed; written
    // every way people write them, and every one is seen.
    const text = readFileSync(first, 'utf8').split('\n');
    const header = (text[0] as string).split(',');
    const column = header.indexOf('Hospital_Provider_Spell_Number');
    const nhs = ['9990000018', '999 000 0026', '999-000-0034', '9990000042 '];
    const body = text.slice(1).map((line, i) => {
      if (!line) return line;
      const cells = line.split(',');
      cells[column] = nhs[i % nhs.length] as string;
      return cells.join(',');
    });
    const leaky = path.join(dir, `leaky-${engine.engine}.csv`);
    writeFileSync(leaky, [text[0], ...body].join('\n'));
    const { createHash } = await import('node:crypto');
    const manifest = readManifestFile(first);
    const sha256 = createHash('sha256').update(readFileSync(leaky)).digest('hex');
    writeFileSync(
      manifestPathFor(leaky),
      JSON.stringify(signManifest({ ...manifest, sha256 }, signing.keyId, signing.privateKey)),
    );
    const error = await refusal(loadFeed(store, request(leaky)));
    expect(error.message).toMatch(/Hospital_Provider_Spell_Number holds values shaped like NHS numbers/);
    expect(error.message).toMatch(/\((\d+) of \1, first on line 2\)/);
    expect(error.where?.field).toBe('Hospital_Provider_Spell_Number');
    expect(await rowsIn()).toBe(before);
    const [last] = await listLoads(store, { status: 'refused' });
    expect(last?.error).toMatch(/NHS numbers/);
  });

  it('supersedes the previous load of the same month atomically, keeping it in the history', async () => {
    const second = await feed(20, {}, 7);
    const report = await loadFeed(store, request(second));
    expect(report.status).toBe('loaded');
    expect(await rowsIn()).toBe(20);
    const old = await getLoadReport(store, firstLoadId);
    expect(old).toMatchObject({ state: 'superseded', supersededBy: report.loadId });
    const [loadIds] = await store.query<{ n: number }>('SELECT count(DISTINCT load_id) AS n FROM ds_apc');
    expect(Number(loadIds?.n)).toBe(1);
    expect((await getLoadReport(store, report.loadId as string)).supersedes).toEqual([firstLoadId]);
  });

  it('pseudonymises an identifiable file in-process only where configuration allows it, audited', async () => {
    const extract = path.join(dir, `identifiable-${engine.engine}.csv`);
    const { people } = await writeExtract({
      spec,
      codeList: catalogueSpecs.codeList,
      file: extract,
      rows: 12,
      period: '2025-06',
      seed: 5,
    });
    const refused = await refusal(loadFeed(store, request(extract)));
    expect(refused.message).toMatch(
      /no manifest and still carries identifiers \(NHS_Number, Local_Patient_Identifier/,
    );
    const report = await loadFeed(store, request(extract, { identifiable: { linkKey, postcodes } }));
    expect(report).toMatchObject({ status: 'loaded', period: '2025-06', rowsRead: 12, rowsLoaded: 12 });
    const tokens = await store.query<{ person_token: string }>(
      'SELECT person_token FROM ds_apc WHERE load_id = $1',
      [report.loadId],
    );
    const expected = new Set(people.map((p) => hmacTokeniser(linkKey).token(p.nhs)));
    expect(tokens.every((t) => expected.has(t.person_token))).toBe(true);
    const events = await listAudit(store, { action: 'load.pseudonymised-in-process' });
    expect(events.map((e) => e.target)).toEqual([report.loadId]);
    const again = await loadFeed(store, request(extract, { identifiable: { linkKey, postcodes } }));
    expect(again).toMatchObject({ status: 'duplicate', loadId: report.loadId });
  });

  it('refuses a month the agreement does not cover, writing nothing', async () => {
    const before = await rowsIn();
    const outside = await feed(5, {}, 3, '2024-06');
    const error = await refusal(loadFeed(store, request(outside)));
    expect(error).toBeInstanceOf(KernelError);
    expect(error.message).toMatch(/covers 2025-01 to 2025-12, not 2024-06/);
    expect(await rowsIn()).toBe(before);
    expect(canonicalJson(error.report.findings)).toBe('[]');
  });

  it('with few rows left out, reads just those again: the same rules, lines and values', async () => {
    const made = await feed(
      400,
      { required: [3], type: [150], code: [151], dateOrder: [299], duplicate: [200] },
      11,
      '2025-08',
    );
    // Five rows of 401 set aside, and on DuckDB the repeat and its original held back: well
    // under the share at which the whole file is parsed again.
    expect(rereadsLeftOutRows(7, 401)).toBe(true);
    expect(rereadsLeftOutRows(41, 401)).toBe(false);
    const report = await loadFeed(store, request(made));
    expect(report).toMatchObject({ status: 'loaded', rowsRead: 401, rowsLoaded: 396, rowsRejected: 5 });
    const [header, ...body] = readFileSync(made, 'utf8').trimEnd().split('\n') as [string, ...string[]];
    const columns = header.split(',');
    const fileRows = new Map(body.map((row) => [Number(row.split(',')[0]), row.split(',')] as const));
    const held = await store.query<{ source_line: number; rule: string; row_json: string }>(
      'SELECT source_line, rule, row_json FROM load_quarantine WHERE load_id = $1 ORDER BY source_line',
      [report.loadId],
    );
    expect(held.map((r) => `${Number(r.source_line)} ${r.rule}`)).toEqual([
      '4 required',
      '151 type',
      '152 code',
      '301 date-order',
    ]);
    for (const row of held) {
      const values = JSON.parse(row.row_json) as Record<string, string | null>;
      const cells = fileRows.get(Number(row.source_line)) as string[];
      for (const [name, value] of Object.entries(values)) {
        expect(value ?? '', name).toBe((cells[columns.indexOf(name)] ?? '').trim());
      }
    }
    expect(report.findings.filter((f) => f.rule === 'duplicate')).toEqual([
      { rule: 'duplicate', field: null, count: 1, firstLine: 202 },
    ]);
  });

  it('drops exactly the repeated rows: a copy, padded, quoted; never a record that only starts the same, nor one written otherwise', async () => {
    const made = await feed(4, {}, 9, '2025-07');
    const [header, ...rows] = readFileSync(made, 'utf8').trimEnd().split('\n') as [string, ...string[]];
    const columns = header.split(',');
    const spell = columns.indexOf('Hospital_Provider_Spell_Number');
    const age = columns.indexOf('age_on_admission');
    const cells = rows.map((row) => row.split(','));
    const withLine = (line: number, values: string[], change: Record<number, string> = {}): string =>
      [String(line), ...values.slice(1).map((v, i) => change[i + 1] ?? v)].join(',');
    const [a, b, c, d] = cells as [string[], string[], string[], string[]];
    const body = [
      withLine(2, a),
      withLine(3, a), // the same row again: dropped
      withLine(4, b),
      withLine(5, b, { [spell]: ` ${b[spell]} ` }), // the same once trimmed: dropped
      withLine(6, c, { [spell]: '"AB\nCD"' }), // a value across two lines
      withLine(8, c, { [spell]: '"AB\nEF"' }), // its first line the same, its second not: kept
      withLine(10, d),
      withLine(11, d, { [spell]: `"${d[spell]}"` }), // the same once unquoted: dropped
      withLine(12, d, { [age]: `0${d[age]}` }), // the same age, written otherwise: kept
    ];
    const file = path.join(dir, `repeats-${engine.engine}.csv`);
    writeFileSync(file, [header, ...body].join('\n') + '\n');
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    writeFileSync(
      manifestPathFor(file),
      JSON.stringify(
        signManifest({ ...readManifestFile(made), sha256, rowCount: 9 }, signing.keyId, signing.privateKey),
      ),
    );
    const report = await loadFeed(store, request(file));
    expect(report).toMatchObject({ status: 'loaded', rowsRead: 9, rowsLoaded: 6, rowsRejected: 3 });
    expect(report.findings.filter((f) => f.rule === 'duplicate')).toEqual([
      { rule: 'duplicate', field: null, count: 3, firstLine: 3 },
    ]);
    const loaded = await store.query<{ source_line: number; spell: string }>(
      'SELECT source_line, "Hospital_Provider_Spell_Number" AS spell FROM ds_apc WHERE load_id = $1 ORDER BY source_line',
      [report.loadId],
    );
    expect(loaded.map((r) => Number(r.source_line))).toEqual([2, 4, 6, 8, 10, 12]);
    expect(loaded.map((r) => r.spell).slice(2, 4)).toEqual(['AB\nCD', 'AB\nEF']);
  });
});
