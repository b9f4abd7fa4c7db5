/**
 * A specification-driven writer of identifiable extracts, for the ingest benchmark and the
 * feeds tests: any dataset, any size, seeded, streaming to disk. Every value follows the
 * specification (types, code lists, patterns, date order, the period field in the month);
 * NHS numbers are from the 999 test range with valid check digits. `faults` plants known
 * bad rows so tests can check each rule finds exactly them.
 */
import { createWriteStream } from 'node:fs';
import type { CodeList, DatasetSpec, FieldSpec } from '../../src/catalogue/dataset-spec.ts';
import { testRangeNhsNumber } from '../../src/privacy/nhs-number.ts';

export interface ExtractFaults {
  /** lines (1-based data row numbers) whose first required non-identifier field is emptied */
  required?: number[];
  /** rows whose first date field is a date that does not exist */
  type?: number[];
  /** rows whose first coded field holds a code not in its list */
  code?: number[];
  /** rows whose first date-order rule is broken */
  dateOrder?: number[];
  /** rows written twice (the copy directly after) */
  duplicate?: number[];
  /** rows with an NHS number failing its check digit */
  nhsCheckDigit?: number[];
  /** rows with no NHS number */
  nhsMissing?: number[];
}

export interface ExtractOptions {
  spec: DatasetSpec;
  codeList: (id: string) => CodeList | undefined;
  file: string;
  rows: number;
  /** the month every row's period field falls in, YYYY-MM */
  period: string;
  seed?: number;
  /** distinct people (default rows ÷ 3) */
  people?: number;
  faults?: ExtractFaults;
  lineEnding?: '\n' | '\r\n';
}

/** Postcodes of Kent and Medway sectors, with made-up LSOA codes and IMD ranks (synthetic). */
export const SYNTHETIC_POSTCODES: { pcds: string; lsoa11: string; imd: number }[] = [
  'ME16 9QQ',
  'CT1 3NG',
  'TN24 0GP',
  'DA2 8DA',
  'ME8 0PZ',
  'ME4 4TR',
  'CT9 1XZ',
  'TN1 1YB',
  'DA11 0DQ',
  'ME10 4DE',
].map((pcds, i) => ({ pcds, lsoa11: `E0102${String(4000 + i)}`, imd: 1 + i * 3284 }));

export function postcodeLookupCsv(): string {
  return `pcds,lsoa11,imd\n${SYNTHETIC_POSTCODES.map((p) => `${p.pcds},${p.lsoa11},${p.imd}`).join('\n')}\n`;
}

/** Mulberry32: a small, fast, seeded PRNG (public domain). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';

/** A value matching a simple pattern: literals and [classes] with {m} / {m,n} counts. */
function fromPattern(pattern: string, rnd: () => number): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    let chars: string;
    if (pattern[i] === '[') {
      const end = pattern.indexOf(']', i);
      const body = pattern.slice(i + 1, end);
      chars = '';
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          const from = body.charCodeAt(k);
          const to = body.charCodeAt(k + 2);
          for (let c = from; c <= to; c++) chars += String.fromCharCode(c);
          k += 2;
        } else chars += body[k];
      }
      i = end + 1;
    } else {
      chars = pattern[i] as string;
      i++;
    }
    let count = 1;
    const m = /^\{(\d+)(?:,(\d+))?\}/.exec(pattern.slice(i));
    if (m) {
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : Number(m[2]);
      count = min + Math.floor(rnd() * (max - min + 1));
      i += m[0].length;
    }
    for (let c = 0; c < count; c++) out += chars[Math.floor(rnd() * chars.length)];
  }
  return out;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function csv(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const GIVEN = ['Olivia', 'Amelia', 'Isla', 'Noah', 'Oliver', 'George', "D'Arcy", 'Zoë'];
const FAMILY = ['Smith', 'Jones', 'Taylor', 'Brown', "O'Neill", 'Williams', 'Khan', 'Patel'];

interface Person {
  nhs: string;
  birth: string;
  postcode: string;
  given: string;
  family: string;
  uprn: string;
  mrn: string;
}

/** Writes the extract; answers the people used (for privacy tests that hunt for them). */
export async function writeExtract(options: ExtractOptions): Promise<{ rows: number; people: Person[] }> {
  const { spec } = options;
  const rnd = random(options.seed ?? 1);
  const eol = options.lineEnding ?? '\n';
  const [year, month] = options.period.split('-').map(Number) as [number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const peopleCount = Math.max(1, options.people ?? Math.ceil(options.rows / 3));
  const people: Person[] = [];
  for (let p = 0, serial = 1 + Math.floor(rnd() * 1000); people.length < peopleCount; serial++) {
    const nhs = testRangeNhsNumber(serial % 1_000_000);
    if (!nhs) continue;
    const by = 1930 + Math.floor(rnd() * 90);
    people.push({
      nhs,
      birth: `${by}-${pad(1 + Math.floor(rnd() * 12))}-${pad(1 + Math.floor(rnd() * 28))}`,
      postcode: SYNTHETIC_POSTCODES[Math.floor(rnd() * SYNTHETIC_POSTCODES.length)]!.pcds,
      given: GIVEN[Math.floor(rnd() * GIVEN.length)]!,
      family: FAMILY[Math.floor(rnd() * FAMILY.length)]!,
      uprn: String(100000000 + Math.floor(rnd() * 899999999)),
      mrn: `MRN${String(p++).padStart(7, '0')}`,
    });
  }
  const faults = options.faults ?? {};
  const sets = Object.fromEntries(
    Object.entries(faults).map(([k, v]) => [k, new Set(v as number[])]),
  ) as Record<keyof ExtractFaults, Set<number> | undefined>;
  const dateFields = spec.fields.filter(
    (f) => (f.type === 'date' || f.type === 'datetime') && f.pseudonymise?.method !== 'birth-date',
  );
  const firstRequired = spec.fields.find(
    (f) => f.required && f.role !== 'direct-identifier' && f.name !== spec.periodField,
  );
  const firstCoded = spec.fields.find(
    (f) => f.codeList && f.role !== 'direct-identifier' && !options.codeList(f.codeList)?.subset,
  );
  const order = spec.dateOrder[0];

  const value = (field: FieldSpec, person: Person, dates: Map<string, string>): string => {
    const rule = field.pseudonymise;
    if (rule?.method === 'token' && rule.kind === 'nhs-number') return person.nhs;
    if (rule?.method === 'token' && rule.kind === 'uprn') return person.uprn;
    if (rule?.method === 'token') return fromPattern('[0-9]{8}', rnd);
    if (rule?.method === 'postcode-geography') return person.postcode;
    if (rule?.method === 'birth-date') return person.birth;
    if (rule?.method === 'drop') {
      if (/given/i.test(field.name)) return person.given;
      if (/family|surname/i.test(field.name)) return person.family;
      if (/title/i.test(field.name)) return 'Ms';
      if (/address_line_1/i.test(field.name)) return `${1 + Math.floor(rnd() * 200)}, High Street`;
      if (/address/i.test(field.name)) return 'Maidstone';
      if (/phone|telephone/i.test(field.name)) return '07700 900123';
      return person.mrn;
    }
    const date = dates.get(field.name);
    if (date !== undefined) return date;
    if (field.codeList) {
      const list = options.codeList(field.codeList);
      if (list && list.codes.length > 0) return list.codes[Math.floor(rnd() * list.codes.length)]!.code;
    }
    if (field.pattern) return fromPattern(field.pattern, rnd);
    switch (field.type) {
      case 'integer': {
        const min = field.minimum ?? 0;
        const max = field.maximum ?? 100;
        return String(min + Math.floor(rnd() * (max - min + 1)));
      }
      case 'decimal': {
        const min = field.minimum ?? 0;
        const max = field.maximum ?? 100;
        return (min + rnd() * (max - min)).toFixed(2);
      }
      case 'time':
        return `${pad(Math.floor(rnd() * 24))}:${pad(Math.floor(rnd() * 60))}`;
      case 'boolean':
        return rnd() < 0.5 ? 'true' : 'false';
      default: {
        const length = Math.min(field.maxLength ?? 10, 10);
        let text = '';
        for (let k = 0; k < length; k++)
          text += (k === 0 ? UPPER : UPPER + DIGITS)[Math.floor(rnd() * (k === 0 ? 26 : 36))];
        return text;
      }
    }
  };

  const stream = createWriteStream(options.file);
  const write = (text: string): Promise<void> | undefined =>
    stream.write(text) ? undefined : new Promise((resolve) => stream.once('drain', () => resolve()));
  await write(spec.fields.map((f) => csv(f.name)).join(',') + eol);
  let written = 0;
  for (let row = 1; row <= options.rows; row++) {
    const person = people[Math.floor(rnd() * people.length)]!;
    // Dates never go backwards in field order and stay inside the month.
    const dates = new Map<string, string>();
    let day = 1 + Math.floor(rnd() * Math.max(1, daysInMonth - 6));
    for (const field of dateFields) {
      day = Math.min(daysInMonth, day + Math.floor(rnd() * 2));
      const date = `${year}-${pad(month)}-${pad(day)}`;
      dates.set(
        field.name,
        field.type === 'datetime'
          ? `${date}T${pad(8 + Math.floor(rnd() * 4))}:${pad(Math.floor(rnd() * 60))}:00`
          : date,
      );
    }
    if (order && sets.dateOrder?.has(row)) {
      dates.set(order.start, `${year}-${pad(month)}-${pad(daysInMonth)}`);
      dates.set(order.end, `${year}-${pad(month)}-01`);
    }
    const values = spec.fields.map((field) => value(field, person, dates));
    const at = (name: string | undefined): number => spec.fields.findIndex((f) => f.name === name);
    if (sets.required?.has(row) && firstRequired) values[at(firstRequired.name)] = '';
    if (sets.type?.has(row)) {
      const f = dateFields.find((d) => d.name !== spec.periodField && d.type === 'date');
      if (f) values[at(f.name)] = `${year}-02-30`;
    }
    if (sets.code?.has(row) && firstCoded) values[at(firstCoded.name)] = 'ZZ';
    const nhsIndex = spec.fields.findIndex(
      (f) => f.pseudonymise?.method === 'token' && f.pseudonymise.kind === 'nhs-number',
    );
    if (nhsIndex >= 0 && sets.nhsMissing?.has(row)) values[nhsIndex] = '';
    if (nhsIndex >= 0 && sets.nhsCheckDigit?.has(row)) {
      const nhs = values[nhsIndex] as string;
      values[nhsIndex] = nhs.slice(0, 9) + String((Number(nhs[9]) + 1) % 10);
    }
    const line = values.map(csv).join(',') + eol;
    const wait = write(line);
    if (wait) await wait;
    written++;
    if (sets.duplicate?.has(row)) {
      const again = write(line);
      if (again) await again;
      written++;
    }
  }
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return { rows: written, people };
}
