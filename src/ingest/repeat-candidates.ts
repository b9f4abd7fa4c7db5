/**
 * Which rows of a feed file may repeat another: the rows the load holds back from its
 * first insert (load/stage-rows.ts), because a DuckDB transaction that deletes rows it has
 * itself inserted writes every one of them again at commit, and PostgreSQL would have to
 * search the whole typed table for them.
 *
 * Every line gets a 32-bit key of its values (line-keys.js says how, and why equal rows
 * always share one); the lines whose key another line shares are the candidates. So every
 * repeat is among them, with a few rows more that share a key by chance (about n²/2³³
 * pairs: ~120 in a million rows) or read alike once tidied; the load compares the
 * candidates value by value, so a chance match costs a little time and never a row.
 *
 * A large file is cut into parts at line breaks, one for each core (up to four), each keyed
 * by a worker thread: cheaper than DuckDB's own pass over the file as whole lines, where every
 * substring it made was a copy (docs/feeds.md, step 4 of the load, has the figures). Keying
 * the rows in the load's scan instead cost more: the scan would have to run before the
 * insert rather than beside it.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { KernelError } from '../errors.ts';
import { lineKeys, linesWithKeys } from './line-keys.js';

/**
 * Below this size a file is keyed on this thread: a worker costs more than it saves.
 * `KERNEL_PARALLEL_ABOVE_BYTES` sets another (the tests use it to run the workers on a
 * small file, from the compiled CLI as from the source).
 */
export const PARALLEL_ABOVE_BYTES = 8 * 1024 * 1024;

export function parallelAboveBytes(): number {
  const set = process.env.KERNEL_PARALLEL_ABOVE_BYTES;
  return set !== undefined && /^\d+$/.test(set) ? Number(set) : PARALLEL_ABOVE_BYTES;
}

const MAX_PARTS = 4;

/** The first byte after the first line break at or after `from` (or `size`). */
export function nextLineStart(fd: number, from: number, size: number): number {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let at = from; at < size; at += buf.length) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    if (got === 0) break;
    const lf = buf.subarray(0, got).indexOf(0x0a);
    if (lf >= 0) return at + lf + 1;
  }
  return size;
}

/** The parts of `file` after its header: byte ranges that start and end at line breaks. */
function partsOf(file: string, parts: number): [number, number][] {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const cuts = [nextLineStart(fd, 0, size)];
    for (let p = 1; p < parts; p++) {
      cuts.push(
        Math.max(cuts[cuts.length - 1] as number, nextLineStart(fd, Math.floor((size * p) / parts), size)),
      );
    }
    cuts.push(size);
    const ranges: [number, number][] = [];
    for (let p = 0; p + 1 < cuts.length; p++) {
      const [start, end] = [cuts[p] as number, cuts[p + 1] as number];
      if (end > start) ranges.push([start, end]);
    }
    return ranges;
  } finally {
    closeSync(fd);
  }
}

/** A part of the file, keyed: its keys sorted, and the lines that have any of some keys. */
interface KeyedPart {
  sorted: Uint32Array;
  /** lines with a quote, or a space beside a delimiter or at either end */
  untidy: number;
  /** lines with an odd number of quotes (line-keys.js) */
  oddQuotes: number;
  linesWith(shared: Set<number>): Promise<number[]>;
}

function keyHere(file: string, start: number, end: number, delimiter: string): KeyedPart {
  const keyed = lineKeys(file, start, end, delimiter);
  const sorted = keyed.keys.slice(0, keyed.count).sort();
  return {
    sorted,
    untidy: keyed.untidy,
    oddQuotes: keyed.oddQuotes,
    linesWith: (shared) => Promise.resolve(linesWithKeys(keyed, shared)),
  };
}

/** The same in a worker thread (line-keys.js answers in two rounds), noted in `workers`. */
function keyInWorker(
  file: string,
  start: number,
  end: number,
  delimiter: string,
  workers: Worker[],
): Promise<KeyedPart> {
  const worker = new Worker(new URL('./line-keys.js', import.meta.url), {
    workerData: { kernelLineKeys: { file, start, end, delimiter } },
  });
  workers.push(worker);
  // A worker that fails or stops fails the round it is in, and every round after.
  let failure: Error | undefined;
  let waiting: ((error: Error) => void) | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    waiting?.(failure);
  };
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`the line-key worker stopped (code ${code})`)));
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting = reject;
      worker.once('message', resolve);
    });
  return next<{ sorted: Uint32Array; untidy: number; oddQuotes: number }>().then(
    ({ sorted, untidy, oddQuotes }) => ({
      sorted,
      untidy,
      oddQuotes,
      linesWith: (shared) => {
        const lines = next<number[]>();
        worker.postMessage([...shared]);
        return lines;
      },
    }),
  );
}

export interface RepeatCandidates {
  /** the source_line of every row that may repeat another, in file order */
  lines: number[];
  /**
   * No value in the file has a space at either end, nor quotes: nothing needs trimming
   * (lines with a space beside a delimiter or at either end, or a quote, were counted).
   */
  tidy: boolean;
  /**
   * Some line has an odd number of quotes, so a quoted field may hold a line break: the file
   * cannot be cut at any line break (scan-workers.ts scans such a file whole).
   */
  quotedLineBreaks: boolean;
}

/** The rows of `file` that may repeat another, and whether any value needs trimming. */
export async function repeatCandidates(
  file: string,
  options: { delimiter?: string; parallelAboveBytes?: number } = {},
): Promise<RepeatCandidates> {
  const delimiter = options.delimiter ?? ',';
  const cores = Math.min(MAX_PARTS, os.availableParallelism());
  const workers: Worker[] = [];
  try {
    const size = statSync(file).size;
    const parallel = size > (options.parallelAboveBytes ?? parallelAboveBytes()) && cores > 1;
    const parts = partsOf(file, parallel ? cores : 1).map(([start, end]) =>
      parallel ? keyInWorker(file, start, end, delimiter, workers) : keyHere(file, start, end, delimiter),
    );
    const keyed = await Promise.all(parts);
    const shared = sharedKeys(keyed.map((k) => k.sorted));
    const lines = (await Promise.all(keyed.map((k) => k.linesWith(shared)))).flat();
    return {
      lines,
      tidy: keyed.every((k) => k.untidy === 0),
      quotedLineBreaks: keyed.some((k) => k.oddQuotes > 0),
    };
  } catch (error) {
    // The other parts' workers would wait for a second round that never comes.
    for (const worker of workers) void worker.terminate();
    // The load has found the file already: it went or changed while being read.
    throw new KernelError(
      'conflict',
      `The file ${path.basename(file)} could not be read while it was being loaded`,
      {
        cause: error,
        hint: 'Load it again, and leave the file alone until the load ends',
      },
    );
  }
}

/** The keys that occur more than once across `lists`, each sorted: one merge of them all. */
function sharedKeys(lists: readonly Uint32Array[]): Set<number> {
  const shared = new Set<number>();
  const at = lists.map(() => 0);
  let previous = -1;
  for (;;) {
    let pick = -1;
    let least = Number.POSITIVE_INFINITY;
    for (let l = 0; l < lists.length; l++) {
      const list = lists[l] as Uint32Array;
      const i = at[l] as number;
      if (i < list.length && (list[i] as number) < least) {
        least = list[i] as number;
        pick = l;
      }
    }
    if (pick < 0) return shared;
    at[pick] = (at[pick] as number) + 1;
    if (least === previous) shared.add(least);
    previous = least;
  }
}
