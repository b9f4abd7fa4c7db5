/**
 * A table of results written as a file an analyst takes away: CSV (RFC 4180, formula-safe),
 * XLSX (Office Open XML, one sheet) or Parquet (through an in-memory DuckDB, which writes
 * Parquet without any extension). Answers the bytes, so the caller records their SHA-256
 * before anything is stored or sent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { toCsv } from './spreadsheet-csv.ts';

export const OUTPUT_FORMATS = ['csv', 'xlsx', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | null;

export interface ResultTable {
  columns: string[];
  rows: Cell[][];
}

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  parquet: 'application/vnd.apache.parquet',
};

export async function writeOutputFile(table: ResultTable, format: OutputFormat): Promise<Buffer> {
  if (format === 'csv') return Buffer.from(toCsv(table.columns, table.rows), 'utf8');
  if (format === 'xlsx') return xlsx(table);
  return parquet(table);
}

// ---------------------------------------------------------------- Parquet

async function parquet(table: ResultTable): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-output-'));
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const csvFile = path.join(dir, 'table.csv');
    const out = path.join(dir, 'table.parquet');
    // Plain RFC 4180 here (no formula guard: Parquet is not opened by a spreadsheet).
    const quote = (v: Cell) => (v === null ? '' : `"${String(v).replace(/"/g, '""')}"`);
    writeFileSync(
      csvFile,
      [table.columns, ...table.rows].map((r) => r.map(quote).join(',')).join('\n') + '\n',
    );
    const connection = await instance.connect();
    const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
    await connection.run(
      `COPY (SELECT * FROM read_csv(${literal(csvFile)}, header = true, auto_detect = true)) TO ${literal(out)} (FORMAT parquet)`,
    );
    connection.closeSync();
    return readFileSync(out);
  } finally {
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- XLSX

const escapeXml = (text: string) =>
  text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);

function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

function sheetXml(table: ResultTable): string {
  const rows = [table.columns, ...table.rows].map((row, r) => {
    const cells = row.map((value, c) => {
      const ref = `${columnName(c)}${r + 1}`;
      if (value === null) return '';
      // Numbers stay numbers; text is inline text, so nothing is ever read as a formula.
      if (typeof value === 'number' && Number.isFinite(value)) return `<c r="${ref}"><v>${value}</v></c>`;
      return `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${escapeXml(String(value))}</t></is></c>`;
    });
    return `<row r="${r + 1}">${cells.join('')}</row>`;
  });
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows.join('')}</sheetData></worksheet>`;
}

function xlsx(table: ResultTable): Buffer {
  const header = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const files: [string, string][] = [
    [
      '[Content_Types].xml',
      `${header}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
    ],
    [
      '_rels/.rels',
      `${header}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ],
    [
      'xl/workbook.xml',
      `${header}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Output" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${header}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
    ],
    ['xl/worksheets/sheet1.xml', sheetXml(table)],
  ];
  return storedZip(files.map(([name, text]) => ({ name, data: Buffer.from(text, 'utf8') })));
}

// A ZIP archive (PKWARE APPNOTE 6.3) with stored entries: an XLSX reader needs no compression.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function storedZip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
