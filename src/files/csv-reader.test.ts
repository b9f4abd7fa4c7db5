import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from './csv-reader.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-csv-'));
let n = 0;
function file(content: string | Buffer): string {
  const name = path.join(dir, `f${n++}.csv`);
  writeFileSync(name, content);
  return name;
}

async function read(content: string | Buffer, chunkBytes?: number) {
  const rows: { line: number; values: string[] }[] = [];
  let header: string[] = [];
  const result = await readCsv(
    file(content),
    {
      onHeader: (columns) => (header = columns),
      onRecord: (r) =>
        rows.push({ line: r.line, values: Array.from({ length: r.count }, (_, i) => fieldText(r, i)) }),
    },
    chunkBytes ? { chunkBytes } : {},
  );
  return { header, rows, result };
}

async function failure(
  content: string | Buffer,
  options: { maxFieldBytes?: number } = {},
): Promise<KernelError> {
  try {
    await readCsv(file(content), { onHeader: () => undefined, onRecord: () => undefined }, options);
  } catch (error) {
    expect(error).toBeInstanceOf(KernelError);
    return error as KernelError;
  }
  throw new Error('expected the file to be refused');
}

describe('readCsv', () => {
  it('reads RFC 4180 fields: quotes, doubled quotes, commas and line breaks inside quotes', async () => {
    const { header, rows } = await read('a,b,c\n1,"x, y","say ""hi"""\n2,"two\nlines",z\n3,,\n');
    expect(header).toEqual(['a', 'b', 'c']);
    expect(rows).toEqual([
      { line: 2, values: ['1', 'x, y', 'say "hi"'] },
      { line: 3, values: ['2', 'two\nlines', 'z'] },
      { line: 5, values: ['3', '', ''] },
    ]);
  });

  it('gives the same records whatever the chunk size (records split across reads)', async () => {
    const content =
      'a,b\n' + Array.from({ length: 200 }, (_, i) => `${i},"v ""${i}""\n${i}"`).join('\n') + '\n';
    const whole = await read(content);
    for (const size of [1, 2, 3, 7, 64]) {
      const split = await read(content, size);
      expect(split.rows).toEqual(whole.rows);
    }
    expect(whole.rows).toHaveLength(200);
    expect(whole.rows[199]).toEqual({ line: 400, values: ['199', 'v "199"\n199'] });
  });

  it('accepts and strips a UTF-8 byte-order mark, and says so', async () => {
    const { header, result } = await read('\uFEFFa,b\n1,2\n');
    expect(header).toEqual(['a', 'b']);
    expect(result.bom).toBe(true);
  });

  it('accepts CRLF line endings', async () => {
    const { rows, result } = await read('a,b\r\n1,2\r\n3,"4\r\n5"\r\n');
    expect(rows.map((r) => r.values)).toEqual([
      ['1', '2'],
      ['3', '4\r\n5'],
    ]);
    expect(result.crlf).toBe(true);
  });

  it('refuses an empty file', async () => {
    const error = await failure('');
    expect(error.message).toBe('The file is empty');
  });

  it('refuses a header with no rows', async () => {
    expect((await failure('a,b,c\n')).message).toMatch(/header row but no data rows/);
  });

  it('refuses a file separated by semicolons or tabs', async () => {
    expect((await failure('a;b;c\n1;2;3\n')).message).toMatch(/separated by semicolons/);
    expect((await failure('a\tb\n1\t2\n')).message).toMatch(/separated by tabs/);
  });

  it('refuses an unbalanced quote, naming the line it opened on', async () => {
    const error = await failure('a,b\n1,2\n3,"open\n4,5\n');
    expect(error.message).toMatch(/opened on line 3 is never closed/);
    expect(error.where).toMatchObject({ line: 3, column: 2 });
  });

  it('refuses a ragged row with the line and both counts', async () => {
    const error = await failure('a,b,c\n1,2,3\n4,5\n');
    expect(error.message).toBe('The row has 2 columns but the header has 3');
    expect(error.where).toMatchObject({ line: 3 });
  });

  it('refuses text that is not UTF-8 with the line and byte offset', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,2\n3,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const error = await failure(bytes);
    expect(error.message).toMatch(/not valid UTF-8.*0xe9 at byte 13/);
    expect(error.where).toMatchObject({ line: 3 });
  });

  it('refuses a field over the size limit, naming line and column', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const error = await failure(`a,b\n1,2\n3,${big}\n`);
    expect(error.message).toMatch(/longer than the limit/);
    expect(error.where).toMatchObject({ line: 3, column: 2 });
  });

  it('refuses binary data', async () => {
    const error = await failure(
      Buffer.concat([Buffer.from('a,b\n1,2\n'), Buffer.from([0x50, 0x4b, 0x00, 0x03])]),
    );
    expect(error.message).toMatch(/binary data \(a NUL byte at byte 10\)/);
    expect(error.where).toMatchObject({ line: 3 });
  });

  it('refuses duplicate column names', async () => {
    const error = await failure('a,b,a\n1,2,3\n');
    expect(error.message).toMatch(/"a" appears twice .*columns 1 and 3/);
  });

  it('refuses UTF-16 text and a stray quote in an unquoted field', async () => {
    expect((await failure(Buffer.from('\uFEFFa,b\n1,2\n', 'utf16le'))).message).toMatch(/UTF-16/);
    expect((await failure('a,b\n1,x"y\n')).message).toMatch(/double quote appears inside an unquoted field/);
  });
});
