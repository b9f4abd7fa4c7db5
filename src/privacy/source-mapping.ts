/**
 * Source mappings (issue 16): each member's own extract differs from the national shape, and
 * a mapping, held as data per organisation × dataset, turns it into that shape before the
 * agent tokenises anything. A mapping renames local columns to the specification's fields,
 * translates local codes to the field's national code list, rewrites local dates as
 * CCYY-MM-DD (ISO 8601, the Data Dictionary's format) and adds constant values:
 *
 * ```json
 * { "org": "RPA", "dataset": "msds-delivery",
 *   "columns": { "Mother_NHS_No": "NHSNumberMother", "Ward": null },
 *   "codes": { "SmokingStatusDelivery": { "SMOKER": "Smoker", "NON": "Non-Smoker / Ex-Smoker" } },
 *   "dates": { "DeliveryDate": "DD/MM/YYYY" },
 *   "constants": { "OrgCodeProvider": "RPA" } }
 * ```
 *
 * A column mapped to `null` is left out on purpose. Applying a mapping streams: it wraps the
 * CSV reader's handlers, so each local record becomes a national one in a scratch buffer and
 * goes straight on to the agent (or to a file), on the extract's own line numbers. Values the
 * mapping cannot translate are passed on marked `unmapped:` (see `UNMAPPED`), for the load's
 * rules to quarantine, and counted in the report. The report holds column names, codes, counts and line numbers only:
 * no value of an identifier field, and no code of a direct or quasi-identifier, ever appears
 * in it or in an error.
 */
import { createWriteStream, renameSync } from 'node:fs';
import path from 'node:path';
import {
  catalogue,
  displayPath,
  getDataset,
  isValidCode,
  readJson,
  anchored,
  type Catalogue,
} from '../catalogue/catalogue.ts';
import type { DatasetSpec, FieldSpec } from '../catalogue/dataset-spec.ts';
import { inboundColumns } from '../catalogue/shapes.ts';
import { KernelError } from '../errors.ts';
import { fieldText, readCsv, type CsvHandlers, type CsvRecord } from '../files/csv-reader.ts';
import { discardPartialFile } from '../files/partial-file.ts';
import { csvField } from '../files/csv-file-writer.ts';
import { columnWatch, huntValue, type ColumnWatch } from './identifier-hunt.ts';
import { OutputBuffer } from './output-buffer.ts';

export interface SourceMapping {
  /** the organisation whose extracts it maps (ODS code) */
  org: string;
  /** the dataset the extracts are */
  dataset: string;
  /** local column → the specification's field; `null` leaves the column out on purpose */
  columns: Record<string, string | null>;
  /** field → (local code → national code) */
  codes: Record<string, Record<string, string>>;
  /** field → the local date format, e.g. `DD/MM/YYYY` */
  dates: Record<string, string>;
  /** field → the value every row takes */
  constants: Record<string, string>;
  /** where it was read from, as messages name it */
  file: string;
}

export interface MappingReport {
  org: string;
  dataset: string;
  /** the mapping's file and the extract's, as named in messages */
  mapping: string;
  extract: string;
  /** data rows read */
  rows: number;
  /** true when every column and every value mapped and every required field has a source */
  complete: boolean;
  /** local columns the mapping does not name: left out of the national file */
  unmappedColumns: string[];
  /** local columns the mapping leaves out on purpose (mapped to null) */
  ignoredColumns: string[];
  /** columns the mapping names that the extract lacks */
  missingColumns: string[];
  /** the specification's fields nothing fills (left empty) */
  unsourcedFields: { field: string; required: boolean }[];
  /** local values of a field with codes that the mapping does not translate (passed on marked `UNMAPPED`) */
  unmappedCodes: { field: string; code?: string; count: number; firstLine: number }[];
  /** values that are not dates in the mapping's format (passed on marked `UNMAPPED`), or no such day */
  badDates: { field: string; format: string; count: number; firstLine: number }[];
}

const KEYS = ['org', 'dataset', 'columns', 'codes', 'dates', 'constants'] as const;
const EXAMPLE =
  'See docs/feeds.md, "Source mappings": {"org": "RPA", "dataset": "msds-delivery", "columns": {"Local_Col": "SpecField"}, "codes": {}, "dates": {}, "constants": {}}';
/** Distinct unmapped codes kept per field; beyond it they are counted together, without the code. */
const CODES_PER_FIELD = 100;

/**
 * What a code or date the mapping does not translate is sent on as: marked, so that it is in
 * no code list and no date type, and the load's `code` and `type` rules quarantine the row
 * with its line. Written as it was, a local code that happens to equal a national one
 * (`Smoker`, ethnicity `A`) or a date that happens to be CCYY-MM-DD under `DD/MM/YYYY` would
 * load as valid, though the mapping never said what it means (docs/feeds.md).
 */
export const UNMAPPED = 'unmapped:';

const isIdentifier = (field: FieldSpec): boolean =>
  field.role === 'direct-identifier' || field.role === 'quasi-identifier';

// ---------------------------------------------------------------------------------------
// Dates

interface DateFormat {
  /** local text → the parts, or undefined when the text is not in the format */
  regex: RegExp;
  /** the capture group of each part */
  groups: Partial<Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>>;
  tokens: ({ part: keyof DateFormat['groups']; width: 1 | 2 | 4 } | { literal: string })[];
}

const TOKENS: [string, keyof DateFormat['groups'], 1 | 2 | 4][] = [
  ['YYYY', 'year', 4],
  ['CCYY', 'year', 4],
  ['DD', 'day', 2],
  ['MM', 'month', 2],
  ['HH', 'hour', 2],
  ['mm', 'minute', 2],
  ['ss', 'second', 2],
  ['D', 'day', 1],
  ['M', 'month', 1],
];

/**
 * A local date format: `YYYY` (or `CCYY`), `MM` or `M`, `DD` or `D`, and for date-times `HH`,
 * `mm` and `ss`; anything else but a letter stands for itself. Answers a message when invalid.
 */
export function compileDateFormat(format: string): DateFormat | string {
  const tokens: DateFormat['tokens'] = [];
  const groups: DateFormat['groups'] = {};
  let source = '';
  let group = 0;
  for (let i = 0; i < format.length;) {
    const token = TOKENS.find(([t]) => format.startsWith(t, i));
    if (token) {
      const [text, part, width] = token;
      if (groups[part] !== undefined) return `it names the ${part} twice`;
      groups[part] = ++group;
      tokens.push({ part, width });
      source += width === 1 ? '([0-9]{1,2})' : `([0-9]{${width}})`;
      i += text.length;
      continue;
    }
    const c = format.charAt(i);
    if (/[A-Za-z]/.test(c) && c !== 'T') return `"${c}" is not one of YYYY, MM, M, DD, D, HH, mm, ss`;
    tokens.push({ literal: c });
    source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    i++;
  }
  if (groups.year === undefined || groups.month === undefined || groups.day === undefined) {
    return 'it must name the year (YYYY), month (MM) and day (DD)';
  }
  if (groups.minute !== undefined && groups.hour === undefined)
    return 'it names minutes (mm) but no hour (HH)';
  return { regex: new RegExp(`^${source}$`), groups, tokens };
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function realDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > (DAYS_IN_MONTH[m] ?? 0)) return false;
  return m !== 2 || d < 29 || (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const pad = (n: string, width: number): string => n.padStart(width, '0');

/**
 * A local date as the national `CCYY-MM-DD` (a date-time field: `CCYY-MM-DDThh:mm:ss`).
 * `ok` is false when the date does not exist; `text` is then the value rearranged anyway, so
 * the load's `type` rule names it. Answers undefined when the text is not in the format.
 */
function nationalDate(
  format: DateFormat,
  text: string,
  withTime: boolean,
): { text: string; ok: boolean } | undefined {
  const match = format.regex.exec(text);
  if (!match) return undefined;
  const part = (name: keyof DateFormat['groups'], width: number): string => {
    const g = format.groups[name];
    return g === undefined ? '00' : pad(match[g] ?? '', width);
  };
  const [y, m, d] = [part('year', 4), part('month', 2), part('day', 2)];
  let ok = realDate(Number(y), Number(m), Number(d));
  let out = `${y}-${m}-${d}`;
  if (withTime) {
    const [hh, mi, ss] = [part('hour', 2), part('minute', 2), part('second', 2)];
    ok &&= Number(hh) < 24 && Number(mi) < 60 && Number(ss) < 60;
    out += `T${hh}:${mi}:${ss}`;
  }
  return { text: out, ok };
}

/**
 * The other way: a national `CCYY-MM-DD[Thh:mm:ss]` written in a local format (the synthetic
 * world's local layouts). Answers undefined for text not shaped like a national date.
 */
export function localDate(format: string, national: string): string | undefined {
  const compiled = compileDateFormat(format);
  if (typeof compiled === 'string') throw new KernelError('usage', `Bad date format: ${compiled}`);
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(national);
  if (!match) return undefined;
  const parts = {
    year: match[1] ?? '',
    month: match[2] ?? '',
    day: match[3] ?? '',
    hour: match[4] ?? '00',
    minute: match[5] ?? '00',
    second: match[6] ?? '00',
  };
  return compiled.tokens
    .map((t) => ('literal' in t ? t.literal : t.width === 1 ? String(Number(parts[t.part])) : parts[t.part]))
    .join('');
}

// ---------------------------------------------------------------------------------------
// Reading and checking

/** Reads a mapping file and checks it against its dataset's specification. */
export function readSourceMapping(file: string, from: Catalogue = catalogue()): SourceMapping {
  let value: unknown;
  try {
    value = readJson(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KernelError('not-found', `The source mapping ${file} does not exist`, {
        where: { file },
        hint: 'Check the path given with --mapping',
      });
    }
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new KernelError('invalid-input', `The source mapping ${file} is a folder, not a file`, {
        where: { file },
        hint: 'Give the mapping file itself (JSON) with --mapping',
      });
    }
    throw error;
  }
  return parseSourceMapping(value, displayPath(file), from);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a mapping's JSON against the dataset's specification (fields, types, code lists).
 * Throws `KernelError('invalid-input')` for the first problem, naming the file and the key.
 */
export function parseSourceMapping(
  value: unknown,
  file: string,
  from: Catalogue = catalogue(),
): SourceMapping {
  const fail = (message: string, field: string | undefined, hint: string): never => {
    throw new KernelError('invalid-input', message, {
      where: { file, ...(field === undefined ? {} : { field }) },
      hint,
    });
  };
  if (!isObject(value)) return fail('A source mapping is a JSON object', undefined, EXAMPLE);
  for (const key of Object.keys(value)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      fail(`Unknown key "${key}" in the source mapping`, key, `A mapping holds ${KEYS.join(', ')}`);
    }
  }
  const org = value.org;
  if (typeof org !== 'string' || !/^[A-Za-z0-9]{3,12}$/.test(org.trim())) {
    return fail('The mapping must name its organisation by ODS code', 'org', 'Write "org": "RPA"');
  }
  if (typeof value.dataset !== 'string') {
    return fail('The mapping must name its dataset', 'dataset', 'Write "dataset": "msds-delivery"');
  }
  let spec: DatasetSpec;
  try {
    spec = getDataset(value.dataset, from);
  } catch {
    return fail(
      `There is no dataset '${value.dataset}'`,
      'dataset',
      `Known datasets: ${[...from.datasets.keys()].sort().join(', ')}`,
    );
  }
  const fields = new Map(spec.fields.map((f) => [f.name, f]));
  const fieldOf = (name: unknown, at: string): FieldSpec => {
    const field = typeof name === 'string' ? fields.get(name) : undefined;
    if (!field) {
      return fail(
        `"${String(name)}" is not a field of ${spec.id} ${spec.version}`,
        at,
        `Run \`kernel datasets show ${spec.id}\` for its fields`,
      );
    }
    return field;
  };
  const objectAt = (key: string): Json => {
    const v = value[key] ?? {};
    if (!isObject(v)) return fail(`"${key}" must be an object`, key, EXAMPLE);
    return v;
  };

  const columns: Record<string, string | null> = {};
  const sourceOf = new Map<string, string>();
  const columnEntries = Object.entries(objectAt('columns'));
  if (columnEntries.length === 0) {
    fail('The mapping maps no columns', 'columns', 'Name each local column and the field it fills');
  }
  for (const [local, target] of columnEntries) {
    const at = `columns.${local}`;
    if (local.trim() === '')
      fail('A local column name is empty', 'columns', 'Name the column as the extract does');
    if (target === null) {
      columns[local] = null;
      continue;
    }
    const field = fieldOf(target, at);
    const before = sourceOf.get(field.name);
    if (before !== undefined) {
      fail(
        `Both ${before} and ${local} map to ${field.name}`,
        at,
        'Map one local column to each field (null leaves a column out)',
      );
    }
    sourceOf.set(field.name, local);
    columns[local] = field.name;
  }

  const mappedField = (name: string, at: string, what: string): FieldSpec => {
    const field = fieldOf(name, at);
    if (!sourceOf.has(field.name)) {
      fail(
        `The mapping gives ${what} for ${field.name}, but no column maps to it`,
        at,
        'Map a local column to it in "columns"',
      );
    }
    return field;
  };

  const codes: Record<string, Record<string, string>> = {};
  for (const [name, table] of Object.entries(objectAt('codes'))) {
    const at = `codes.${name}`;
    const field = mappedField(name, at, 'codes');
    if (field.type !== 'code' && field.type !== 'boolean') {
      fail(
        `${field.name} is a ${field.type}, not a coded field`,
        at,
        'Give codes only for code and Y/N fields',
      );
    }
    if (!isObject(table) || Object.keys(table).length === 0) {
      return fail(`The codes for ${field.name} must be an object of local code → national code`, at, EXAMPLE);
    }
    const safe = !isIdentifier(field);
    const translated: Record<string, string> = {};
    for (const [local, national] of Object.entries(table)) {
      const valid =
        typeof national === 'string' &&
        (field.type === 'boolean'
          ? national === 'Y' || national === 'N'
          : isValidCode(field.codeList ?? '', national, from));
      if (!valid) {
        fail(
          safe
            ? `The local code "${local}" of ${field.name} maps to "${String(national)}", which is not in the code list ${field.codeList ?? 'Y/N'}`
            : `A local code of ${field.name} maps to a value not in its code list ${field.codeList ?? ''}`,
          at,
          field.type === 'boolean'
            ? 'Map each local value to Y or N'
            : `Run \`kernel datasets show ${spec.id}\` for the codes of ${field.codeList ?? ''}`,
        );
      }
      translated[local] = national as string;
    }
    codes[field.name] = translated;
  }

  const dates: Record<string, string> = {};
  for (const [name, format] of Object.entries(objectAt('dates'))) {
    const at = `dates.${name}`;
    const field = mappedField(name, at, 'a date format');
    if (field.type !== 'date' && field.type !== 'datetime') {
      fail(
        `${field.name} is of type ${field.type}, not a date`,
        at,
        'Give date formats only for date fields',
      );
    }
    const compiled = typeof format === 'string' ? compileDateFormat(format) : 'it is not text';
    if (typeof compiled === 'string') {
      fail(`The date format for ${field.name} is not usable: ${compiled}`, at, 'Write it like "DD/MM/YYYY"');
    } else if (field.type === 'datetime' && compiled.groups.hour === undefined) {
      fail(
        `${field.name} is a date and time, but its format has no time`,
        at,
        'Write it like "DD/MM/YYYY HH:mm"',
      );
    }
    dates[field.name] = format as string;
  }

  const constants: Record<string, string> = {};
  for (const [name, constant] of Object.entries(objectAt('constants'))) {
    const at = `constants.${name}`;
    const field = fieldOf(name, at);
    if (sourceOf.has(field.name)) {
      fail(`${field.name} has both a column (${sourceOf.get(field.name)}) and a constant`, at, 'Keep one');
    }
    if (field.role === 'direct-identifier') {
      fail(`${field.name} identifies a person, so it cannot be a constant`, at, 'Map it from a column');
    }
    const problem = typeof constant === 'string' ? constantProblem(field, constant, from) : 'it is not text';
    if (problem)
      fail(
        `The constant for ${field.name} is not valid: ${problem}`,
        at,
        `Run \`kernel datasets show ${spec.id}\``,
      );
    constants[field.name] = constant as string;
  }
  return { org: org.trim().toUpperCase(), dataset: spec.id, columns, codes, dates, constants, file };
}

function constantProblem(field: FieldSpec, value: string, from: Catalogue): string | undefined {
  if (value === '') return 'it is empty';
  if (field.maxLength !== undefined && value.length > field.maxLength)
    return `longer than ${field.maxLength}`;
  if (field.pattern && !anchored(field.pattern).test(value)) return 'it does not match the field’s pattern';
  switch (field.type) {
    case 'code':
      return isValidCode(field.codeList ?? '', value, from)
        ? undefined
        : `not in the code list ${field.codeList ?? ''}`;
    case 'boolean':
      return value === 'Y' || value === 'N' ? undefined : 'write Y or N';
    case 'integer':
      return /^-?[0-9]+$/.test(value) ? undefined : 'not a whole number';
    case 'decimal':
      return /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? undefined : 'not a number';
    case 'date': {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      return m && realDate(Number(m[1]), Number(m[2]), Number(m[3])) ? undefined : 'not a CCYY-MM-DD date';
    }
    default:
      return undefined;
  }
}

/** Refuses a mapping written for another organisation or dataset than the feed's. */
export function refuseOtherFeed(mapping: SourceMapping, org: string, dataset: string): void {
  const wantOrg = org.trim().toUpperCase();
  if (mapping.org === wantOrg && mapping.dataset === dataset) return;
  throw new KernelError(
    'refused',
    `The source mapping is for ${mapping.org}'s ${mapping.dataset}, not ${wantOrg}'s ${dataset}`,
    {
      where: { file: mapping.file, field: mapping.org === wantOrg ? 'dataset' : 'org' },
      hint: `Give the mapping written for ${wantOrg}'s ${dataset} extracts`,
    },
  );
}

// ---------------------------------------------------------------------------------------
// Applying

type Column =
  | { kind: 'copy'; from: number }
  | {
      kind: 'code';
      from: number;
      field: FieldSpec;
      codes: Map<string, string>;
      bytes: Map<string, Buffer>;
      watch?: ColumnWatch;
    }
  | { kind: 'date'; from: number; field: FieldSpec; format: DateFormat; text: string; watch?: ColumnWatch }
  | { kind: 'constant'; bytes: Buffer; text: string }
  | { kind: 'empty' };

const COMMA = 0x2c;

/**
 * One pass of a mapping over one extract: compiled against the extract's header, it maps each
 * record (as bytes, for the agent) or each row (as text, for readers of whole files) and keeps
 * the report.
 */
export class SourceMapper {
  /** the national header: the dataset's inbound columns */
  readonly columns: string[];
  /**
   * The identifier hunt's watch of each coded or date column sent on (not a direct identifier),
   * over the local values: an untranslated one goes on marked, which no longer has the shape
   * of what it may be (an NHS number, a postcode), so the agent hunts it as written.
   */
  readonly watches: ColumnWatch[] = [];
  private readonly plan: Column[];
  private rows = 0;
  private readonly unmappedColumns: string[] = [];
  private readonly ignoredColumns: string[] = [];
  private readonly missingColumns: string[] = [];
  private readonly unsourced: { field: string; required: boolean }[] = [];
  private readonly codes = new Map<
    string,
    { field: string; code?: string; count: number; firstLine: number }
  >();
  private readonly codesPerField = new Map<string, number>();
  private readonly dates = new Map<
    string,
    { field: string; format: string; count: number; firstLine: number }
  >();
  private scratch = Buffer.allocUnsafe(4096);
  private readonly record: CsvRecord;

  constructor(
    readonly mapping: SourceMapping,
    readonly spec: DatasetSpec,
    localHeader: readonly string[],
    readonly extract: string,
  ) {
    if (spec.id !== mapping.dataset) refuseOtherFeed(mapping, mapping.org, spec.id);
    this.columns = inboundColumns(spec);
    const index = new Map(localHeader.map((c, i) => [c, i] as const));
    const source = new Map<string, number>();
    for (const local of localHeader) {
      const target = mapping.columns[local];
      if (target === undefined || !Object.hasOwn(mapping.columns, local)) this.unmappedColumns.push(local);
      else if (target === null) this.ignoredColumns.push(local);
      else source.set(target, index.get(local) as number);
    }
    for (const local of Object.keys(mapping.columns)) if (!index.has(local)) this.missingColumns.push(local);
    this.plan = spec.fields.map((field): Column => {
      const from = source.get(field.name);
      const constant = mapping.constants[field.name];
      if (from === undefined) {
        if (constant !== undefined)
          return { kind: 'constant', text: constant, bytes: Buffer.from(csvField(constant)) };
        this.unsourced.push({ field: field.name, required: field.required });
        return { kind: 'empty' };
      }
      const codes = mapping.codes[field.name];
      if (codes) {
        const table = new Map(Object.entries(codes));
        const bytes = new Map(
          [...table].map(([local, national]) => [local, Buffer.from(csvField(national))]),
        );
        return { kind: 'code', from, field, codes: table, bytes, ...this.watchOf(field, from) };
      }
      const format = mapping.dates[field.name];
      if (format !== undefined) {
        const compiled = compileDateFormat(format) as DateFormat;
        return { kind: 'date', from, field, format: compiled, text: format, ...this.watchOf(field, from) };
      }
      return { kind: 'copy', from };
    });
    this.record = {
      buf: this.scratch,
      starts: new Int32Array(this.columns.length),
      ends: new Int32Array(this.columns.length),
      quoted: new Uint8Array(this.columns.length),
      count: this.columns.length,
      line: 0,
      offset: 0,
    };
  }

  /** The hunt's watch of a local column a field is translated from, unless the agent drops it. */
  private watchOf(field: FieldSpec, from: number): { watch?: ColumnWatch } {
    if (field.role === 'direct-identifier') return {};
    const watch = columnWatch({ name: field.name, kind: 'copy', type: field.type }, from);
    this.watches.push(watch);
    return { watch };
  }

  /** A coded or date value in national form; undefined (counted) where it does not map. */
  private translate(column: Column, raw: string, line: number): string | undefined {
    const text = raw.trim();
    if (text === '') return '';
    if (column.kind === 'code') {
      const national = column.codes.get(raw) ?? column.codes.get(text);
      if (national !== undefined) return national;
      this.unmappedCode(column.field, text, line);
      return undefined;
    }
    if (column.kind === 'date') {
      const date = nationalDate(column.format, text, column.field.type === 'datetime');
      if (!date?.ok) {
        const found = this.dates.get(column.field.name);
        if (found) found.count++;
        else
          this.dates.set(column.field.name, {
            field: column.field.name,
            format: column.text,
            count: 1,
            firstLine: line,
          });
      }
      return date?.text;
    }
    return raw;
  }

  private unmappedCode(field: FieldSpec, code: string, line: number): void {
    // A code of an identifying field (sex, ethnicity…) is itself a fact about a person: count it only.
    let show = !isIdentifier(field);
    const distinct = this.codesPerField.get(field.name) ?? 0;
    const key = (withCode: boolean): string => (withCode ? `${field.name}\u0000${code}` : field.name);
    if (show && !this.codes.has(key(true)) && distinct >= CODES_PER_FIELD) show = false;
    const found = this.codes.get(key(show));
    if (found) {
      found.count++;
      return;
    }
    if (show) this.codesPerField.set(field.name, distinct + 1);
    this.codes.set(key(show), { field: field.name, ...(show ? { code } : {}), count: 1, firstLine: line });
  }

  /** A local row (cell texts, in the extract's order) in the national shape. */
  mapCells(cells: readonly string[], line: number): string[] {
    this.rows++;
    return this.plan.map((column) => {
      switch (column.kind) {
        case 'copy':
          return cells[column.from] ?? '';
        case 'constant':
          return column.text;
        case 'empty':
          return '';
        default: {
          const raw = cells[column.from] ?? '';
          return this.translate(column, raw, line) ?? `${UNMAPPED}${raw.trim()}`;
        }
      }
    });
  }

  /**
   * A local record as a national one, laid out as a CSV line (fields joined by commas, as the
   * agent copies neighbouring fields in one span). Valid until the next call.
   */
  mapRecord(local: CsvRecord): CsvRecord {
    this.rows++;
    const out = this.record;
    let pos = 0;
    const room = (n: number): void => {
      if (pos + n <= this.scratch.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, pos + n));
      this.scratch.copy(bigger, 0, 0, pos);
      this.scratch = bigger;
    };
    const copyField = (i: number): void => {
      const s = local.starts[i] ?? 0;
      const e = local.ends[i] ?? 0;
      room(e - s);
      pos += local.buf.copy(this.scratch, pos, s, e);
    };
    const write = (bytes: Buffer): void => {
      room(bytes.length);
      pos += bytes.copy(this.scratch, pos);
    };
    this.plan.forEach((column, j) => {
      if (j > 0) {
        room(1);
        this.scratch[pos++] = COMMA;
      }
      out.starts[j] = pos;
      out.quoted[j] = 0;
      switch (column.kind) {
        case 'copy':
          copyField(column.from);
          out.quoted[j] = local.quoted[column.from] ?? 0;
          break;
        case 'constant':
          write(column.bytes);
          out.quoted[j] = column.bytes[0] === 0x22 ? 1 : 0;
          break;
        case 'empty':
          break;
        case 'code':
        case 'date': {
          const raw = fieldText(local, column.from);
          if (column.watch) huntValue(column.watch, local);
          const national = this.translate(column, raw, local.line);
          if (national === undefined) {
            const marked = Buffer.from(csvField(`${UNMAPPED}${raw.trim()}`));
            write(marked);
            out.quoted[j] = marked[0] === 0x22 ? 1 : 0;
          } else if (column.kind === 'code') {
            const bytes = column.bytes.get(raw) ?? column.bytes.get(raw.trim());
            if (bytes) {
              write(bytes);
              out.quoted[j] = bytes[0] === 0x22 ? 1 : 0;
            }
          } else write(Buffer.from(national, 'latin1'));
          break;
        }
      }
      out.ends[j] = pos;
    });
    out.buf = this.scratch;
    out.line = local.line;
    out.offset = local.offset;
    return out;
  }

  /** What the pass found, so far. */
  report(): MappingReport {
    const unmappedCodes = [...this.codes.values()].sort(
      (a, b) => a.field.localeCompare(b.field) || b.count - a.count,
    );
    const badDates = [...this.dates.values()];
    return {
      org: this.mapping.org,
      dataset: this.mapping.dataset,
      mapping: this.mapping.file,
      extract: this.extract,
      rows: this.rows,
      complete:
        this.unmappedColumns.length === 0 &&
        this.missingColumns.length === 0 &&
        unmappedCodes.length === 0 &&
        badDates.length === 0 &&
        !this.unsourced.some((f) => f.required),
      unmappedColumns: [...this.unmappedColumns],
      ignoredColumns: [...this.ignoredColumns],
      missingColumns: [...this.missingColumns],
      unsourcedFields: [...this.unsourced],
      unmappedCodes,
      badDates,
    };
  }
}

/**
 * A mapping applied as a stream: wraps the handlers of a `readCsv` of the local extract so
 * `inner` sees the national header and national records, on the extract's own line numbers.
 */
export class MappingPass {
  private mapper: SourceMapper | undefined;

  constructor(
    readonly mapping: SourceMapping,
    readonly spec: DatasetSpec,
    readonly extract: string,
  ) {
    if (spec.id !== mapping.dataset) refuseOtherFeed(mapping, mapping.org, spec.id);
  }

  wrap(inner: CsvHandlers): CsvHandlers {
    return {
      onHeader: (columns, line) => {
        this.mapper = new SourceMapper(this.mapping, this.spec, columns, this.extract);
        inner.onHeader(this.mapper.columns, line);
      },
      onRecord: (record) => inner.onRecord((this.mapper as SourceMapper).mapRecord(record)),
      ...(inner.onChunk ? { onChunk: inner.onChunk.bind(inner) } : {}),
      ...(inner.onBytes ? { onBytes: inner.onBytes.bind(inner) } : {}),
    };
  }

  report(): MappingReport {
    if (!this.mapper) throw new KernelError('internal', 'The mapping pass has not read a header');
    return this.mapper.report();
  }

  /** The identifier hunt's watches of the local values translated (`SourceMapper.watches`). */
  watches(): readonly ColumnWatch[] {
    return this.mapper?.watches ?? [];
  }
}

/** Tries a mapping on an extract without writing anything: the report. */
export async function checkSourceMapping(mapping: SourceMapping, input: string): Promise<MappingReport> {
  const pass = new MappingPass(mapping, getDataset(mapping.dataset), path.basename(input));
  await readCsv(input, pass.wrap({ onHeader: () => undefined, onRecord: () => undefined }));
  return pass.report();
}

/**
 * Writes the extract `input` in the national shape to `output` (through `output.partial`, so a
 * failed run leaves nothing), on the same line numbers; answers the report.
 */
export async function applySourceMapping(
  mapping: SourceMapping,
  input: string,
  output: string,
): Promise<MappingReport> {
  const pass = new MappingPass(mapping, getDataset(mapping.dataset), path.basename(input));
  const partial = `${output}.partial`;
  const stream = createWriteStream(partial, { mode: 0o600 });
  const out = new OutputBuffer(stream);
  let done = false;
  try {
    await readCsv(
      input,
      pass.wrap({
        onHeader(columns) {
          out.ascii(`${columns.join(',')}\n`);
        },
        onRecord(record) {
          out.copy(record.buf, record.starts[0] ?? 0, record.ends[record.count - 1] ?? 0);
          out.byte(0x0a);
        },
        onChunk: () => out.drain(),
      }),
    );
    await out.drain(true);
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    renameSync(partial, output);
    done = true;
    return pass.report();
  } finally {
    if (!done) await discardPartialFile(stream, partial);
  }
}
