/**
 * Comparisons: how two records agree on one field, as a level from best (0) to "else"
 * (the last), or `NULL_LEVEL` when either side is missing (Fellegi & Sunter 1969; the
 * levels follow Splink's comparison library). A comparison is bound once to the two sides
 * so that per-record work (parsing dates, counting a Bloom filter's bits, term frequencies)
 * is done once, not once per pair.
 */
import { KernelError } from '../errors.ts';
import { fieldFilters, fieldTexts, type LinkSide } from './record-columns.ts';
import { damerauLevenshtein, jaroWinkler, popcount32 } from './string-metrics.ts';

/** A record as the engine sees it: plain text fields, or Bloom-filter encodings. */
export type LinkRecord = Readonly<Record<string, string | Uint32Array | null | undefined>>;

export const NULL_LEVEL = 255;

export interface BoundComparison {
  /** the level of the pair (left i, right j): 0 best, levels.length - 1 "else", or NULL_LEVEL */
  level(i: number, j: number): number;
  /**
   * For a term-frequency adjusted comparison: the share of records carrying left i's value,
   * used instead of the average u when the pair agrees exactly (level 0).
   */
  termFrequency?(i: number): number;
}

export interface Comparison {
  name: string;
  /** the record fields it reads (a blocking rule on any of them fixes its m during EM) */
  fields: readonly string[];
  /** level labels, best first, the last being "else" */
  levels: readonly string[];
  bind(left: LinkSide, right: LinkSide): BoundComparison;
}

export function textOf(record: LinkRecord, field: string): string | null {
  const value = record[field];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

const texts = fieldTexts;

/** Shares of each value over both sides together (Splink's term-frequency table). */
function termFrequencies(left: (string | null)[], right: (string | null)[]): Float64Array {
  const counts = new Map<string, number>();
  let total = 0;
  const sides = left === right ? [left] : [left, right];
  for (const side of sides) {
    for (const v of side) {
      if (v === null) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      total++;
    }
  }
  return Float64Array.from(left, (v) => (v === null ? 1 : (counts.get(v) ?? 1) / Math.max(total, 1)));
}

/**
 * A comparison of one text field: missing on either side → NULL_LEVEL, equal → 0 (with its
 * term frequency when asked), otherwise what `grade` says.
 */
function textComparison(
  field: string,
  levels: readonly string[],
  grade: (x: string, y: string) => number,
  termFrequency = false,
): Comparison {
  return {
    name: field,
    fields: [field],
    levels,
    bind(left, right) {
      const a = texts(left, field);
      const b = left === right ? a : texts(right, field);
      const tf = termFrequency ? termFrequencies(a, b) : undefined;
      return {
        level(i, j) {
          const x = a[i]!;
          const y = b[j]!;
          if (x === null || y === null) return NULL_LEVEL;
          return x === y ? 0 : grade(x, y);
        },
        ...(tf ? { termFrequency: (i: number) => tf[i]! } : {}),
      };
    },
  };
}

/** The level (from 1) of the first band `reached` accepts, or the "else" level after them. */
function bandLevel(bands: readonly number[], reached: (band: number) => boolean): number {
  for (let k = 0; k < bands.length; k++) if (reached(bands[k]!)) return k + 1;
  return bands.length + 1;
}

/** Exact, then Jaro–Winkler bands (Splink's name comparison: 0.92, 0.88, 0.70). */
export function nameComparison(
  field: string,
  options: { bands?: readonly number[]; termFrequency?: boolean } = {},
): Comparison {
  const bands = options.bands ?? [0.92, 0.88, 0.7];
  return textComparison(
    field,
    ['exact', ...bands.map((b) => `Jaro-Winkler >= ${b}`), 'else'],
    (x, y) => {
      const similarity = jaroWinkler(x, y);
      return bandLevel(bands, (band) => similarity >= band);
    },
    options.termFrequency,
  );
}

/** Exact, then Damerau–Levenshtein distance bands (for identifiers and street names). */
export function editDistanceComparison(
  field: string,
  options: { distances?: readonly number[]; termFrequency?: boolean } = {},
): Comparison {
  const distances = options.distances ?? [1, 2];
  return textComparison(
    field,
    ['exact', ...distances.map((d) => `Damerau-Levenshtein <= ${d}`), 'else'],
    (x, y) => {
      const distance = damerauLevenshtein(x, y);
      return bandLevel(distances, (band) => distance <= band);
    },
    options.termFrequency,
  );
}

/** Exact agreement only (sex, state), optionally term-frequency adjusted. */
export function exactComparison(field: string, options: { termFrequency?: boolean } = {}): Comparison {
  return textComparison(field, ['exact', 'else'], () => 1, options.termFrequency);
}

/** Days since 1970-01-01 of a `YYYYMMDD` or `YYYY-MM-DD` date, or NaN if it is not a real date. */
export function dayNumber(text: string): number {
  const digits = text.length === 10 ? text.slice(0, 4) + text.slice(5, 7) + text.slice(8, 10) : text;
  if (!/^\d{8}$/.test(digits)) return NaN;
  const year = Number(digits.slice(0, 4));
  const month = Number(digits.slice(4, 6));
  const day = Number(digits.slice(6, 8));
  const time = Date.UTC(year, month - 1, day);
  const check = new Date(time);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return NaN;
  }
  return time / 86_400_000;
}

const DATE_LEVELS = [
  'exact',
  'one character different',
  'day and month swapped',
  'within a month',
  'within a year',
  'else',
] as const;

/**
 * Dates of birth: exact; one character different (Damerau–Levenshtein ≤ 1, which also
 * catches adjacent digits transposed); day and month swapped; within 31 days; within 365
 * days; else. A value that is not a real date can still agree by its characters.
 */
export function dateComparison(field: string): Comparison {
  return {
    name: field,
    fields: [field],
    levels: DATE_LEVELS,
    bind(left, right) {
      const prepare = (records: LinkSide) => {
        const text = texts(records, field).map((t) => (t === null ? null : t.replace(/-/g, '')));
        return { text, days: Float64Array.from(text, (t) => (t === null ? NaN : dayNumber(t))) };
      };
      const a = prepare(left);
      const b = left === right ? a : prepare(right);
      return {
        level(i, j) {
          const x = a.text[i]!;
          const y = b.text[j]!;
          if (x === null || y === null) return NULL_LEVEL;
          if (x === y) return 0;
          if (damerauLevenshtein(x, y) <= 1) return 1;
          if (x.length === 8 && y.length === 8 && x.slice(0, 4) === y.slice(0, 4)) {
            if (x.slice(4, 6) === y.slice(6, 8) && x.slice(6, 8) === y.slice(4, 6)) return 2;
          }
          const gap = Math.abs(a.days[i]! - b.days[j]!);
          if (gap <= 31) return 3;
          if (gap <= 365) return 4;
          return 5;
        },
      };
    },
  };
}

const UK_POSTCODE = /^([A-Z]{1,2}\d[A-Z\d]?) ?(\d)[A-Z]{2}$/;

/**
 * The parts of a postcode: a UK one by its grammar (outward code = district; outward plus
 * the inward digit = sector, per the Royal Mail PAF guide); any other shape by its prefixes
 * (all but the last character, all but the last two), which is what a 4-digit Australian
 * postcode in FEBRL offers.
 */
export function postcodeParts(text: string): { sector: string; district: string } {
  const compact = text.toUpperCase().replace(/\s+/g, '');
  const uk = UK_POSTCODE.exec(compact);
  if (uk) return { sector: `${uk[1]} ${uk[2]}`, district: uk[1]! };
  return { sector: compact.slice(0, -1), district: compact.slice(0, -2) };
}

/** Postcode: exact, same sector, same district, else. */
export function postcodeComparison(field: string): Comparison {
  return {
    name: field,
    fields: [field],
    levels: ['exact', 'same sector', 'same district', 'else'],
    bind(left, right) {
      const prepare = (records: LinkSide) =>
        texts(records, field).map((t) =>
          t === null ? null : { full: t.toUpperCase().replace(/\s+/g, ''), ...postcodeParts(t) },
        );
      const a = prepare(left);
      const b = left === right ? a : prepare(right);
      return {
        level(i, j) {
          const x = a[i]!;
          const y = b[j]!;
          if (x === null || y === null) return NULL_LEVEL;
          if (x.full === y.full) return 0;
          if (x.sector.length > 0 && x.sector === y.sector) return 1;
          if (x.district.length > 0 && x.district === y.district) return 2;
          return 3;
        },
      };
    },
  };
}

/**
 * A Bloom-filter encoded field: identical filters, then Dice-coefficient bands. Bit counts
 * are cached per record so a pair costs one AND and popcount per 32-bit word.
 */
export function diceComparison(field: string, options: { bands?: readonly number[] } = {}): Comparison {
  const bands = options.bands ?? [0.9, 0.8, 0.7];
  return {
    name: field,
    fields: [field],
    levels: ['identical', ...bands.map((b) => `Dice >= ${b}`), 'else'],
    bind(left, right) {
      const prepare = (records: LinkSide) => {
        const column = fieldFilters(records, field);
        const counts = new Int32Array(column.present.length);
        for (let i = 0; i < counts.length; i++) {
          let n = 0;
          for (let w = i * column.width; w < (i + 1) * column.width; w++) n += popcount32(column.words[w]!);
          counts[i] = n;
        }
        return { ...column, counts };
      };
      const a = prepare(left);
      const b = left === right ? a : prepare(right);
      if (a.width !== b.width && a.present.some((p) => p === 1) && b.present.some((p) => p === 1)) {
        throw new KernelError('invalid-input', `The two sides' filters of ${field} differ in length`, {
          where: { field },
          hint: 'Encode both sides with one scheme',
        });
      }
      const width = a.width;
      return {
        level(i, j) {
          if (a.present[i] === 0 || b.present[j] === 0) return NULL_LEVEL;
          const total = a.counts[i]! + b.counts[j]!;
          let common = 0;
          const x = i * width;
          const y = j * width;
          for (let w = 0; w < width; w++) common += popcount32(a.words[x + w]! & b.words[y + w]!);
          const similarity = total === 0 ? 0 : (2 * common) / total;
          return similarity >= 1 ? 0 : bandLevel(bands, (band) => similarity >= band);
        },
      };
    },
  };
}
