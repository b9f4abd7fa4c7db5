import { describe, expect, it } from 'vitest';
import { getDataset, listDatasets } from './catalogue.ts';
import { dataDictionary } from './data-dictionary.ts';
import type { DatasetSpec } from './dataset-spec.ts';
import { acceptedColumns, acceptedFields, inboundColumns, SOURCE_LINE_COLUMN, tableName } from './shapes.ts';

// Names that would mean an identifier slipped through, whatever a specification calls it.
const IDENTIFIER_NAMES =
  /^nhs_?number(mother|baby)?$|given_?name|family_?name|birth_?date|date_?of_?birth|postcode|address|telephone|^uprn$|^lpid|patient_identifier|person_id_local|employee_number|assignment_number/i;

const directIdentifiers = (spec: DatasetSpec) =>
  spec.fields.filter((f) => f.role === 'direct-identifier').map((f) => f.name);

describe.each(listDatasets().map((spec) => [spec.id, spec] as const))('the shapes of %s', (_id, spec) => {
  it('inbound is every field in order', () => {
    expect(inboundColumns(spec)).toEqual(spec.fields.map((f) => f.name));
  });

  it('accepted starts with source_line and holds no direct identifier', () => {
    const columns = acceptedColumns(spec);
    expect(columns[0]).toBe(SOURCE_LINE_COLUMN);
    for (const name of directIdentifiers(spec)) expect(columns).not.toContain(name);
    expect(columns.filter((c) => IDENTIFIER_NAMES.test(c))).toEqual([]);
    expect(acceptedFields(spec).filter((f) => f.role === 'direct-identifier')).toEqual([]);
    expect(new Set(columns.map((c) => c.toLowerCase())).size).toBe(columns.length);
  });

  it('keeps every other field, in order, as it is', () => {
    const kept = spec.fields.filter((f) => f.role !== 'direct-identifier').map((f) => f.name);
    const copied = acceptedFields(spec).filter((f) => f.derivation === 'copy');
    expect(copied.map((f) => f.name)).toEqual(kept);
    for (const f of copied) expect(f.from).toBe(f.name);
  });

  it('carries the tokens its subject needs', () => {
    const names = acceptedColumns(spec);
    if (spec.subject === 'patient') expect(names).toContain('person_token');
    else expect(names).not.toContain('person_token');
    if (spec.subject === 'household') expect(names).toContain('uprn_token');
    if (spec.subject === 'staff') expect(names).toContain('staff_token');
  });

  it('keeps the period field and every date-order field', () => {
    const names = acceptedColumns(spec);
    expect(names).toContain(spec.periodField);
    for (const rule of spec.dateOrder) expect(names).toEqual(expect.arrayContaining([rule.start, rule.end]));
  });
});

describe('accepted fields', () => {
  it('replace a date of birth with age at the event and birth year-month', () => {
    const apc = acceptedFields(getDataset('apc'));
    const age = apc.find((f) => f.name === 'age_on_admission');
    expect(age).toMatchObject({
      type: 'integer',
      role: 'derived',
      from: 'Person_Birth_Date',
      derivation: 'age',
    });
    expect(age?.required).toBe(true); // birth date and admission date are both required
    expect(apc.find((f) => f.name === 'birth_year_month')).toMatchObject({
      type: 'string',
      format: 'CCYY-MM',
      derivation: 'birth-year-month',
    });
  });

  it('replace a postcode with an LSOA and IMD decile that may be missing', () => {
    const fields = acceptedFields(getDataset('fire-safety'));
    expect(fields.find((f) => f.name === 'lsoa_code')).toMatchObject({
      role: 'quasi-identifier',
      required: false,
    });
    expect(fields.find((f) => f.name === 'imd_decile')).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 10,
    });
  });

  it('give a baby two person tokens: its own and its mother’s', () => {
    const baby = acceptedFields(getDataset('msds-baby'));
    expect(baby.find((f) => f.name === 'person_token')).toMatchObject({
      from: 'NHSNumberBaby',
      required: false,
    });
    expect(baby.find((f) => f.name === 'mother_person_token')).toMatchObject({
      from: 'NHSNumberMother',
      required: true,
    });
    expect(baby.find((f) => f.name === 'age_at_birth')).toMatchObject({ from: 'PersonBirthDateBaby' });
  });

  it('carry type, required, role and code list for the loader', () => {
    const method = acceptedFields(getDataset('apc')).find((f) => f.name === 'Admission_Method');
    expect(method).toMatchObject({
      type: 'code',
      required: true,
      role: 'content',
      codeList: 'admission-method',
    });
  });
});

describe('tableName', () => {
  it('is ds_ with hyphens as underscores', () => {
    expect(tableName(getDataset('msds-delivery'))).toBe('ds_msds_delivery');
    expect(tableName('gp-events')).toBe('ds_gp_events');
    expect(tableName(getDataset('apc'))).toBe('ds_apc');
  });
});

describe('the data dictionary page', () => {
  it('maps every inbound field and lists every code list a field names', () => {
    const page = dataDictionary('asc');
    expect(page.mapping.map((m) => m.from)).toEqual(inboundColumns(page.dataset));
    expect(page.mapping.find((m) => m.from === 'Person_ID_Local')).toEqual({
      from: 'Person_ID_Local',
      action: 'drop',
      to: [],
    });
    expect(page.mapping.find((m) => m.from === 'UPRN')?.to).toEqual([
      { name: 'uprn_token', derivation: 'token' },
    ]);
    expect(page.codeLists.map((l) => l.id).sort()).toEqual(
      [
        'asc-client-type',
        'asc-event-outcome',
        'asc-event-type',
        'asc-primary-support-reason',
        'asc-service-component',
        'asc-service-type',
        'ethnic-category',
        'sex',
      ].sort(),
    );
  });
});
