/**
 * The screened copy's scan (screened-copy.ts) on several threads: on PostgreSQL the load's
 * wall clock was the scan's, one core's work in Node beside the server's COPY (docs/feeds.md,
 * Performance). The file is cut at line breaks into parts of a few megabytes, which worker
 * threads scan one at a time (scan-worker.ts); this thread puts them together in file order:
 * their lines go to COPY in order, their row index, rows set aside, identifier watches and
 * profile tallies are merged, and the file's SHA-256 is taken here as it is read, in order.
 *
 * A file is cut only where no quoted field may hold a line break (no line with an odd number
 * of quotes, which the keying of repeat candidates counts): then every line break ends a
 * record. Otherwise, or for a small file, or on one core, the file is scanned whole on this
 * thread, as before.
 *
 * The worker runs TypeScript modules, so they are compiled for it once (esbuild, a runtime
 * dependency already) into `node_modules/.cache/kernel-scan-worker`, named by the sources'
 * stamp as bin/compiled-cli.js names the CLI's compiled copy.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CodeList } from '../catalogue/dataset-spec.ts';
import { KernelError } from '../errors.ts';
import { readCsv } from '../files/csv-reader.ts';
import type { DeidPlan } from '../privacy/deid-plan.ts';
import type { ProfileTally } from '../quality/profile-tally.ts';
import { nextLineStart, parallelAboveBytes } from './repeat-candidates.ts';
import { RowIndex } from './row-index.ts';
import {
  checkHeader,
  feedWatches,
  mergeWatch,
  refuseIdentifiers,
  type FeedScan,
  type ScanOptions,
  type WatchTally,
} from './scan-feed.ts';
import {
  PartScanner,
  type FromWorker,
  type PartJob,
  type PartResult,
  type PartsContext,
  type ToWorker,
} from './scan-worker.ts';

/** bytes of the file in one part */
const PART_BYTES = 4 * 1024 * 1024;
const MAX_WORKERS = 4;
/** parts scanned ahead of the one COPY takes next, for each worker */
const AHEAD = 3;

export interface PartsCopy {
  /** values of the table's columns before the file's (load_id, org_code) */
  leading: readonly string[];
  hold: readonly number[];
  codeList: (listId: string) => CodeList | undefined;
  /** the file may have a line break inside a quoted field (repeat-candidates.ts) */
  quotedLineBreaks: boolean;
  /** the tally the workers' tallies are merged into */
  tally: ProfileTally | undefined;
  /** takes a chunk of lines for COPY */
  push: (chunk: Buffer) => void;
  /** resolves once COPY has caught up (backpressure), or undefined where it has */
  drained: () => Promise<void> | undefined;
  /** the source_line of every row not copied, appended in file order */
  setAside: number[];
  /** bytes of the file in one part (the tests cut a small file into many) */
  partBytes?: number;
}

/**
 * Worker threads for the scan: one a core but one, up to MAX_WORKERS. The core left is the
 * server's: its backend types and writes every row the scan sends to COPY. Scanning in parts
 * costs about a fifth more CPU than one thread, so on two cores, where that core is all the
 * workers would have, the parts made the load slower (docs/feeds.md, 6 December: d/COPY 2.37
 * in parts against 2.19 whole, quiet machine, medians of three), and one thread scans it.
 * `KERNEL_SCAN_THREADS` sets another number (1: the whole file on the load's own thread).
 */
function scanThreads(): number {
  const set = process.env.KERNEL_SCAN_THREADS;
  if (set !== undefined && /^\d+$/.test(set)) return Number(set);
  return Math.min(MAX_WORKERS, os.availableParallelism() - 1);
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let compiled: Promise<string | undefined> | undefined;

/** The worker's compiled module (see the top of this file), or undefined if it cannot be made. */
function workerModule(): Promise<string | undefined> {
  compiled ??= compileWorker().catch(() => undefined);
  return compiled;
}

const CACHE = path.join(ROOT, 'node_modules', '.cache', 'kernel-scan-worker');
const STALE_MS = 24 * 60 * 60 * 1000;
/** the last compiled copy: its stamp and the source files it was compiled from */
const LATEST = path.join(
  CACHE,
  `latest-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.json`,
);

/** A stamp of source files (path, size, modification time) and the package. */
function stampOf(inputs: readonly string[]): { stamp: string; newest: number } {
  // The cache may be shared by several checkouts (a linked node_modules): each its own.
  const hash = createHash('sha256').update(`${ROOT}\n`);
  let newest = 0;
  for (const input of inputs) {
    const stat = statSync(path.join(ROOT, input));
    newest = Math.max(newest, stat.mtimeMs);
    hash.update(`${input}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  hash.update(readFileSync(path.join(ROOT, 'package.json')));
  return { stamp: hash.digest('hex').slice(0, 20), newest };
}

/**
 * The compiled worker, compiled again when any source file it was compiled from changed: only
 * those few files are looked at (`latest-….json`, one a checkout), not every source file, since this runs
 * before each large load's scan.
 */
async function compileWorker(): Promise<string> {
  try {
    const latest = JSON.parse(readFileSync(LATEST, 'utf8')) as { stamp: string; inputs: string[] };
    const entry = path.join(CACHE, latest.stamp, 'scan-worker.js');
    if (stampOf(latest.inputs).stamp === latest.stamp && existsSync(entry)) return entry;
  } catch {
    // Not compiled yet, or the sources moved: compile below.
  }
  const [esbuild, { ownUrlPlugin }] = await Promise.all([
    import('esbuild'),
    import('../../bin/compiled-cli.js'),
  ]);
  const started = Date.now();
  const building = path.join(CACHE, `build.${process.pid}.tmp`);
  mkdirSync(CACHE, { recursive: true });
  try {
    const built = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [path.join(ROOT, 'src', 'ingest', 'scan-worker.ts')],
      outfile: path.join(building, 'scan-worker.js'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
      // Modules find their data beside them (check-catalogue.ts's checks.json) by their own URL.
      plugins: [ownUrlPlugin],
    });
    const inputs = Object.keys(built.metafile.inputs).sort();
    const { stamp, newest } = stampOf(inputs);
    // A source changed while being compiled: this copy may not be what the stamp says.
    if (newest >= started) throw new Error('the sources changed while the scan worker was compiled');
    const dir = path.join(CACHE, stamp);
    if (existsSync(dir)) rmSync(building, { recursive: true, force: true });
    else renameSync(building, dir);
    const pointer = `${LATEST}.${process.pid}.tmp`;
    writeFileSync(pointer, JSON.stringify({ stamp, inputs }));
    renameSync(pointer, LATEST);
    // Copies of older sources go once a day old (a load may still be using one).
    for (const name of readdirSync(CACHE)) {
      const old = path.join(CACHE, name);
      if (name !== stamp && !name.endsWith('.json') && Date.now() - statSync(old).mtimeMs > STALE_MS)
        rmSync(old, { recursive: true, force: true });
    }
    return path.join(dir, 'scan-worker.js');
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

/** Where the header ends: the first data record's offset and line (the header checked). */
async function readHeader(
  file: string,
  plan: DeidPlan,
  displayName: string,
): Promise<{ columns: string[]; start: number; line: number }> {
  const stop = new Error('header read');
  let columns: string[] = [];
  let first: { start: number; line: number } | undefined;
  try {
    await readCsv(
      file,
      {
        onHeader(names, line) {
          checkHeader(names, line, plan, displayName);
          columns = names;
        },
        onRecord(record) {
          first = { start: record.offset, line: record.line };
          throw stop;
        },
      },
      { displayName },
    );
  } catch (error) {
    if (error !== stop) throw error;
  }
  // readCsv refuses a file without a data row, so there is one.
  return { columns, ...(first as { start: number; line: number }) };
}

/** The file's SHA-256 and size, read in order on this thread. */
async function digest(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * The scan in parts (see the top of this file), or undefined where the file is to be scanned
 * whole: small, on one core, or with a line break inside a quoted field.
 */
export function scanInParts(
  file: string,
  plan: DeidPlan,
  options: ScanOptions,
  copy: PartsCopy,
): Promise<FeedScan> | undefined {
  const workers = scanThreads();
  if (copy.quotedLineBreaks || workers < 2 || statSync(file).size <= parallelAboveBytes()) return undefined;
  return workerModule().then(async (module) => {
    if (!module) return scanWhole(file, plan, options);
    const progress = { copied: false };
    try {
      return await scanParts(module, workers, file, plan, options, copy, progress);
    } catch (error) {
      // Workers that could not start or run (their module, their data, their memory) leave
      // the file to this thread, while nothing has gone to COPY; the file's own faults do not.
      if (error instanceof KernelError || progress.copied) throw error;
      return scanWhole(file, plan, options);
    }
  });
}

/** The file scanned on this thread, as without workers (the worker could not be compiled). */
async function scanWhole(file: string, plan: DeidPlan, options: ScanOptions): Promise<FeedScan> {
  const { scanFeedFile } = await import('./scan-feed.ts');
  return scanFeedFile(file, plan, { ...options, inParts: undefined });
}

async function scanParts(
  module: string,
  count: number,
  file: string,
  plan: DeidPlan,
  options: ScanOptions,
  copy: PartsCopy,
  progress: { copied: boolean },
): Promise<FeedScan> {
  const { displayName } = options;
  const hashing = digest(file);
  hashing.catch(() => undefined);
  const header = await readHeader(file, plan, displayName);
  const size = statSync(file).size;
  const codeLists: Record<string, CodeList> = {};
  for (const column of plan.columns) {
    const id = column.kind === 'copy' ? column.field.codeList : undefined;
    const list = id === undefined ? undefined : copy.codeList(id);
    if (id !== undefined && list) codeLists[id] = list;
  }
  const context: PartsContext = {
    file,
    displayName,
    plan,
    header: header.columns,
    hold: copy.hold,
    leading: copy.leading,
    codeLists,
    tally: copy.tally !== undefined,
  };
  // The parts: cut at the first line break after each PART_BYTES.
  const cuts = partCuts(file, header.start, size, copy.partBytes ?? PART_BYTES);
  const jobs = cuts.slice(0, -1).map((start, index) => ({
    index,
    start,
    end: cuts[index + 1] as number,
    line: 1,
    previousLine: 0,
  }));

  const pool: Worker[] = [];
  const idle: Worker[] = [];
  const results = new Map<number, PartResult | 'failed'>();
  const tallies: FromWorker[] = [];
  let next = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stopped = (error: Error): void => {
    failure ??= error;
    notify();
  };
  let consumed = 0;
  const dispatch = (): void => {
    while (idle.length > 0 && next < jobs.length && next < consumed + count * AHEAD) {
      const worker = idle.pop() as Worker;
      worker.postMessage({ job: jobs[next++] as PartJob } satisfies ToWorker);
    }
  };
  try {
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL(pathToFileURL(module).href), {
        workerData: { kernelScanParts: context },
      });
      pool.push(worker);
      idle.push(worker);
      worker.on('message', (message: FromWorker) => {
        if ('tally' in message) tallies.push(message);
        else {
          if ('result' in message) results.set(message.result.index, message.result);
          else results.set(message.failed, 'failed');
          idle.push(worker);
          dispatch();
        }
        notify();
      });
      worker.once('error', stopped);
      worker.once('exit', (code) => stopped(new Error(`a scan worker stopped (code ${code})`)));
    }
    dispatch();

    const index = new RowIndex();
    const watches: (WatchTally & { name: string })[] = feedWatches(plan);
    let rows = 0;
    let line = header.line;
    let lastSourceLine = 0;
    const waitFor = async <T>(ready: () => T | undefined): Promise<T> => {
      for (;;) {
        const value = ready();
        if (value !== undefined) return value;
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    for (const job of jobs) {
      const result = await waitFor(() => results.get(job.index));
      results.delete(job.index);
      if (result === 'failed' || (result.rows > 0 && result.firstSourceLine <= lastSourceLine)) {
        // Read again here, knowing where the part starts: the whole file's scan's message.
        new PartScanner(context).scan({ ...job, line, previousLine: lastSourceLine });
        throw new Error(`part ${job.index} of the file failed in a worker but not when read again`);
      }
      progress.copied = true;
      for (const chunk of result.chunks)
        copy.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (let k = 0; k < result.rowStarts.length; k += 2)
        index.add(result.rowStarts[k] as number, result.rowStarts[k + 1] as number);
      for (const l of result.setAside) copy.setAside.push(l);
      result.watches.forEach((watch, k) => mergeWatch(watches[k] as WatchTally, watch, line - 1));
      rows += result.rows;
      line += result.lines;
      lastSourceLine = result.lastSourceLine;
      consumed++;
      dispatch();
      options.onProgress?.(job.end);
      await copy.drained();
    }
    if (copy.tally) {
      for (const worker of pool) worker.postMessage({ finish: true } satisfies ToWorker);
      await waitFor(() => (tallies.length === pool.length ? true : undefined));
      for (const message of tallies) if ('tally' in message && message.tally) copy.tally.merge(message.tally);
    }
    const { sha256, bytes } = await hashing;
    index.end = bytes;
    refuseIdentifiers(watches, displayName);
    return {
      sha256,
      rows,
      bytes,
      columns: header.columns,
      filled: watches.slice(1).map((w) => w.nonEmpty),
      index,
    };
  } finally {
    for (const worker of pool) {
      worker.removeAllListeners('exit');
      void worker.terminate();
    }
  }
}

/** Where each part starts, and the file's end: the first line start at or after each PART_BYTES. */
function partCuts(file: string, start: number, size: number, partBytes: number): number[] {
  const cuts = [start];
  const fd = openSync(file, 'r');
  try {
    for (let cut = nextLineStart(fd, start + partBytes, size); cut < size;) {
      cuts.push(cut);
      cut = nextLineStart(fd, cut + partBytes, size);
    }
  } finally {
    closeSync(fd);
  }
  cuts.push(size);
  return cuts;
}
