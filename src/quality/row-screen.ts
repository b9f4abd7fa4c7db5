/**
 * The row rules (row-rules.ts) as a screen the load's scan runs on each row's bytes, so a
 * row that passes can go straight to its table with the engine's bulk copy, checked once.
 *
 * A screen is cautious, never lenient: every row it passes passes every rule on either
 * engine (row-screen.int.test.ts holds it to that), while a row it does not pass is only
 * set aside, for the rules in SQL to judge as they judge every row today; they also decide
 * the rule and field a quarantined row is reported under. So anything the screen cannot
 * judge cheaply and for certain it sets aside: an integer with a `+` or more than 15 digits,
 * a number written with an exponent, a timestamp without seconds, a value longer in bytes
 * than its field allows in characters, a quoted value holding a quote.
 *
 * It reads each value as the rules do, trimmed of spaces at either end with empty as
 * missing; the caller gives those trimmed byte ranges.
 */
import type { CodeList, FieldType } from '../catalogue/dataset-spec.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';

/** One row's values: column k of the plan is buf[starts[k], ends[k]) (trimmed; empty when missing). */
export interface ScreenedRow {
  buf: Buffer;
  starts: Int32Array;
  ends: Int32Array;
}

export interface RowScreen {
  /** true only when the row passes every rule of row-rules.ts */
  passes(row: ScreenedRow): boolean;
}

type ValueTest = (buf: Buffer, s: number, e: number) => boolean;

const ZERO = 0x30;
const isDigit = (c: number): boolean => c >= ZERO && c <= 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;

/** Up to `max` digits from s: their value, or -1 where a byte is not a digit. */
function digits(buf: Buffer, s: number, e: number, max: number): number {
  if (e <= s || e - s > max) return -1;
  let value = 0;
  for (let k = s; k < e; k++) {
    const c = buf[k] as number;
    if (!isDigit(c)) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value;
}

const daysIn = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : month === 4 || month === 6 || month === 9 || month === 11
      ? 30
      : 31;

/** 'CCYY-MM-DD' at s: a real day of the years 1 to 9999. */
function isDate(buf: Buffer, s: number): boolean {
  if (buf[s + 4] !== MINUS || buf[s + 7] !== MINUS) return false;
  const year = digits(buf, s, s + 4, 4);
  const month = digits(buf, s + 5, s + 7, 2);
  const day = digits(buf, s + 8, s + 10, 2);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
}

/** 'CCYY-MM-DDTHH:MM:SS' (or a space for T), with up to six digits of a second after. */
function isTimestamp(buf: Buffer, s: number, e: number): boolean {
  const length = e - s;
  if (length < 19 || !isDate(buf, s)) return false;
  const t = buf[s + 10];
  if ((t !== 0x54 && t !== 0x20) || buf[s + 13] !== COLON || buf[s + 16] !== COLON) return false;
  const hour = digits(buf, s + 11, s + 13, 2);
  const minute = digits(buf, s + 14, s + 16, 2);
  const second = digits(buf, s + 17, s + 19, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  if (length === 19) return true;
  return buf[s + 19] === DOT && length <= 26 && digits(buf, s + 20, e, 6) >= 0;
}

/** 'HH:MM' or 'HH:MM:SS' (row-rules.ts: the `time` type's pattern). */
function isTime(buf: Buffer, s: number, e: number): boolean {
  const length = e - s;
  if ((length !== 5 && length !== 8) || buf[s + 2] !== COLON) return false;
  const hour = digits(buf, s, s + 2, 2);
  const minute = digits(buf, s + 3, s + 5, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  if (length === 5) return true;
  const second = digits(buf, s + 6, s + 8, 2);
  return buf[s + 5] === COLON && second >= 0 && second <= 59;
}

/** An integer of at most 15 digits (exact in a double), with an optional minus: its value, or NaN. */
function integerValue(buf: Buffer, s: number, e: number): number {
  const negative = buf[s] === MINUS;
  const value = digits(buf, negative ? s + 1 : s, e, 15);
  return value < 0 ? Number.NaN : negative ? -value : value;
}

/** A decimal written plainly (`-12.5`: at most 15 digits each side of the point), or NaN. */
function decimalValue(buf: Buffer, s: number, e: number): number {
  const negative = buf[s] === MINUS;
  const from = negative ? s + 1 : s;
  let dot = -1;
  for (let k = from; k < e; k++) {
    if (buf[k] === DOT) {
      dot = k;
      break;
    }
  }
  if (dot < 0) {
    const whole = digits(buf, from, e, 15);
    return whole < 0 ? Number.NaN : negative ? -whole : whole;
  }
  const whole = digits(buf, from, dot, 15);
  const part = digits(buf, dot + 1, e, 15);
  if (whole < 0 || part < 0) return Number.NaN;
  const value = whole + part / 10 ** (e - dot - 1);
  return negative ? -value : value;
}

const BOOLEAN_TEXT = new Set(['true', 'false', 'TRUE', 'FALSE', '1', '0', 'Y', 'N', 'y', 'n']);

/**
 * A value's verdict by its bytes, remembered: code and pattern columns hold few distinct
 * values, so each is judged once (as text, the slow way) and then found by its bytes.
 */
class Verdicts {
  private static readonly SLOTS = 8192;
  private static readonly LONGEST = 32;
  private readonly slot = new Int32Array(Verdicts.SLOTS).fill(-1);
  private readonly hashes = new Uint32Array(Verdicts.SLOTS / 2);
  private readonly at = new Int32Array(Verdicts.SLOTS / 2);
  private readonly lengths = new Uint8Array(Verdicts.SLOTS / 2);
  private readonly verdicts = new Uint8Array(Verdicts.SLOTS / 2);
  private readonly pool = Buffer.alloc((Verdicts.SLOTS / 2) * Verdicts.LONGEST);
  private count = 0;

  constructor(private readonly judge: (text: string) => boolean) {}

  test(buf: Buffer, s: number, e: number): boolean {
    const length = e - s;
    if (length > Verdicts.LONGEST) return this.judge(buf.toString('utf8', s, e));
    // FNV-1a over the bytes
    let hash = 0x811c9dc5;
    for (let k = s; k < e; k++) hash = Math.imul(hash ^ (buf[k] as number), 0x01000193);
    hash >>>= 0;
    const mask = Verdicts.SLOTS - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = this.slot[i] as number;
      if (entry < 0) {
        const verdict = this.judge(buf.toString('utf8', s, e));
        if (this.count < this.hashes.length) {
          const n = this.count++;
          this.slot[i] = n;
          this.hashes[n] = hash;
          this.at[n] = n * Verdicts.LONGEST;
          this.lengths[n] = length;
          this.verdicts[n] = verdict ? 1 : 0;
          buf.copy(this.pool, n * Verdicts.LONGEST, s, e);
        }
        return verdict;
      }
      if (this.hashes[entry] === hash && this.lengths[entry] === length) {
        const base = this.at[entry] as number;
        let same = true;
        for (let k = 0; k < length; k++) {
          if (this.pool[base + k] !== buf[s + k]) {
            same = false;
            break;
          }
        }
        if (same) return this.verdicts[entry] === 1;
      }
    }
  }
}

/** Whether a present value of `type` is one (a cautious yes), with its number where it has one. */
function typeTest(type: FieldType): ((buf: Buffer, s: number, e: number) => boolean) | undefined {
  switch (type) {
    case 'integer':
      return (buf, s, e) => !Number.isNaN(integerValue(buf, s, e));
    case 'decimal':
      return (buf, s, e) => !Number.isNaN(decimalValue(buf, s, e));
    case 'date':
      return (buf, s, e) => e - s === 10 && isDate(buf, s);
    case 'datetime':
      return isTimestamp;
    case 'time':
      return isTime;
    case 'boolean':
      return (buf, s, e) => e - s <= 5 && BOOLEAN_TEXT.has(buf.toString('latin1', s, e));
    case 'string':
    case 'code':
      return undefined;
  }
}

/**
 * The screen for a plan's rules. `pattern` makes the RegExp for a field's or code list's
 * pattern (catalogue.ts `anchored`: the subset JavaScript and both engines share).
 */
export function rowScreen(
  plan: DeidPlan,
  codeList: (listId: string) => CodeList | undefined,
  pattern: (source: string) => RegExp,
): RowScreen {
  const required: number[] = [];
  const tests: { k: number; test: ValueTest }[] = [];
  const index = new Map<string, { k: number; type: FieldType }>();
  plan.columns.forEach((column, k) => {
    index.set(column.name, { k, type: column.type });
    if (column.required) required.push(k);
    const field = column.kind === 'copy' ? column.field : undefined;
    const parts: ValueTest[] = [];
    const ofType = typeTest(column.type);
    if (ofType) parts.push(ofType);
    const numeric =
      column.type === 'integer' ? integerValue : column.type === 'decimal' ? decimalValue : undefined;
    if (numeric && (field?.minimum !== undefined || field?.maximum !== undefined)) {
      // An integer of 15 digits is exact; a decimal close to a bound may be read a little
      // either side of it by an engine, so it must be clear of the bound to pass here.
      const margin = (bound: number): number =>
        column.type === 'integer' ? 0 : 1e-9 * Math.max(1, Math.abs(bound));
      const lowest =
        field.minimum === undefined ? Number.NEGATIVE_INFINITY : field.minimum + margin(field.minimum);
      const highest =
        field.maximum === undefined ? Number.POSITIVE_INFINITY : field.maximum - margin(field.maximum);
      parts.push((buf, s, e) => {
        const value = numeric(buf, s, e);
        return value >= lowest && value <= highest;
      });
    }
    const textTests: ((text: string) => boolean)[] = [];
    if (field?.pattern !== undefined) {
      const re = pattern(field.pattern);
      textTests.push((text) => re.test(text));
    }
    const list = field?.codeList ? codeList(field.codeList) : undefined;
    if (list && list.codes.length > 0) {
      const codes = new Set(list.codes.map((c) => c.code));
      const scheme = list.subset && list.pattern ? pattern(list.pattern) : undefined;
      textTests.push((text) => codes.has(text) || (scheme?.test(text) ?? false));
    }
    if (textTests.length > 0) {
      const verdicts = new Verdicts((text) => textTests.every((t) => t(text)));
      parts.push((buf, s, e) => verdicts.test(buf, s, e));
    }
    const maxLength = field?.maxLength;
    // Characters, not bytes: a value longer in bytes may be shorter in characters (SQL counts).
    if (maxLength !== undefined) parts.push((_buf, s, e) => e - s <= maxLength);
    if (parts.length === 1) tests.push({ k, test: parts[0] as ValueTest });
    else if (parts.length > 1) tests.push({ k, test: (buf, s, e) => parts.every((p) => p(buf, s, e)) });
  });
  const orders: { start: number; end: number; bothDates: boolean }[] = [];
  for (const { start, end } of plan.spec.dateOrder) {
    const from = index.get(start);
    const to = index.get(end);
    const dated = (t: FieldType | undefined): boolean => t === 'date' || t === 'datetime';
    if (!from || !to || !dated(from.type) || !dated(to.type)) continue;
    orders.push({ start: from.k, end: to.k, bothDates: from.type === 'date' && to.type === 'date' });
  }

  return {
    passes({ buf, starts, ends }: ScreenedRow): boolean {
      for (const k of required) if ((starts[k] as number) >= (ends[k] as number)) return false;
      for (const { k, test } of tests) {
        const s = starts[k] as number;
        const e = ends[k] as number;
        if (s < e && !test(buf, s, e)) return false;
      }
      for (const { start, end, bothDates } of orders) {
        const s1 = starts[start] as number;
        const s2 = starts[end] as number;
        if (s1 >= (ends[start] as number) || s2 >= (ends[end] as number)) continue;
        // Both are valid (the tests above): the dates compare as their text does.
        let order = 0;
        for (let k = 0; k < 10 && order === 0; k++) order = (buf[s2 + k] as number) - (buf[s1 + k] as number);
        // A later day is later whatever the times; the same day with a time is left to SQL.
        if (order < 0 || (order === 0 && !bothDates)) return false;
      }
      return true;
    },
  };
}
