/**
 * The agent's linkage file: for a dataset whose specification asks for it
 * (`linkageEncoding`), `kernel deid --linkage-secret F` writes, beside the accepted file,
 * `OUT.linkage.csv` with one row per extract row: `source_line` (the same line number the
 * accepted file carries), the secret's key id, the scheme, one `bf_FIELD` column of base64
 * Bloom filter per field and one `block_NAME` column per keyed blocking key. The values
 * themselves are never written; the file is made beside `OUT` in the same run, as
 * `.partial` first, and removed if the run fails.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import type { LinkageEncodingSpec } from '../catalogue/dataset-spec.ts';
import { fieldText, type CsvRecord } from '../files/csv-reader.ts';
import { BloomEncoder, filterToBase64 } from './bloom-encoding.ts';
import type { LinkageSecret } from './linkage-secret.ts';
import { PERSON_ENCODING_SCHEME } from './person-encoding.ts';

export function linkageFilePathFor(output: string): string {
  return `${output.replace(/\.csv$/i, '')}.linkage.csv`;
}

export interface LinkageFileResult {
  file: string;
  rows: number;
  sha256: string;
  secretId: string;
  scheme: string;
}

export class LinkageFileWriter {
  private readonly encoder: BloomEncoder;
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  private readonly partial: string;
  private readonly file: string;
  private inputs: { input: string; at: number }[] = [];
  private rows = 0;
  private finished = false;

  constructor(
    secret: LinkageSecret,
    private readonly spec: LinkageEncodingSpec,
    output: string,
  ) {
    this.encoder = new BloomEncoder(secret, PERSON_ENCODING_SCHEME);
    this.file = linkageFilePathFor(output);
    this.partial = `${this.file}.partial`;
    this.stream = createWriteStream(this.partial, { mode: 0o600 });
    const scheme = this.encoder.scheme;
    this.write(
      [
        'source_line',
        'secret_id',
        'scheme',
        ...scheme.fields.map((f) => `bf_${f.field}`),
        ...scheme.blockingKeys.map((k) => `block_${k.name}`),
      ].join(','),
    );
  }

  private write(line: string): void {
    const bytes = `${line}\n`;
    this.hash.update(bytes);
    this.stream.write(bytes);
  }

  /** The extract's columns, by name → index (called once the header is read). */
  header(index: ReadonlyMap<string, number>): void {
    this.inputs = Object.entries(this.spec.fields).flatMap(([input, field]) => {
      const at = field === undefined ? undefined : index.get(field);
      return at === undefined ? [] : [{ input, at }];
    });
  }

  record(record: CsvRecord): void {
    const values: Record<string, string | null> = {};
    for (const { input, at } of this.inputs) {
      const text = fieldText(record, at).trim();
      values[input] = text === '' ? null : text;
    }
    const encoded = this.encoder.encode(values);
    const scheme = this.encoder.scheme;
    this.write(
      [
        String(record.line),
        this.encoder.secretId,
        scheme.name,
        ...scheme.fields.map((f) => {
          const bits = encoded.filters[f.field];
          return bits ? filterToBase64(bits) : '';
        }),
        ...scheme.blockingKeys.map((k) => encoded.blockingKeys[k.name] ?? ''),
      ].join(','),
    );
    this.rows++;
  }

  /** Waits while the disk is behind (the extract reader calls this after each chunk). */
  async drain(): Promise<void> {
    if (this.stream.writableNeedDrain)
      await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
  }

  async finish(): Promise<LinkageFileResult> {
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    renameSync(this.partial, this.file);
    this.finished = true;
    return {
      file: this.file,
      rows: this.rows,
      sha256: this.hash.digest('hex'),
      secretId: this.encoder.secretId,
      scheme: this.encoder.scheme.name,
    };
  }

  /** Removes what was written: the run failed, so no half-made file may be sent. */
  abort(): void {
    this.stream.on('error', () => undefined); // queued writes fail once destroyed
    this.stream.destroy();
    rmSync(this.finished ? this.file : this.partial, { force: true });
  }
}
