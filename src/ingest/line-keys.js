// A key for each line of part of a feed file, for finding the rows that may repeat another
// (repeat-candidates.ts says how they are used). Plain JavaScript, so that it runs as a
// worker thread as it stands: from the sources, from the compiled CLI and under the tests.
//
// A line's key is a 32-bit hash of its text after the first delimiter (after source_line),
// tidied so that two rows with the same values, each trimmed of spaces and unquoted, always
// read alike: quotes removed, spaces beside a delimiter removed, spaces and carriage returns
// trimmed from both ends. Most lines have none of these and are hashed as they stand. A
// record with a quoted line break is judged by its first line: a copy of it has the same
// first line. Tidying can make different rows read alike (a comma inside quotes, a quote
// written twice): one more candidate, never one fewer.
import { closeSync, openSync, readSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const SPACE = 0x20;
const READ_BYTES = 1 << 20;

/**
 * The lines that start with a line number in bytes [start, end) of `file` (which must begin
 * at the start of a line), with each one's key, and how many of them are not tidy (have a
 * quote, or a space beside a delimiter or at either end). `delimiter` is one byte.
 * Lines with an odd number of quotes are counted too (`oddQuotes`): where there are none, no
 * quoted field holds a line break, and every line break ends a record.
 * @returns {{ lines: Uint32Array | Float64Array, keys: Uint32Array, count: number, untidy: number, oddQuotes: number }}
 */
export function lineKeys(file, start, end, delimiter) {
  const delim = delimiter.charCodeAt(0);
  let buf = Buffer.allocUnsafe(READ_BYTES);
  // the line laid out at offset 0, to be read four bytes at a time
  let scratch = Buffer.alloc(64 * 1024);
  let words = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >> 2);
  // Line numbers fit four bytes in any real file; eight only if one does not.
  /** @type {Uint32Array | Float64Array} */
  let lines = new Uint32Array(1 << 16);
  let keys = new Uint32Array(1 << 16);
  let count = 0;
  let untidy = 0;
  // lines with an odd number of quotes: where a quoted field may hold a line break
  let oddQuotes = 0;
  /** where the next read starts */
  let at = start;
  // Where the next quote and the next space are in the bytes read so far (-1: not looked for
  // yet): one search a chunk, not one a line, where a file has none. Each looks for one byte,
  // which the search finds fast; a search for a delimiter beside a space stopped at every
  // delimiter, most of a wide file's bytes.
  let filled = 0;
  let nextQuote = -1;
  let nextSpace = -1;
  const find = (what, from) => {
    const at = buf.indexOf(what, from);
    return at < 0 || at >= filled ? Number.POSITIVE_INFINITY : at;
  };

  const addLine = (s, e) => {
    if (nextQuote < s) nextQuote = find(QUOTE, s);
    if (nextQuote < e) {
      let quotes = 0;
      for (let j = nextQuote; j < e; j++) if (buf[j] === QUOTE) quotes++;
      oddQuotes += quotes & 1;
    }
    let k = s;
    let number = 0;
    while (k < e) {
      const c = buf[k];
      if (c < 0x30 || c > 0x39) break;
      number = number * 10 + (c - 0x30);
      k++;
    }
    if (k === s || k >= e || buf[k] !== delim) return; // not the start of a record
    k++;
    let tidy = !(k < e && (buf[k] === SPACE || buf[k] === CR || buf[e - 1] === SPACE || buf[e - 1] === CR));
    if (tidy) {
      if (nextQuote < k) nextQuote = find(QUOTE, k);
      tidy = nextQuote >= e;
    }
    if (tidy) {
      if (nextSpace < k) nextSpace = find(SPACE, k);
      // A space inside a value is tidy; one beside a delimiter pads a value.
      for (let j = nextSpace; j < e && tidy; j++)
        if (buf[j] === SPACE && (buf[j - 1] === delim || buf[j + 1] === delim)) tidy = false;
    }
    if (scratch.length < e - k + 8) {
      scratch = Buffer.alloc(2 * (e - k) + 8);
      words = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >> 2);
    }
    let n = 0;
    if (tidy) n = buf.copy(scratch, 0, k, e);
    else {
      untidy++;
      let spaces = 0;
      let afterDelim = false;
      for (let j = k; j < e; j++) {
        const c = buf[j];
        if (c === QUOTE) continue;
        if (c === SPACE) {
          spaces++;
          continue;
        }
        if (c === delim) {
          scratch[n++] = c;
          afterDelim = true;
        } else if (n === 0 && c === CR) {
          continue; // leading
        } else {
          if (spaces > 0 && n > 0 && !afterDelim) {
            scratch.fill(SPACE, n, n + spaces);
            n += spaces;
          }
          scratch[n++] = c;
          afterDelim = false;
        }
        spaces = 0;
      }
      while (n > 0 && (scratch[n - 1] === SPACE || scratch[n - 1] === CR)) n--;
    }
    scratch.fill(0, n, n + 4);
    let h = n | 0;
    const last = (n + 3) >> 2;
    for (let w = 0; w < last; w++) {
      h = Math.imul(h ^ words[w], 0x5bd1e995);
      h ^= h >>> 15;
    }
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    if (count === keys.length || (number > 0xffffffff && lines instanceof Uint32Array)) {
      // Grown to the rows the whole part should hold at the rate so far, not by doubling.
      const expected = Math.ceil((count * (end - start)) / Math.max(1, at - start)) + 1024;
      const size = count === keys.length ? Math.max(count + (count >> 3) + 1024, expected) : keys.length;
      const moreLines =
        number > 0xffffffff || lines instanceof Float64Array ? new Float64Array(size) : new Uint32Array(size);
      moreLines.set(lines.subarray(0, count));
      lines = moreLines;
      if (size > keys.length) {
        const moreKeys = new Uint32Array(size);
        moreKeys.set(keys.subarray(0, count));
        keys = moreKeys;
      }
    }
    lines[count] = number;
    keys[count] = h >>> 0;
    count++;
  };

  const fd = openSync(file, 'r');
  try {
    let carry = 0;
    for (;;) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const want = Math.min(buf.length - carry, end - at);
      const got = want > 0 ? readSync(fd, buf, carry, want, at) : 0;
      at += got;
      filled = carry + got;
      nextQuote = nextSpace = -1;
      let lineStart = 0;
      for (let lf = buf.indexOf(LF, 0); lf >= 0 && lf < filled; lf = buf.indexOf(LF, lineStart)) {
        addLine(lineStart, lf);
        lineStart = lf + 1;
      }
      if (got === 0) {
        if (lineStart < filled) addLine(lineStart, filled);
        break;
      }
      carry = filled - lineStart;
      buf.copy(buf, 0, lineStart, filled);
    }
  } finally {
    closeSync(fd);
  }
  return { lines, keys, count, untidy, oddQuotes };
}

/**
 * The lines whose key is in `shared`: one pass over `lineKeys`' answer. Most keys are not
 * shared, so a bit per low 16 bits of a key turns them away before the set.
 * @param {{ lines: Uint32Array | Float64Array, keys: Uint32Array, count: number }} keyed
 * @param {Set<number>} shared
 * @returns {number[]}
 */
export function linesWithKeys(keyed, shared) {
  const found = [];
  if (shared.size === 0) return found;
  const maybe = new Uint8Array(1 << 16);
  for (const key of shared) maybe[key & 0xffff] = 1;
  for (let i = 0; i < keyed.count; i++) {
    const key = keyed.keys[i];
    if (maybe[key & 0xffff] === 1 && shared.has(key)) found.push(keyed.lines[i]);
  }
  return found;
}

// As a worker, in two rounds: the part named in workerData is keyed and its keys sent back
// sorted (handed over whole, not copied); then, given the keys that any part shares, the
// lines with them. Each row's line and key never leave the worker, whose memory goes when
// it ends.
if (!isMainThread && parentPort && workerData && workerData.kernelLineKeys) {
  const { file, start, end, delimiter } = workerData.kernelLineKeys;
  const port = parentPort;
  const keyed = lineKeys(file, start, end, delimiter);
  const sorted = keyed.keys.slice(0, keyed.count).sort();
  port.once('message', (shared) => port.postMessage(linesWithKeys(keyed, new Set(shared))));
  port.postMessage({ sorted, untidy: keyed.untidy, oddQuotes: keyed.oddQuotes }, [sorted.buffer]);
}
