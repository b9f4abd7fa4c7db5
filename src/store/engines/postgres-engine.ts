import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { KernelError } from '../../errors.ts';
import { maskSecrets } from '../../config/config.ts';
import { postgresDialect } from '../dialect.ts';
import type { CsvRelation, CsvSource, Queryable, Row, SqlValue, Store } from '../store.ts';
import { quoteIdentifier, quoteLiteral, toStoreError } from '../sql.ts';

// Rows look the same as DuckDB's (see `Row`): int8 and numeric as numbers, DATE and
// TIMESTAMP as text (PostgreSQL docs, "Date/Time Output": ISO style).
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8 || oid === NUMERIC) return (text: string) => Number(text);
    if (oid === DATE) return (text: string) => text;
    if (oid === TIMESTAMP || oid === TIMESTAMPTZ) return (text: string) => text.replace(' ', 'T');
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** One row of values as a line of CSV for COPY (RFC 4180 quoting; NULL unquoted empty). */
function csvLine(row: readonly SqlValue[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    if (i > 0) line += ',';
    const value = row[i];
    if (value === null || value === undefined) continue;
    line += `"${String(value).replace(/"/g, '""')}"`;
  }
  return `${line}\n`;
}

class PostgresQueryable implements Queryable {
  readonly dialect = postgresDialect;
  constructor(protected readonly client: pg.Pool | pg.PoolClient) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    try {
      const result = await this.client.query({ text: sql, values: [...params], types: typeParsers });
      return result.rows as T[];
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    try {
      const result = await this.client.query({ text: sql, values: [...params], types: typeParsers });
      return result.rowCount ?? 0;
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.client.query(sql);
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  async insertRows(
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly SqlValue[]> | AsyncIterable<readonly SqlValue[]>,
  ): Promise<number> {
    let count = 0;
    async function* lines(): AsyncIterable<string> {
      let batch = '';
      for await (const row of rows) {
        batch += csvLine(row);
        count++;
        if (batch.length > 1 << 16) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    }
    await this.copy(table, columns, Readable.from(lines()), ',', false);
    return count;
  }

  async copyCsv(table: string, source: CsvSource): Promise<number> {
    return this.copy(table, source.columns, createReadStream(source.path), source.delimiter ?? ',', true);
  }

  async copyCsvLines(
    table: string,
    columns: readonly string[],
    lines: AsyncIterable<Buffer>,
  ): Promise<number> {
    return this.copy(table, columns, Readable.from(lines, { objectMode: false }), ',', false);
  }

  async csvRelation(source: CsvSource): Promise<CsvRelation> {
    // UNLOGGED: a scratch copy needs no write-ahead log; inside a transaction it vanishes
    // with a rollback like any other table.
    const table = `kernel_csv_${randomBytes(6).toString('hex')}`;
    await this.exec(
      `CREATE UNLOGGED TABLE ${table} (${source.columns.map((c) => `${quoteIdentifier(c)} TEXT`).join(', ')})`,
    );
    try {
      await this.copyCsv(table, source);
    } catch (error) {
      await this.exec(`DROP TABLE ${table}`).catch(() => undefined);
      throw error;
    }
    return {
      sql: table,
      release: () => this.exec(`DROP TABLE IF EXISTS ${table}`),
    };
  }

  private async copy(
    table: string,
    columns: readonly string[],
    input: Readable,
    delimiter: string,
    header: boolean,
  ): Promise<number> {
    const withClient = async (client: pg.PoolClient): Promise<number> => {
      // COPY FROM STDIN (PostgreSQL docs, "COPY"): the server parses the CSV itself.
      const sql =
        `COPY ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) FROM STDIN ` +
        `WITH (FORMAT csv, HEADER ${header ? 'true' : 'false'}, DELIMITER ${quoteLiteral(delimiter)})`;
      const stream = client.query(copyFrom(sql));
      try {
        await pipeline(input, stream);
      } catch (error) {
        throw toStoreError(error, `COPY into ${table}`);
      }
      return stream.rowCount ?? 0;
    };
    if (this.client instanceof pg.Pool) {
      const client = await this.client.connect();
      try {
        return await withClient(client);
      } finally {
        client.release();
      }
    }
    return withClient(this.client as pg.PoolClient);
  }

  async *stream<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): AsyncIterable<T[]> {
    // A server-side cursor keeps memory flat: the result arrives a batch at a time.
    const pool = this.client instanceof pg.Pool ? this.client : undefined;
    const client = pool ? await pool.connect() : (this.client as pg.PoolClient);
    const cursor = `kernel_cursor_${Math.random().toString(36).slice(2)}`;
    const own = pool !== undefined;
    try {
      if (own) await client.query('BEGIN');
      await client.query({ text: `DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`, values: [...params] });
      for (;;) {
        const batch = await client.query({ text: `FETCH 10000 FROM ${cursor}`, types: typeParsers });
        if (batch.rows.length === 0) break;
        yield batch.rows as T[];
      }
      await client.query(`CLOSE ${cursor}`);
      if (own) await client.query('COMMIT');
    } catch (error) {
      if (own) await client.query('ROLLBACK').catch(() => undefined);
      throw toStoreError(error, sql);
    } finally {
      if (own) client.release();
    }
  }
}

class PostgresStore extends PostgresQueryable implements Store {
  readonly description: string;
  constructor(
    private readonly pool: pg.Pool,
    url: string,
  ) {
    super(pool);
    this.description = `postgres (${maskSecrets(url)})`;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export async function openPostgres(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new KernelError('store', `Could not connect to ${maskSecrets(url)}: ${(error as Error).message}`, {
      hint: 'Check the server is running and the URL (user, host, port, database) is right',
    });
  }
  return new PostgresStore(pool, url);
}
