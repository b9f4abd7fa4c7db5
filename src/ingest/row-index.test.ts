import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { readCsv, readCsvRanges } from '../files/csv-reader.ts';
import { BLOCK_LINES, leftOutRows, RowIndex } from './row-index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-rowindex-'));

/** A file of `rows` rows (line, a, b) as the scan sees it, and its index. */
async function indexed(
  rows: { line: number; a: string; b: string }[],
  { bom = false, eol = '\n', chunkBytes = 1024 } = {},
) {
  const cell = (v: string): string => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const text =
    ['source_line,a,b', ...rows.map((r) => [r.line, cell(r.a), cell(r.b)].join(','))].join(eol) + eol;
  const file = path.join(dir, `f${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, bom ? `\uFEFF${text}` : text);
  const index = new RowIndex();
  const result = await readCsv(
    file,
    {
      onHeader: () => undefined,
      onRecord: (r) => index.add(Number(r.buf.toString('utf8', r.starts[0], r.ends[0])), r.offset),
    },
    { chunkBytes },
  );
  index.end = result.bytes;
  return { file, index };
}

/** What the warehouse would answer having loaded every line but `missing`. */
function loadedAllBut(lines: number[], missing: number[]): Map<number, number> {
  const loaded = new Map<number, number>();
  for (const line of lines) {
    if (missing.includes(line)) continue;
    const key = line - (line % BLOCK_LINES);
    loaded.set(key, ((loaded.get(key) ?? 0) | (1 << (line % BLOCK_LINES))) >>> 0);
  }
  return loaded;
}

describe('the row index', () => {
  const rows = Array.from({ length: 300 }, (_, i) => ({
    // lines skip where a record spans two (every seventh), as kernel deid writes them
    line: 2 + i + Math.floor(i / 7),
    a: i % 7 === 0 ? `first\nsecond ${i}` : `a${i}`,
    b: i % 5 === 0 ? `say "${i}", twice` : `b${i}`,
  }));
  const lines = rows.map((r) => r.line);

  it('reads again exactly the rows left out, quotes and line breaks intact', async () => {
    const { file, index } = await indexed(rows);
    const missing = [lines[0], lines[1], lines[33], lines[34], lines[150], lines[299]] as number[];
    const got = [...leftOutRows(file, ['source_line', 'a', 'b'], index, loadedAllBut(lines, missing))];
    expect(got).toEqual(rows.filter((r) => missing.includes(r.line)).map((r) => [String(r.line), r.a, r.b]));
  });

  it('finds the offsets past a byte-order mark and CRLF line ends', async () => {
    const { file, index } = await indexed(rows, { bom: true, eol: '\r\n', chunkBytes: 97 });
    const missing = [lines[0], lines[77], lines[299]] as number[];
    const got = [...leftOutRows(file, ['source_line', 'a', 'b'], index, loadedAllBut(lines, missing))];
    expect(got.map((r) => r[0])).toEqual(missing.map(String));
    expect(got[1]).toEqual([String(lines[77]), 'first\nsecond 77', 'b77']);
  });

  it('reads nothing when nothing is left out, and everything when nothing was loaded', async () => {
    const { file, index } = await indexed(rows);
    expect([...leftOutRows(file, ['source_line', 'a', 'b'], index, loadedAllBut(lines, []))]).toEqual([]);
    const all = [...leftOutRows(file, ['source_line', 'a', 'b'], index, new Map())];
    expect(all.map((r) => Number(r[0]))).toEqual(lines);
  });

  it('reads a block whole when its rows lie too far apart to note each one', async () => {
    const long = rows.map((r, i) => ({ ...r, b: `${'x'.repeat(3000)}${i}` }));
    const { file, index } = await indexed(long);
    const missing = [lines[30], lines[31], lines[200]] as number[];
    const got = [...leftOutRows(file, ['source_line', 'a', 'b'], index, loadedAllBut(lines, missing))];
    expect(got).toEqual(long.filter((r) => missing.includes(r.line)).map((r) => [String(r.line), r.a, r.b]));
  });

  it('says the file changed, rather than read past its end, when it shrank after the scan', async () => {
    const { file, index } = await indexed(rows);
    truncateSync(file, 100);
    const reading = (): unknown => [
      ...leftOutRows(file, ['source_line', 'a', 'b'], index, loadedAllBut(lines, [lines[299] as number])),
    ];
    expect(reading).toThrow(KernelError);
    expect(reading).toThrow(/changed while it was being loaded/);
    expect(readCsvRanges(file, ['source_line', 'a', 'b'], [], () => undefined)).toBe(0);
  });

  it('answers an empty value as null, as the engines read one', async () => {
    const { file, index } = await indexed([{ line: 2, a: '', b: 'x' }]);
    expect([...leftOutRows(file, ['source_line', 'a', 'b'], index, new Map())]).toEqual([['2', null, 'x']]);
  });
});
