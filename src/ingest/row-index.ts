/**
 * Where each row of a feed file starts, so the load can read a few rows again without a
 * second pass over the file. The scan notes every row's `source_line` and byte offset; they
 * are kept per block of 32 consecutive line numbers: the offset of the block's first row, a
 * bit for each line present, and each row's distance from the block's start in two bytes
 * (a block longer than that is read whole). About 2.6 bytes a row in all.
 *
 * The warehouse answers the same bits for the rows it loaded (`loadedBlocksSql`); a bit the
 * file has and the table lacks is a row left out, and its bytes are all that need reading
 * (`RowIndex.leftOut`).
 */
import { fieldText, readCsvRanges } from '../files/csv-reader.ts';

export const BLOCK_LINES = 32;
/** a row's distance from its block's start that does not fit in two bytes */
const FAR = 0xffff;

export class RowIndex {
  private keys = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  private masks = new Uint32Array(1024);
  /** per block, BLOCK_LINES distances from the block's first row (FAR: too far to say) */
  private distances = new Uint16Array(1024 * BLOCK_LINES);
  private length = 0;
  /** where the last row ends: the end of the file */
  end = 0;

  /** Notes a row; lines must count up (the scan checks they do). */
  add(line: number, offset: number): void {
    const key = line - (line % BLOCK_LINES);
    const bit = line % BLOCK_LINES;
    let block = this.length - 1;
    if (block < 0 || this.keys[block] !== key) {
      if (this.length === this.keys.length) this.grow();
      block = this.length++;
      this.keys[block] = key;
      this.offsets[block] = offset;
      this.masks[block] = 0;
    }
    this.masks[block] = ((this.masks[block] as number) | (1 << bit)) >>> 0;
    this.distances[block * BLOCK_LINES + bit] = Math.min(offset - (this.offsets[block] as number), FAR);
  }

  /**
   * The byte ranges holding the rows the file has and `loaded` (block key → bits, as
   * `loadedBlocksSql` answers) lacks, and those rows' lines; neighbouring ranges merge up to
   * `longestRange` bytes (or one block, if longer).
   */
  leftOut(
    loaded: ReadonlyMap<number, number>,
    longestRange = Number.POSITIVE_INFINITY,
  ): { ranges: [number, number][]; lines: Set<number> } {
    const ranges: [number, number][] = [];
    const lines = new Set<number>();
    const take = (start: number, end: number): void => {
      const previous = ranges[ranges.length - 1];
      if (previous && previous[1] === start && end - previous[0] <= longestRange) previous[1] = end;
      else ranges.push([start, end]);
    };
    for (let i = 0; i < this.length; i++) {
      const key = this.keys[i] as number;
      const present = this.masks[i] as number;
      const missing = (present & ~(loaded.get(key) ?? 0)) >>> 0;
      if (missing === 0) continue;
      const blockStart = this.offsets[i] as number;
      const blockEnd = i + 1 < this.length ? (this.offsets[i + 1] as number) : this.end;
      const at = (bit: number): number => this.distances[i * BLOCK_LINES + bit] as number;
      let whole = false;
      const rows: [number, number][] = [];
      for (let bit = 0; bit < BLOCK_LINES; bit++) {
        if (((missing >>> bit) & 1) === 0) continue;
        lines.add(key + bit);
        let next = bit + 1;
        while (next < BLOCK_LINES && ((present >>> next) & 1) === 0) next++;
        const end = next < BLOCK_LINES ? at(next) : blockEnd - blockStart;
        if (at(bit) === FAR || end === FAR) whole = true;
        else rows.push([blockStart + at(bit), blockStart + end]);
      }
      if (whole) take(blockStart, blockEnd);
      else for (const [start, end] of rows) take(start, end);
    }
    return { ranges, lines };
  }

  /**
   * Every row noted but `lines` (which must be noted, in order), as `leftOut` takes them
   * (block key → bits): the rows loaded when `lines` are the rows set aside.
   */
  allBut(lines: readonly number[]): Map<number, number> {
    const present = new Map<number, number>();
    for (let i = 0; i < this.length; i++) present.set(this.keys[i] as number, this.masks[i] as number);
    for (const line of lines) {
      const key = line - (line % BLOCK_LINES);
      present.set(key, ((present.get(key) ?? 0) & ~(1 << (line % BLOCK_LINES))) >>> 0);
    }
    return present;
  }

  private grow(): void {
    const size = this.keys.length * 2;
    const keys = new Float64Array(size);
    const offsets = new Float64Array(size);
    const masks = new Uint32Array(size);
    const distances = new Uint16Array(size * BLOCK_LINES);
    keys.set(this.keys);
    offsets.set(this.offsets);
    masks.set(this.masks);
    distances.set(this.distances);
    this.keys = keys;
    this.offsets = offsets;
    this.masks = masks;
    this.distances = distances;
  }
}

/**
 * SQL answering `block` and `bits` for the rows of `where` in `from`, whose line is in
 * `lineColumn`: the warehouse's side of `RowIndex.leftOut`. Plain SQL both engines run.
 */
export function loadedBlocksSql(from: string, where: string, lineColumn: string): string {
  const bit = `CAST(1 AS BIGINT) << CAST(${lineColumn} % ${BLOCK_LINES} AS INTEGER)`;
  return (
    `SELECT ${lineColumn} - ${lineColumn} % ${BLOCK_LINES} AS block, bit_or(${bit}) AS bits ` +
    `FROM ${from} WHERE ${where} GROUP BY 1`
  );
}

/** Bytes read at a time when reading left-out rows again: bounds the rows held at once. */
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * The rows of `file` (read whole by the scan that built `index`) that `loaded` lacks, as
 * text in the header's order, an empty value as null (as the engines read a CSV).
 */
export function* leftOutRows(
  file: string,
  header: readonly string[],
  index: RowIndex,
  loaded: ReadonlyMap<number, number>,
): Generator<(string | null)[]> {
  const { ranges, lines } = index.leftOut(loaded, BATCH_BYTES);
  let batch: [number, number][] = [];
  let bytes = 0;
  const read = (): (string | null)[][] => {
    const rows: (string | null)[][] = [];
    readCsvRanges(file, header, batch, (record) => {
      if (!lines.has(Number(fieldText(record, 0)))) return;
      // A row with no quoted field is decoded once and split, not field by field.
      const values = record.quoted.subarray(0, record.count).includes(1)
        ? Array.from({ length: record.count }, (_v, c) => fieldText(record, c))
        : record.buf.toString('utf8', record.starts[0], record.ends[record.count - 1]).split(',');
      rows.push(values.map((v) => v || null));
    });
    batch = [];
    bytes = 0;
    return rows;
  };
  for (const range of ranges) {
    batch.push(range);
    bytes += range[1] - range[0];
    if (bytes >= BATCH_BYTES) yield* read();
  }
  if (batch.length > 0) yield* read();
}
