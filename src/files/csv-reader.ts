/**
 * A streaming CSV reader for feed files, written for speed and for precise complaints.
 *
 * It follows RFC 4180 (fields separated by commas, records by CRLF or LF, a field in double
 * quotes may hold commas, line breaks and doubled quotes) and reads the file in chunks, so
 * memory stays flat whatever the file's size. Each record comes back as raw byte ranges
 * into the current chunk (`starts`/`ends`, quotes included), so a caller that only copies
 * fields through (the de-identification agent) never decodes them, and one that needs the
 * text asks `fieldText`.
 *
 * Every structural problem is one `KernelError('invalid-input')` naming the file, the
 * physical line (counting line breaks inside quoted fields, as an editor does) and the
 * column, with what to do. A UTF-8 byte-order mark is accepted and stripped; CRLF is
 * accepted.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import { KernelError } from '../errors.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/** One record, valid only during the `onRecord` call that receives it. */
export interface CsvRecord {
  /** the bytes the ranges point into */
  buf: Buffer;
  /** raw field ranges, quotes included: field i is buf[starts[i], ends[i]) */
  starts: Int32Array;
  ends: Int32Array;
  /** 1 where field i was quoted */
  quoted: Uint8Array;
  /** number of fields in this record */
  count: number;
  /** the physical line (1-based) the record starts on */
  line: number;
  /** the byte in the file where the record starts (what `readCsvRanges` takes) */
  offset: number;
}

export interface CsvReadOptions {
  delimiter?: string;
  /** longest field accepted, in bytes; a longer one is refused (default 1 MiB) */
  maxFieldBytes?: number;
  /** read size (default 1 MiB) */
  chunkBytes?: number;
  /** the name used in messages (default: the file's base name) */
  displayName?: string;
}

export interface CsvHandlers {
  /** the header's column names; throw to refuse the file */
  onHeader(columns: string[], line: number): void;
  /** each data record, already checked to have as many fields as the header */
  onRecord(record: CsvRecord): void;
  /** after each chunk: a place to wait for a writer to drain (backpressure) */
  onChunk?(bytesRead: number): void | Promise<void>;
  /** each chunk's raw bytes, in order (for a checksum of the whole file) */
  onBytes?(bytes: Buffer): void;
}

export interface CsvReadResult {
  columns: string[];
  /** data records (the header not counted) */
  rows: number;
  bytes: number;
  /** the file began with a UTF-8 byte-order mark, which was stripped */
  bom: boolean;
  crlf: boolean;
}

export const DEFAULT_MAX_FIELD_BYTES = 1024 * 1024;

/** The text of field `i`: quotes removed and doubled quotes undone. */
export function fieldText(record: CsvRecord, i: number): string {
  const start = record.starts[i] ?? 0;
  const end = record.ends[i] ?? 0;
  if (record.quoted[i] === 1) {
    const inner = record.buf.toString('utf8', start + 1, end - 1);
    return inner.includes('""') ? inner.replaceAll('""', '"') : inner;
  }
  return record.buf.toString('utf8', start, end);
}

/** Reads `file` record by record. Throws a `KernelError` for the first structural problem. */
export async function readCsv(
  file: string,
  handlers: CsvHandlers,
  options: CsvReadOptions = {},
): Promise<CsvReadResult> {
  const parser = new CsvParser(file, handlers, options);
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    for (let position = 0; ;) {
      // Read straight in after the part-record carried from the last read: no copy of the chunk.
      const { bytesRead } = await handle.read(parser.space(chunkBytes), parser.kept, chunkBytes, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      parser.filled(bytesRead, false);
      if (handlers.onChunk) await handlers.onChunk(parser.bytes);
    }
  } catch (error) {
    if (error instanceof KernelError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new KernelError('not-found', `The file ${file} does not exist`, { hint: 'Check the path' });
    }
    if (code === 'EISDIR') {
      throw new KernelError('invalid-input', `${file} is a folder, not a file`, {
        hint: 'Give the CSV file itself',
      });
    }
    throw error;
  } finally {
    await handle?.close();
  }
  parser.push(Buffer.alloc(0), true);
  return parser.result();
}

/**
 * Reads again some records of a file that `readCsv` has read whole, from byte ranges that
 * each start at a record's `offset` and end at another's (or at the end of the file), as if
 * they followed `header`: a second look at a few rows costs no second pass over the file.
 * Record lines are not the file's (the ranges are read out of place); answers the records read.
 */
export function readCsvRanges(
  file: string,
  header: readonly string[],
  ranges: Iterable<readonly [start: number, end: number]>,
  onRecord: (record: CsvRecord) => void,
  options: CsvReadOptions = {},
): number {
  const parser = new CsvParser(file, { onHeader: () => undefined, onRecord }, options);
  parser.push(Buffer.from(`${header.join(',')}\n`), false);
  const piece = options.chunkBytes ?? 1024 * 1024;
  // Synchronous reads: a few thousand small reads of bytes just read (so in the page cache)
  // cost less than as many trips through the thread pool. The ranges are whole records, so
  // they are read end to end into the parser's buffer and parsed a piece at a time.
  const fd = openSync(file, 'r');
  let any = false;
  let pending = 0;
  try {
    for (const [start, end] of ranges) {
      any = true;
      for (let at = start; at < end;) {
        const length = Math.min(piece, end - at);
        const buf = parser.space(length, pending);
        if (readSync(fd, buf, parser.kept + pending, length, at) !== length) {
          throw new KernelError('conflict', `The file ${parser.name} changed while it was being loaded`, {
            hint: 'Load it again, and leave the file alone until the load ends',
          });
        }
        at += length;
        pending += length;
        if (pending >= piece) {
          parser.filled(pending, false);
          pending = 0;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  if (!any) return 0;
  parser.filled(pending, true);
  return parser.result().rows;
}

/** What `readCsvPart` read: its records, and where the line count stood after them. */
export interface CsvPartResult {
  rows: number;
  /** the physical line after the part's last record (the next part's first) */
  line: number;
}

/**
 * Reads the records in bytes [start, end) of a file whose header is `header`, as `readCsv`
 * reads them (the same checks, record offsets from the start of the file), the first on
 * physical line `line`. The range must start and end at record boundaries: the load cuts a
 * file at line breaks only where it knows no quoted field holds one (repeat-candidates.ts),
 * so parts can be read by several threads at once (scan-worker.ts).
 */
export function readCsvPart(
  file: string,
  header: readonly string[],
  range: { start: number; end: number; line: number },
  onRecord: (record: CsvRecord) => void,
  options: CsvReadOptions = {},
): CsvPartResult {
  const parser = new CsvParser(file, { onHeader: () => undefined, onRecord }, options);
  parser.startPart([...header], range.start, range.line);
  const piece = options.chunkBytes ?? 1024 * 1024;
  const fd = openSync(file, 'r');
  try {
    for (let at = range.start; at < range.end;) {
      const length = Math.min(piece, range.end - at);
      if (readSync(fd, parser.space(length), parser.kept, length, at) !== length) {
        throw new KernelError('conflict', `The file ${parser.name} changed while it was being loaded`, {
          hint: 'Load it again, and leave the file alone until the load ends',
        });
      }
      at += length;
      parser.filled(length, at >= range.end);
    }
  } finally {
    closeSync(fd);
  }
  return { rows: parser.result().rows, line: parser.lineNow };
}

class CsvParser {
  readonly name: string;
  private readonly delimiter: number;
  /** 1 for the bytes that end an unquoted field (or must not be in one) */
  private readonly special = new Uint8Array(256);
  private readonly maxFieldBytes: number;
  /** the bytes read: a part-record carried from the last read at [0, kept), then new bytes */
  private work: Buffer = Buffer.alloc(0);
  kept = 0;
  private line = 1;
  private header: string[] | undefined;
  private rows = 0;
  bytes = 0;
  private bom = false;
  private crlf = false;
  private first = true;
  /** reading a part of a file (`readCsvPart`): no header, no checks of the whole file */
  private part = false;
  private readonly record: CsvRecord;

  constructor(
    private readonly file: string,
    private readonly handlers: CsvHandlers,
    options: CsvReadOptions,
  ) {
    this.name = options.displayName ?? path.basename(file);
    const delimiter = options.delimiter ?? ',';
    if (Buffer.byteLength(delimiter) !== 1)
      throw new KernelError('usage', 'A CSV delimiter must be one byte');
    this.delimiter = delimiter.charCodeAt(0);
    for (const b of [this.delimiter, LF, CR, QUOTE]) this.special[b] = 1;
    this.maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
    this.record = {
      buf: this.work,
      starts: new Int32Array(64),
      ends: new Int32Array(64),
      quoted: new Uint8Array(64),
      count: 0,
      line: 1,
      offset: 0,
    };
  }

  /** Reads from `offset`, a record's start on physical `line`, as if after `header`. */
  startPart(header: string[], offset: number, line: number): void {
    this.header = header;
    this.first = false;
    this.part = true;
    this.consumed = offset;
    this.line = line;
  }

  /** the physical line the next record starts on */
  get lineNow(): number {
    return this.line;
  }

  private fail(message: string, line: number, hint: string, column?: number): never {
    throw new KernelError('invalid-input', message, {
      where: { file: this.name, line, ...(column === undefined ? {} : { column }) },
      hint,
    });
  }

  /**
   * The buffer to read up to `bytes` more bytes into, at offset `kept + pending` (`pending`:
   * bytes already read in after `kept` and not yet passed to `filled`); then call `filled`.
   */
  space(bytes: number, pending = 0): Buffer {
    const keep = this.kept + pending;
    if (this.work.length < keep + bytes) {
      const bigger = Buffer.allocUnsafe(Math.max(keep + bytes, this.work.length * 2));
      this.work.copy(bigger, 0, 0, keep);
      this.work = bigger;
    }
    return this.work;
  }

  /** Takes `chunk` as the next bytes of the file (a copy: `space` and `filled` avoid it). */
  push(chunk: Buffer, last: boolean): void {
    chunk.copy(this.space(chunk.length), this.kept);
    this.filled(chunk.length, last);
  }

  /** Parses what it can of the bytes read so far, `bytes` of them new (after `kept`). */
  filled(bytes: number, last: boolean): void {
    this.bytes += bytes;
    if (bytes > 0) this.handlers.onBytes?.(this.work.subarray(this.kept, this.kept + bytes));
    let base = 0;
    const length = this.kept + bytes;
    if (this.first) {
      if (length < 3 && !last) {
        this.kept = length;
        return;
      }
      this.first = false;
      const w = this.work;
      if (w[0] === 0xef && w[1] === 0xbb && w[2] === 0xbf) {
        this.bom = true;
        base = 3;
      } else if ((w[0] === 0xff && w[1] === 0xfe) || (w[0] === 0xfe && w[1] === 0xff)) {
        this.fail(
          'The file is UTF-16 text, not UTF-8',
          1,
          'Save or export the file as UTF-8 CSV and send it again',
        );
      }
    }
    const buf = this.work.subarray(base, length);
    if (last && buf.length === 0 && this.header === undefined) {
      this.fail('The file is empty', 1, 'Send a CSV file with a header row and at least one data row');
    }
    // Checked before parsing, up to the last line break: a line break never falls inside a
    // multi-byte UTF-8 sequence, so the rest is checked with the next chunk.
    this.regionStart = this.consumed;
    this.regionStartLine = this.line;
    this.checkBytes(buf, last ? buf.length : buf.lastIndexOf(LF) + 1);
    const consumed = this.parse(buf, last);
    this.consumed += consumed;
    // What is left (part of a record) moves to the front, for the next read to follow.
    this.work.copyWithin(0, base + consumed, length);
    this.kept = length - base - consumed;
    if (last && !this.part) {
      if (this.header === undefined) {
        this.fail('The file is empty', 1, 'Send a CSV file with a header row and at least one data row');
      }
      if (this.rows === 0) {
        this.fail(
          'The file has a header row but no data rows',
          1,
          'Check the extract ran for the right period',
        );
      }
    }
  }

  result(): CsvReadResult {
    return { columns: this.header ?? [], rows: this.rows, bytes: this.bytes, bom: this.bom, crlf: this.crlf };
  }

  /** NUL bytes and invalid UTF-8 in the records just parsed (buf[0, end)). */
  private checkBytes(buf: Buffer, end: number): void {
    const region = buf.subarray(0, end);
    const nul = region.indexOf(NUL);
    if (nul >= 0) {
      this.fail(
        `The file holds binary data (a NUL byte at byte ${this.offsetOf(buf, nul)})`,
        this.lineAt(region, nul),
        'Send the CSV text export, not a binary or compressed file',
      );
    }
    if (!isUtf8(region)) {
      const bad = firstInvalidUtf8(region);
      this.fail(
        `The file is not valid UTF-8 text (a bad byte 0x${(region[bad] ?? 0).toString(16).padStart(2, '0')} at byte ${this.offsetOf(buf, bad)})`,
        this.lineAt(region, bad),
        'Save or export the file as UTF-8 CSV (not Windows-1252 or Latin-1) and send it again',
      );
    }
  }

  // Offsets in messages are from the start of the file, so `head -c` or a hex editor finds them.
  private regionStart = 0;
  private regionStartLine = 1;
  private consumed = 0;
  private offsetOf(_buf: Buffer, at: number): number {
    return this.regionStart + at + (this.bom ? 3 : 0);
  }
  private lineAt(region: Buffer, at: number): number {
    let line = this.regionStartLine;
    for (let i = region.indexOf(LF); i >= 0 && i < at; i = region.indexOf(LF, i + 1)) line++;
    return line;
  }

  /** Parses whole records from buf; answers how many bytes were consumed. */
  private parse(buf: Buffer, last: boolean): number {
    const len = buf.length;
    const delim = this.delimiter;
    const special = this.special;
    const max = this.maxFieldBytes;
    const record = this.record;
    record.buf = buf;
    let i = 0;
    while (i < len) {
      const recordStart = i;
      const recordLine = this.line;
      let line = this.line;
      let count = 0;
      let complete = false;
      // one record
      for (;;) {
        const fieldStart = i;
        let quoted = 0;
        if (buf[i] === QUOTE) {
          quoted = 1;
          i++;
          for (;;) {
            const q = buf.indexOf(QUOTE, i);
            const stop = q < 0 ? len : q;
            for (let n = buf.indexOf(LF, i); n >= 0 && n < stop; n = buf.indexOf(LF, n + 1)) line++;
            if (stop - fieldStart > max) this.tooLong(recordLine, count + 1);
            if (q < 0) {
              if (last) {
                this.fail(
                  `A quoted field opened on line ${recordLine} is never closed`,
                  recordLine,
                  'Each " that opens a field must be matched by a closing "; a " inside a field is written ""',
                  count + 1,
                );
              }
              return this.incomplete(recordStart, recordLine);
            }
            if (q + 1 >= len && !last) return this.incomplete(recordStart, recordLine);
            if (buf[q + 1] === QUOTE) {
              i = q + 2;
              continue;
            }
            i = q + 1;
            break;
          }
          const next = buf[i];
          if (i < len && next !== delim && next !== LF && next !== CR) {
            this.fail(
              'A character follows a closing quote',
              line,
              'A quoted field must end at the quote; a " inside a field is written ""',
              count + 1,
            );
          }
        } else {
          // One table look-up a byte finds the field's end (or a stray quote).
          while (i < len && special[buf[i] as number] === 0) i++;
          if (i < len && buf[i] === QUOTE) {
            this.fail(
              'A double quote appears inside an unquoted field',
              line,
              'Put the whole field in double quotes and write each " inside it as ""',
              count + 1,
            );
          }
          if (i - fieldStart > max) this.tooLong(recordLine, count + 1);
          if (i >= len && !last) return this.incomplete(recordStart, recordLine);
        }
        if (count === record.starts.length) this.grow();
        record.starts[count] = fieldStart;
        record.ends[count] = i;
        record.quoted[count] = quoted;
        count++;
        if (i >= len) {
          complete = true;
          break;
        }
        const b = buf[i];
        if (b === delim) {
          i++;
          if (i >= len && !last) return this.incomplete(recordStart, recordLine);
          continue;
        }
        if (b === CR) {
          if (i + 1 >= len && !last) return this.incomplete(recordStart, recordLine);
          if (buf[i + 1] === LF) {
            this.crlf = true;
            i += 2;
          } else {
            i += 1;
          }
        } else {
          i++; // LF
        }
        line++;
        complete = true;
        break;
      }
      if (!complete) return this.incomplete(recordStart, recordLine);
      this.line = line;
      record.count = count;
      record.line = recordLine;
      record.offset = (this.bom ? 3 : 0) + this.consumed + recordStart;
      this.emit(record);
    }
    return len;
  }

  private incomplete(recordStart: number, recordLine: number): number {
    this.line = recordLine;
    return recordStart;
  }

  private tooLong(line: number, column: number): never {
    this.fail(
      `A field is longer than the limit of ${this.maxFieldBytes} bytes`,
      line,
      'Check the export: a field this long is usually a missing closing quote or a file that is not CSV',
      column,
    );
  }

  private grow(): void {
    const size = this.record.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const quoted = new Uint8Array(size);
    starts.set(this.record.starts);
    ends.set(this.record.ends);
    quoted.set(this.record.quoted);
    this.record.starts = starts;
    this.record.ends = ends;
    this.record.quoted = quoted;
  }

  private emit(record: CsvRecord): void {
    if (this.header === undefined) {
      const columns: string[] = [];
      for (let c = 0; c < record.count; c++) columns.push(fieldText(record, c));
      this.checkHeader(columns, record.line);
      this.header = columns;
      this.handlers.onHeader(columns, record.line);
      return;
    }
    const expected = this.header.length;
    if (record.count !== expected) {
      if (record.count === 1 && record.ends[0] === record.starts[0]) {
        this.fail('The line is blank', record.line, 'Remove blank lines between rows');
      }
      this.fail(
        `The row has ${record.count} columns but the header has ${expected}`,
        record.line,
        record.count > expected
          ? 'Quote any field that contains a comma, or remove the extra columns'
          : 'Fill in the missing columns (an empty value is fine), or check for a line break inside an unquoted field',
        Math.min(record.count, expected) + 1,
      );
    }
    this.rows++;
    this.handlers.onRecord(record);
  }

  private checkHeader(columns: string[], line: number): void {
    if (columns.length === 1) {
      const only = columns[0] ?? '';
      for (const [sign, name] of [
        [';', 'semicolons'],
        ['\t', 'tabs'],
        ['|', 'vertical bars'],
      ] as const) {
        if (only.includes(sign)) {
          this.fail(
            `The header is one column separated by ${name}, not commas`,
            line,
            'Export the file as comma-separated CSV',
          );
        }
      }
    }
    const seen = new Map<string, number>();
    columns.forEach((name, index) => {
      const before = seen.get(name);
      if (before !== undefined) {
        this.fail(
          `The column name "${name}" appears twice in the header (columns ${before + 1} and ${index + 1})`,
          line,
          'Give each column a different name',
          index + 1,
        );
      }
      seen.set(name, index);
    });
  }
}

/** The offset of the first byte that breaks UTF-8 (RFC 3629 section 4), for the error message only. */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    let need = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return buf.length;
}
