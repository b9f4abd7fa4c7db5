import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getDataset } from '../catalogue/catalogue.ts';
import { inboundColumns } from '../catalogue/shapes.ts';
import { KernelError } from '../errors.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { deidentifyFile } from './deidentify-file.ts';
import { newLinkKey } from './link-key.ts';
import {
  applySourceMapping,
  checkSourceMapping,
  compileDateFormat,
  localDate,
  parseSourceMapping,
  readSourceMapping,
  SourceMapper,
} from './source-mapping.ts';
import { hmacTokeniser } from './token-scheme.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-source-mapping-'));
const at = (name: string): string => path.join(dir, name);

/** RPA's booking extract, in a layout of its own. */
const MAPPING = {
  org: 'RPA',
  dataset: 'msds-booking',
  columns: {
    Mum_NHS: 'NHSNumberMother',
    Mum_DOB: 'PersonBirthDateMother',
    Ethnic: 'EthnicCategoryMother',
    Post_Code: 'Postcode',
    Preg_ID: 'UniqPregID',
    Booked: 'AntenatalAppDate',
    Gest: 'GestAgeBooking',
    Smoking: 'SmokingStatusBooking',
    Ward: null,
  },
  codes: {
    SmokingStatusBooking: { Y: 'Smoker', N: 'Non-Smoker / Ex-Smoker' },
    EthnicCategoryMother: { W: 'A' },
  },
  dates: { AntenatalAppDate: 'DD/MM/YYYY', PersonBirthDateMother: 'DD/MM/YYYY' },
  constants: { OrgCodeProvider: 'RPA' },
};

// Line 3 holds each fault once: a date of birth that does not exist, an ethnic code and a
// smoking code with no mapping, a booking date in another format. Line 4 repeats the smoking code.
const EXTRACT = [
  'Mum_NHS,Mum_DOB,Ethnic,Post_Code,Preg_ID,Booked,Gest,Smoking,Ward,Extra',
  '9990000018,01/02/1990,W,ME1 1AA,P1,03/04/2025,70,Y,W1,x',
  '9990000026,31/02/1991,Q,ME1 1AB,P2,2025-04-05,80,U,W2,y',
  '9990000034,15/06/1992,W,"ME1 1AC",P3,07/04/2025,90,U,W1,z',
  '',
].join('\n');

function mappingFile(name: string, value: unknown): string {
  writeFileSync(at(name), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return at(name);
}

function refusal(value: unknown): KernelError {
  try {
    readSourceMapping(mappingFile('bad.json', value));
  } catch (error) {
    if (error instanceof KernelError) return error;
    throw error;
  }
  throw new Error('the mapping was accepted');
}

describe('reading a source mapping', () => {
  it('accepts a mapping that fits its dataset, org upper-cased', () => {
    const mapping = readSourceMapping(mappingFile('ok.json', { ...MAPPING, org: 'rpa' }));
    expect(mapping.org).toBe('RPA');
    expect(mapping.columns.Ward).toBeNull();
    expect(mapping.file).toMatch(/ok\.json$/);
  });

  it.each([
    ['not JSON', '{"org": "RPA",', /not valid JSON/, undefined],
    ['an unknown key', { ...MAPPING, colums: {} }, /Unknown key "colums"/, 'colums'],
    ['no org', { ...MAPPING, org: '' }, /organisation by ODS code/, 'org'],
    ['an unknown dataset', { ...MAPPING, dataset: 'msds-nope' }, /no dataset 'msds-nope'/, 'dataset'],
    [
      'a column to no field',
      { ...MAPPING, columns: { ...MAPPING.columns, Gest: 'GestationAtBooking' } },
      /"GestationAtBooking" is not a field of msds-booking/,
      'columns.Gest',
    ],
    [
      'two columns to one field',
      { ...MAPPING, columns: { ...MAPPING.columns, Gestation: 'GestAgeBooking' } },
      /Both Gest and Gestation map to GestAgeBooking/,
      'columns.Gestation',
    ],
    [
      'a national code not in the list',
      { ...MAPPING, codes: { SmokingStatusBooking: { Y: 'Smokes' } } },
      /"Y" of SmokingStatusBooking maps to "Smokes", which is not in the code list smoking-status/,
      'codes.SmokingStatusBooking',
    ],
    [
      'codes for a field no column fills',
      { ...MAPPING, codes: { PreviousLiveBirths: { A: '1' } } },
      /codes for PreviousLiveBirths, but no column maps to it/,
      'codes.PreviousLiveBirths',
    ],
    [
      'a date format without a day',
      { ...MAPPING, dates: { AntenatalAppDate: 'MM/YYYY' } },
      /not usable: it must name the year \(YYYY\), month \(MM\) and day \(DD\)/,
      'dates.AntenatalAppDate',
    ],
    [
      'a date format for a number',
      { ...MAPPING, dates: { GestAgeBooking: 'DD/MM/YYYY' } },
      /GestAgeBooking is of type integer, not a date/,
      'dates.GestAgeBooking',
    ],
    [
      'a constant for an identifier',
      {
        ...MAPPING,
        columns: { Gest: 'GestAgeBooking' },
        codes: {},
        dates: {},
        constants: { Postcode: 'ME1 1AA' },
      },
      /Postcode identifies a person, so it cannot be a constant/,
      'constants.Postcode',
    ],
    [
      'a constant and a column for one field',
      { ...MAPPING, constants: { GestAgeBooking: '70' } },
      /GestAgeBooking has both a column \(Gest\) and a constant/,
      'constants.GestAgeBooking',
    ],
    [
      'a constant not in the code list',
      {
        ...MAPPING,
        columns: { Gest: 'GestAgeBooking' },
        codes: {},
        dates: {},
        constants: { SmokingStatusBooking: 'Yes' },
      },
      /The constant for SmokingStatusBooking is not valid: not in the code list smoking-status/,
      'constants.SmokingStatusBooking',
    ],
  ])('refuses %s, naming the file and key', (_, value, message, field) => {
    const error = refusal(value);
    expect(error.code).toBe('invalid-input');
    expect(error.message).toMatch(message);
    expect(error.where?.file).toMatch(/bad\.json$/);
    expect(error.where?.field).toBe(field);
    expect(error.hint).toBeTruthy();
  });

  it('never repeats a code of an identifying field in an error', () => {
    const error = refusal({ ...MAPPING, codes: { EthnicCategoryMother: { WBRIT: 'ZZ' } } });
    expect(error.message).toMatch(
      /A local code of EthnicCategoryMother maps to a value not in its code list/,
    );
    expect(error.message).not.toContain('WBRIT');
    expect(error.message).not.toContain('ZZ');
  });

  it('says when the file is missing', () => {
    expect(() => readSourceMapping(at('nowhere.json'))).toThrow(/does not exist/);
  });
});

describe('date formats', () => {
  it('reads and writes the usual local layouts', () => {
    expect(localDate('DD/MM/YYYY', '2025-04-03')).toBe('03/04/2025');
    expect(localDate('D/M/YYYY', '2025-04-03')).toBe('3/4/2025');
    expect(localDate('YYYYMMDD', '2025-04-03')).toBe('20250403');
    expect(localDate('DD.MM.CCYY HH:mm', '2025-04-03T09:05:00')).toBe('03.04.2025 09:05');
    expect(localDate('DD/MM/YYYY', 'not a date')).toBeUndefined();
    expect(compileDateFormat('DD/MM/YY')).toMatch(/"Y" is not one of/);
    expect(compileDateFormat('DD/DD/YYYY')).toMatch(/day twice/);
  });

  it('maps a date-time field to CCYY-MM-DDThh:mm:ss, through SourceMapper', () => {
    const mapping = parseSourceMapping(
      {
        org: 'RWF',
        dataset: 'ecds',
        columns: { Arrived: 'EC_Arrival_Date_Time' },
        dates: { EC_Arrival_Date_Time: 'DD/MM/YYYY HH:mm' },
      },
      'ecds.json',
    );
    const mapper = new SourceMapper(mapping, getDataset('ecds'), ['Arrived'], 'x.csv');
    const at = mapper.columns.indexOf('EC_Arrival_Date_Time');
    expect(mapper.mapCells(['03/04/2025 09:05'], 2)[at]).toBe('2025-04-03T09:05:00');
    expect(mapper.mapCells(['03/04/2025 25:05'], 3)[at]).toBe('2025-04-03T25:05:00');
    expect(mapper.report().badDates).toEqual([
      { field: 'EC_Arrival_Date_Time', format: 'DD/MM/YYYY HH:mm', count: 1, firstLine: 3 },
    ]);
  });
});

describe('applying a source mapping', () => {
  const mapping = readSourceMapping(mappingFile('rpa-booking.json', MAPPING));
  writeFileSync(at('local.csv'), EXTRACT);

  it('renames, translates codes, rewrites dates and adds constants, on the same lines', async () => {
    const report = await applySourceMapping(mapping, at('local.csv'), at('national.csv'));
    expect(existsSync(at('national.csv.partial'))).toBe(false);
    const [header, ...rows] = parseCsv(readFileSync(at('national.csv'), 'utf8'));
    expect(header).toEqual(inboundColumns(getDataset('msds-booking')));
    const row = (i: number): Record<string, string> =>
      Object.fromEntries((header ?? []).map((h, c) => [h, rows[i]?.[c] ?? '']));
    expect(row(0)).toMatchObject({
      NHSNumberMother: '9990000018',
      PersonBirthDateMother: '1990-02-01',
      EthnicCategoryMother: 'A',
      Postcode: 'ME1 1AA',
      AntenatalAppDate: '2025-04-03',
      SmokingStatusBooking: 'Smoker',
      OrgCodeProvider: 'RPA',
      EDDAgreed: '',
    });
    // What does not map is sent as written but marked (a date that does not exist rearranged),
    // for the load to quarantine: a CCYY-MM-DD date under DD/MM/YYYY is not taken as a date.
    expect(row(1)).toMatchObject({
      PersonBirthDateMother: '1991-02-31',
      EthnicCategoryMother: 'unmapped:Q',
      AntenatalAppDate: 'unmapped:2025-04-05',
      SmokingStatusBooking: 'unmapped:U',
    });
    expect(readFileSync(at('national.csv'), 'utf8')).toContain(',"ME1 1AC",');
    expect(report.rows).toBe(3);
    expect(report.complete).toBe(false);
  });

  it('reports unmapped columns, fields with no source, codes with no mapping and bad dates, with counts and first lines', async () => {
    const report = await checkSourceMapping(mapping, at('local.csv'));
    expect(report).toMatchObject({
      org: 'RPA',
      dataset: 'msds-booking',
      extract: 'local.csv',
      rows: 3,
      complete: false,
      unmappedColumns: ['Extra'],
      ignoredColumns: ['Ward'],
      missingColumns: [],
    });
    expect(report.unsourcedFields).toContainEqual({ field: 'EDDAgreed', required: false });
    expect(report.unsourcedFields.some((f) => f.required)).toBe(false);
    expect(report.unmappedCodes).toEqual([
      // an identifying field's code is counted, never shown
      { field: 'EthnicCategoryMother', count: 1, firstLine: 3 },
      { field: 'SmokingStatusBooking', code: 'U', count: 2, firstLine: 3 },
    ]);
    expect(report.badDates).toEqual([
      { field: 'PersonBirthDateMother', format: 'DD/MM/YYYY', count: 1, firstLine: 3 },
      { field: 'AntenatalAppDate', format: 'DD/MM/YYYY', count: 1, firstLine: 3 },
    ]);
    const text = JSON.stringify(report);
    for (const value of ['9990000026', '31/02/1991', 'ME1', '2025-04-05', '"Q"', 'P2']) {
      expect(text).not.toContain(value);
    }
  });

  it('is complete when every column, code and date maps', async () => {
    writeFileSync(
      at('clean.csv'),
      EXTRACT.split('\n')
        .filter((line, i) => i !== 2)
        .join('\n')
        .replaceAll(',U,', ',N,')
        .replace('Ward,Extra', 'Ward,Ward_Extra'),
    );
    const tidy = readSourceMapping(
      mappingFile('clean.json', { ...MAPPING, columns: { ...MAPPING.columns, Ward_Extra: null } }),
    );
    const report = await checkSourceMapping(tidy, at('clean.csv'));
    expect(report.unmappedCodes).toEqual([]);
    expect(report.complete).toBe(true);
  });

  it('feeds the agent: tokenised after mapping, source_line the extract’s own, the report returned', async () => {
    const result = await deidentifyFile({
      spec: getDataset('msds-booking'),
      org: 'RPA',
      input: at('local.csv'),
      output: at('pseudo.csv'),
      tokeniser: hmacTokeniser(newLinkKey()),
      mapping,
    });
    expect(result.rows).toBe(3);
    expect(result.manifest.period).toBe('2025-04');
    expect(result.mapping?.unmappedColumns).toEqual(['Extra']);
    const [header, ...rows] = parseCsv(readFileSync(at('pseudo.csv'), 'utf8'));
    expect(header?.[0]).toBe('source_line');
    expect(rows.map((r) => r[0])).toEqual(['2', '3', '4']);
    const text = readFileSync(at('pseudo.csv'), 'utf8');
    expect(text).not.toContain('9990000018');
    expect(text).toContain('Smoker');
    expect(text).toContain(',RPA');
  });

  it('refuses a mapping for another organisation or dataset, and writes nothing', async () => {
    const attempt = (org: string, dataset: string): Promise<unknown> =>
      deidentifyFile({
        spec: getDataset(dataset),
        org,
        input: at('local.csv'),
        output: at(`wrong-${org}-${dataset}.csv`),
        tokeniser: hmacTokeniser(newLinkKey()),
        mapping,
      });
    await expect(attempt('RWF', 'msds-booking')).rejects.toMatchObject({
      code: 'refused',
      message: "The source mapping is for RPA's msds-booking, not RWF's msds-booking",
      where: { field: 'org' },
    });
    await expect(attempt('RPA', 'msds-delivery')).rejects.toMatchObject({
      code: 'refused',
      where: { field: 'dataset' },
    });
    expect(existsSync(at('wrong-RWF-msds-booking.csv.partial'))).toBe(false);
    expect(existsSync(at('wrong-RWF-msds-booking.csv'))).toBe(false);
  });

  it('hunts identifiers in the local values it does not translate, before marking them', async () => {
    // A postcode typed into the ethnic category: marked, it no longer looks like one.
    writeFileSync(at('postcode.csv'), EXTRACT.replace(',Q,', ',DA4 8NF,'));
    const attempt = deidentifyFile({
      spec: getDataset('msds-booking'),
      org: 'RPA',
      input: at('postcode.csv'),
      output: at('postcode.pseudo.csv'),
      tokeniser: hmacTokeniser(newLinkKey()),
      mapping,
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringMatching(
        /EthnicCategoryMother holds values shaped like full postcodes \(1 of 3, first on line 3\)/,
      ),
      where: { line: 3, field: 'EthnicCategoryMother' },
    });
    expect(existsSync(at('postcode.pseudo.csv'))).toBe(false);
    expect(existsSync(at('postcode.pseudo.csv.partial'))).toBe(false);
  });
});
