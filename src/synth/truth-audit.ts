/**
 * Reads a generated world back and finds every anomaly in its feeds from the files alone
 * (the catalogue's rules plus `truth/people.csv` and `truth/addresses.csv`), independently
 * of how the generator injected them. Tests compare what it finds with `truth/defects.csv`;
 * `kernel synth --check` runs it too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getDataset, isValidCode } from '../catalogue/catalogue.ts';
import { nhsNumberProblem } from '../privacy/nhs-number.ts';
import { planFor } from './catalogue-plans.ts';
import { NICKNAMES } from './defects.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { nationalFeedTable } from './world-feeds.ts';

export interface Finding {
  file: string;
  line: number;
  kind: string;
}

export interface AuditResult {
  /** anomalies found in the files */
  found: Finding[];
  /** defects truth records */
  recorded: Finding[];
  /** found but not recorded, or recorded but not found */
  unexplained: Finding[];
  missed: Finding[];
  /** rows checked */
  rows: number;
  /** NHS numbers seen, and how many were valid 999-range numbers */
  nhsNumbers: number;
  nhsNumbersValid999: number;
}

function table(file: string): { header: string[]; rows: string[][] } {
  const [header = [], ...rows] = parseCsv(readFileSync(file, 'utf8'));
  return { header, rows };
}

function isRealDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function auditWorld(dir: string): AuditResult {
  const people = table(path.join(dir, 'truth', 'people.csv'));
  const addresses = table(path.join(dir, 'truth', 'addresses.csv'));
  const records = table(path.join(dir, 'truth', 'records.csv'));
  const defects = table(path.join(dir, 'truth', 'defects.csv'));
  const person = new Map(people.rows.map((r) => [r[0] ?? '', r]));
  const address = new Map(addresses.rows.map((r) => [r[0] ?? '', r]));
  const recordOf = new Map(records.rows.map((r) => [`${r[0]}#${r[1]}`, r]));
  const files = [...new Set(records.rows.map((r) => r[0] ?? ''))].sort();
  const found: Finding[] = [];
  let rows = 0;
  let nhsNumbers = 0;
  let nhsNumbersValid999 = 0;

  for (const file of files) {
    const dataset = file.split('/')[2] ?? '';
    const spec = getDataset(dataset);
    const plan = planFor(spec);
    const id = plan.shape.identity;
    const { header, rows: lines } = nationalFeedTable(dir, file);
    const col = (name: string | undefined): number => (name === undefined ? -1 : header.indexOf(name));
    const sexField = spec.fields.find((f) => f.codeList === 'sex')?.name;
    const practiceField = spec.fields.find((f) => /practice/i.test(f.name) && f.pattern)?.name;
    const nhsColumns = spec.fields
      .filter((f) => f.pseudonymise?.method === 'token' && f.pseudonymise.kind === 'nhs-number')
      .map((f) => header.indexOf(f.name));
    let previous = '';
    lines.forEach((row, i) => {
      rows++;
      const line = i + 2;
      const kinds = new Set<string>();
      const text = row.join('\u0000');
      if (text === previous) kinds.add('duplicate-row');
      previous = text;
      const record = recordOf.get(`${file}#${line}`);
      const value = (name: string | undefined): string => row[col(name)] ?? '';
      for (const index of nhsColumns) {
        const nhs = row[index] ?? '';
        if (!nhs) continue;
        nhsNumbers++;
        if (nhs.startsWith('999') && nhsNumberProblem(nhs) === undefined) nhsNumbersValid999++;
      }
      const nhs = value(id.nhsNumber);
      if (id.nhsNumber && !nhs && record?.[5] === 'Y') kinds.add('missing-nhs-number');
      if (nhs && nhsNumberProblem(nhs) === 'check-digit') kinds.add('wrong-check-digit');
      for (const field of spec.fields) {
        const v = value(field.name);
        if (field.required && !v && field.name !== id.nhsNumber) kinds.add('missing-mandatory');
        if (v && field.codeList && !isValidCode(field.codeList, v)) kinds.add('code-not-in-list');
        if (v && (field.type === 'date' || field.type === 'datetime') && !isRealDate(v))
          kinds.add('impossible-date');
      }
      for (const order of spec.dateOrder) {
        const start = value(order.start);
        const end = value(order.end);
        if (start && end && isRealDate(start) && isRealDate(end) && end < start) kinds.add('impossible-date');
      }
      const truth = record?.[2] === 'person' ? person.get(record[3] ?? '') : undefined;
      if (truth) {
        const given = value(id.givenName);
        const family = value(id.familyName);
        const nickname = given !== '' && given !== truth[2] && NICKNAMES[truth[2] ?? ''] === given;
        if (nickname) kinds.add('nickname');
        if ((given && given !== truth[2] && !nickname) || (family && family !== truth[3]))
          kinds.add('mistyped-name');
        const birth = value(id.birthDate);
        if (birth && isRealDate(birth) && birth !== truth[5]) kinds.add('dob-day-month-swap');
        if (nhs && nhsNumberProblem(nhs) === undefined && nhs !== truth[1]) kinds.add('wrong-person');
        // Consistency: sex and practice agree with who the person is, in every feed and month.
        const sex = value(sexField);
        if (sex && isValidCode('sex', sex) && sex !== truth[4]) kinds.add('wrong-sex');
      }
      const expected = record?.[4] ? address.get(record[4]) : undefined;
      const postcode = value(id.address?.[0]);
      if (expected && postcode && postcode !== expected[7]) kinds.add('old-address');
      const practice = value(practiceField);
      if (expected && practice && practice !== expected[10]) kinds.add('wrong-practice');
      for (const kind of kinds) found.push({ file, line, kind });
    });
  }

  const recorded = defects.rows.map((r) => ({ file: r[0] ?? '', line: Number(r[1]), kind: r[3] ?? '' }));
  const key = (f: Finding): string => `${f.file}#${f.line}#${f.kind}`;
  const recordedKeys = new Set(recorded.map(key));
  const foundKeys = new Set(found.map(key));
  return {
    found,
    recorded,
    unexplained: found.filter((f) => !recordedKeys.has(key(f))),
    missed: recorded.filter((f) => !foundKeys.has(key(f))),
    rows,
    nhsNumbers,
    nhsNumbersValid999,
  };
}
