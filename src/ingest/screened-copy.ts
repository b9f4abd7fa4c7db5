/**
 * The load's first write where the engine copies faster than it checks (PostgreSQL; see
 * `Dialect.copiesScreenedRows`): one pass over the file, the scan's, in which every row the
 * screen (quality/row-screen.ts) passes, and that may not repeat another, goes straight to
 * the dataset's table by COPY, already typed (`TupleWriter`: PostgreSQL's binary format).
 * The rows it sets aside (failed or doubtful, or held as possible repeats) are only noted
 * by line: the load reads those again and judges them with the rules in SQL, as every row
 * is judged on DuckDB (load-feed.ts, steps 2 and after).
 *
 * Each value is sent as the rules read it: trimmed, unquoted, an empty one as missing (NULL).
 */
import type { CodeList, FieldType } from '../catalogue/dataset-spec.ts';
import type { CsvRecord } from '../files/csv-reader.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import type { ProfileTally } from '../quality/profile-tally.ts';
import type { RowScreen, ScreenedRow } from '../quality/row-screen.ts';
import type { Queryable } from '../store/store.ts';
import type { FeedScan, ScanOptions } from './scan-feed.ts';
import { scanInParts } from './scan-workers.ts';

const QUOTE = 0x22;
const CHUNK_BYTES = 1 << 20;
/** chunks the copy may fall behind the scan by before the scan waits */
const QUEUED_CHUNKS = 4;

/** Chunks of rows from the scan to the copy, the scan waiting when the copy falls behind. */
class LineChannel implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private failure: unknown;
  private aborted = false;
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;

  push(chunk: Buffer): void {
    if (this.aborted) return;
    this.chunks.push(chunk);
    this.wake();
  }

  /** Resolves once the copy has caught up (or has stopped). */
  drained(): Promise<void> | undefined {
    if (this.aborted || this.chunks.length <= QUEUED_CHUNKS) return undefined;
    return new Promise((resolve) => (this.wakeWriter = resolve));
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.failure = error;
    this.ended = true;
    this.wake();
  }

  /** The copy stopped: the scan goes on to its end, writing nothing more. */
  abort(): void {
    this.aborted = true;
    this.chunks.length = 0;
    this.wake();
  }

  private wake(): void {
    const reader = this.wakeReader;
    this.wakeReader = undefined;
    reader?.();
    if (this.chunks.length <= QUEUED_CHUNKS || this.aborted) {
      const writer = this.wakeWriter;
      this.wakeWriter = undefined;
      writer?.();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.wake();
        yield chunk;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
  }
}

/** How each column of the table is sent: its stored type's binary form (row-rules.ts storedType). */
const TEXT = 0;
const INT8 = 1;
const FLOAT8 = 2;
const DATE = 3;
const BOOL = 4;
const SENT_AS: Partial<Record<FieldType, number>> = {
  integer: INT8,
  decimal: FLOAT8,
  date: DATE,
  boolean: BOOL,
};
/** 2000-01-01, PostgreSQL's day 0, as days since 1970-01-01 */
const POSTGRES_EPOCH_DAY = 10_957;
const TWO_32 = 4_294_967_296;

/**
 * Days since 1970-01-01 of a date noted as y·10000 + m·100 + d, of the years 1 to 9999 (as the
 * screen passes them), so every quotient is of numbers not below zero and truncates as it
 * floors (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil).
 */
function daysOfKey(key: number): number {
  const m = ((key / 100) | 0) % 100;
  const year = ((key / 10_000) | 0) - (m <= 2 ? 1 : 0);
  const era = (year / 400) | 0;
  const yoe = year - era * 400;
  const doy = (((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) | 0) + (key % 100) - 1;
  return era * 146_097 + yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy - 719_468;
}

/**
 * Rows for COPY in PostgreSQL's binary format (PostgreSQL docs, "COPY", Binary Format), a
 * chunk at a time, each chunk handed to `sink`: per row the field count, then each field's
 * length (-1 for NULL) and bytes. Text goes as its bytes; integers, decimals, dates and
 * booleans in their binary forms, from the numbers the screen noted as it passed the row
 * (row-screen.ts `ScreenedRow.numbers`), so the server parses no text at all: most of what a
 * typed COPY of CSV cost it. Big-endian throughout, written byte by byte.
 */
export class TupleWriter {
  private out = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private at = 0;
  /** the field count and the leading values (load_id, org_code), the same in every row */
  private readonly prefix: Buffer;
  private readonly sentAs: Uint8Array;
  private readonly float = new Float64Array(1);
  private readonly floatBytes = new Uint8Array(this.float.buffer);

  constructor(
    plan: DeidPlan,
    leading: readonly string[],
    private readonly sink: (chunk: Buffer) => void,
  ) {
    const fields = leading.length + 1 + plan.columns.length;
    const parts = [Buffer.from([fields >>> 8, fields & 0xff])];
    for (const value of leading) {
      const bytes = Buffer.from(value);
      const length = Buffer.alloc(4);
      length.writeInt32BE(bytes.length);
      parts.push(length, bytes);
    }
    this.prefix = Buffer.concat(parts);
    this.sentAs = Uint8Array.from(plan.columns.map((c) => SENT_AS[c.type] ?? TEXT));
  }

  flush(): void {
    if (this.at === 0) return;
    this.sink(this.out.subarray(0, this.at));
    // Its own memory (never the shared pool), so a worker can hand it over whole.
    this.out = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.at = 0;
  }

  /**
   * A row the screen passed, `line` its source_line; `span` bounds the bytes of its values
   * (the record's length in the file).
   */
  row(values: ScreenedRow, line: number, span: number): void {
    const sentAs = this.sentAs;
    const columns = sentAs.length;
    // Each value's bytes or eight, with its length: never more than this.
    const most = this.prefix.length + 12 + columns * 12 + span;
    if (this.at + most > this.out.length) {
      this.flush();
      if (most > this.out.length) this.out = Buffer.allocUnsafeSlow(most);
    }
    // Written through locals, byte by byte: this runs for every row, most values a few bytes.
    const out = this.out;
    let at = this.at;
    const { buf, starts, ends } = values;
    const numbers = values.numbers as Float64Array;
    const prefix = this.prefix;
    for (let k = 0; k < prefix.length; k++) out[at++] = prefix[k] as number;
    at = putInt32(out, at, 8);
    at = putInt64(out, at, line);
    for (let k = 0; k < columns; k++) {
      const s = starts[k] as number;
      const e = ends[k] as number;
      if (s >= e) {
        at = putInt32(out, at, -1);
        continue;
      }
      const kind = sentAs[k] as number;
      if (kind === TEXT) {
        at = putInt32(out, at, e - s);
        if (e - s > 24) at += buf.copy(out, at, s, e);
        else for (let i = s; i < e; i++) out[at++] = buf[i] as number;
      } else if (kind === DATE) {
        at = putInt32(out, putInt32(out, at, 4), daysOfKey(numbers[k] as number) - POSTGRES_EPOCH_DAY);
      } else if (kind === INT8) {
        at = putInt64(out, putInt32(out, at, 8), numbers[k] as number);
      } else if (kind === FLOAT8) {
        // A decimal of more than 15 digits was not noted: JavaScript reads its text as float8in does.
        const noted = numbers[k] as number;
        this.float[0] = Number.isNaN(noted) ? Number(buf.toString('latin1', s, e)) : noted;
        at = putInt32(out, at, 8);
        const bytes = this.floatBytes;
        for (let i = 0; i < 8; i++) out[at + i] = bytes[FLOAT_ORDER[i] as number] as number;
        at += 8;
      } else {
        at = putInt32(out, at, 1);
        out[at++] = numbers[k] as number;
      }
    }
    this.at = at;
  }
}

/** Writes a 32-bit integer, most significant byte first; answers where it ends. */
function putInt32(out: Buffer, at: number, value: number): number {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
  return at + 4;
}

/** Writes a whole number of at most 53 bits as eight bytes; answers where it ends. */
function putInt64(out: Buffer, at: number, value: number): number {
  const high = Math.floor(value / TWO_32);
  return putInt32(out, putInt32(out, at, high | 0), (value - high * TWO_32) >>> 0);
}

/** The bytes of a Float64Array's element, most significant first (this machine's order found once). */
const FLOAT_ORDER =
  new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f
    ? [7, 6, 5, 4, 3, 2, 1, 0]
    : [0, 1, 2, 3, 4, 5, 6, 7];

/** A quoted value holding a quote: the screen judges bytes, and these are escaped ones. */
function hasQuoteInside(record: CsvRecord, values: ScreenedRow): boolean {
  for (let k = 0; k < values.starts.length; k++) {
    if (record.quoted[k + 1] !== 1) continue;
    const at = record.buf.indexOf(QUOTE, values.starts[k]);
    if (at >= 0 && at < (values.ends[k] as number)) return true;
  }
  return false;
}

/**
 * The copy's decision for each row the scan has checked: held as a possible repeat, set
 * aside by the screen, or written as a row for COPY (and tallied). The same whether the
 * file is scanned whole on this thread or in parts by workers (scan-worker.ts).
 */
export class RowCopier {
  /** the source_line of every row not copied, in file order */
  readonly setAside: number[] = [];
  private held = 0;

  constructor(
    /** the lines of rows that may repeat another, in file order: never copied */
    private readonly hold: ArrayLike<number>,
    private readonly screen: RowScreen,
    private readonly writer: TupleWriter,
    private readonly tally: ProfileTally | undefined,
  ) {}

  /** Starts at `line` (a part of the file): the held lines before it are passed. */
  seek(line: number): void {
    let low = 0;
    let high = this.hold.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.hold[mid] as number) < line) low = mid + 1;
      else high = mid;
    }
    this.held = low;
  }

  take(record: CsvRecord, values: ScreenedRow, untidy: boolean, line: number): void {
    const hold = this.hold;
    while (this.held < hold.length && (hold[this.held] as number) < line) this.held++;
    if (
      (this.held < hold.length && hold[this.held] === line) ||
      !this.screen.passes(values) ||
      (untidy && hasQuoteInside(record, values))
    ) {
      this.setAside.push(line);
      return;
    }
    this.writer.row(values, line, (record.ends[record.count - 1] as number) - (record.starts[0] as number));
    this.tally?.add(values);
  }
}

export interface ScreenedCopy {
  scan: FeedScan;
  rowsLoaded: number;
  /** the source_line of every row not copied, in file order */
  setAside: number[];
}

export interface ScreenedCopyRequest {
  table: string;
  plan: DeidPlan;
  /** values for the table's columns before the file's: load_id, org_code */
  leading: { columns: readonly string[]; values: readonly string[] };
  screen: RowScreen;
  /** the lines of rows that may repeat another (repeat-candidates.ts), in file order: never copied */
  hold: readonly number[];
  /** the parts of the profile the scan tallies, row by row copied */
  tally?: ProfileTally;
  /**
   * To scan a large file in parts on several threads (scan-workers.ts): the screen's code
   * lists, and whether a quoted field may hold a line break (repeat-candidates.ts).
   */
  inParts?: { codeList: (listId: string) => CodeList | undefined; quotedLineBreaks: boolean };
  /** starts the load's scan of the file with these options, once */
  startScan: (options: Pick<ScanOptions, 'onRow' | 'onChunk' | 'inParts'>) => Promise<FeedScan>;
}

/** Copies the rows that pass the screen, in the load's scan; see the top of this file. */
export async function copyScreenedRows(tx: Queryable, request: ScreenedCopyRequest): Promise<ScreenedCopy> {
  const { hold, screen, tally, inParts } = request;
  const channel = new LineChannel();
  const writer = new TupleWriter(request.plan, request.leading.values, (chunk) => channel.push(chunk));
  const copier = new RowCopier(hold, screen, writer, tally);
  const scanning = request.startScan({
    onRow: (record, values, untidy, line) => copier.take(record, values, untidy, line),
    onChunk() {
      writer.flush();
      return channel.drained();
    },
    ...(inParts
      ? {
          inParts: (file, plan, options) =>
            scanInParts(file, plan, options, {
              leading: request.leading.values,
              hold,
              codeList: inParts.codeList,
              quotedLineBreaks: inParts.quotedLineBreaks,
              tally,
              push: (chunk) => channel.push(chunk),
              drained: () => channel.drained(),
              setAside: copier.setAside,
            }),
        }
      : {}),
  });
  scanning.then(
    () => {
      writer.flush();
      channel.end();
    },
    (error: unknown) => channel.fail(error),
  );
  let rowsLoaded: number;
  try {
    rowsLoaded = await tx.copyBinaryRows(
      request.table,
      [...request.leading.columns, ...request.plan.accepted],
      channel,
    );
  } catch (error) {
    // The scan's own complaint (structure, identifiers) says where; otherwise the copy's.
    channel.abort();
    await scanning;
    throw error;
  }
  return { scan: await scanning, rowsLoaded, setAside: copier.setAside };
}
