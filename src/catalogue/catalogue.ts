/**
 * The dataset catalogue: every specification (`datasets/<id>.json`) and code list
 * (`code-lists/<id>.json`), read from disk once and checked before anything uses them.
 *
 * A specification that breaks a rule (an unknown code list, a direct identifier with no
 * pseudonymise rule, a date-order rule naming a missing field…) stops Kernel at start-up
 * with one line naming the file and field, rather than letting a load go half-way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from '../errors.ts';
import {
  FIELD_TYPES,
  type CodeList,
  type DatasetSpec,
  type FieldSpec,
  type FieldType,
  type PrivacyRole,
} from './dataset-spec.ts';
import { acceptedFields, RESERVED_COLUMNS } from './shapes.ts';

export interface Catalogue {
  /** the folder it was read from (holding `datasets/` and `code-lists/`) */
  readonly dir: string;
  readonly datasets: ReadonlyMap<string, DatasetSpec>;
  readonly codeLists: ReadonlyMap<string, CodeList>;
}

const DEFAULT_DIR = path.dirname(fileURLToPath(import.meta.url));

const ROLES: readonly PrivacyRole[] = [
  'direct-identifier',
  'quasi-identifier',
  'token',
  'derived',
  'content',
];
const SUBJECTS = ['patient', 'staff', 'household'] as const;
const TOKEN_KINDS = ['nhs-number', 'uprn', 'staff-number'] as const;
const DATE_TYPES: readonly FieldType[] = ['date', 'datetime'];

/** Column names both PostgreSQL (63 bytes, folded unless quoted) and DuckDB take as they are. */
const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Reads and checks every specification and code list under `dir` (default: this module's
 * folder). Throws `KernelError('invalid-input')` naming the first problem found.
 */
export function loadCatalogue(dir: string = DEFAULT_DIR): Catalogue {
  const codeLists = new Map<string, CodeList>();
  for (const file of jsonFiles(path.join(dir, 'code-lists'))) {
    const list = checkCodeList(readJson(file), file);
    codeLists.set(list.id, list);
  }
  const datasets = new Map<string, DatasetSpec>();
  for (const file of jsonFiles(path.join(dir, 'datasets'))) {
    const spec = checkDataset(readJson(file), file, codeLists);
    datasets.set(spec.id, spec);
  }
  if (datasets.size === 0) {
    throw new KernelError('invalid-input', 'The catalogue holds no dataset specifications', {
      where: { file: path.join(dir, 'datasets') },
      hint: 'Add a datasets/<id>.json file; see docs/catalogue.md',
    });
  }
  return { dir, datasets, codeLists };
}

let builtIn: Catalogue | undefined;

/** The catalogue Kernel ships with, loaded and checked on first use. */
export function catalogue(): Catalogue {
  builtIn ??= loadCatalogue();
  return builtIn;
}

/** Every dataset, in id order. */
export function listDatasets(from: Catalogue = catalogue()): DatasetSpec[] {
  return inIdOrder(from.datasets);
}

export function getDataset(id: string, from: Catalogue = catalogue()): DatasetSpec {
  return entryOf(from.datasets, id, 'dataset');
}

/** Every code list, in id order. */
export function listCodeLists(from: Catalogue = catalogue()): CodeList[] {
  return inIdOrder(from.codeLists);
}

export function getCodeList(id: string, from: Catalogue = catalogue()): CodeList {
  return entryOf(from.codeLists, id, 'code list');
}

function inIdOrder<T extends { id: string }>(entries: ReadonlyMap<string, T>): T[] {
  return [...entries.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** One entry by id, or a 'not-found' that names the ones there are. */
function entryOf<T>(entries: ReadonlyMap<string, T>, id: string, kind: 'dataset' | 'code list'): T {
  const entry = entries.get(id);
  if (!entry) {
    throw new KernelError('not-found', `There is no ${kind} '${id}'`, {
      hint: `Known ${kind}s: ${[...entries.keys()].sort().join(', ')}`,
    });
  }
  return entry;
}

const codeSets = new WeakMap<CodeList, Set<string>>();
const patterns = new WeakMap<CodeList, RegExp | undefined>();

/** The codes of a list, for membership tests. For a subset list see `isValidCode`. */
export function codeSet(id: string, from: Catalogue = catalogue()): Set<string> {
  const list = getCodeList(id, from);
  let set = codeSets.get(list);
  if (!set) {
    set = new Set(list.codes.map((c) => c.code));
    codeSets.set(list, set);
  }
  return set;
}

/**
 * Whether `value` is a valid code of the list: one of its codes or, for a subset of a large
 * scheme (ICD-10, OPCS-4, SNOMED CT), any value shaped like a code of that scheme.
 */
export function isValidCode(id: string, value: string, from: Catalogue = catalogue()): boolean {
  if (codeSet(id, from).has(value)) return true;
  const list = getCodeList(id, from);
  if (!list.subset) return false;
  if (!patterns.has(list)) patterns.set(list, list.pattern ? anchored(list.pattern) : undefined);
  return patterns.get(list)?.test(value) ?? false;
}

/** The meaning of a code, or undefined when the list does not hold it. */
export function codeMeaning(id: string, code: string, from: Catalogue = catalogue()): string | undefined {
  return getCodeList(id, from).codes.find((c) => c.code === code)?.meaning;
}

/** A field's pattern as the loader uses it: the whole value must match. */
export function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

// ---------------------------------------------------------------------------------------
// Reading

function jsonFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    throw new KernelError('invalid-input', 'The catalogue folder is missing', {
      where: { file: dir },
      hint: 'A catalogue folder holds datasets/ and code-lists/; see docs/catalogue.md',
    });
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Reads a JSON file; a syntax error becomes a `KernelError` naming the file, line and column. */
export function readJson(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8 reports "… at position N"; turn that into the line and column an editor shows.
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message)?.[1];
    const where: { file: string; line?: number; column?: number } = { file: displayPath(file) };
    if (position !== undefined) {
      const before = text.slice(0, Number(position)).split('\n');
      where.line = before.length;
      where.column = (before[before.length - 1]?.length ?? 0) + 1;
    }
    throw new KernelError('invalid-input', 'The file is not valid JSON', {
      where,
      hint: 'Fix the JSON syntax (a missing comma or quote is the usual cause)',
      cause: error,
    });
  }
}

/** `file` relative to the working folder when it lies inside it, as messages show it. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}

// ---------------------------------------------------------------------------------------
// Checking

class Problems {
  constructor(private readonly file: string) {}
  fail(message: string, field?: string, hint?: string): never {
    throw new KernelError('invalid-input', message, {
      where: { file: displayPath(this.file), ...(field ? { field } : {}) },
      hint: hint ?? 'Correct the specification; docs/catalogue.md says what each part must hold',
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(p: Problems, value: Record<string, unknown>, key: string, field?: string): string {
  const v = value[key];
  if (typeof v !== 'string' || v.trim() === '') p.fail(`'${key}' must be a non-empty string`, field);
  return v;
}

function optionalText(p: Problems, value: Record<string, unknown>, key: string, field?: string): void {
  if (value[key] !== undefined && typeof value[key] !== 'string') p.fail(`'${key}' must be a string`, field);
}

function optionalNumber(p: Problems, value: Record<string, unknown>, key: string, field?: string): void {
  if (value[key] !== undefined && (typeof value[key] !== 'number' || !Number.isFinite(value[key]))) {
    p.fail(`'${key}' must be a number`, field);
  }
}

function checkPattern(p: Problems, pattern: string, field?: string): void {
  if (/[\\]d|[\\]w|[\\]s/.test(pattern)) {
    p.fail(
      `Pattern '${pattern}' uses \\d, \\w or \\s`,
      field,
      'Write [0-9], [A-Za-z0-9_] or [ ] so both engines read it alike',
    );
  }
  if (pattern.startsWith('^') || pattern.endsWith('$')) {
    p.fail(`Pattern '${pattern}' is anchored`, field, 'Leave out ^ and $: the whole value must always match');
  }
  try {
    anchored(pattern);
  } catch {
    p.fail(`Pattern '${pattern}' is not a valid regular expression`, field);
  }
}

function checkCodeList(raw: unknown, file: string): CodeList {
  const p: Problems = new Problems(file);
  if (!isObject(raw)) p.fail('A code list must be a JSON object');
  const id = text(p, raw, 'id');
  if (id !== path.basename(file, '.json')) p.fail(`Code list id '${id}' does not match its file name`);
  if (!ID.test(id)) p.fail(`Code list id '${id}' must be kebab-case`);
  text(p, raw, 'title');
  text(p, raw, 'source');
  if (raw.subset !== undefined && typeof raw.subset !== 'boolean') p.fail("'subset' must be true or false");
  optionalText(p, raw, 'pattern');
  if (raw.subset === true && typeof raw.pattern !== 'string') {
    p.fail(
      'A subset code list needs a pattern',
      undefined,
      'Give the pattern every code of the whole scheme matches',
    );
  }
  const pattern = typeof raw.pattern === 'string' ? raw.pattern : undefined;
  if (pattern !== undefined) checkPattern(p, pattern);
  const codes = raw.codes;
  if (!Array.isArray(codes) || codes.length === 0) p.fail("'codes' must be a non-empty list");
  const seen = new Set<string>();
  for (const entry of codes) {
    if (!isObject(entry)) p.fail('Each code must be an object with code and meaning');
    const code = text(p, entry, 'code');
    text(p, entry, 'meaning', code);
    if (seen.has(code)) p.fail(`Code '${code}' appears twice`, code);
    seen.add(code);
    if (pattern !== undefined && !anchored(pattern).test(code)) {
      p.fail(`Code '${code}' does not match the list's pattern '${pattern}'`, code);
    }
  }
  return raw as unknown as CodeList;
}

function checkDataset(raw: unknown, file: string, codeLists: ReadonlyMap<string, CodeList>): DatasetSpec {
  const p: Problems = new Problems(file);
  if (!isObject(raw)) p.fail('A dataset specification must be a JSON object');
  const id = text(p, raw, 'id');
  if (id !== path.basename(file, '.json')) p.fail(`Dataset id '${id}' does not match its file name`);
  if (!ID.test(id)) p.fail(`Dataset id '${id}' must be kebab-case`);
  for (const key of ['title', 'description', 'version', 'standard', 'periodField']) text(p, raw, key);
  const subject = raw.subject;
  if (!SUBJECTS.includes(subject as (typeof SUBJECTS)[number])) {
    p.fail(`'subject' must be one of ${SUBJECTS.join(', ')}`);
  }
  if (!Array.isArray(raw.suppliers) || raw.suppliers.some((s) => typeof s !== 'string')) {
    p.fail("'suppliers' must be a list of organisation kinds");
  }
  if (!Array.isArray(raw.fields) || raw.fields.length === 0) p.fail("'fields' must be a non-empty list");
  if (!Array.isArray(raw.dateOrder)) p.fail("'dateOrder' must be a list (it may be empty)");

  const byName = new Map<string, FieldSpec>();
  const lowerNames = new Set<string>();
  for (const rawField of raw.fields) {
    if (!isObject(rawField)) p.fail('Each field must be a JSON object');
    const field = checkField(p, rawField, codeLists);
    // DuckDB matches column names case-insensitively, so `Postcode` and `POSTCODE` would clash.
    if (lowerNames.has(field.name.toLowerCase())) p.fail(`Field '${field.name}' appears twice`, field.name);
    lowerNames.add(field.name.toLowerCase());
    byName.set(field.name, field);
  }

  const spec = raw as unknown as DatasetSpec;
  for (const field of spec.fields) {
    const rule = field.pseudonymise;
    if (rule?.method === 'birth-date') {
      const event = byName.get(rule.eventDate);
      if (!event)
        p.fail(`Its birth-date rule names eventDate '${rule.eventDate}', which is not a field`, field.name);
      if (!DATE_TYPES.includes(event.type)) {
        p.fail(
          `Its birth-date rule's eventDate '${rule.eventDate}' is not a date or datetime field`,
          field.name,
        );
      }
    }
  }

  const period = byName.get(spec.periodField);
  if (!period) p.fail(`periodField '${spec.periodField}' is not a field of the dataset`, spec.periodField);
  if (!DATE_TYPES.includes(period.type)) p.fail('The period field must be a date or datetime', period.name);
  if (period.role === 'direct-identifier') {
    p.fail('The period field is a direct identifier, so it never reaches the warehouse', period.name);
  }
  if (!period.required) p.fail('The period field must be required: every row needs a period', period.name);

  for (const rule of spec.dateOrder) {
    if (!isObject(rule)) p.fail('Each dateOrder rule must be an object with start and end');
    for (const end of ['start', 'end'] as const) {
      const name = rule[end];
      const field = byName.get(name);
      if (!field) p.fail(`A dateOrder rule names '${name}', which is not a field`, name);
      if (!DATE_TYPES.includes(field.type))
        p.fail(`A dateOrder rule names '${name}', which is not a date`, name);
      if (field.role === 'direct-identifier') {
        p.fail(`A dateOrder rule names '${name}', a direct identifier the warehouse never sees`, name);
      }
    }
    if (rule.start === rule.end) p.fail('A dateOrder rule compares a field with itself', rule.start);
  }

  if (spec.daysWithin !== undefined && !Array.isArray(spec.daysWithin)) p.fail("'daysWithin' must be a list");
  for (const rule of spec.daysWithin ?? []) {
    if (!isObject(rule)) p.fail('Each daysWithin rule must be an object with days, start and end');
    const days = byName.get(rule.days);
    if (!days || days.type !== 'integer')
      p.fail(`A daysWithin rule names '${rule.days}' as its days, which is not an integer field`, rule.days);
    for (const end of ['start', 'end'] as const) {
      const field = byName.get(rule[end]);
      if (!field || !DATE_TYPES.includes(field.type) || field.role === 'direct-identifier')
        p.fail(`A daysWithin rule names '${rule[end]}', which is not a date the warehouse sees`, rule[end]);
    }
  }

  if (spec.linkageEncoding !== undefined) {
    const encoding: unknown = spec.linkageEncoding;
    if (!isObject(encoding) || encoding.scheme !== 'person-v1' || !isObject(encoding.fields)) {
      p.fail("'linkageEncoding' must be { scheme: 'person-v1', fields: { given_name: FIELD, … } }");
    }
    const inputs = ['given_name', 'family_name', 'date_of_birth', 'sex', 'postcode'];
    for (const [input, name] of Object.entries(encoding.fields)) {
      if (!inputs.includes(input))
        p.fail(`linkageEncoding has no input '${input}' (it takes ${inputs.join(', ')})`);
      if (typeof name !== 'string' || !byName.has(name)) {
        p.fail(`linkageEncoding's ${input} names '${String(name)}', which is not a field`);
      }
    }
    if (spec.subject !== 'patient') p.fail('Only a patient dataset is linked to people by encodings');
  }

  const tokens = spec.fields.flatMap((f) => (f.pseudonymise?.method === 'token' ? [f.pseudonymise] : []));
  if (spec.subject === 'patient' && !tokens.some((t) => t.kind === 'nhs-number' && t.as === 'person_token')) {
    p.fail(
      'A patient dataset must carry person_token',
      undefined,
      "Give the NHS number field a pseudonymise rule { method: 'token', as: 'person_token', kind: 'nhs-number' }",
    );
  }
  if (spec.subject !== 'patient' && tokens.some((t) => t.kind === 'nhs-number')) {
    p.fail(`A ${spec.subject} dataset must not carry NHS numbers`);
  }

  // The accepted shape must itself make a table: unique column names, none reserved.
  const seen = new Map<string, string>();
  for (const accepted of acceptedFields(spec)) {
    const key = accepted.name.toLowerCase();
    if (!COLUMN_NAME.test(accepted.name)) {
      p.fail(`Accepted column '${accepted.name}' is not a valid column name`, accepted.from);
    }
    if (RESERVED_COLUMNS.includes(key)) {
      p.fail(`Accepted column '${accepted.name}' is reserved for the warehouse`, accepted.from);
    }
    const clash = seen.get(key);
    if (clash !== undefined) {
      p.fail(`Fields '${clash}' and '${accepted.from}' both become column '${accepted.name}'`, accepted.from);
    }
    seen.set(key, accepted.from);
  }
  return spec;
}

function checkField(
  p: Problems,
  raw: Record<string, unknown>,
  codeLists: ReadonlyMap<string, CodeList>,
): FieldSpec {
  const name = text(p, raw, 'name');
  if (!COLUMN_NAME.test(name)) {
    p.fail(`Field name '${name}' must start with a letter and hold only letters, digits and _`, name);
  }
  text(p, raw, 'title', name);
  optionalText(p, raw, 'description', name);
  optionalText(p, raw, 'format', name);
  const type = raw.type as FieldType;
  if (!FIELD_TYPES.includes(type))
    p.fail(`Type '${String(raw.type)}' is not one of ${FIELD_TYPES.join(', ')}`, name);
  if (typeof raw.required !== 'boolean') p.fail("'required' must be true or false", name);
  const role = raw.role as PrivacyRole;
  if (!ROLES.includes(role)) p.fail(`Role '${String(raw.role)}' is not one of ${ROLES.join(', ')}`, name);

  const codeList = raw.codeList;
  if (codeList !== undefined) {
    if (typeof codeList !== 'string' || !codeLists.has(codeList)) {
      p.fail(
        `Code list '${String(codeList)}' does not exist`,
        name,
        `Add code-lists/${String(codeList)}.json or name one of: ${[...codeLists.keys()].sort().join(', ')}`,
      );
    }
    if (type !== 'code') p.fail(`Only a field of type code may name a code list (this one is ${type})`, name);
  } else if (type === 'code') {
    p.fail('A field of type code must name its codeList', name);
  }

  optionalNumber(p, raw, 'maxLength', name);
  optionalNumber(p, raw, 'minimum', name);
  optionalNumber(p, raw, 'maximum', name);
  if ((raw.minimum !== undefined || raw.maximum !== undefined) && type !== 'integer' && type !== 'decimal') {
    p.fail('minimum and maximum apply only to integer and decimal fields', name);
  }
  if (typeof raw.minimum === 'number' && typeof raw.maximum === 'number' && raw.minimum > raw.maximum) {
    p.fail('minimum is greater than maximum', name);
  }
  optionalText(p, raw, 'pattern', name);
  if (typeof raw.pattern === 'string') checkPattern(p, raw.pattern, name);

  if (raw.recordKey !== undefined) {
    if (typeof raw.recordKey !== 'boolean') p.fail("'recordKey' must be true or false", name);
    if (raw.recordKey === true && role !== 'quasi-identifier') {
      p.fail(`Only a quasi-identifier can be a record key (this field's role is ${role})`, name);
    }
  }
  const rule = raw.pseudonymise;
  if (role === 'direct-identifier' && rule === undefined) {
    p.fail(
      'A direct identifier has no pseudonymise rule',
      name,
      'Say what the agent does with it: token, postcode-geography, birth-date or drop (docs/catalogue.md)',
    );
  }
  if (rule !== undefined) {
    if (role !== 'direct-identifier') {
      p.fail(`Only a direct identifier takes a pseudonymise rule (this field's role is ${role})`, name);
    }
    checkRule(p, rule, name, type);
  }
  return raw as unknown as FieldSpec;
}

function checkRule(p: Problems, rule: unknown, name: string, type: FieldType): void {
  if (!isObject(rule)) p.fail("'pseudonymise' must be an object with a method", name);
  switch (rule.method) {
    case 'token':
      text(p, rule, 'as', name);
      if (!TOKEN_KINDS.includes(rule.kind as (typeof TOKEN_KINDS)[number])) {
        p.fail(`Token kind '${String(rule.kind)}' is not one of ${TOKEN_KINDS.join(', ')}`, name);
      }
      return;
    case 'postcode-geography':
      text(p, rule, 'lsoa', name);
      text(p, rule, 'imdDecile', name);
      if (type !== 'string') p.fail('A postcode must be a string field', name);
      return;
    case 'birth-date':
      text(p, rule, 'age', name);
      text(p, rule, 'yearMonth', name);
      text(p, rule, 'eventDate', name);
      if (type !== 'date') p.fail('A birth-date rule applies to a date field', name);
      return;
    case 'drop':
      return;
    default:
      p.fail(
        `Pseudonymise method '${String(rule.method)}' is not one of token, postcode-geography, birth-date, drop`,
        name,
      );
  }
}
