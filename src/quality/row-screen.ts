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
  /**
   * Where given, the screen notes here what it read of a row it passes, so that no one reads
   * those bytes again (profile-tally.ts): for column k, when present, an integer's value, a
   * decimal's as JavaScript reads its text (NaN where that takes more than 15 digits), and a
   * date's or timestamp's day as y·10000 + m·100 + d. Other entries are left as they were.
   */
  numbers?: Float64Array;
}

export interface RowScreen {
  /** true only when the row passes every rule of row-rules.ts */
  passes(row: ScreenedRow): boolean;
}

const ZERO = 0x30;
const isDigit = (c: number): boolean => c >= ZERO && c <= 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;

/** The day number of the CCYY-MM-DD at s (NaN when it is not one). */
function calendarDay(buf: Buffer, s: number): number {
  const y = digits(buf, s, s + 4, 4);
  const m = digits(buf, s + 5, s + 7, 2);
  const d = digits(buf, s + 8, s + 10, 2);
  if (y < 0 || m < 0 || d < 0) return NaN;
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

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

/** The digit byte `c`'s value, or a number above 9 (unsigned) where it is no digit. */
const digitOf = (c: number): number => (c - ZERO) >>> 0;

/**
 * 'CCYY-MM-DD' in the ten bytes at s (the caller knows they are there): a real day of the
 * years 1 to 9999, as y·10000 + m·100 + d, or -1. Each byte read once, no loop: thirty dates a
 * row in the wide APC.
 */
function dateKey(buf: Buffer, s: number): number {
  const y1 = digitOf(buf[s] as number);
  const y2 = digitOf(buf[s + 1] as number);
  const y3 = digitOf(buf[s + 2] as number);
  const y4 = digitOf(buf[s + 3] as number);
  const m1 = digitOf(buf[s + 5] as number);
  const m2 = digitOf(buf[s + 6] as number);
  const d1 = digitOf(buf[s + 8] as number);
  const d2 = digitOf(buf[s + 9] as number);
  if (
    buf[s + 4] !== MINUS ||
    buf[s + 7] !== MINUS ||
    y1 > 9 ||
    y2 > 9 ||
    y3 > 9 ||
    y4 > 9 ||
    m1 > 9 ||
    m2 > 9 ||
    d1 > 9 ||
    d2 > 9
  )
    return -1;
  const year = y1 * 1000 + y2 * 100 + y3 * 10 + y4;
  const month = m1 * 10 + m2;
  const day = d1 * 10 + d2;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return -1;
  return year * 10000 + month * 100 + day;
}

/** 'CCYY-MM-DDTHH:MM:SS' (or a space for T), with up to six digits of a second after: its day's key, or -1. */
function timestampKey(buf: Buffer, s: number, e: number): number {
  const length = e - s;
  if (length < 19) return -1;
  const key = dateKey(buf, s);
  if (key < 0) return -1;
  const t = buf[s + 10];
  if ((t !== 0x54 && t !== 0x20) || buf[s + 13] !== COLON || buf[s + 16] !== COLON) return -1;
  const hour = digits(buf, s + 11, s + 13, 2);
  const minute = digits(buf, s + 14, s + 16, 2);
  const second = digits(buf, s + 17, s + 19, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  if (length === 19) return key;
  return buf[s + 19] === DOT && length <= 26 && digits(buf, s + 20, e, 6) >= 0 ? key : -1;
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

/**
 * A decimal written plainly, of at most 15 digits in all, as JavaScript (and PostgreSQL's
 * float8in) reads its text: the digits are exact in a double, and so is a power of ten up to
 * 10²², so one division rounds once, correctly (W. D. Clinger, "How to Read Floating Point
 * Numbers Accurately", 1990: the fast path). NaN for anything else.
 */
function exactDecimal(buf: Buffer, s: number, e: number): number {
  const negative = buf[s] === MINUS;
  let value = 0;
  let count = 0;
  let scale = 1;
  let dot = false;
  for (let k = negative ? s + 1 : s; k < e; k++) {
    const c = buf[k] as number;
    if (c === DOT && !dot) {
      dot = true;
      continue;
    }
    const digit = digitOf(c);
    if (digit > 9 || ++count > 15) return Number.NaN;
    value = value * 10 + digit;
    if (dot) scale *= 10;
  }
  if (count === 0) return Number.NaN;
  return negative ? -(value / scale) : value / scale;
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

interface Atom {
  set: Uint8Array;
  min: number;
  max: number;
}

/** Compiles the plainest patterns (see `BytePattern`); undefined for any other. */
function patternAtoms(pattern: string): Atom[] | undefined {
  const atoms: Atom[] = [];
  const plain = /[A-Za-z0-9]/;
  let i = 0;
  while (i < pattern.length) {
    const set = new Uint8Array(256);
    const c = pattern[i] as string;
    if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      const body = close > i + 1 ? pattern.slice(i + 1, close) : '';
      if (body === '') return undefined;
      for (let k = 0; k < body.length; k++) {
        const from = body[k] as string;
        if (!plain.test(from)) return undefined;
        if (body[k + 1] === '-' && k + 2 < body.length) {
          const to = body[k + 2] as string;
          if (!plain.test(to) || to < from) return undefined;
          for (let b = from.charCodeAt(0); b <= to.charCodeAt(0); b++) set[b] = 1;
          k += 2;
        } else set[from.charCodeAt(0)] = 1;
      }
      i = close + 1;
    } else if (plain.test(c)) {
      set[c.charCodeAt(0)] = 1;
      i++;
    } else return undefined;
    let min = 1;
    let max = 1;
    const q = pattern[i];
    if (q === '?' || q === '*' || q === '+') {
      [min, max] = q === '?' ? [0, 1] : q === '*' ? [0, Infinity] : [1, Infinity];
      i++;
    } else if (q === '{') {
      const counted = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!counted) return undefined;
      min = Number(counted[1]);
      max = counted[2] === undefined ? min : counted[3] === '' ? Infinity : Number(counted[3]);
      i += counted[0].length;
    }
    atoms.push({ set, min, max });
  }
  return atoms;
}

/**
 * A field's or code list's pattern, tested on bytes. The plainest kind — a sequence of ASCII
 * letters, digits and bracketed sets of them (`[A-Z0-9]`), each perhaps with `{m}`, `{m,n}`,
 * `?`, `*` or `+`, as every pattern of the catalogue is — is compiled to a test of the bytes
 * themselves; a byte outside ASCII matches no set, as its character matches none in the
 * RegExp, so bytes and characters agree. Any other pattern asks the RegExp.
 */
export class BytePattern {
  private readonly atoms: Atom[] | undefined;
  private readonly re: RegExp;

  constructor(source: string, regExp: (source: string) => RegExp) {
    this.atoms = patternAtoms(source);
    this.re = regExp(source);
  }

  /** whether the pattern is tested on bytes alone */
  get compiled(): boolean {
    return this.atoms !== undefined;
  }

  matches(buf: Buffer, s: number, e: number): boolean {
    return this.atoms ? this.from(buf, 0, s, e) : this.re.test(buf.toString('utf8', s, e));
  }

  // Backtracking over the atoms: patterns and values are a few characters long.
  private from(buf: Buffer, a: number, at: number, e: number): boolean {
    const atom = (this.atoms as Atom[])[a];
    if (!atom) return at === e;
    let run = 0;
    while (run < atom.max && at + run < e && atom.set[buf[at + run] as number] === 1) run++;
    for (; run >= atom.min; run--) if (this.from(buf, a + 1, at + run, e)) return true;
    return false;
  }
}

/**
 * A code list's codes, found by their bytes: each code of up to six bytes packed into two
 * numbers, in a table probed from a hash of them. Longer values are looked up as text.
 */
class CodeBytes {
  private static readonly SLOTS = 1024;
  private readonly lows = new Int32Array(CodeBytes.SLOTS);
  private readonly highs = new Int32Array(CodeBytes.SLOTS).fill(-1);
  private readonly longer = new Set<string>();

  constructor(codes: Iterable<string>) {
    for (const code of codes) {
      const bytes = Buffer.from(code);
      if (bytes.length > 6 || bytes.length === 0) {
        this.longer.add(code);
        continue;
      }
      const [low, high] = CodeBytes.pack(bytes, 0, bytes.length);
      const mask = CodeBytes.SLOTS - 1;
      let i = CodeBytes.hash(low, high) & mask;
      while (this.highs[i] !== -1 && !(this.lows[i] === low && this.highs[i] === high)) i = (i + 1) & mask;
      this.lows[i] = low;
      this.highs[i] = high;
    }
  }

  private static pack(buf: Buffer, s: number, e: number): [number, number] {
    let low = 0;
    let high = e - s;
    for (let k = s; k < e && k < s + 3; k++) low = (low << 8) | (buf[k] as number);
    for (let k = s + 3; k < e; k++) high = (high << 8) | (buf[k] as number);
    return [low, high];
  }

  private static hash(low: number, high: number): number {
    return (Math.imul(low, 0x9e3779b1) ^ Math.imul(high, 0x85ebca6b)) >>> 7;
  }

  has(buf: Buffer, s: number, e: number): boolean {
    if (e - s > 6) return this.longer.size > 0 && this.longer.has(buf.toString('utf8', s, e));
    let low = 0;
    let high = e - s;
    for (let k = s; k < e && k < s + 3; k++) low = (low << 8) | (buf[k] as number);
    for (let k = s + 3; k < e; k++) high = (high << 8) | (buf[k] as number);
    const mask = CodeBytes.SLOTS - 1;
    for (let i = CodeBytes.hash(low, high) & mask; this.highs[i] !== -1; i = (i + 1) & mask) {
      if (this.lows[i] === low && this.highs[i] === high) return true;
    }
    return false;
  }
}

/**
 * Verdicts already reached for the short values of the columns of one code list (with the
 * same pattern and length), found by their bytes: up to eight bytes packed into two numbers,
 * in a table probed from a hash of them. A feed repeats the same few codes in every row (the
 * 44 diagnosis and procedure positions of the APC hold a few thousand between them), so a
 * value's list, scheme and pattern are looked at once, not once a row; past `MOST_VERDICTS`
 * values the table stops growing and the rest are looked at each time.
 */
class ShortVerdicts {
  private static readonly MOST_VERDICTS = 1 << 15;
  private lows = new Int32Array(256);
  private highs = new Int32Array(256);
  /** 0 for an empty slot, else the value's length + 1 */
  private lengths = new Uint8Array(256);
  private passed = new Uint8Array(256);
  private size = 0;
  private low = 0;
  private high = 0;

  /** 1 or 0 (passes or not) for a value of at most eight bytes seen before; -1 otherwise, packed for `note`. */
  find(buf: Buffer, s: number, e: number): number {
    let low = 0;
    let high = 0;
    const mid = s + 4 < e ? s + 4 : e;
    for (let k = mid - 1; k >= s; k--) low = (low << 8) | (buf[k] as number);
    for (let k = e - 1; k >= mid; k--) high = (high << 8) | (buf[k] as number);
    this.low = low;
    this.high = high;
    const length = e - s + 1;
    const mask = this.lengths.length - 1;
    for (let i = ShortVerdicts.hash(low, high) & mask; ; i = (i + 1) & mask) {
      const l = this.lengths[i] as number;
      if (l === 0) return -1;
      if (l === length && this.lows[i] === low && this.highs[i] === high) return this.passed[i] as number;
    }
  }

  /** Notes the verdict for the value `find` last looked for and did not find. */
  note(length: number, passed: boolean): void {
    if (this.size >= ShortVerdicts.MOST_VERDICTS) return;
    if ((this.size + 1) * 2 > this.lengths.length) this.grow();
    this.put(this.low, this.high, length + 1, passed ? 1 : 0);
    this.size++;
  }

  private put(low: number, high: number, length: number, passed: number): void {
    const mask = this.lengths.length - 1;
    let i = ShortVerdicts.hash(low, high) & mask;
    while (this.lengths[i] !== 0) i = (i + 1) & mask;
    this.lows[i] = low;
    this.highs[i] = high;
    this.lengths[i] = length;
    this.passed[i] = passed;
  }

  private grow(): void {
    const { lows, highs, lengths, passed } = this;
    const size = lengths.length * 2;
    this.lows = new Int32Array(size);
    this.highs = new Int32Array(size);
    this.lengths = new Uint8Array(size);
    this.passed = new Uint8Array(size);
    for (let i = 0; i < lengths.length; i++)
      if (lengths[i] !== 0)
        this.put(lows[i] as number, highs[i] as number, lengths[i] as number, passed[i] as number);
  }

  /** MurmurHash3's finaliser: every bit of either number moves the slot (codes differ in their last byte). */
  private static hash(low: number, high: number): number {
    let h = low ^ Math.imul(high, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }
}

const INTEGER = 1;
const DECIMAL = 2;
const DATE = 3;
const DATETIME = 4;
const TIME = 5;
const BOOLEAN = 6;
const TYPES: Partial<Record<FieldType, number>> = {
  integer: INTEGER,
  decimal: DECIMAL,
  date: DATE,
  datetime: DATETIME,
  time: TIME,
  boolean: BOOLEAN,
};

/** What the screen asks of one column's present values (one shape, so `passes` stays fast). */
interface ColumnRule {
  k: number;
  /** INTEGER…BOOLEAN, or 0 for text */
  type: number;
  /** the value's number must lie within these, for a number with a minimum or maximum */
  lowest: number;
  highest: number;
  /** in bytes (a value longer in bytes may be shorter in characters, which SQL counts) */
  maxLength: number;
  pattern: BytePattern | undefined;
  codes: CodeBytes | undefined;
  /** for a subset code list: what any code of the whole scheme looks like */
  scheme: BytePattern | undefined;
  /** for a code list's column: the verdicts on its short values, shared by like columns */
  verdicts: ShortVerdicts | undefined;
}

/** Whether a present value passes its column's rule (a cautious yes), noting its number in `numbers`. */
function passesRule(rule: ColumnRule, buf: Buffer, s: number, e: number, numbers: Float64Array): boolean {
  if (e - s > rule.maxLength) return false;
  switch (rule.type) {
    case INTEGER: {
      const value = integerValue(buf, s, e);
      if (!(value >= rule.lowest && value <= rule.highest)) return false;
      numbers[rule.k] = value;
      break;
    }
    case DECIMAL: {
      const value = decimalValue(buf, s, e);
      if (!(value >= rule.lowest && value <= rule.highest)) return false;
      numbers[rule.k] = exactDecimal(buf, s, e);
      break;
    }
    case DATE: {
      const key = e - s === 10 ? dateKey(buf, s) : -1;
      if (key < 0) return false;
      numbers[rule.k] = key;
      break;
    }
    case DATETIME: {
      const key = timestampKey(buf, s, e);
      if (key < 0) return false;
      numbers[rule.k] = key;
      break;
    }
    case TIME:
      if (!isTime(buf, s, e)) return false;
      break;
    case BOOLEAN:
      if (e - s > 5 || !BOOLEAN_TEXT.has(buf.toString('latin1', s, e))) return false;
      break;
  }
  if (rule.pattern && !rule.pattern.matches(buf, s, e)) return false;
  // Most values of a subset list's columns are of its scheme's shape (a diagnosis, a procedure).
  if (rule.codes && !(rule.scheme && rule.scheme.matches(buf, s, e)) && !rule.codes.has(buf, s, e))
    return false;
  return true;
}

/** A value of a code list's column: by its verdict seen before where it is short, else by its rule. */
function passesCode(rule: ColumnRule, buf: Buffer, s: number, e: number, numbers: Float64Array): boolean {
  const verdicts = rule.verdicts as ShortVerdicts;
  if (e - s > 8) return passesRule(rule, buf, s, e, numbers);
  const known = verdicts.find(buf, s, e);
  if (known >= 0) return known === 1;
  const passed = passesRule(rule, buf, s, e, numbers);
  verdicts.note(e - s, passed);
  return passed;
}

/**
 * The screen for a plan's rules. `regExp` makes the RegExp for a pattern no byte test is
 * compiled for (catalogue.ts `anchored`: the subset JavaScript and both engines share).
 */
export function rowScreen(
  plan: DeidPlan,
  codeList: (listId: string) => CodeList | undefined,
  regExp: (source: string) => RegExp,
): RowScreen {
  const required: number[] = [];
  /** the columns of plain dates (thirty in the wide APC), checked in a loop of their own */
  const dates: number[] = [];
  /** the columns of a code list's codes, as text (sixty in the wide APC) */
  const codes: ColumnRule[] = [];
  const rules: ColumnRule[] = [];
  const index = new Map<string, { k: number; type: FieldType }>();
  const verdictsByRule = new Map<string, ShortVerdicts>();
  plan.columns.forEach((column, k) => {
    index.set(column.name, { k, type: column.type });
    if (column.required) required.push(k);
    const field = column.kind === 'copy' ? column.field : undefined;
    // An integer of 15 digits is exact; a decimal close to a bound may be read a little
    // either side of it by an engine, so it must be clear of the bound to pass here.
    const margin = (bound: number): number =>
      column.type === 'decimal' ? 1e-9 * Math.max(1, Math.abs(bound)) : 0;
    const list = field?.codeList ? codeList(field.codeList) : undefined;
    const listed = list !== undefined && list.codes.length > 0;
    const rule: ColumnRule = {
      k,
      type: TYPES[column.type] ?? 0,
      lowest: field?.minimum === undefined ? -Infinity : field.minimum + margin(field.minimum),
      highest: field?.maximum === undefined ? Infinity : field.maximum - margin(field.maximum),
      maxLength: field?.maxLength ?? Infinity,
      pattern: field?.pattern === undefined ? undefined : new BytePattern(field.pattern, regExp),
      codes: listed ? new CodeBytes(list.codes.map((c) => c.code)) : undefined,
      scheme: listed && list.subset && list.pattern ? new BytePattern(list.pattern, regExp) : undefined,
      verdicts: undefined,
    };
    if (rule.type === DATE && rule.maxLength >= 10 && !rule.pattern && !rule.codes) dates.push(k);
    else if (rule.type === 0 && rule.codes) {
      const same = JSON.stringify([field?.codeList, field?.pattern, rule.maxLength]);
      rule.verdicts = verdictsByRule.get(same) ?? new ShortVerdicts();
      verdictsByRule.set(same, rule.verdicts);
      codes.push(rule);
    } else if (rule.type !== 0 || rule.maxLength !== Infinity || rule.pattern || rule.codes) rules.push(rule);
  });
  const orders: { start: number; end: number; bothDates: boolean }[] = [];
  for (const { start, end } of plan.spec.dateOrder) {
    const from = index.get(start);
    const to = index.get(end);
    const dated = (t: FieldType | undefined): boolean => t === 'date' || t === 'datetime';
    if (!from || !to || !dated(from.type) || !dated(to.type)) continue;
    orders.push({ start: from.k, end: to.k, bothDates: from.type === 'date' && to.type === 'date' });
  }
  const bounded: { days: number; start: number; end: number }[] = [];
  for (const { days, start, end } of plan.spec.daysWithin ?? []) {
    const count = index.get(days);
    const from = index.get(start);
    const to = index.get(end);
    if (count && from && to) bounded.push({ days: count.k, start: from.k, end: to.k });
  }
  /** where a row brings no `numbers` of its own */
  const scratch = new Float64Array(plan.columns.length);

  return {
    passes(row: ScreenedRow): boolean {
      const { buf, starts, ends } = row;
      const numbers = row.numbers ?? scratch;
      for (let r = 0; r < required.length; r++) {
        const k = required[r] as number;
        if ((starts[k] as number) >= (ends[k] as number)) return false;
      }
      for (let d = 0; d < dates.length; d++) {
        const k = dates[d] as number;
        const s = starts[k] as number;
        const e = ends[k] as number;
        if (s >= e) continue;
        const key = e - s === 10 ? dateKey(buf, s) : -1;
        if (key < 0) return false;
        numbers[k] = key;
      }
      for (let r = 0; r < codes.length; r++) {
        const rule = codes[r] as ColumnRule;
        const s = starts[rule.k] as number;
        const e = ends[rule.k] as number;
        if (s < e && !passesCode(rule, buf, s, e, numbers)) return false;
      }
      for (let r = 0; r < rules.length; r++) {
        const rule = rules[r] as ColumnRule;
        const s = starts[rule.k] as number;
        const e = ends[rule.k] as number;
        if (s < e && !passesRule(rule, buf, s, e, numbers)) return false;
      }
      for (let o = 0; o < orders.length; o++) {
        const { start, end, bothDates } = orders[o] as (typeof orders)[number];
        if (
          (starts[start] as number) >= (ends[start] as number) ||
          (starts[end] as number) >= (ends[end] as number)
        )
          continue;
        // Both are valid (the rules above), their days noted: a later day is later whatever
        // the times; the same day with a time is left to SQL.
        const order = (numbers[end] as number) - (numbers[start] as number);
        if (order < 0 || (order === 0 && !bothDates)) return false;
      }
      for (let b = 0; b < bounded.length; b++) {
        const { days, start, end } = bounded[b] as (typeof bounded)[number];
        const s = starts[days] as number;
        const s1 = starts[start] as number;
        const s2 = starts[end] as number;
        if (s >= (ends[days] as number) || s1 >= (ends[start] as number) || s2 >= (ends[end] as number))
          continue;
        // Valid by the rules above, so each date is CCYY-MM-DD in its first ten bytes.
        const count = digits(buf, s, ends[days] as number, 6);
        const span = calendarDay(buf, s2) - calendarDay(buf, s1) + 1;
        if (count < 0 || Number.isNaN(span) || count > span) return false;
      }
      return true;
    },
  };
}
