/**
 * The de-identification agent (`kernel deid`): an identifiable extract in, a pseudonymised
 * file and its signed manifest out (architecture §5).
 *
 * It streams: the extract is read a chunk at a time, fields that pass through unchanged are
 * copied byte for byte without being decoded, and the output is written as it goes, so
 * memory stays flat whatever the file's size. It writes to `OUT.partial` and renames at the
 * end, so a failed run leaves no half-written file for anyone to send, nor one stopped by
 * Ctrl-C or SIGTERM.
 */
import { createWriteStream, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { DatasetSpec } from '../catalogue/dataset-spec.ts';
import { KernelError } from '../errors.ts';
import { parsePeriod } from '../months.ts';
import { kernelVersion } from '../version.ts';
import { fieldText, readCsv, type CsvHandlers, type CsvRecord } from '../files/csv-reader.ts';
import { columnWatch, huntValue, refuseIdentifiers, type ColumnWatch } from './identifier-hunt.ts';
import {
  discardOnInterrupt,
  discardPartialFile,
  openedForWriting,
  refuseUnwritableOutput,
} from '../files/partial-file.ts';
import { checkControlTotals } from './control-totals.ts';
import { deidPlan, type AcceptedColumn, type DeidPlan } from './deid-plan.ts';
import { OutputBuffer } from './output-buffer.ts';
import { MappingPass, refuseOtherFeed, type MappingReport, type SourceMapping } from './source-mapping.ts';
import {
  MANIFEST_FORMAT,
  manifestPathFor,
  signManifest,
  type ControlTotals,
  type FeedManifest,
  type ProblemCount,
} from './manifest.ts';
import { nhsCheckDigit, nhsNumberProblem, type NhsNumberProblem } from './nhs-number.ts';
import { postcodeKey, type PostcodeLookup } from './postcode-lookup.ts';
import { LinkageFileWriter, type LinkageFileResult } from './linkage-sidecar.ts';
import type { LinkageSecret } from './linkage-secret.ts';
import type { Tokeniser } from './token-scheme.ts';

export interface DeidentifyOptions {
  spec: DatasetSpec;
  /** the sending organisation's ODS code */
  org: string;
  input: string;
  output: string;
  tokeniser: Tokeniser;
  /** postcode → LSOA and IMD decile; without it those columns are left empty */
  postcodes?: PostcodeLookup;
  /** the organisation's signing key; without it the manifest is unsigned (in-process loads only) */
  signing?: { keyId: string; privateKey: KeyObject } | null;
  /** the reporting month; by default the one month every row's period field falls in */
  period?: string;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** the linkage secret: with it, a dataset with `linkageEncoding` also gets OUT.linkage.csv */
  linkageSecret?: LinkageSecret;
  /** the sender's own totals for the extract, carried in the signed manifest for the load to check */
  controlTotals?: ControlTotals;
  /** the organisation's source mapping: the extract is in its local layout, mapped as it is read */
  mapping?: SourceMapping;
}

export interface DeidentifyResult {
  manifest: FeedManifest;
  output: string;
  manifestFile: string;
  rows: number;
  /** the extract began with a byte-order mark (stripped) */
  bom: boolean;
  seconds: number;
  /** the Bloom-filter encodings file, when one was made */
  linkage?: LinkageFileResult;
  /** what the source mapping could not map, when one was given */
  mapping?: MappingReport;
  /**
   * Where `--period` names a month none of the dated rows falls in: a warning, since a first
   * feed may carry only history and some feeds date rows after their month (an admission's
   * episodes, sent in the month of admission); the warehouse refuses such a file only when it
   * would replace a month already loaded (src/ingest/load/period-rows.ts).
   */
  periodNotInRows?: string;
}

export function toolVersion(): string {
  return `kernel ${kernelVersion()}`;
}

const COMMA = 0x2c;
const LF = 0x0a;
// A cache of recent tokens: people recur in activity data (many episodes, one person), and
// one map lookup is cheaper than one HMAC. Bounded so memory stays flat; held only in
// the agent's memory at the organisation, never written anywhere.
const TOKEN_CACHE_LIMIT = 200_000;

/** Fast path for the common case: ten ASCII digits, checked without building a string. */
function tenDigitProblem(buf: Buffer, start: number): NhsNumberProblem | undefined {
  let repeated = true;
  for (let k = 0; k < 10; k++) {
    const d = buf[start + k] as number;
    if (d < 0x30 || d > 0x39) return 'format';
    if (d !== buf[start]) repeated = false;
  }
  if (repeated) return 'repeated-digit';
  return nhsCheckDigit(buf.toString('latin1', start, start + 9)) === (buf[start + 9] as number) - 0x30
    ? undefined
    : 'check-digit';
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month] ?? 0;
}

function digits(buf: Buffer, from: number, count: number): number {
  let value = 0;
  for (let k = 0; k < count; k++) {
    const c = (buf[from + k] as number) - 0x30;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** 'YYYY-MM-DD' bytes as y × 10000 + m × 100 + d, or -1 where the date does not exist. */
function readDate(record: CsvRecord, index: number): number {
  const buf = record.buf;
  let s = record.starts[index] ?? 0;
  let e = record.ends[index] ?? 0;
  if (record.quoted[index] === 1) {
    s++;
    e--;
  }
  // Accept a date or a date-time ('YYYY-MM-DDTHH:MM…'): the first ten bytes are the date.
  if (e - s < 10 || buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d) return -1;
  const y = digits(buf, s, 4);
  const m = digits(buf, s + 5, 2);
  const d = digits(buf, s + 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return -1;
  return y * 10000 + m * 100 + d;
}

interface Counters {
  nhs: Partial<Record<NhsNumberProblem, ProblemCount>>;
  /** dates of birth given but not read, by the extract's column */
  births: Record<string, ProblemCount>;
  /** rows per reporting month, keyed YYYYMM */
  months: Map<number, number>;
}

function countProblem(counters: Counters, problem: NhsNumberProblem, line: number): void {
  const entry = counters.nhs[problem];
  if (entry) entry.count++;
  else counters.nhs[problem] = { count: 1, firstLine: line };
}

type ColumnWriter = (record: CsvRecord, out: OutputBuffer) => void;

function columnWriters(
  plan: DeidPlan,
  index: Map<string, number>,
  options: DeidentifyOptions,
  counters: Counters,
): ColumnWriter[] {
  const at = (name: string): number => index.get(name) as number;
  const cache = new Map<string, string>();
  const tokenFor = (value: string): string => {
    let token = cache.get(value);
    if (token === undefined) {
      token = options.tokeniser.token(value);
      if (cache.size >= TOKEN_CACHE_LIMIT) cache.clear();
      cache.set(value, token);
    }
    return token;
  };
  const postcodeArea = (record: CsvRecord, i: number) =>
    options.postcodes?.get(postcodeKey(fieldText(record, i)));
  // Consecutive pass-through columns that sit side by side in the extract are copied as
  // one span, separators included: one copy instead of many.
  const segments: (AcceptedColumn | { kind: 'span'; from: number; to: number })[] = [];
  for (const column of plan.columns) {
    const last = segments[segments.length - 1];
    if (column.kind === 'copy') {
      const i = at(column.name);
      if (last && last.kind === 'span' && last.to === i - 1) last.to = i;
      else segments.push({ kind: 'span', from: i, to: i });
    } else segments.push(column);
  }
  return segments.map((column): ColumnWriter => {
    switch (column.kind) {
      case 'span': {
        const { from, to } = column;
        return (record, out) => out.copy(record.buf, record.starts[from] ?? 0, record.ends[to] ?? 0);
      }
      case 'copy':
        throw new KernelError('internal', 'copy columns are grouped into spans');
      case 'token': {
        const i = at(column.from);
        if (column.tokenKind === 'nhs-number') {
          return (record, out) => {
            const s = record.starts[i] ?? 0;
            const e = record.ends[i] ?? 0;
            let problem: NhsNumberProblem | undefined;
            let value: string;
            if (record.quoted[i] === 0 && e - s === 10) {
              problem = tenDigitProblem(record.buf, s);
              value = record.buf.toString('latin1', s, e);
            } else {
              const raw = fieldText(record, i);
              problem = nhsNumberProblem(raw);
              value = raw.replace(/[\s-]/g, '');
            }
            if (problem === undefined) out.ascii(tokenFor(value));
            else countProblem(counters, problem, record.line);
          };
        }
        // Other identifiers are keyed with their kind as a prefix, so a UPRN or a staff
        // number can never give the same token as an NHS number with the same digits.
        if (column.tokenKind === 'uprn') {
          // UPRN: up to twelve digits (OS AddressBase); leading zeros are not significant.
          return (record, out) => {
            const raw = fieldText(record, i).trim();
            if (/^\d{1,12}$/.test(raw)) out.ascii(tokenFor(`uprn:${String(Number(raw))}`));
          };
        }
        const prefix = `${column.tokenKind}:`;
        return (record, out) => {
          const raw = fieldText(record, i).replace(/\s+/g, '').toUpperCase();
          if (raw !== '') out.ascii(tokenFor(prefix + raw));
        };
      }
      case 'lsoa': {
        const i = at(column.from);
        return (record, out) => {
          const area = postcodeArea(record, i);
          if (area) out.ascii(area.lsoa);
        };
      }
      case 'imd-decile': {
        const i = at(column.from);
        return (record, out) => {
          const area = postcodeArea(record, i);
          if (area) out.ascii(area.imdDecile);
        };
      }
      case 'age': {
        const birth = at(column.from);
        const event = at(column.eventDate);
        return (record, out) => {
          const b = readDate(record, birth);
          const e = readDate(record, event);
          if (b < 0 || e < 0) return;
          // Whole years: the difference of YYYYMMDD numbers, floored, is the age (it
          // subtracts a year exactly when the birthday has not yet come round).
          const age = Math.floor((e - b) / 10000);
          if (age >= 0) out.ascii(String(age));
        };
      }
      case 'birth-month': {
        const i = at(column.from);
        return (record, out) => {
          const b = readDate(record, i);
          if (b < 0) return;
          const month = Math.floor(b / 100) % 100;
          out.ascii(`${Math.floor(b / 10000)}-${month < 10 ? '0' : ''}${month}`);
        };
      }
    }
  });
}

/** Pseudonymises `options.input` into `options.output` and writes the signed manifest beside it. */
export async function deidentifyFile(options: DeidentifyOptions): Promise<DeidentifyResult> {
  const started = performance.now();
  const plan = deidPlan(options.spec);
  const inputName = path.basename(options.input);
  // A local extract is mapped to the national shape as it is read, before anything is tokenised.
  if (options.mapping) refuseOtherFeed(options.mapping, options.org, options.spec.id);
  const mapping = options.mapping ? new MappingPass(options.mapping, options.spec, inputName) : undefined;
  if (options.controlTotals) checkControlTotals(options.controlTotals, plan);
  let total = 0;
  try {
    total = statSync(options.input).size;
  } catch {
    throw new KernelError('not-found', `The extract ${options.input} does not exist`, {
      hint: 'Check the path given with --in',
    });
  }
  refuseUnwritableOutput(options.output, '--out');
  const partial = `${options.output}.partial`;
  let renamed = false;
  let succeeded = false;
  const encoding = options.spec.linkageEncoding;
  const linkage =
    options.linkageSecret && encoding
      ? new LinkageFileWriter(options.linkageSecret, encoding, options.output)
      : undefined;
  const stopWatching = discardOnInterrupt(() => {
    if (succeeded) return;
    rmSync(renamed ? options.output : partial, { force: true });
    linkage?.abort();
  });
  const stream = createWriteStream(partial);
  const out = new OutputBuffer(stream);
  const counters: Counters = { nhs: {}, births: {}, months: new Map() };
  // Each column a date of birth is read from (age, birth month): one given but not read is counted.
  const birthFields = [
    ...new Set(plan.columns.flatMap((c) => (c.kind === 'age' || c.kind === 'birth-month' ? [c.from] : []))),
  ];
  let birthIndexes: [string, number][] = [];
  // The load's identifier hunt over the columns copied as they are, so a sender learns of an
  // NHS number or postcode typed into free text before sending, not from a refusal after.
  let watches: ColumnWatch[] = [];
  let writers: ColumnWriter[] = [];
  let periodIndex = -1;
  try {
    await openedForWriting(stream, partial);
    out.ascii(`${plan.accepted.join(',')}\n`);
    const handlers: CsvHandlers = {
      onHeader(columns, line) {
        const have = new Set(columns);
        const want = new Set(plan.inbound);
        const missing = plan.inbound.filter((c) => !have.has(c));
        const unknown = columns.filter((c) => !want.has(c));
        if (missing.length > 0 || unknown.length > 0) {
          const parts = [
            missing.length > 0 ? `missing ${missing.join(', ')}` : '',
            unknown.length > 0 ? `unknown ${unknown.join(', ')}` : '',
          ].filter(Boolean);
          throw new KernelError(
            'invalid-input',
            `The extract's header does not match the ${options.spec.id} specification version ${options.spec.version}: ${parts.join('; ')}`,
            {
              where: { file: inputName, line },
              hint: `Run \`kernel datasets show ${options.spec.id}\` for the columns the extract must have`,
            },
          );
        }
        const index = new Map(columns.map((c, i) => [c, i] as const));
        writers = columnWriters(plan, index, options, counters);
        linkage?.header(index);
        periodIndex = index.get(options.spec.periodField) ?? -1;
        birthIndexes = birthFields.map((f) => [f, index.get(f) as number]);
        watches = plan.columns.flatMap((c) =>
          c.kind === 'copy' ? [columnWatch(c, index.get(c.name) as number)] : [],
        );
      },
      onRecord(record) {
        out.ascii(String(record.line));
        for (const write of writers) {
          out.byte(COMMA);
          write(record, out);
        }
        out.byte(LF);
        linkage?.record(record);
        for (const watch of watches) huntValue(watch, record);
        for (const [field, i] of birthIndexes) {
          if (readDate(record, i) < 0 && fieldText(record, i).trim() !== '') {
            const entry = counters.births[field];
            if (entry) entry.count++;
            else counters.births[field] = { count: 1, firstLine: record.line };
          }
        }
        if (periodIndex >= 0) {
          const date = readDate(record, periodIndex);
          if (date >= 0) {
            const month = Math.floor(date / 100);
            counters.months.set(month, (counters.months.get(month) ?? 0) + 1);
          }
        }
      },
      async onChunk(bytesRead) {
        await out.drain();
        await linkage?.drain();
        options.onProgress?.(bytesRead, total);
      },
    };
    const read = await readCsv(options.input, mapping ? mapping.wrap(handlers) : handlers, {
      displayName: inputName,
    });
    refuseIdentifiers(
      [...watches, ...(mapping?.watches() ?? [])],
      inputName,
      'Correct the extract so that column holds what its specification says, then run kernel deid again; nothing was written',
    );
    await out.drain(true);
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const period = choosePeriod(options, counters.months, inputName);
    const base: FeedManifest = {
      format: MANIFEST_FORMAT,
      organisation: options.org,
      dataset: options.spec.id,
      specVersion: options.spec.version,
      period,
      file: path.basename(options.output),
      rowCount: read.rows,
      columns: plan.accepted,
      sha256: out.hash.digest('hex'),
      tokenScheme: options.tokeniser.scheme,
      keyId: options.tokeniser.keyId,
      nhsNumberProblems: counters.nhs,
      nhsNumberField: plan.nhsNumberField,
      ...(Object.keys(counters.births).length > 0 ? { birthDateProblems: counters.births } : {}),
      toolVersion: toolVersion(),
      createdAt: new Date().toISOString(),
      signingKeyId: null,
      signature: null,
      ...(options.controlTotals ? { controlTotals: options.controlTotals } : {}),
      // The LSOA and IMD decile columns say which geography they were derived with.
      ...(options.postcodes?.geography && plan.columns.some((c) => c.kind === 'lsoa')
        ? { geography: { ...options.postcodes.geography } }
        : {}),
    };
    // The linkage file is finished first, so the signed manifest can name it and its SHA-256.
    const linkageFile = await linkage?.finish();
    if (linkageFile) {
      base.linkage = {
        file: path.basename(linkageFile.file),
        sha256: linkageFile.sha256,
        rows: linkageFile.rows,
        secretId: linkageFile.secretId,
        scheme: linkageFile.scheme,
      };
    }
    const manifest = options.signing
      ? signManifest(base, options.signing.keyId, options.signing.privateKey)
      : base;
    renameSync(partial, options.output);
    renamed = true;
    const manifestFile = manifestPathFor(options.output);
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    succeeded = true;
    const periodWarning = periodNotInRows(options, counters.months, period);
    return {
      manifest,
      output: options.output,
      manifestFile,
      rows: read.rows,
      bom: read.bom,
      seconds: (performance.now() - started) / 1000,
      ...(linkageFile ? { linkage: linkageFile } : {}),
      ...(mapping ? { mapping: mapping.report() } : {}),
      ...(periodWarning ? { periodNotInRows: periodWarning } : {}),
    };
  } finally {
    stopWatching();
    if (!succeeded) {
      await discardPartialFile(stream, partial);
      if (renamed) rmSync(options.output, { force: true });
      linkage?.abort();
    }
  }
}

/** Rows by month as the scan counts them (yyyymm), as 'YYYY-MM' in order. */
const monthsOf = (byMonth: Map<number, number>): Map<string, number> =>
  new Map(
    [...byMonth]
      .sort(([a], [b]) => a - b)
      .map(([m, n]) => [`${Math.floor(m / 100)}-${String(m % 100).padStart(2, '0')}`, n]),
  );

function choosePeriod(options: DeidentifyOptions, byMonth: Map<number, number>, inputName: string): string {
  if (options.period !== undefined) return parsePeriod(options.period);
  const found = [...monthsOf(byMonth).keys()];
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) {
    throw new KernelError(
      'invalid-input',
      `No row has a valid ${options.spec.periodField}, so the period is unknown`,
      {
        where: { file: inputName, field: options.spec.periodField },
        hint: 'Give the reporting month with --period YYYY-MM',
      },
    );
  }
  throw new KernelError(
    'invalid-input',
    `The rows span ${describeMonths(found)} by ${options.spec.periodField}`,
    {
      where: { file: inputName, field: options.spec.periodField },
      hint: 'Send one file per month, or give the reporting month with --period YYYY-MM',
    },
  );
}

/** The warning when `period` was given and none of the dated rows falls in it (DeidentifyResult). */
function periodNotInRows(
  options: DeidentifyOptions,
  byMonth: Map<number, number>,
  period: string,
): string | undefined {
  const months = monthsOf(byMonth);
  if (options.period === undefined || months.size === 0 || months.has(period)) return undefined;
  const dated = [...months.values()].reduce((sum, n) => sum + n, 0);
  return `None of the ${dated} dated rows falls in ${period}, the period given: by ${options.spec.periodField} they fall in ${describeMonths([...months.keys()])}`;
}

/** Sorted months as a phrase: '2021-03', or '3 months (2021-01 to 2021-03)'. */
function describeMonths(sorted: string[]): string {
  return sorted.length === 1
    ? (sorted[0] as string)
    : `${sorted.length} months (${sorted[0]} to ${sorted[sorted.length - 1]})`;
}
