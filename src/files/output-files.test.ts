import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { writeOutputFile, type ResultTable } from './output-files.ts';

const TABLE: ResultTable = {
  columns: ['practice', 'people', 'note'],
  rows: [
    ['G82001', 45, '=HYPERLINK("x")'],
    ['G82002', 120, null],
  ],
};

/** A stored ZIP's entries, read from its central directory; each CRC checked by zlib's own (gzip's trailer). */
function unzipStored(zip: Buffer): Map<string, string> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const local = zip.readUInt32LE(at + 42);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26);
    const data = zip.subarray(dataStart, dataStart + size);
    const gz = gzipSync(data);
    expect(gz.readUInt32LE(gz.length - 8), name).toBe(crc);
    entries.set(name, data.toString('utf8'));
    at += 46 + nameLength;
  }
  return entries;
}

describe('output files', () => {
  it('writes CSV with spreadsheet formulas neutralised', async () => {
    const csv = (await writeOutputFile(TABLE, 'csv')).toString('utf8');
    expect(csv).toBe('practice,people,note\r\nG82001,45,"\'=HYPERLINK(""x"")"\r\nG82002,120,\r\n');
  });

  it('writes an XLSX workbook whose sheet holds the numbers as numbers and text as text, never a formula', async () => {
    const entries = unzipStored(await writeOutputFile(TABLE, 'xlsx'));
    expect([...entries.keys()]).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      'xl/worksheets/sheet1.xml',
    ]);
    const sheet = entries.get('xl/worksheets/sheet1.xml') ?? '';
    expect(sheet).toContain('<c r="B2"><v>45</v></c>');
    expect(sheet).toContain(
      '<c r="C2" t="inlineStr"><is><t xml:space="preserve">=HYPERLINK(&quot;x&quot;)</t></is></c>',
    );
    expect(sheet).not.toContain('<f>');
  });

  it('writes Parquet that DuckDB reads back, with the counts as numbers', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-parquet-')), 'out.parquet');
    writeFileSync(file, await writeOutputFile(TABLE, 'parquet'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      `SELECT practice, people, typeof(people) AS type FROM read_parquet('${file}') ORDER BY 1`,
    );
    expect(reader.getRowObjectsJson()).toEqual([
      { practice: 'G82001', people: '45', type: 'BIGINT' },
      { practice: 'G82002', people: '120', type: 'BIGINT' },
    ]);
    connection.closeSync();
    instance.closeSync();
  });
});
