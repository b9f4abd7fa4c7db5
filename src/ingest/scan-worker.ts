/**
 * One part of a feed file scanned for the screened copy (screened-copy.ts), as the whole
 * file is scanned on one thread: each record read and checked (csv-reader.ts, scan-feed.ts's
 * `RowScan`), screened, and written as a line for COPY or set aside (`RowCopier`), its
 * values tallied for the profile (profile-tally.ts). scan-workers.ts runs it in worker
 * threads, a part at a time, and puts the parts together in file order.
 *
 * A part does not know the physical line it starts on, nor the source_line before it, until
 * the parts before it are read: it counts lines from 1 and checks its first source_line
 * against 0, and the thread that puts the parts together adds the lines before it. Where a
 * part fails (its structure, a token, its source_line), that thread reads it again on its
 * own with the true line and source_line, once every part before it has passed, so the
 * message is the one the whole file's scan would give.
 *
 * This module is also the worker's entry: started with `workerData.kernelScanParts`, it
 * scans the parts it is sent, and at the end answers its profile tally.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { CodeList } from '../catalogue/dataset-spec.ts';
import { anchored } from '../catalogue/catalogue.ts';
import { readCsvPart } from '../files/csv-reader.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import { ProfileTally, type TallyState } from '../quality/profile-tally.ts';
import { rowScreen, type RowScreen } from '../quality/row-screen.ts';
import { RowScan, type WatchTally } from './scan-feed.ts';
import { LineWriter, RowCopier } from './screened-copy.ts';

/** What every part of one file shares (sent to each worker once). */
export interface PartsContext {
  file: string;
  displayName: string;
  plan: DeidPlan;
  header: string[];
  /** the lines of rows that may repeat another, in file order: never copied */
  hold: readonly number[];
  /** values of the table's columns before the file's (load_id, org_code) */
  leading: readonly string[];
  /** the code lists the plan's fields name, by id */
  codeLists: Record<string, CodeList>;
  /** whether to tally the rows copied for the profile */
  tally: boolean;
}

export interface PartJob {
  index: number;
  /** bytes [start, end) of the file, from a record's start to another's (or the end) */
  start: number;
  end: number;
  /** the physical line the part starts on (1 where not yet known) */
  line: number;
  /** the source_line before the part's first row (0 where not yet known) */
  previousLine: number;
}

export interface PartResult {
  index: number;
  rows: number;
  /** physical lines read */
  lines: number;
  firstSourceLine: number;
  lastSourceLine: number;
  /** lines of CSV for COPY, in order */
  chunks: Uint8Array[];
  /** the source_line of every row not copied, in order */
  setAside: number[];
  /** each row's source_line and byte offset, one after the other (row-index.ts) */
  rowStarts: Float64Array;
  /** the identifier hunt's watch of each column, lines counted from the part's first */
  watches: WatchTally[];
}

/** Scans parts of one file; see the top of this file. */
export class PartScanner {
  private readonly screen: RowScreen;
  readonly tally: ProfileTally | undefined;

  constructor(private readonly context: PartsContext) {
    this.screen = rowScreen(context.plan, (id) => context.codeLists[id], anchored);
    this.tally = context.tally ? new ProfileTally(context.plan) : undefined;
  }

  /** Scans a part; throws the `KernelError` the whole file's scan would at its first fault. */
  scan(job: PartJob): PartResult {
    const { context } = this;
    const chunks: Uint8Array[] = [];
    const writer = new LineWriter(context.leading, (chunk) => chunks.push(chunk));
    const copier = new RowCopier(context.hold, this.screen, writer, this.tally);
    const rows = new RowScan(context.plan, context.displayName, job.previousLine);
    let rowStarts = new Float64Array(8192);
    let n = 0;
    let firstSourceLine = 0;
    const read = readCsvPart(
      context.file,
      context.header,
      job,
      (record) => {
        const line = rows.take(record);
        if (n === 0) {
          firstSourceLine = line;
          copier.seek(line);
        }
        if (n + 2 > rowStarts.length) {
          const more = new Float64Array(rowStarts.length * 2);
          more.set(rowStarts);
          rowStarts = more;
        }
        rowStarts[n++] = line;
        rowStarts[n++] = record.offset;
        copier.take(record, rows.values, rows.untidy, line);
      },
      { displayName: context.displayName },
    );
    writer.flush();
    return {
      index: job.index,
      rows: read.rows,
      lines: read.line - job.line,
      firstSourceLine,
      lastSourceLine: rows.previousLine,
      chunks,
      setAside: copier.setAside,
      rowStarts: rowStarts.slice(0, n),
      watches: rows.watches.map(({ nonEmpty, tenDigits, hits }) => ({ nonEmpty, tenDigits, hits })),
    };
  }
}

/** Messages from the thread that puts the parts together. */
export type ToWorker = { job: PartJob } | { finish: true };
/** Answers: a part scanned, a part that failed (read again by the caller), the tally at the end. */
export type FromWorker = { result: PartResult } | { failed: number } | { tally: TallyState | undefined };

function serve(port: MessagePort, context: PartsContext): void {
  const scanner = new PartScanner(context);
  port.on('message', (message: ToWorker) => {
    if ('finish' in message) {
      const tally = scanner.tally?.state();
      port.postMessage({ tally } satisfies FromWorker, tally ? tallyBuffers(tally) : []);
      return;
    }
    let result: PartResult;
    try {
      result = scanner.scan(message.job);
    } catch {
      port.postMessage({ failed: message.job.index } satisfies FromWorker);
      return;
    }
    // Handed over, not copied: the lines are most of the file's bytes.
    const transfer = [
      ...result.chunks.map((c) => c.buffer as ArrayBuffer),
      result.rowStarts.buffer as ArrayBuffer,
    ];
    port.postMessage({ result } satisfies FromWorker, transfer);
  });
}

/** The large arrays of a tally's state, handed over rather than copied. */
function tallyBuffers(state: TallyState): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const counts of [...state.keyFields, ...state.uniques]) {
    for (const array of [counts.slots, counts.hashes, counts.at, counts.lengths, counts.counts])
      buffers.add(array.buffer);
    buffers.add(counts.pool.buffer as ArrayBuffer);
  }
  return [...buffers];
}

if (!isMainThread && parentPort && (workerData as { kernelScanParts?: PartsContext } | null)?.kernelScanParts)
  serve(parentPort, (workerData as { kernelScanParts: PartsContext }).kernelScanParts);
