/**
 * Which rows of a feed file may repeat another, found by the load's scan as it reads them.
 *
 * A row repeats another when every value after `source_line` is the same once trimmed of
 * spaces and unquoted (`"a""b"` is `a"b`), as the load's checks read values
 * (row-rules.ts). The scan gives each row a 32-bit key of those values; rows sharing a key
 * are the candidates. Equal rows always share a key, so every repeat is a candidate; a few
 * rows more share one by chance (about n²/2³³ pairs: ~120 in a million rows), which costs
 * the load a little time and never a row, since it compares the candidates value by value.
 *
 * The load holds the candidates back from its first insert (load-feed.ts, step 0), because a
 * DuckDB transaction that deletes rows it has itself inserted writes every one of them again
 * at commit. Finding them here, on bytes the scan reads anyway, costs about a tenth of a
 * second a million rows; an engine's own pass over the file cost a second or more.
 */
import type { CsvRecord } from './csv-reader.ts';

const QUOTE = 0x22;
const SPACE = 0x20;
const SEPARATOR = 0x2c;
/** keys kept per array, so memory grows by steps of 4 MiB and never doubles */
const CHUNK = 1 << 20;

export class RepeatKeys {
  private readonly chunks: Uint32Array[] = [];
  private count = 0;
  /** each row's values laid end to end, at offset 0 so they can be read four bytes at a time */
  private scratch = Buffer.alloc(64 * 1024);
  private words = new Int32Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length >> 2);

  /** Notes the next row's key. */
  add(record: CsvRecord): void {
    const at = this.count % CHUNK;
    if (at === 0) this.chunks.push(new Uint32Array(CHUNK));
    (this.chunks[this.chunks.length - 1] as Uint32Array)[at] = this.key(record);
    this.count++;
  }

  /**
   * The lines of the rows whose key another row shares, in file order; `lines` gives every
   * row's line in file order (RowIndex.lines).
   */
  candidates(lines: Iterable<number>): number[] {
    const sorted = new Uint32Array(this.count);
    this.chunks.forEach((chunk, c) =>
      sorted.set(chunk.subarray(0, Math.min(CHUNK, this.count - c * CHUNK)), c * CHUNK),
    );
    sorted.sort();
    const shared = new Set<number>();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) shared.add(sorted[i] as number);
    const found: number[] = [];
    if (shared.size === 0) return found;
    let row = 0;
    for (const line of lines) {
      if (row >= this.count) break;
      const key = (this.chunks[Math.floor(row / CHUNK)] as Uint32Array)[row % CHUNK] as number;
      if (shared.has(key)) found.push(line);
      row++;
    }
    return found;
  }

  /**
   * The row's values after the first, trimmed and unquoted, are laid end to end in the
   * scratch buffer with a separator between them, then hashed four bytes at a time. Most
   * rows have no quoted or padded value: their bytes already read that way and are copied
   * whole. (A separator inside a value can make two different rows lay out alike: one
   * more candidate, never one fewer.)
   */
  private key(record: CsvRecord): number {
    const { buf, starts, ends, quoted, count } = record;
    let tidy = true;
    for (let i = 1; i < count; i++) {
      const s = starts[i] as number;
      const e = ends[i] as number;
      if (quoted[i] === 1 || (e > s && (buf[s] === SPACE || buf[e - 1] === SPACE))) {
        tidy = false;
        break;
      }
    }
    const first = starts[1] ?? 0;
    const last = ends[count - 1] ?? first;
    this.ensure(last - first + count);
    const scratch = this.scratch;
    let n = 0;
    if (count < 2) n = 0;
    else if (tidy) n = buf.copy(scratch, 0, first, last);
    else {
      for (let i = 1; i < count; i++) {
        let s = starts[i] as number;
        let e = ends[i] as number;
        const isQuoted = quoted[i] === 1;
        if (isQuoted) {
          s++;
          e--;
        }
        while (s < e && buf[s] === SPACE) s++;
        while (e > s && buf[e - 1] === SPACE) e--;
        if (i > 1) scratch[n++] = SEPARATOR;
        if (isQuoted) {
          // Inside quotes a quote is written twice: keep one.
          for (let k = s; k < e; k++) {
            const b = buf[k] as number;
            scratch[n++] = b;
            if (b === QUOTE) k++;
          }
        } else n += buf.copy(scratch, n, s, e);
      }
    }
    scratch.fill(0, n, n + 4);
    const words = this.words;
    let h = n | 0;
    const end = (n + 3) >> 2;
    for (let k = 0; k < end; k++) {
      h = Math.imul(h ^ (words[k] as number), 0x5bd1e995);
      h ^= h >>> 15;
    }
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }

  private ensure(bytes: number): void {
    if (this.scratch.length >= bytes + 8) return;
    this.scratch = Buffer.alloc(2 * bytes + 8);
    this.words = new Int32Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length >> 2);
  }
}
