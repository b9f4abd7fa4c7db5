/**
 * Writes one CSV file as rows arrive, in RFC 4180 form (comma-separated, a field quoted
 * when it holds a comma, a double quote, CR or LF, quotes doubled inside), UTF-8, LF line
 * endings. Output is buffered and flushed in chunks, so memory stays flat however big the
 * file grows.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

const FLUSH_AT = 1 << 18;

/** One field in RFC 4180 form. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly string[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : ',') + csvField(values[i] ?? '');
  return `${line}\n`;
}

export class CsvFileWriter {
  readonly path: string;
  /** lines written so far, the header included; the next row lands on line `lines + 1` */
  lines = 0;
  bytes = 0;
  private fd: number;
  private buffer = '';

  constructor(file: string, header: readonly string[]) {
    this.path = file;
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'w');
    this.write(header);
  }

  /** Writes a row; answers its line number (the header is line 1). */
  write(values: readonly string[]): number {
    this.buffer += csvLine(values);
    this.lines++;
    if (this.buffer.length >= FLUSH_AT) this.flush();
    return this.lines;
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    this.bytes += writeSync(this.fd, this.buffer);
    this.buffer = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Parses RFC 4180 CSV text into rows (used by tests and the truth readers). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
