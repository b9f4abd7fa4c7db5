/**
 * The two parts of a load's profile (load-profile.ts) that cost PostgreSQL most, each a hash
 * aggregation over every row loaded: how often each value of a key field occurs, and how many
 * rows repeat a unique key. Where the load copies screened rows (screened-copy.ts) its scan
 * has every value's bytes in hand, so it tallies them there, for a few hundredths of a
 * second in a million rows, and the profile asks SQL only for the rest.
 *
 * Only fields stored as text are tallied, so that a value's bytes are the value stored; a
 * key with a field of another type is left to SQL. Past `MOST_KEYS` distinct keys a unique
 * rule is left to SQL too, so memory stays bounded whatever the file's size.
 */
import { datasetEntry } from './check-catalogue.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import type { ScreenedRow } from './row-screen.ts';
import type { LoadProfile } from './check-catalogue.ts';
import { storedType } from './row-rules.ts';

/** distinct keys a unique rule is tallied for, at most (about 30 bytes each) */
const MOST_KEYS = 4_000_000;
/** distinct values a key field is tallied for, at most */
const MOST_VALUES = 65_536;
const MISSING = 0xffffffff;

/** Distinct byte strings with a count each: open addressing over a pool of their bytes. */
class ByteCounts {
  private slots = new Int32Array(1024).fill(-1);
  private hashes = new Uint32Array(512);
  private at = new Float64Array(512);
  private lengths = new Uint32Array(512);
  private counts = new Float64Array(512);
  private pool = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  size = 0;
  /** rows added whose bytes were there already */
  repeats = 0;

  constructor(private readonly most: number) {}

  /** false once more than `most` distinct strings were offered (the tally is then void) */
  get complete(): boolean {
    return this.size <= this.most;
  }

  add(bytes: Buffer, s: number, e: number, count = 1): void {
    if (this.size > this.most) return;
    let hash = 0x811c9dc5;
    for (let k = s; k < e; k++) hash = Math.imul(hash ^ (bytes[k] as number), 0x01000193);
    hash >>>= 0;
    const length = e - s;
    const mask = this.slots.length - 1;
    let i = hash & mask;
    for (let entry = this.slots[i] as number; entry >= 0; entry = this.slots[i] as number) {
      if (this.hashes[entry] === hash && this.lengths[entry] === length) {
        const base = this.at[entry] as number;
        let same = true;
        for (let k = 0; k < length && same; k++) same = this.pool[base + k] === bytes[s + k];
        if (same) {
          this.counts[entry] = (this.counts[entry] as number) + count;
          this.repeats += count;
          return;
        }
      }
      i = (i + 1) & mask;
    }
    const n = this.size++;
    if (n > this.most) return;
    if (n === this.hashes.length) this.growEntries();
    if (this.used + length > this.pool.length) {
      const pool = Buffer.allocUnsafe(Math.max(this.pool.length * 2, this.used + length));
      this.pool.copy(pool, 0, 0, this.used);
      this.pool = pool;
    }
    // Byte by byte: a call to Buffer.copy costs more than a short value's bytes.
    const pool = this.pool;
    for (let k = 0, at = this.used; k < length; k++) pool[at + k] = bytes[s + k] as number;
    this.hashes[n] = hash;
    this.at[n] = this.used;
    this.lengths[n] = length;
    this.counts[n] = count;
    this.repeats += count - 1;
    this.used += length;
    this.slots[i] = n;
    if (this.size * 2 > this.slots.length) this.rehash();
  }

  /** each distinct string (as UTF-8 text) with its count */
  entries(): [Buffer, number][] {
    const out: [Buffer, number][] = [];
    for (let n = 0; n < this.size; n++) {
      const base = this.at[n] as number;
      out.push([this.pool.subarray(base, base + (this.lengths[n] as number)), this.counts[n] as number]);
    }
    return out;
  }

  /** Everything, to be sent to another thread and merged there (`merge`). */
  state(): CountsState {
    const { slots, hashes, at, lengths, counts, used, size, repeats } = this;
    return { slots, hashes, at, lengths, counts, pool: this.pool.subarray(0, used), used, size, repeats };
  }

  /** Adds another tally's strings and counts (a part of the same file, tallied elsewhere). */
  merge(other: CountsState): void {
    if (other.size > this.most) this.size = this.most + 1;
    if (this.size > this.most) return;
    const pool = Buffer.from(other.pool.buffer as ArrayBuffer, other.pool.byteOffset, other.pool.byteLength);
    if (this.size === 0 && this.repeats === 0) {
      // Nothing here yet: take the other's as it stands.
      this.slots = other.slots;
      this.hashes = other.hashes;
      this.at = other.at;
      this.lengths = other.lengths;
      this.counts = other.counts;
      this.pool = pool;
      this.used = other.used;
      this.size = other.size;
      this.repeats = other.repeats;
      return;
    }
    for (let n = 0; n < other.size; n++) {
      const base = other.at[n] as number;
      this.add(pool, base, base + (other.lengths[n] as number), other.counts[n] as number);
    }
  }

  private growEntries(): void {
    const size = this.hashes.length * 2;
    const grow = <T extends Uint32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.hashes = grow(this.hashes, new Uint32Array(size));
    this.at = grow(this.at, new Float64Array(size));
    this.lengths = grow(this.lengths, new Uint32Array(size));
    this.counts = grow(this.counts, new Float64Array(size));
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let n = 0; n < this.size; n++) {
      let i = (this.hashes[n] as number) & mask;
      while ((slots[i] as number) >= 0) i = (i + 1) & mask;
      slots[i] = n;
    }
    this.slots = slots;
  }
}

/** A `ByteCounts` as sent between threads. */
export interface CountsState {
  slots: Int32Array<ArrayBuffer>;
  hashes: Uint32Array<ArrayBuffer>;
  at: Float64Array<ArrayBuffer>;
  lengths: Uint32Array<ArrayBuffer>;
  counts: Float64Array<ArrayBuffer>;
  pool: Uint8Array;
  used: number;
  size: number;
  repeats: number;
}

/** A `ProfileTally` as sent between threads (scan-worker.ts), for `ProfileTally.merge`. */
export interface TallyState {
  keyFields: CountsState[];
  uniques: CountsState[];
  ranged: { min: number; max: number; sum: number; count: number }[];
  plausible: number[];
}

export interface TalliedProfile {
  /** key field → each value with its count, for the fields tallied */
  counts: Record<string, Map<string, number>>;
  /** unique rule id → rows beyond the first with the same key, for the rules tallied */
  duplicates: Record<string, number>;
  /**
   * Every number and date field's smallest, largest and mean, and the rows breaking each
   * plausibility rule, when all of them were tallied (as load-profile.ts's one aggregate
   * makes them: dates as 'YYYY-MM-DD', means rounded to hundredths)
   */
  ranges?: { ranges: LoadProfile['ranges']; implausible: Record<string, number> };
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
function daysFromCivil(y: number, m: number, d: number): number {
  const year = m <= 2 ? y - 1 : y;
  const era = Math.floor(year / 400);
  const yoe = year - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const digitsAt = (buf: Buffer, s: number, n: number): number => {
  let v = 0;
  for (let k = s; k < s + n; k++) v = v * 10 + ((buf[k] as number) - 0x30);
  return v;
};

/** A date given as y*10000 + m*100 + d, as a day number. */
const dayNumber = (d: number): number =>
  daysFromCivil(Math.floor(d / 10000), Math.floor(d / 100) % 100, d % 100);

/** A number or date field's range so far. Dates as y*10000 + m*100 + d. */
interface Ranged {
  name: string;
  k: number;
  kind: 'integer' | 'decimal' | 'date';
  min: number;
  max: number;
  sum: number;
  count: number;
}

type Plausible =
  | { id: string; kind: 'range'; k: number; min: number; max: number; count: number }
  | { id: string; kind: 'days-between'; from: number; to: number; max: number; count: number };

/** A tally of the rows loaded; see the top of this file. */
export class ProfileTally {
  private readonly keyFields: { name: string; k: number; counts: ByteCounts }[] = [];
  private readonly uniques: { id: string; ks: number[]; keys: ByteCounts }[] = [];
  private key = Buffer.allocUnsafe(256);
  private readonly ranged: Ranged[] = [];
  private readonly plausible: Plausible[] = [];
  /** by plan column: a decimal, read as JavaScript reads it (correctly rounded, as float8in) */
  private readonly decimals: boolean[];
  /** false where a plausibility rule is of a kind or type the tally does not read */
  private readonly rangesTallied: boolean;

  constructor(plan: DeidPlan) {
    const entry = datasetEntry(plan.spec.id);
    const at = new Map(plan.columns.map((c, k) => [c.name, k] as const));
    const asText = (name: string): boolean => {
      const k = at.get(name);
      return k !== undefined && storedType((plan.columns[k] as DeidPlan['columns'][number]).type) === 'TEXT';
    };
    for (const name of entry.keyFields ?? []) {
      if (asText(name))
        this.keyFields.push({ name, k: at.get(name) as number, counts: new ByteCounts(MOST_VALUES) });
    }
    this.decimals = plan.columns.map((c) => c.type === 'decimal');
    plan.columns.forEach((c, k) => {
      if (c.type === 'integer' || c.type === 'decimal' || c.type === 'date')
        this.ranged.push({ name: c.name, k, kind: c.type, min: Infinity, max: -Infinity, sum: 0, count: 0 });
    });
    const typeOf = (name: string): string | undefined => plan.columns[at.get(name) ?? -1]?.type;
    let readable = true;
    for (const rule of entry.plausibility ?? []) {
      if (rule.kind === 'range') {
        if (!at.has(rule.field)) continue;
        const type = typeOf(rule.field);
        if (type !== 'integer' && type !== 'decimal') readable = false;
        this.plausible.push({
          id: rule.id,
          kind: 'range',
          k: at.get(rule.field) as number,
          min: rule.min,
          max: rule.max,
          count: 0,
        });
      } else {
        if (!at.has(rule.from) || !at.has(rule.to)) continue;
        if (typeOf(rule.from) !== 'date' || typeOf(rule.to) !== 'date') readable = false;
        this.plausible.push({
          id: rule.id,
          kind: 'days-between',
          from: at.get(rule.from) as number,
          to: at.get(rule.to) as number,
          max: rule.max,
          count: 0,
        });
      }
    }
    this.rangesTallied = readable;
    for (const rule of entry.unique ?? []) {
      if (rule.fields.every(asText)) {
        this.uniques.push({
          id: rule.id,
          ks: rule.fields.map((f) => at.get(f) as number),
          keys: new ByteCounts(MOST_KEYS),
        });
      }
    }
  }

  /** whether there is anything to tally */
  get any(): boolean {
    return this.keyFields.length > 0 || this.uniques.length > 0 || this.rangesTallied;
  }

  /** The numbers and dates of a row (valid, as the rules passed them): their ranges and rules. */
  // The row being tallied: bytes (a copied row) or text (a row loaded after); read in place,
  // so no function is made for each row.
  private buf: Buffer = Buffer.alloc(0);
  private starts: Int32Array = new Int32Array(0);
  private ends: Int32Array = new Int32Array(0);
  /** what the screen read of the row's numbers and dates, where it noted them (row-screen.ts) */
  private numbers: Float64Array | undefined;
  private texts: readonly (string | null)[] | undefined;

  private numberAt(k: number): number | undefined {
    if (this.texts) {
      const v = this.texts[k];
      return v == null ? undefined : Number(v);
    }
    const buf = this.buf;
    const s = this.starts[k] as number;
    const e = this.ends[k] as number;
    if (s >= e) return undefined;
    if (this.numbers) {
      const noted = this.numbers[k] as number;
      if (!Number.isNaN(noted)) return noted;
    }
    if (this.decimals[k]) return Number(buf.toString('latin1', s, e));
    // An integer the screen passed is a minus and at most 15 digits: exact as read here.
    const negative = buf[s] === 0x2d;
    const v = digitsAt(buf, negative ? s + 1 : s, e - s - (negative ? 1 : 0));
    return negative ? -v : v;
  }

  /** A valid date as y*10000 + m*100 + d. */
  private dateAt(k: number): number | undefined {
    if (this.texts) {
      const v = this.texts[k];
      return v == null
        ? undefined
        : Number(v.slice(0, 4)) * 10000 + Number(v.slice(5, 7)) * 100 + Number(v.slice(8, 10));
    }
    const s = this.starts[k] as number;
    if (s >= (this.ends[k] as number)) return undefined;
    if (this.numbers) return this.numbers[k] as number;
    const buf = this.buf;
    return digitsAt(buf, s, 4) * 10000 + digitsAt(buf, s + 5, 2) * 100 + digitsAt(buf, s + 8, 2);
  }

  private addRanges(): void {
    if (!this.rangesTallied) return;
    for (let i = 0; i < this.ranged.length; i++) {
      const r = this.ranged[i] as Ranged;
      const v = r.kind === 'date' ? this.dateAt(r.k) : this.numberAt(r.k);
      if (v === undefined) continue;
      if (v < r.min) r.min = v;
      if (v > r.max) r.max = v;
      r.sum += v;
      r.count++;
    }
    for (let i = 0; i < this.plausible.length; i++) {
      const p = this.plausible[i] as Plausible;
      if (p.kind === 'range') {
        const v = this.numberAt(p.k);
        if (v !== undefined && (v < p.min || v > p.max)) p.count++;
      } else {
        const from = this.dateAt(p.from);
        const to = this.dateAt(p.to);
        if (from !== undefined && to !== undefined && dayNumber(to) - dayNumber(from) > p.max) p.count++;
      }
    }
  }

  /**
   * A row copied by the scan: its values as the rules read them (trimmed, empty as missing),
   * and the numbers the screen noted as it passed the row, where it did.
   */
  add(row: ScreenedRow): void {
    this.buf = row.buf;
    this.starts = row.starts;
    this.ends = row.ends;
    this.numbers = row.numbers;
    this.texts = undefined;
    this.addRanges();
    for (const field of this.keyFields) {
      const s = row.starts[field.k] as number;
      const e = row.ends[field.k] as number;
      if (s < e) field.counts.add(row.buf, s, e);
    }
    for (const unique of this.uniques) {
      let n = 0;
      for (const k of unique.ks) {
        const s = row.starts[k] as number;
        const e = row.ends[k] as number;
        n = this.keyPart(n, s < e ? row.buf : undefined, s, e);
      }
      unique.keys.add(this.key, 0, n);
    }
  }

  /** A row loaded after the scan: its values by plan column, null where missing. */
  addText(values: readonly (string | null)[]): void {
    this.texts = values;
    this.addRanges();
    const parts = values.map((v) => (v === null ? null : Buffer.from(v)));
    for (const field of this.keyFields) {
      const bytes = parts[field.k];
      if (bytes) field.counts.add(bytes, 0, bytes.length);
    }
    for (const unique of this.uniques) {
      let n = 0;
      for (const k of unique.ks) {
        const bytes = parts[k];
        n = this.keyPart(n, bytes ?? undefined, 0, bytes ? bytes.length : 0);
      }
      unique.keys.add(this.key, 0, n);
    }
  }

  /** Appends a field to the key at n: its length in four bytes (MISSING for none), then its bytes. */
  private keyPart(n: number, buf: Buffer | undefined, s: number, e: number): number {
    const length = buf ? e - s : 0;
    if (n + length + 4 > this.key.length) {
      const key = Buffer.allocUnsafe((n + length + 4) * 2);
      this.key.copy(key, 0, 0, n);
      this.key = key;
    }
    const key = this.key;
    const said = buf ? length : MISSING;
    key[n] = said >>> 24;
    key[n + 1] = (said >>> 16) & 0xff;
    key[n + 2] = (said >>> 8) & 0xff;
    key[n + 3] = said & 0xff;
    for (let k = 0; k < length; k++) key[n + 4 + k] = (buf as Buffer)[s + k] as number;
    return n + 4 + length;
  }

  /** Everything tallied, to be merged into the tally of another thread. */
  state(): TallyState {
    return {
      keyFields: this.keyFields.map((f) => f.counts.state()),
      uniques: this.uniques.map((u) => u.keys.state()),
      ranged: this.ranged.map(({ min, max, sum, count }) => ({ min, max, sum, count })),
      plausible: this.plausible.map((p) => p.count),
    };
  }

  /** Adds the tally of other rows of the same plan (a part of the file tallied by a worker). */
  merge(state: TallyState): void {
    state.keyFields.forEach((counts, i) => this.keyFields[i]?.counts.merge(counts));
    state.uniques.forEach((counts, i) => this.uniques[i]?.keys.merge(counts));
    state.ranged.forEach((other, i) => {
      const r = this.ranged[i];
      if (!r) return;
      r.min = Math.min(r.min, other.min);
      r.max = Math.max(r.max, other.max);
      r.sum += other.sum;
      r.count += other.count;
    });
    state.plausible.forEach((count, i) => {
      const p = this.plausible[i];
      if (p) p.count += count;
    });
  }

  /** the fields and rules tallied in full */
  result(): TalliedProfile {
    const counts: TalliedProfile['counts'] = {};
    for (const field of this.keyFields) {
      if (!field.counts.complete) continue;
      counts[field.name] = new Map(field.counts.entries().map(([bytes, n]) => [bytes.toString('utf8'), n]));
    }
    const duplicates: TalliedProfile['duplicates'] = {};
    for (const unique of this.uniques) if (unique.keys.complete) duplicates[unique.id] = unique.keys.repeats;
    if (!this.rangesTallied) return { counts, duplicates };
    const ranges: LoadProfile['ranges'] = {};
    const day = (d: number): string =>
      `${String(Math.floor(d / 10000)).padStart(4, '0')}-${String(Math.floor(d / 100) % 100).padStart(2, '0')}-${String(d % 100).padStart(2, '0')}`;
    for (const r of this.ranged) {
      const none = r.count === 0;
      ranges[r.name] =
        r.kind === 'date'
          ? { min: none ? null : day(r.min), max: none ? null : day(r.max) }
          : {
              min: none ? null : r.min,
              max: none ? null : r.max,
              mean: none ? null : Math.round((r.sum / r.count) * 100) / 100,
            };
    }
    const implausible = Object.fromEntries(this.plausible.map((p) => [p.id, p.count]));
    return { counts, duplicates, ranges: { ranges, implausible } };
  }
}
