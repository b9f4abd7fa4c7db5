/**
 * Records held column by column, for linking millions: each text field one array, each
 * Bloom-filter field one Uint32Array of fixed width (no object per record or per filter,
 * which at a million records a side cost more memory than the filters themselves). The
 * engine takes either this or an array of records (`LinkSide`).
 */
import { KernelError } from '../errors.ts';
import type { LinkRecord } from './comparison.ts';

export interface FilterColumn {
  /** 32-bit words per filter */
  width: number;
  /** filter i is words[i·width, (i+1)·width) */
  words: Uint32Array;
  /** 1 where record i has the filter */
  present: Uint8Array;
}

export class RecordColumns {
  readonly texts = new Map<string, (string | null)[]>();
  readonly filters = new Map<string, FilterColumn>();

  constructor(readonly length: number) {}

  setText(field: string, i: number, value: string | null): void {
    let column = this.texts.get(field);
    if (!column) {
      column = new Array<string | null>(this.length).fill(null);
      this.texts.set(field, column);
    }
    column[i] = value;
  }

  /** An agent's encoding of record i: its filters, and its keyed blocking keys as `block:NAME`. */
  setEncoded(
    i: number,
    encoded: { filters: Record<string, Uint32Array | null>; blockingKeys: Record<string, string | null> },
  ): void {
    for (const [field, bits] of Object.entries(encoded.filters)) this.setFilter(field, i, bits);
    for (const [name, key] of Object.entries(encoded.blockingKeys)) this.setText(`block:${name}`, i, key);
  }

  setFilter(field: string, i: number, bits: Uint32Array | null): void {
    if (bits === null) return;
    let column = this.filters.get(field);
    if (!column) {
      column = {
        width: bits.length,
        words: new Uint32Array(bits.length * this.length),
        present: new Uint8Array(this.length),
      };
      this.filters.set(field, column);
    }
    if (bits.length !== column.width) {
      throw new KernelError('invalid-input', `Filters of ${field} differ in length`, {
        where: { field },
        hint: 'Encode every record of a side with one scheme',
      });
    }
    column.words.set(bits, i * column.width);
    column.present[i] = 1;
  }
}

export type LinkSide = readonly LinkRecord[] | RecordColumns;

export function fieldTexts(side: LinkSide, field: string): (string | null)[] {
  if (side instanceof RecordColumns) {
    return (
      side.texts.get(field)?.map((v) => (v === null || v.length === 0 ? null : v)) ??
      new Array(side.length).fill(null)
    );
  }
  return side.map((r) => {
    const value = r[field];
    return typeof value === 'string' && value.length > 0 ? value : null;
  });
}

/** A side's filters of one field as one column (packed from the records if need be). */
export function fieldFilters(side: LinkSide, field: string): FilterColumn {
  if (side instanceof RecordColumns) {
    return (
      side.filters.get(field) ?? {
        width: 1,
        words: new Uint32Array(side.length),
        present: new Uint8Array(side.length),
      }
    );
  }
  const packed = new RecordColumns(side.length);
  side.forEach((r, i) => {
    const value = r[field];
    packed.setFilter(field, i, value instanceof Uint32Array ? value : null);
  });
  return (
    packed.filters.get(field) ?? {
      width: 1,
      words: new Uint32Array(side.length),
      present: new Uint8Array(side.length),
    }
  );
}

/** One record of a side as an object (for rules that compute a key from several fields). */
export function recordAt(side: LinkSide, i: number, fields: readonly string[]): LinkRecord {
  if (!(side instanceof RecordColumns)) return side[i]!;
  const record: Record<string, string | null> = {};
  for (const field of fields) record[field] = side.texts.get(field)?.[i] ?? null;
  return record;
}
