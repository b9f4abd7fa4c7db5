import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeError, KernelError } from '../errors.ts';
import {
  codeSet,
  getCodeList,
  getDataset,
  isValidCode,
  listCodeLists,
  listDatasets,
  loadCatalogue,
} from './catalogue.ts';
import type { CodeList, DatasetSpec } from './dataset-spec.ts';
import { kernelErrorOf } from '../../test/kernel-error-of.ts';

const CATALOGUE_DIR = path.dirname(fileURLToPath(import.meta.url));
const EXPECTED_IDS = [
  'apc',
  'apc-critical-care',
  'asc',
  'council-benefits',
  'council-housing',
  'csds-care-activity',
  'csds-care-contact',
  'csds-referral',
  'ecds',
  'esr',
  'fire-safety',
  'gp-events',
  'gp-medications',
  'gp-registrations',
  'mhsds-care-contact',
  'mhsds-hospital-spell',
  'mhsds-referral',
  'mhsds-ward-stay',
  'msds-baby',
  'msds-booking',
  'msds-delivery',
  'ooh-cases',
  'op',
  'pmi',
];

describe('the built-in catalogue', () => {
  it('loads all eleven datasets and passes every check', () => {
    expect(listDatasets().map((d) => d.id)).toEqual(EXPECTED_IDS);
    // loadCatalogue runs every check; a second, fresh load proves the files on disk pass.
    const fresh = loadCatalogue(CATALOGUE_DIR);
    expect([...fresh.datasets.keys()].sort()).toEqual(EXPECTED_IDS);
  });

  it('names only code lists that exist, and every code list is used or a reference scheme', () => {
    const used = new Set(
      listDatasets().flatMap((d) => d.fields.flatMap((f) => (f.codeList ? [f.codeList] : []))),
    );
    for (const id of used) expect(() => getCodeList(id)).not.toThrow();
    const unused = listCodeLists()
      .map((l) => l.id)
      .filter((id) => !used.has(id));
    expect(unused).toEqual([]);
  });

  it('gives every direct identifier a pseudonymise rule and no other field one', () => {
    for (const spec of listDatasets()) {
      for (const field of spec.fields) {
        expect(field.pseudonymise !== undefined, `${spec.id}.${field.name}`).toBe(
          field.role === 'direct-identifier',
        );
      }
    }
  });

  it('keeps each dataset’s required date-order rules from the brief', () => {
    const rules = (id: string) => getDataset(id).dateOrder.map((r) => `${r.start}<=${r.end}`);
    expect(rules('apc')).toEqual(
      expect.arrayContaining(['Admission_Date<=Discharge_Date', 'Episode_Start_Date<=Episode_End_Date']),
    );
    expect(rules('ecds')).toContain('EC_Arrival_Date_Time<=EC_Departure_Date_Time');
    expect(rules('asc')).toContain('Support_Start_Date<=Support_End_Date');
  });

  it('uses the exact codes of the reference digest', () => {
    expect([...codeSet('ecds-acuity')].sort()).toEqual(
      [
        '1064891000000107',
        '1064911000000105',
        '1064901000000108',
        '1077241000000103',
        '1077251000000100',
      ].sort(),
    );
    expect(codeSet('admission-method')).toEqual(
      new Set([
        '11',
        '12',
        '13',
        '21',
        '22',
        '23',
        '24',
        '25',
        '2A',
        '2B',
        '2C',
        '2D',
        '28',
        '31',
        '32',
        '81',
        '82',
        '83',
      ]),
    );
    expect([...codeSet('delivery-method')]).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(codeSet('genital-tract-lesion').has('10217006')).toBe(true);
    expect(codeSet('genital-tract-lesion').has('399031001')).toBe(true);
    expect(codeSet('sex')).toEqual(new Set(['1', '2', '9', 'X']));
  });

  it('marks uncertain code lists [U] in their source', () => {
    for (const id of ['preg-outcome', 'first-feed', 'fetus-presentation', 'ecds-attendance-category']) {
      expect(getCodeList(id).source).toMatch(/\[U/);
    }
  });

  it('accepts codes outside a subset list only when they look like the scheme', () => {
    expect(isValidCode('icd10', 'J181')).toBe(true);
    expect(isValidCode('icd10', 'K529')).toBe(true); // not listed, but an ICD-10 shape
    expect(isValidCode('icd10', 'j181')).toBe(false);
    expect(isValidCode('snomed-gp', '123456789')).toBe(true);
    expect(isValidCode('snomed-gp', '12a')).toBe(false);
    expect(isValidCode('admission-method', '2A')).toBe(true);
    expect(isValidCode('admission-method', '99')).toBe(false); // a complete list: no shape rule
  });

  it('refuses an unknown dataset, naming the known ones', () => {
    let caught: unknown;
    try {
      getDataset('apcc');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KernelError);
    expect((caught as KernelError).code).toBe('not-found');
    expect(describeError(caught)).toContain("There is no dataset 'apcc'");
    expect(describeError(caught)).toContain('msds-baby');
    expect(() => getCodeList('nope')).toThrow(/There is no code list 'nope'/);
  });
});

describe('a broken catalogue', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  /** A copy of the real catalogue with one file changed, so each case breaks exactly one rule. */
  function brokenCopy(kind: 'datasets' | 'code-lists', id: string, edit: (json: never) => unknown): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-catalogue-'));
    roots.push(root);
    for (const sub of ['datasets', 'code-lists']) {
      fs.cpSync(path.join(CATALOGUE_DIR, sub), path.join(root, sub), { recursive: true });
    }
    const file = path.join(root, kind, `${id}.json`);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as never;
    const edited = edit(json);
    fs.writeFileSync(file, typeof edited === 'string' ? edited : JSON.stringify(edited ?? json, null, 2));
    return root;
  }

  function failure(root: string): KernelError {
    return kernelErrorOf(() => loadCatalogue(root), 'the broken catalogue loaded');
  }

  const field = (spec: DatasetSpec, name: string) => {
    const found = spec.fields.find((f) => f.name === name);
    if (!found) throw new Error(`no field ${name}`);
    return found;
  };

  const cases: {
    name: string;
    id: string;
    kind?: 'datasets' | 'code-lists';
    edit: (spec: DatasetSpec & CodeList) => unknown;
    message: RegExp;
    field?: string;
  }[] = [
    {
      name: 'an unknown code list',
      id: 'apc',
      edit: (s) => void (field(s, 'Admission_Method').codeList = 'admision-method'),
      message: /Code list 'admision-method' does not exist/,
      field: 'Admission_Method',
    },
    {
      name: 'a record key that is not a quasi-identifier',
      id: 'apc',
      edit: (s) => void (field(s, 'Admission_Method').recordKey = true),
      message: /Only a quasi-identifier can be a record key/,
      field: 'Admission_Method',
    },
    {
      name: 'a direct identifier with no pseudonymise rule',
      id: 'pmi',
      edit: (s) => void delete field(s, 'Person_Family_Name').pseudonymise,
      message: /A direct identifier has no pseudonymise rule/,
      field: 'Person_Family_Name',
    },
    {
      name: 'a pseudonymise rule on a field that is not a direct identifier',
      id: 'op',
      edit: (s) => void (field(s, 'Priority_Type').pseudonymise = { method: 'drop' }),
      message: /Only a direct identifier takes a pseudonymise rule/,
      field: 'Priority_Type',
    },
    {
      name: 'a field named twice (in any case)',
      id: 'ecds',
      edit: (s) => void s.fields.push({ ...field(s, 'EC_Ident'), name: 'EC_IDENT' }),
      message: /Field 'EC_IDENT' appears twice/,
      field: 'EC_IDENT',
    },
    {
      name: 'a missing period field',
      id: 'msds-booking',
      edit: (s) => void (s.periodField = 'BookingDate'),
      message: /periodField 'BookingDate' is not a field/,
    },
    {
      name: 'a period field the agent drops',
      id: 'msds-baby',
      edit: (s) => void (s.periodField = 'PersonBirthDateBaby'),
      message: /period field is a direct identifier/,
    },
    {
      name: 'a date-order rule naming a missing field',
      id: 'apc',
      edit: (s) => void s.dateOrder.push({ start: 'Admission_Date', end: 'Dischage_Date' }),
      message: /dateOrder rule names 'Dischage_Date', which is not a field/,
      field: 'Dischage_Date',
    },
    {
      name: 'a date-order rule on a direct identifier',
      id: 'pmi',
      edit: (s) => void s.dateOrder.push({ start: 'Person_Birth_Date', end: 'Record_Date' }),
      message: /a direct identifier the warehouse never sees/,
    },
    {
      name: 'a days-within rule whose days are not an integer',
      id: 'apc-critical-care',
      edit: (s) =>
        void s.daysWithin?.push({
          days: 'Critical_Care_Unit_Function',
          start: 'Critical_Care_Start_Date_Time',
          end: 'Critical_Care_Discharge_Date_Time',
        }),
      message:
        /daysWithin rule names 'Critical_Care_Unit_Function' as its days, which is not an integer field/,
      field: 'Critical_Care_Unit_Function',
    },
    {
      name: 'a days-within rule on a direct identifier',
      id: 'apc-critical-care',
      edit: (s) =>
        void s.daysWithin?.push({
          days: 'Renal_Support_Days',
          start: 'Person_Birth_Date',
          end: 'Critical_Care_Discharge_Date_Time',
        }),
      message: /daysWithin rule names 'Person_Birth_Date', which is not a date the warehouse sees/,
    },
    {
      name: 'a birth-date rule whose event date does not exist',
      id: 'gp-events',
      edit: (s) => {
        const rule = field(s, 'DATE_OF_BIRTH').pseudonymise;
        if (rule?.method === 'birth-date') rule.eventDate = 'EVENT_DAY';
      },
      message: /eventDate 'EVENT_DAY', which is not a field/,
      field: 'DATE_OF_BIRTH',
    },
    {
      name: 'a patient dataset without person_token',
      id: 'msds-delivery',
      edit: (s) => void (field(s, 'NHSNumberMother').pseudonymise = { method: 'drop' }),
      message: /A patient dataset must carry person_token/,
    },
    {
      name: 'two identifiers becoming the same column',
      id: 'msds-baby',
      edit: (s) => {
        const rule = field(s, 'NHSNumberMother').pseudonymise;
        if (rule?.method === 'token') rule.as = 'person_token';
      },
      message: /Fields 'NHSNumberBaby' and 'NHSNumberMother' both become column 'person_token'/,
    },
    {
      name: 'a column name the warehouse reserves',
      id: 'esr',
      edit: (s) => void (field(s, 'Organisation_Code').name = 'org_code'),
      message: /'org_code' is reserved/,
    },
    {
      name: 'an unknown field type',
      id: 'fire-safety',
      edit: (s) => void ((field(s, 'Risk_Score') as { type: string }).type = 'number'),
      message: /Type 'number' is not one of/,
      field: 'Risk_Score',
    },
    {
      name: 'a subset code list with no pattern',
      id: 'icd10',
      kind: 'code-lists',
      edit: (l) => void delete l.pattern,
      message: /A subset code list needs a pattern/,
    },
    {
      name: 'a code listed twice',
      id: 'sex',
      kind: 'code-lists',
      edit: (l) => void l.codes.push({ code: '1', meaning: 'Male again' }),
      message: /Code '1' appears twice/,
      field: '1',
    },
  ];

  it.each(cases)(
    'stops on $name with one clear line',
    ({ id, kind = 'datasets', edit, message, field: where }) => {
      const error = failure(brokenCopy(kind, id, edit as (json: never) => unknown));
      expect(error.code).toBe('invalid-input');
      expect(error.message).toMatch(message);
      expect(error.where?.file).toMatch(new RegExp(`${kind}[/\\\\]${id}\\.json$`));
      if (where) expect(error.where?.field).toBe(where);
      const line = describeError(error);
      expect(line).not.toContain('\n');
      expect(line).toMatch(new RegExp(`${id}\\.json`));
    },
  );

  it('reports the line and column of a JSON syntax error', () => {
    const root = brokenCopy(
      'datasets',
      'op',
      () => '{\n  "id": "op",\n  "title": "x"\n  "description": "y"\n}\n',
    );
    const error = failure(root);
    expect(error.message).toBe('The file is not valid JSON');
    expect(error.where).toMatchObject({ line: 4, column: 3 });
  });

  it('reports a folder that is not a catalogue', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-catalogue-'));
    roots.push(root);
    expect(failure(root).message).toBe('The catalogue folder is missing');
  });
});
