/**
 * The load's first write where the engine copies faster than it checks (PostgreSQL; see
 * `Dialect.copiesScreenedRows`): one pass over the file, the scan's, in which every row the
 * screen (quality/row-screen.ts) passes, and that may not repeat another, goes straight to
 * the dataset's table as a line of CSV for COPY, typed by the table's columns as it lands.
 * The rows it sets aside (failed or doubtful, or held as possible repeats) are only noted
 * by line: the load reads those again and judges them with the rules in SQL, as every row
 * is judged on DuckDB (load/set-aside.ts and the stages after it).
 *
 * A line is the row as the file has it, after `load_id` and `org_code`, when no value of it
 * is quoted or padded (most rows); otherwise it is written again from its values as the rules
 * read them: trimmed, an empty one as missing, a quoted one still quoted.
 */
import type { CodeList } from '../catalogue/dataset-spec.ts';
import type { CsvRecord } from '../files/csv-reader.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import type { ProfileTally } from '../quality/profile-tally.ts';
import type { RowScreen, ScreenedRow } from '../quality/row-screen.ts';
import type { Queryable } from '../store/store.ts';
import type { FeedScan, ScanOptions } from './scan-feed.ts';
import { scanInParts } from './scan-workers.ts';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CHUNK_BYTES = 1 << 20;
/** chunks the copy may fall behind the scan by before the scan waits */
const QUEUED_CHUNKS = 4;

/** CSV for a value: quoted, with any quote doubled (RFC 4180 §2.7). */
const csvValue = (text: string): string => `"${text.replace(/"/g, '""')}"`;

/** Chunks of lines from the scan to the copy, the scan waiting when the copy falls behind. */
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

/** Lines of CSV for COPY, a chunk at a time, each chunk handed to `sink`. */
export class LineWriter {
  private out = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private at = 0;
  private readonly prefix: Buffer;

  constructor(
    leading: readonly string[],
    private readonly sink: (chunk: Buffer) => void,
  ) {
    this.prefix = Buffer.from(leading.map((v) => `${csvValue(v)},`).join(''));
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    this.flush();
    if (bytes > this.out.length) this.out = Buffer.allocUnsafeSlow(bytes);
  }

  flush(): void {
    if (this.at === 0) return;
    this.sink(this.out.subarray(0, this.at));
    // Its own memory (never the shared pool), so a worker can hand it over whole.
    this.out = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, this.out.length));
    this.at = 0;
  }

  /** Byte by byte: a call to Buffer.copy costs more than these few bytes. */
  private putPrefix(): void {
    const { out, prefix } = this;
    for (let k = 0; k < prefix.length; k++) out[this.at + k] = prefix[k] as number;
    this.at += prefix.length;
  }

  /** The row as the file has it: no value quoted or padded. */
  raw(record: CsvRecord): void {
    const s = record.starts[0] as number;
    const e = record.ends[record.count - 1] as number;
    this.room(this.prefix.length + e - s + 1);
    this.putPrefix();
    this.at += record.buf.copy(this.out, this.at, s, e);
    this.out[this.at++] = LF;
  }

  /** The row from its values as the rules read them. */
  tidied(record: CsvRecord, values: ScreenedRow): void {
    const buf = record.buf;
    let bytes = this.prefix.length + (record.ends[0] as number) - (record.starts[0] as number) + 1;
    for (let k = 0; k < values.starts.length; k++)
      bytes += (values.ends[k] as number) - (values.starts[k] as number) + 3;
    this.room(bytes);
    const out = this.out;
    this.putPrefix();
    this.at += buf.copy(out, this.at, record.starts[0], record.ends[0]);
    for (let k = 0; k < values.starts.length; k++) {
      out[this.at++] = COMMA;
      const s = values.starts[k] as number;
      const e = values.ends[k] as number;
      if (s >= e) continue;
      const quoted = record.quoted[k + 1] === 1;
      if (quoted) out[this.at++] = QUOTE;
      this.at += buf.copy(out, this.at, s, e);
      if (quoted) out[this.at++] = QUOTE;
    }
    out[this.at++] = LF;
  }
}

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
 * aside by the screen, or written as a line for COPY (and tallied). The same whether the
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
    private readonly writer: LineWriter,
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
    if (untidy) this.writer.tidied(record, values);
    else this.writer.raw(record);
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
  const writer = new LineWriter(request.leading.values, (chunk) => channel.push(chunk));
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
    rowsLoaded = await tx.copyCsvLines(
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
