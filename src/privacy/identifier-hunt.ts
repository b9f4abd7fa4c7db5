/**
 * The hunt for identifiers that should have been removed at source (architecture §5): values
 * shaped like NHS numbers, full postcodes or full dates of birth in columns that should not
 * hold them. The load runs it over every file (ingest/scan-feed.ts, on one thread or in
 * parts), and `kernel deid` over the columns it copies as they are, so a sender hears of
 * one before sending.
 *
 * Some shapes are an identifier however few: one NHS number written 3-3-4 with spaces or
 * hyphens and a valid check digit, one full postcode written with its space, or one full
 * date in a column whose specification does not make it a date refuses the file. Other
 * shapes can be chance, so a column is refused when at least three of its values, or at
 * least half of them, have one. For NHS numbers written as ten digits together, where about
 * one random ten-digit number in eleven passes the Modulus 11 check (spell numbers, say),
 * it takes at least three that pass and at least half of the column's ten-digit values (or
 * every value). The message names the column, the first line and the count, never a value.
 */
import { KernelError } from '../errors.ts';
import { fieldText, type CsvRecord } from '../files/csv-reader.ts';
import type { AcceptedColumn } from './deid-plan.ts';
import { nhsNumberProblem } from './nhs-number.ts';

export type Shape =
  | 'NHS numbers'
  | 'NHS numbers written in groups'
  | 'full postcodes'
  | 'full postcodes written without a space'
  | 'full dates of birth';

/** Shapes so unlike anything else a column holds that one value refuses the file (docs/feeds.md). */
const ONE_IS_ENOUGH: ReadonlySet<Shape> = new Set<Shape>([
  'NHS numbers written in groups',
  'full postcodes',
  'full dates of birth',
]);

// The stricter UK postcode pattern from the reference digest §11.1, space optional.
const POSTCODE =
  /^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|([A-HK-Y][0-9]([0-9]|[ABEHMNPRV-Y])?)|[0-9][A-HJKPS-UW]) ?[0-9][ABD-HJLNP-UW-Z]{2})$/i;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/**
 * Ten digits, perhaps grouped 3-3-4 by single spaces or hyphens: how NHS numbers are
 * written. Checked on the bytes, because most values that begin with a digit are dates and
 * numbers, and making each one a string would cost more than the rest of the hunt.
 */
function isNhsNumberShape(buf: Buffer, s: number, e: number): boolean {
  let digits = 0;
  let end = e;
  while (end > s && (buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
  for (let k = s; k < end; k++) {
    const c = buf[k] as number;
    if (isDigit(c)) digits++;
    else if ((c === 0x20 || c === 0x2d) && (digits === 3 || digits === 6) && isDigit(buf[k - 1] as number))
      continue;
    else return false;
  }
  return digits === 10;
}

const isSeparator = (c: number | undefined): boolean => c === 0x20 || c === 0x2d;

/** 3-3-4 with a space or hyphen between the groups: how an NHS number is written, not a spell number. */
function isGrouped(buf: Buffer, s: number, e: number): boolean {
  return e - s === 12 && isSeparator(buf[s + 3]) && isSeparator(buf[s + 7]);
}

export interface ColumnWatch extends WatchTally {
  name: string;
  index: number;
  token: boolean;
  datesAllowed: boolean;
}

function hit(watch: ColumnWatch, shape: Shape, line: number): void {
  const entry = watch.hits.get(shape);
  if (entry) entry.count++;
  else watch.hits.set(shape, { count: 1, firstLine: line });
}

function isDateShape(buf: Buffer, s: number): boolean {
  for (let k = 0; k < 10; k++) {
    const c = buf[s + k] as number;
    if (k === 4 || k === 7) {
      if (c !== 0x2d) return false;
    } else if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * The hunt's look at a present value of five bytes or more (none shorter has any shape it
 * looks for) in a column that holds no tokens.
 */
export function inspect(watch: ColumnWatch, record: CsvRecord, s: number, e: number): void {
  const buf = record.buf;
  const length = e - s;
  const first = buf[s] as number;
  // An NHS number has a digit fifth (3-3-4 or ten together); a date has its hyphen there.
  if (
    length >= 10 &&
    length <= 12 &&
    isDigit(first) &&
    isDigit(buf[s + 4] as number) &&
    isNhsNumberShape(buf, s, e)
  ) {
    watch.tenDigits++;
    if (nhsNumberProblem(buf.toString('latin1', s, e).trim()) === undefined) {
      hit(watch, 'NHS numbers', record.line);
      if (isGrouped(buf, s, e)) hit(watch, 'NHS numbers written in groups', record.line);
    }
  }
  if (
    length >= 5 &&
    length <= 8 &&
    isLetter(first) &&
    // A postcode ends with its inward code, a digit and two letters: most codes do not.
    isDigit(buf[e - 3] as number) &&
    isLetter(buf[e - 2] as number) &&
    isLetter(buf[e - 1] as number)
  ) {
    const text = fieldText(record, watch.index).trim();
    // Without its space a postcode is easily mistaken for a code (`AB12CD`), so such values
    // only count where they are most of the column (see `suspicious` below).
    if (POSTCODE.test(text))
      hit(
        watch,
        text.includes(' ') ? 'full postcodes' : 'full postcodes written without a space',
        record.line,
      );
  }
  if (!watch.datesAllowed && length === 10 && isDateShape(buf, s))
    hit(watch, 'full dates of birth', record.line);
}

/** What the identifier hunt found in a column (in a part of the file, or all of it). */
export interface WatchTally {
  nonEmpty: number;
  /** values of ten digits: about one in eleven passes the NHS number check by chance */
  tenDigits: number;
  hits: Map<Shape, { count: number; firstLine: number }>;
}

/** The hunt's watch of an accepted column, at `index` in the records it will see. */
export function columnWatch(
  column: Pick<AcceptedColumn, 'name' | 'kind' | 'type'>,
  index: number,
): ColumnWatch {
  return {
    name: column.name,
    index,
    token: column.kind === 'token',
    datesAllowed: column.type === 'date' || column.type === 'datetime',
    nonEmpty: 0,
    tenDigits: 0,
    hits: new Map(),
  };
}

/**
 * The hunt's look at one value of a record as read from an extract (`kernel deid`, before it
 * copies the column): inside its quotes, trimmed of spaces, as the load will see it.
 */
export function huntValue(watch: ColumnWatch, record: CsvRecord): void {
  let s = record.starts[watch.index] as number;
  let e = record.ends[watch.index] as number;
  if (record.quoted[watch.index] === 1) {
    s++;
    e--;
  }
  while (s < e && record.buf[s] === 0x20) s++;
  while (e > s && record.buf[e - 1] === 0x20) e--;
  if (s >= e) return;
  watch.nonEmpty++;
  if (e - s >= 5) inspect(watch, record, s, e);
}

/** Adds a part's watch to the file's (parts in file order; `lineBase` turns its lines into the file's). */
export function mergeWatch(into: WatchTally, part: WatchTally, lineBase: number): void {
  into.nonEmpty += part.nonEmpty;
  into.tenDigits += part.tenDigits;
  for (const [shape, { count, firstLine }] of part.hits) {
    const entry = into.hits.get(shape);
    if (entry) entry.count += count;
    else into.hits.set(shape, { count, firstLine: firstLine + lineBase });
  }
}

/** Refuses the file where a column holds a value, or too many, shaped like an identifier. */
export function refuseIdentifiers(
  watches: readonly (WatchTally & { name: string })[],
  file: string,
  hint = 'Remove the identifiers at source with `kernel deid`, or correct the extract so that column holds what its specification says',
): void {
  for (const watch of watches) {
    for (const [shape, { count, firstLine }] of watch.hits) {
      const suspicious =
        ONE_IS_ENOUGH.has(shape) ||
        (shape === 'NHS numbers'
          ? (count >= 3 && count * 2 >= watch.tenDigits) || count === watch.nonEmpty
          : count * 2 >= watch.nonEmpty); // full postcodes written without a space
      if (suspicious) {
        throw new KernelError(
          'refused',
          `The column ${watch.name} holds values shaped like ${shape} (${count} of ${watch.nonEmpty}, first on line ${firstLine})`,
          {
            where: { file, line: firstLine, field: watch.name },
            hint,
          },
        );
      }
    }
  }
}
