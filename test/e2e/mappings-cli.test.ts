import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { manifestPathFor } from '../../src/privacy/manifest.ts';
import type { MappingReport } from '../../src/privacy/source-mapping.ts';
import { openStore } from '../../src/store/open-store.ts';
import { parseCsv } from '../../src/files/csv-file-writer.ts';
import { DEFECT_KINDS } from '../../src/synth/defects.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { runCli } from '../cli.ts';
import { testStores } from '../stores.ts';

/**
 * `kernel mappings check` and `kernel deid --mapping` (issue 16) on Medway's (RPA) delivery
 * extract from the synthetic world, in the trust's own layout, and the mapped feed loaded with
 * `kernel load` on each engine. A faulty copy of the extract has one of each thing a mapping
 * can miss: a column it does not name, a local code it does not translate and a date of birth
 * that does not exist.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-mappings-cli-'));
const at = (name: string): string => path.join(dir, name);
const world = at('world');
const mapping = path.join(world, 'mappings', 'RPA-msds-delivery.json');
const extract = path.join(world, 'feeds', 'RPA', 'msds-delivery', '2020-01.csv');
const faulty = at('rpa-delivery-faulty.csv');
let rows = 0;
/** every NHS number and date of birth in the extract: none may be printed */
let identifiers: string[] = [];

beforeAll(async () => {
  generateWorld({
    out: world,
    people: 20_000,
    seed: 5,
    from: '2020-01',
    to: '2020-01',
    defectRates: Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])),
  });
  const [header = [], ...data] = parseCsv(readFileSync(extract, 'utf8'));
  rows = data.length;
  expect(rows).toBeGreaterThan(2);
  const column = (name: string): number => header.indexOf(name);
  identifiers = data.flatMap((r) => [
    r[column('Mother_NHS_Number')] ?? '',
    r[column('Mother_Date_Of_Birth')] ?? '',
  ]);
  // One of each fault, all on the first data row (line 2): a date of birth that does not
  // exist, an onset of labour code the mapping lacks, and a new column at the end.
  const faultyRows = data.map((r, i) => {
    const copy = [...r, 'Theatre 2'];
    if (i === 0) {
      copy[column('Mother_Date_Of_Birth')] = '31/02/1990';
      copy[column('Onset_Of_Labour')] = 'SPONT';
    }
    return copy.join(',');
  });
  writeFileSync(faulty, [[...header, 'Theatre'].join(','), ...faultyRows, ''].join('\n'));
  identifiers.push('31/02/1990', '1990-02-31');
  expect((await runCli(['keys', 'new', '--out', at('link.key')])).code).toBe(0);
  expect((await runCli(['keys', 'new-signing', '--out', at('rpa.key')])).code).toBe(0);
}, 120_000);

const noIdentifiers = (text: string): void => {
  for (const value of identifiers) if (value) expect(text).not.toContain(value);
};

const deidArgs = (input: string, out: string, org = 'RPA'): string[] => [
  'deid',
  '--key',
  at('link.key'),
  '--sign',
  at('rpa.key'),
  '--org',
  org,
  '--dataset',
  'msds-delivery',
  '--in',
  input,
  '--out',
  out,
  '--mapping',
  mapping,
];

describe('kernel mappings check', () => {
  it('exits 0 and says so when everything maps', async () => {
    const result = await runCli(['mappings', 'check', '--mapping', mapping, '--in', extract]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `Source mapping .*RPA-msds-delivery\\.json for RPA's msds-delivery on 2020-01\\.csv: ${rows} rows, everything maps\\.`,
      ),
    );
    expect(result.stdout).toContain('Local columns left out on purpose: Record_Status.');
    const json = await runCli(['mappings', 'check', '--mapping', mapping, '--in', extract, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ complete: true, rows, unmappedCodes: [], badDates: [] });
  });

  it('exits 65 and reports the column, the code and the date that do not map, with counts and lines, never a value', async () => {
    const result = await runCli(['mappings', 'check', '--mapping', mapping, '--in', faulty]);
    expect(result.code).toBe(65);
    expect(result.stdout).toContain('some of it does not map');
    expect(result.stdout).toContain('Local columns the mapping does not name (left out): Theatre.');
    expect(result.stdout).toMatch(/LabourOnsetMethod\s+SPONT\s+1\s+2/);
    expect(result.stdout).toMatch(/PersonBirthDateMother\s+DD\/MM\/YYYY\s+1\s+2/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /does not map all of rpa-delivery-faulty\.csv .*RPA-msds-delivery\.json.*Add the columns and codes/,
    );
    noIdentifiers(result.stdout + result.stderr);

    const json = await runCli(['mappings', 'check', '--mapping', mapping, '--in', faulty, '--json']);
    expect(json.code).toBe(65);
    const report = JSON.parse(json.stdout) as MappingReport;
    expect(report).toMatchObject({
      complete: false,
      unmappedColumns: ['Theatre'],
      unmappedCodes: [{ field: 'LabourOnsetMethod', code: 'SPONT', count: 1, firstLine: 2 }],
      badDates: [{ field: 'PersonBirthDateMother', format: 'DD/MM/YYYY', count: 1, firstLine: 2 }],
    });
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'invalid-input' }, exit: 65 });
  });

  it('refuses a mapping that does not fit its dataset, naming the file and key', async () => {
    const bad = at('bad-mapping.json');
    const value = JSON.parse(readFileSync(mapping, 'utf8')) as { columns: Record<string, string> };
    value.columns.Delivery_Date = 'DateOfDelivery';
    writeFileSync(bad, JSON.stringify(value));
    const result = await runCli(['mappings', 'check', '--mapping', bad, '--in', extract]);
    expect(result.code).toBe(65);
    expect(result.stderr).toMatch(
      /"DateOfDelivery" is not a field of msds-delivery .*bad-mapping\.json, field columns\.Delivery_Date\)\. Run `kernel datasets show msds-delivery`/,
    );
  });
});

describe('kernel deid --mapping', () => {
  it("refuses a mapping for another organisation's feed, and writes nothing", async () => {
    const out = at('wrong-org.csv');
    const result = await runCli(deidArgs(extract, out, 'RWF'));
    expect(result.code).toBe(67);
    expect(result.stderr).toMatch(/The source mapping is for RPA's msds-delivery, not RWF's msds-delivery/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});

describe.each(testStores())('kernel deid --mapping, then kernel load, on $engine', (engine) => {
  let globals: string[];

  beforeAll(async () => {
    const config = await engine.fresh();
    globals = ['--data', config.dataDir, '--store', config.store];
    const store = await openStore(config);
    await seedOrganisations(store, 'test');
    await createAgreement(
      store,
      { org: 'RPA', datasets: ['msds-delivery'], from: '2020-01', to: '2020-12' },
      'test',
    );
    await store.close();
    expect((await runCli([...globals, 'keys', 'trust', '--org', 'RPA', at('rpa.key.pub')])).code).toBe(0);
  });

  /** Loads the agent's output as RPA's msds-delivery, as its BI team would, and returns the load's report. */
  async function loadAsRpa(out: string): Promise<{
    rowsLoaded: number;
    rowsRejected: number;
    findings: unknown[];
  }> {
    const load = await runCli([
      ...globals,
      'load',
      '--org',
      'RPA',
      '--dataset',
      'msds-delivery',
      out,
      '--json',
    ]);
    expect(load.code, load.stderr).toBe(0);
    return JSON.parse(load.stdout) as { rowsLoaded: number; rowsRejected: number; findings: unknown[] };
  }

  it('maps, pseudonymises and loads every row of the local extract', async () => {
    const out = at(`rpa-delivery-${engine.engine}.csv`);
    const deid = await runCli(deidArgs(extract, out));
    expect(deid.code, deid.stderr).toBe(0);
    expect(deid.stdout).toContain('everything maps.');
    expect(deid.stdout).toMatch(
      new RegExp(`Pseudonymised ${rows} rows of msds-delivery for RPA, period 2020-01`),
    );
    noIdentifiers(readFileSync(out, 'utf8'));
    expect(await loadAsRpa(out)).toMatchObject({
      status: 'loaded',
      rowsRead: rows,
      rowsLoaded: rows,
      findings: [],
    });
  });

  it('sends what does not map as written, so the load quarantines it; --json returns the report', async () => {
    const out = at(`rpa-delivery-faulty-${engine.engine}.csv`);
    const deid = await runCli([...deidArgs(faulty, out), '--json']);
    expect(deid.code, deid.stderr).toBe(0);
    const printed = JSON.parse(deid.stdout) as { organisation: string; mapping: MappingReport };
    expect(printed.organisation).toBe('RPA');
    expect(printed.mapping).toMatchObject({ complete: false, unmappedColumns: ['Theatre'] });
    expect(JSON.parse(readFileSync(manifestPathFor(out), 'utf8'))).not.toHaveProperty('mapping');
    noIdentifiers(deid.stdout);
    const report = await loadAsRpa(out);
    expect(report.rowsRejected).toBe(1);
    expect(report.rowsLoaded).toBe(rows - 1);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'code', field: 'LabourOnsetMethod', count: 1, firstLine: 2 }),
      ]),
    );
  });

  it('quarantines a local code that happens to be a national one and a date that happens to be CCYY-MM-DD', async () => {
    // `Smoker` is a national code of SmokingStatusDelivery but not one of RPA's local codes,
    // and `2020-01-06` is a date, but not in RPA's DD/MM/YYYY: neither is what the mapping says.
    const [header = [], ...data] = parseCsv(readFileSync(extract, 'utf8'));
    const column = (name: string): number => header.indexOf(name);
    const dated = data.findIndex(
      (r, i) => i > 0 && /^\d\d\/\d\d\/\d{4}$/.test(r[column('Labour_Onset_Date')] ?? ''),
    );
    expect(dated).toBeGreaterThan(0);
    const lookalikes = data.map((r, i) => {
      const copy = [...r];
      if (i === 0) copy[column('Smoking_At_Delivery')] = 'Smoker';
      if (i === dated) {
        const [d, m, y] = (r[column('Labour_Onset_Date')] ?? '').split('/');
        copy[column('Labour_Onset_Date')] = `${y}-${m}-${d}`;
      }
      return copy.join(',');
    });
    const input = at(`rpa-delivery-lookalikes-${engine.engine}.csv`);
    writeFileSync(input, [header.join(','), ...lookalikes, ''].join('\n'));
    const out = at(`rpa-delivery-lookalikes-${engine.engine}.pseudo.csv`);
    const deid = await runCli([...deidArgs(input, out), '--json']);
    expect(deid.code, deid.stderr).toBe(0);
    const printed = JSON.parse(deid.stdout) as { mapping: MappingReport };
    expect(printed.mapping.unmappedCodes).toEqual([
      { field: 'SmokingStatusDelivery', code: 'Smoker', count: 1, firstLine: 2 },
    ]);
    expect(printed.mapping.badDates).toEqual([
      { field: 'LabourOnsetDate', format: 'DD/MM/YYYY', count: 1, firstLine: dated + 2 },
    ]);
    const report = await loadAsRpa(out);
    expect(report.rowsRejected).toBe(2);
    expect(report.rowsLoaded).toBe(rows - 2);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'code', field: 'SmokingStatusDelivery', count: 1, firstLine: 2 }),
        expect.objectContaining({ field: 'LabourOnsetDate', count: 1, firstLine: dated + 2 }),
      ]),
    );
  });
});
