/**
 * The load's one pass over a pseudonymised file before anything is written: its SHA-256,
 * its structure (the CSV reader's checks), its row count, and the hunt for identifiers that
 * should have been removed at source (privacy/identifier-hunt.ts): identifier columns by
 * name here, and values shaped like identifiers there.
 *
 * It also notes where each row starts (row-index.ts), so the load can read a few rows again.
 */
import { createHash } from 'node:crypto';
import { KernelError } from '../errors.ts';
import { SOURCE_LINE, type DeidPlan } from '../privacy/deid-plan.ts';
import { columnWatch, inspect, refuseIdentifiers, type ColumnWatch } from '../privacy/identifier-hunt.ts';
import { fieldText, readCsv, type CsvRecord } from '../files/csv-reader.ts';
import { RowIndex } from './row-index.ts';
import type { ScreenedRow } from '../quality/row-screen.ts';

// The hunt's tallies, for the scan in parts (scan-workers.ts, scan-worker.ts).
export { mergeWatch, refuseIdentifiers, type WatchTally } from '../privacy/identifier-hunt.ts';

export interface FeedScan {
  sha256: string;
  rows: number;
  bytes: number;
  columns: string[];
  /** per accepted column after source_line: values that are not empty (completeness) */
  filled: number[];
  /** where each row starts, by its source_line */
  index: RowIndex;
}

export interface ScanOptions {
  displayName: string;
  onProgress?: (bytesDone: number) => void;
  /**
   * Each row after the scan's checks of it, with its values as the rules read them (valid
   * only during the call), and whether any was quoted or trimmed. The scan waits for
   * `onChunk` after each chunk of the file (a writer's backpressure).
   */
  onRow?: (record: CsvRecord, values: ScreenedRow, untidy: boolean, sourceLine: number) => void;
  onChunk?: () => void | Promise<void>;
  /**
   * Another way to scan the file (scan-workers.ts: in parts, on several threads), taken
   * when it answers a promise; `onRow` and `onChunk` are then not called.
   */
  inParts?: (file: string, plan: DeidPlan, options: ScanOptions) => Promise<FeedScan> | undefined;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** 1 for the bytes of hexadecimal digits: one table look-up a byte. */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** 64 hexadecimal digits, checked on the bytes: a million tokens a file, no strings made. */
function isToken(buf: Buffer, s: number, e: number): boolean {
  if (e - s !== 64) return false;
  for (let k = s; k < e; k++) if (HEX[buf[k] as number] === 0) return false;
  return true;
}

/**
 * Each accepted value of a record as the rules read it: inside its quotes, and trimmed of
 * spaces at either end as SQL's TRIM does (completeness, row-rules.ts valueOf); empty where
 * the value is missing. Answers whether any value was quoted or trimmed.
 */
function trimmedRanges(record: CsvRecord, values: ScreenedRow): boolean {
  const buf = record.buf;
  values.buf = buf;
  let changed = false;
  for (let k = 0; k < values.starts.length; k++) {
    const i = k + 1;
    let s = record.starts[i] as number;
    let e = record.ends[i] as number;
    if (record.quoted[i] === 1) {
      s++;
      e--;
      changed = true;
    }
    if (buf[s] === 0x20 || buf[e - 1] === 0x20) {
      changed = true;
      while (s < e && buf[s] === 0x20) s++;
      while (e > s && buf[e - 1] === 0x20) e--;
    }
    values.starts[k] = s;
    values.ends[k] = e;
  }
  return changed;
}

function notToken(watch: ColumnWatch, record: CsvRecord, file: string): never {
  throw new KernelError('refused', `The column ${watch.name} holds a value that is not a token`, {
    where: { file, line: record.line, field: watch.name },
    hint: 'Send the file exactly as `kernel deid` wrote it; tokens are 64 hexadecimal digits',
  });
}

/**
 * `source_line`, the line in the sender's extract that `kernel deid` wrote as the first
 * column, must be a whole number above the one before: the load tells rows apart by it (the
 * rows it set aside, the copies it dropped), so two rows sharing one could lose a row.
 * Returns this record's line.
 */
function checkSourceLine(record: CsvRecord, previous: number, file: string): number {
  const buf = record.buf;
  const s = record.starts[0] ?? 0;
  const e = record.ends[0] ?? 0;
  let value = 0;
  for (let k = s; k < e && value <= Number.MAX_SAFE_INTEGER; k++) {
    const c = buf[k] as number;
    if (!isDigit(c)) {
      value = -1;
      break;
    }
    value = value * 10 + (c - 0x30);
  }
  if (e === s || value <= previous || value > Number.MAX_SAFE_INTEGER) {
    // The value is shown only when too short to be an identifier someone put in the wrong
    // column (an NHS number, postcode or date of birth): the message is stored and printed.
    const text = fieldText(record, 0);
    const shownText = text.length <= 4 ? `"${text}"` : `(${text.length} characters)`;
    const shownNumber = (n: number): string => (n < 10_000_000 ? String(n) : 'of more than 7 digits');
    throw new KernelError(
      'invalid-input',
      value < 0 || e === s || value > Number.MAX_SAFE_INTEGER
        ? `The ${SOURCE_LINE} ${shownText} is not a line number`
        : `The ${SOURCE_LINE} ${shownNumber(value)} does not come after the one before (${shownNumber(previous)})`,
      {
        where: { file, line: record.line, field: SOURCE_LINE },
        hint: `Send the file exactly as \`kernel deid\` wrote it: its ${SOURCE_LINE} counts up, one number a row`,
      },
    );
  }
  return value;
}

/** The header's checks: no identifier column, and exactly the accepted columns in order. */
export function checkHeader(columns: string[], line: number, plan: DeidPlan, file: string): void {
  const byName = new Set(plan.columns.map((c) => c.name));
  const identifiers = columns.filter((c) => plan.identifierFields.includes(c) && !byName.has(c));
  if (identifiers.length > 0) {
    throw new KernelError('refused', `The file still carries identifier columns: ${identifiers.join(', ')}`, {
      where: { file, line, field: identifiers[0] },
      hint: 'Run the extract through `kernel deid` first and send its output',
    });
  }
  const missing = plan.accepted.filter((c) => !columns.includes(c));
  const unknown = columns.filter((c) => !plan.accepted.includes(c));
  if (missing.length > 0 || unknown.length > 0 || columns.join(',') !== plan.accepted.join(',')) {
    throw new KernelError(
      'invalid-input',
      `The file's columns are not the accepted shape of ${plan.spec.id} version ${plan.spec.version}` +
        (missing.length > 0 ? `; missing ${missing.join(', ')}` : '') +
        (unknown.length > 0 ? `; unknown ${unknown.join(', ')}` : '') +
        (missing.length === 0 && unknown.length === 0 ? '; the columns are out of order' : ''),
      {
        where: { file, line },
        hint: 'Send the file exactly as `kernel deid` wrote it',
      },
    );
  }
}

/**
 * The scan's work on each record, the same whether the file is read whole on this thread or
 * in parts by workers (scan-worker.ts): its source_line, its values as the rules read them,
 * and the identifier hunt's watch.
 */
export class RowScan {
  /**
   * The hunt's watch of every column of the file, source_line first: a sender's system (or
   * a faulty agent) could put an NHS number there as well as anywhere else, and analysts
   * read the column like any other.
   */
  readonly watches: ColumnWatch[];
  readonly values: ScreenedRow;
  /** the last record's values were quoted or trimmed */
  untidy = false;

  constructor(
    plan: DeidPlan,
    private readonly file: string,
    /** the source_line before the first record */
    public previousLine = 0,
  ) {
    this.watches = feedWatches(plan);
    this.values = {
      buf: Buffer.alloc(0),
      starts: new Int32Array(plan.columns.length),
      ends: new Int32Array(plan.columns.length),
      numbers: new Float64Array(plan.columns.length),
    };
  }

  /** Checks a record (throws `KernelError` where it must); answers its source_line. */
  take(record: CsvRecord): number {
    const line = checkSourceLine(record, this.previousLine, this.file);
    this.previousLine = line;
    const { watches, values } = this;
    // A source_line is digits alone (checkSourceLine): only ten of them can look like anything.
    const sourceLine = watches[0] as ColumnWatch;
    sourceLine.nonEmpty++;
    if ((record.ends[0] as number) - (record.starts[0] as number) >= 10)
      inspect(sourceLine, record, record.starts[0] as number, record.ends[0] as number);
    this.untidy = trimmedRanges(record, values);
    const { starts, ends } = values;
    for (let w = 1; w < watches.length; w++) {
      const watch = watches[w] as ColumnWatch;
      const s = starts[w - 1] as number;
      const e = ends[w - 1] as number;
      if (s >= e) continue;
      watch.nonEmpty++;
      if (watch.token) {
        if (!isToken(record.buf, s, e)) notToken(watch, record, this.file);
      } else if (e - s >= 5) inspect(watch, record, s, e);
    }
    return line;
  }
}

/** The hunt's watch of each column of a feed file: source_line, then the accepted columns. */
export function feedWatches(plan: DeidPlan): ColumnWatch[] {
  return [
    columnWatch({ name: SOURCE_LINE, kind: 'copy', type: 'integer' }, 0),
    ...plan.columns.map((column, k) => columnWatch(column, k + 1)),
  ];
}

/** Scans `file` against the plan; throws `KernelError` for structure or identifiers. */
export async function scanFeedFile(file: string, plan: DeidPlan, options: ScanOptions): Promise<FeedScan> {
  const inParts = options.inParts?.(file, plan, options);
  if (inParts) return inParts;
  const hash = createHash('sha256');
  const rows = new RowScan(plan, options.displayName);
  const index = new RowIndex();
  const result = await readCsv(
    file,
    {
      onBytes: (bytes) => hash.update(bytes),
      onHeader: (columns, line) => checkHeader(columns, line, plan, options.displayName),
      onRecord(record) {
        const line = rows.take(record);
        index.add(line, record.offset);
        options.onRow?.(record, rows.values, rows.untidy, line);
      },
      onChunk: (bytesRead) => {
        options.onProgress?.(bytesRead);
        return options.onChunk?.();
      },
    },
    { displayName: options.displayName },
  );
  index.end = result.bytes;
  refuseIdentifiers(rows.watches, options.displayName);
  return {
    sha256: hash.digest('hex'),
    rows: result.rows,
    bytes: result.bytes,
    columns: result.columns,
    filled: rows.watches.slice(1).map((w) => w.nonEmpty),
    index,
  };
}
