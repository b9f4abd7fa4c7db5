import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postcodeLookupCsv, writeExtract } from '../../bench/ingest/extract-writer.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { REPORT_KEYS } from '../../src/ingest/load-history.ts';
import { manifestPathFor, signManifest, type FeedManifest } from '../../src/privacy/manifest.ts';
import { readSigningPrivateKey } from '../../src/privacy/signing-key.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli, spawnCli } from '../cli.ts';
import { testStores } from '../stores.ts';

const spec = catalogueSpecs.spec('apc');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-feeds-cli-'));
const at = (name: string): string => path.join(dir, name);
let header = '';
let goodRow = '';

beforeAll(async () => {
  writeFileSync(at('postcodes.csv'), postcodeLookupCsv());
  await writeExtract({
    spec,
    codeList: catalogueSpecs.codeList,
    file: at('extract.csv'),
    rows: 30,
    period: '2025-04',
    faults: { code: [2] },
  });
  const lines = readFileSync(at('extract.csv'), 'utf8').split('\n');
  header = lines[0] as string;
  goodRow = lines[3] as string;
  expect((await runCli(['keys', 'new', '--out', at('link.key')])).code).toBe(0);
  expect((await runCli(['keys', 'new-signing', '--out', at('rwf.key')])).code).toBe(0);
});

const deidArgs = (input: string, out: string): string[] => [
  'deid',
  '--key',
  at('link.key'),
  '--sign',
  at('rwf.key'),
  '--org',
  'RWF',
  '--dataset',
  'apc',
  '--in',
  input,
  '--out',
  out,
  '--postcodes',
  at('postcodes.csv'),
];

describe('kernel keys', () => {
  it('makes a link key readable by its owner only and refuses to overwrite it', async () => {
    expect(statSync(at('link.key')).mode & 0o777).toBe(0o600);
    const before = readFileSync(at('link.key'), 'utf8');
    const again = await runCli(['keys', 'new', '--out', at('link.key')]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists; Kernel will not overwrite a link key/);
    expect(readFileSync(at('link.key'), 'utf8')).toBe(before);
    expect(existsSync(at('rwf.key.pub'))).toBe(true);
    expect(readFileSync(at('link.key'), 'utf8')).not.toContain('BEGIN');
  });
});

describe('kernel deid: bad input gets one clear line, a non-zero exit, and no output', () => {
  let n = 0;
  async function deidOf(content: string | Buffer): Promise<{ code: number; stderr: string; out: string }> {
    const input = at(`bad-${n}.csv`);
    const out = at(`bad-${n++}.out.csv`);
    writeFileSync(input, content);
    const result = await runCli(deidArgs(input, out));
    return { code: result.code, stderr: result.stderr, out };
  }
  async function refused(content: string | Buffer, message: RegExp): Promise<void> {
    const { code, stderr, out } = await deidOf(content);
    expect(code).toBe(65);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(existsSync(manifestPathFor(out))).toBe(false);
  }

  it('an empty file', () => refused('', /The file is empty \(bad-\d+\.csv, line 1\)\. Send a CSV file/));
  it('a header only', () => refused(`${header}\n`, /header row but no data rows/));
  it('a wrong delimiter', () =>
    refused(
      `${header.replaceAll(',', ';')}\n${goodRow.replaceAll(',', ';')}\n`,
      /separated by semicolons, not commas/,
    ));
  it('an unbalanced quote', () =>
    refused(
      `${header}\n${goodRow}\n"${goodRow}\n${goodRow}\n`,
      /opened on line 3 is never closed \(.*line 3, column 1\)/,
    ));
  it('a ragged row', () =>
    refused(
      `${header}\n${goodRow}\n${goodRow},extra\n`,
      new RegExp(
        `The row has ${spec.fields.length + 1} columns but the header has ${spec.fields.length} \\(.*line 3`,
      ),
    ));
  it('text that is not UTF-8', () =>
    refused(
      Buffer.concat([
        Buffer.from(`${header}\n${goodRow.replace(/,[^,]*$/, ',')}`),
        Buffer.from([0xff]),
        Buffer.from('\n'),
      ]),
      /not valid UTF-8 .*0xff.*line 2/,
    ));
  it('a 10 MB field', () =>
    refused(
      `${header}\n${goodRow.replace(/,[^,]*$/, `,${'x'.repeat(10 * 1024 * 1024)}`)}\n`,
      new RegExp(`longer than the limit .*line 2, column ${spec.fields.length}`),
    ));
  it('binary data', () =>
    refused(
      Buffer.concat([Buffer.from(`${header}\n`), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])]),
      /binary data/,
    ));
  it('duplicate column names', () =>
    refused(`${header},NHS_Number\n${goodRow},1\n`, /"NHS_Number" appears twice/));
  it('missing and unknown columns, named', () =>
    refused(
      `${header.replace('Admission_Method', 'Admission_Methd')}\n${goodRow}\n`,
      /missing Admission_Method; unknown Admission_Methd/,
    ));

  it('accepts a byte-order mark and CRLF line endings, and says so', async () => {
    const input = at('bom.csv');
    writeFileSync(input, `\uFEFF${header}\r\n${goodRow}\r\n${goodRow.replace(/^\d+/, '1')}\r\n`);
    const result = await runCli(deidArgs(input, at('bom.out.csv')));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/byte-order mark; it was ignored/);
    expect(readFileSync(at('bom.out.csv'), 'utf8')).not.toContain('\r');
  });
});

describe('kernel deid --scheme openpseudonymiser', () => {
  it('tokens are the upper-case SHA-256 of the NHS number then the salt, and the manifest says so', async () => {
    writeFileSync(at('salt.txt'), 'hello\n');
    const out = at('op.csv');
    const args = deidArgs(at('extract.csv'), out).filter(
      (a, i, all) => a !== '--key' && all[i - 1] !== '--key',
    );
    const result = await runCli([...args, '--scheme', 'openpseudonymiser', '--salt-file', at('salt.txt')]);
    expect(result.stderr).toBe('');
    const nhs = readFileSync(at('extract.csv'), 'utf8').split('\n')[1]?.split(',')[0] as string;
    const expected = createHash('sha256').update(`${nhs}hello`).digest('hex').toUpperCase();
    expect(readFileSync(out, 'utf8').split('\n')[1]?.split(',')[1]).toBe(expected);
    const manifest = JSON.parse(readFileSync(manifestPathFor(out), 'utf8')) as FeedManifest;
    expect(manifest.tokenScheme).toBe('openpseudonymiser');
    expect(JSON.stringify(manifest)).not.toContain('hello');
  });
});

describe.each(testStores())('kernel deid, load and loads on $engine', (engine) => {
  let globals: string[];
  const out = at(`apc-${engine.engine}.csv`);
  /** `lines` written as `name` and signed as a faulty agent would, for `period`. */
  const signedCopy = (
    name: string,
    lines: string[],
    period: string,
    changed: Partial<FeedManifest> = {},
  ): string => {
    const file = at(name);
    writeFileSync(file, lines.join('\n'));
    const manifest = JSON.parse(readFileSync(manifestPathFor(out), 'utf8')) as FeedManifest;
    const { keyId, privateKey } = readSigningPrivateKey(at('rwf.key'));
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    writeFileSync(
      manifestPathFor(file),
      JSON.stringify(signManifest({ ...manifest, ...changed, sha256, period }, keyId, privateKey)),
    );
    return file;
  };

  beforeAll(async () => {
    const config = await engine.fresh();
    globals = ['--data', config.dataDir, '--store', config.store];
    const store = await openStore(config);
    await seedOrganisations(store, 'test');
    await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
    await store.close();
  });

  it('pseudonymises, trusts the key, loads with the report keys exactly, lists and shows', async () => {
    const deid = await runCli(deidArgs(at('extract.csv'), out));
    expect(deid.stderr).toBe('');
    expect(deid.stdout).toMatch(/Pseudonymised 30 rows of apc for RWF, period 2025-04/);
    const extract = readFileSync(at('extract.csv'), 'utf8');
    const nhs = extract.split('\n')[1]?.split(',')[0] as string;
    expect(readFileSync(out, 'utf8')).not.toContain(nhs);

    const unsigned = await runCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', out, '--json']);
    expect(unsigned.code).toBe(67);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ status: 'refused' });
    expect(unsigned.stderr).toMatch(/No signing key is trusted for RWF.*kernel keys trust --org RWF/);

    const trust = await runCli([...globals, 'keys', 'trust', '--org', 'RWF', at('rwf.key.pub')]);
    expect(trust.code).toBe(0);
    const load = await runCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', out, '--json']);
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    const report = JSON.parse(load.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual([...REPORT_KEYS]);
    expect(report).toMatchObject({
      status: 'loaded',
      org: 'RWF',
      dataset: 'apc',
      period: '2025-04',
      rowsRead: 30,
      rowsLoaded: 29,
      rowsRejected: 1,
    });
    expect(report.findings).toEqual([
      { rule: 'code', field: 'NHS_Number_Status_Indicator_Code', count: 1, firstLine: 3 },
    ]);

    const again = await runCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', out, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'duplicate', loadId: report.loadId });

    const list = await runCli([...globals, 'loads']);
    expect(list.stdout).toMatch(
      new RegExp(`${String(report.loadId)}\\s+RWF\\s+apc\\s+2025-04\\s+loaded\\s+30\\s+29\\s+1`),
    );
    const show = await runCli([...globals, 'loads', 'show', String(report.loadId)]);
    expect(show.stdout).toMatch(/Completeness:/);
    expect(show.stdout).toMatch(/code\s+NHS_Number_Status_Indicator_Code\s+1\s+3/);
    // show's own --json and --csv, not the list's (review R2, 8)
    const shown = await runCli([...globals, 'loads', 'show', String(report.loadId), '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ loadId: report.loadId, state: 'loaded', rowsRead: 30 });
    const csv = await runCli([...globals, 'loads', 'show', String(report.loadId), '--csv']);
    expect(csv.stdout).toContain('code,NHS_Number_Status_Indicator_Code,1,3');
    const quarantine = await runCli([
      ...globals,
      'loads',
      'quarantine',
      String(report.loadId),
      '--out',
      at(`q-${engine.engine}.csv`),
    ]);
    expect(quarantine.stdout).toMatch(/Wrote 1 quarantined rows/);
    const qText = readFileSync(at(`q-${engine.engine}.csv`), 'utf8');
    expect(qText.split('\n')[1]).toMatch(/^3,code,NHS_Number_Status_Indicator_Code,[0-9a-f]{64},ZZ,/);
    expect(qText).not.toContain(nhs);
  });

  it('refuses a signed file that is not well-formed at the load too, writing nothing', async () => {
    // A faulty agent: a ragged row, signed as if good.
    const text = readFileSync(out, 'utf8').split('\n');
    text[5] = `${text[5]},extra`;
    const bad = signedCopy(`ragged-${engine.engine}.csv`, text, '2025-05');
    const result = await runCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', bad]);
    expect(result.code).toBe(65);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/The row has \d+ columns but the header has \d+ \(ragged-\w+\.csv, line 6/);
    const list = await runCli([...globals, 'loads', '--json']);
    const { loads } = JSON.parse(list.stdout) as { loads: { state: string; period: string }[] };
    expect(loads.filter((l) => l.state === 'loaded').map((l) => l.period)).toEqual(['2025-04']);
    expect(loads.some((l) => l.state === 'refused' && l.period === '2025-05')).toBe(true);
  });

  it('refuses a signed file whose source_line does not count up, since rows are told apart by it', async () => {
    // A faulty agent again: a line number repeated, then one that is not a number.
    const text = readFileSync(out, 'utf8').split('\n');
    const withLine = (row: string, value: string): string => `${value}${row.slice(row.indexOf(','))}`;
    const loadCopy = (name: string, lines: string[]) =>
      runCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', signedCopy(name, lines, '2025-06')]);
    const repeated = text.map((row, i) =>
      i === 4 ? withLine(row, (text[3] as string).split(',')[0] as string) : row,
    );
    const result = await loadCopy(`repeated-line-${engine.engine}.csv`, repeated);
    expect(result.code).toBe(65);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /The source_line \d+ does not come after the one before .*line 5, field source_line/,
    );
    const lettered = text.map((row, i) => (i === 2 ? withLine(row, 'x2') : row));
    const second = await loadCopy(`lettered-line-${engine.engine}.csv`, lettered);
    expect(second.code).toBe(65);
    expect(second.stderr).toMatch(/The source_line "x2" is not a line number .*line 3, field source_line/);
    // An NHS number in the wrong column is never echoed back, as a number or as text.
    const nhs = '9990000018';
    for (const [name, value] of [
      ['nhs-line', nhs],
      ['nhs-text-line', `${nhs}x`],
    ] as const) {
      const leaky = text.map((row, i) => (i === 2 ? withLine(row, value) : row));
      const third = await loadCopy(`${name}-${engine.engine}.csv`, leaky);
      expect(third.code).toBe(65);
      expect(third.stderr).toMatch(/The source_line .* line \d, field source_line/);
      expect(third.stderr).not.toContain(nhs);
    }
    const list = await runCli([...globals, 'loads', '--json']);
    const { loads } = JSON.parse(list.stdout) as { loads: { state: string; period: string }[] };
    expect(loads.some((l) => l.state === 'loaded' && l.period === '2025-06')).toBe(false);
  });

  it('a manifest for another file, from a real process: one line, exit 67, no stack trace', async () => {
    const other = at(`other-${engine.engine}.csv`);
    writeFileSync(other, readFileSync(out, 'utf8').replace(/\n[^\n]*\n$/, '\n'));
    writeFileSync(manifestPathFor(other), readFileSync(manifestPathFor(out)));
    const result = await spawnCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', other]);
    expect(result.code).toBe(67);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^kernel: The manifest is for another file: .*Send the file and the manifest/),
    ]);
  });

  it('finds a repeated row with the line keys in worker threads, from the compiled CLI', async () => {
    const rows = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    const last = Number(rows[rows.length - 1]?.split(',')[0]);
    const copy = (rows[1] as string).replace(/^\d+,/, `${last + 1},`); // the first row again
    const file = signedCopy(`workers-${engine.engine}.csv`, [...rows, copy], '2025-09', { rowCount: 31 });
    const load = await spawnCli([...globals, 'load', '--org', 'RWF', '--dataset', 'apc', file, '--json'], {
      env: { KERNEL_PARALLEL_ABOVE_BYTES: '1', KERNEL_SCAN_THREADS: '2' },
    });
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(JSON.parse(load.stdout)).toMatchObject({
      status: 'loaded',
      rowsRead: 31,
      rowsLoaded: 29,
      rowsRejected: 2,
      findings: [
        { rule: 'code', field: 'NHS_Number_Status_Indicator_Code', count: 1, firstLine: 3 },
        { rule: 'duplicate', field: null, count: 1, firstLine: last + 1 },
      ],
    });
  });
});

afterAll(() => undefined);
