import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBInstance,
  DuckDBTypeId,
  SQLNULL,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBResult,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { KernelError } from '../../errors.ts';
import { duckdbDialect } from '../dialect.ts';
import type { CsvRelation, CsvSource, Queryable, Row, SqlValue, Store } from '../store.ts';
import { quoteIdentifier, quoteLiteral, toStoreError } from '../sql.ts';
import { SerialQueue } from '../serial-queue.ts';

/**
 * read_csv over a file, every column as text and nothing sniffed: the caller has already
 * checked the file's structure and validates values itself (DuckDB docs, "CSV Import").
 */
function readCsvSql(source: CsvSource): string {
  const types = source.columns.map((c) => `${quoteLiteral(c)}: 'VARCHAR'`).join(', ');
  return (
    `read_csv(${quoteLiteral(source.path)}, header = true, auto_detect = false, columns = {${types}}, ` +
    `delim = ${quoteLiteral(source.delimiter ?? ',')}, quote = '"', escape = '"', ` +
    `strict_mode = true, null_padding = false, all_varchar = true)`
  );
}

/** How many connections serve plain reads (see DuckDBStore); two cores, so a few suffice. */
const READ_CONNECTIONS = 3;
/** Up to this many rows, insertRows writes one INSERT…VALUES instead of using the appender. */
const SMALL_INSERT_ROWS = 50;
/** How many prepared statements a reader keeps; past it, it starts afresh. */
const PREPARED_LIMIT = 200;

function bindType(value: SqlValue): DuckDBType {
  if (value === null) return SQLNULL;
  if (typeof value === 'string') return VARCHAR;
  if (typeof value === 'boolean') return BOOLEAN;
  // Whole numbers bind as BIGINT so `LIMIT $1` and integer comparisons stay integral.
  return Number.isSafeInteger(value) ? BIGINT : DOUBLE;
}

function bindValue(value: SqlValue): DuckDBValue {
  return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
}

function bind(params: readonly SqlValue[]): { values: DuckDBValue[]; types: DuckDBType[] } {
  return { values: params.map(bindValue), types: params.map(bindType) };
}

/** DuckDB values as Kernel's engine-neutral `SqlValue` (see `Row` in store.ts). */
function toSqlValue(value: DuckDBValue, typeId: DuckDBTypeId): SqlValue {
  if (value === null || value === undefined) return null;
  switch (typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return Number(value as bigint);
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return Number(value);
    case DuckDBTypeId.BOOLEAN:
      return Boolean(value);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
      return String(value).replace(' ', 'T');
    default:
      return String(value);
  }
}

function chunkRows<T extends Row>(chunk: DuckDBDataChunk, names: string[], typeIds: DuckDBTypeId[]): T[] {
  const columns = chunk.getColumns();
  const rows: T[] = new Array(chunk.rowCount);
  for (let r = 0; r < chunk.rowCount; r++) {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) {
      row[names[c] as string] = toSqlValue(
        (columns[c] as DuckDBValue[])[r] as DuckDBValue,
        typeIds[c] as DuckDBTypeId,
      );
    }
    rows[r] = row as T;
  }
  return rows;
}

async function* readChunks<T extends Row>(result: DuckDBResult): AsyncIterable<T[]> {
  const names = result.columnNames();
  const typeIds = result.columnTypes().map((type) => type.typeId);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    yield chunkRows<T>(chunk, names, typeIds);
  }
}

/**
 * Every row of a materialized result (what `run` returns: DuckDB has already read it all),
 * its chunks taken synchronously. `fetchChunk` would take each chunk, and then the empty one
 * that ends the result, through a round trip to libuv's small thread pool, which DuckDB's
 * statements queue on as well: under many concurrent small reads those round trips, not the
 * reads, were most of a read's time (docs/kid.md, "Population health dashboard").
 */
function materializedRows<T extends Row>(result: DuckDBMaterializedResult): T[] {
  const names = result.columnNames();
  const typeIds = result.columnTypes().map((type) => type.typeId);
  const rows: T[] = [];
  const chunks = result.chunkCount;
  for (let i = 0; i < chunks; i++)
    for (const row of chunkRows<T>(result.getChunk(i), names, typeIds)) rows.push(row);
  return rows;
}

/** Statements on one DuckDB connection, in order. */
class DuckDBQueryable implements Queryable {
  readonly dialect = duckdbDialect;
  /**
   * Prepared statements kept for reuse, for a long-lived connection that runs the same few
   * statements over and over (a reader: the portal's sign-in check runs on every request);
   * preparing costs more than running such a small statement. DuckDB re-binds a kept
   * statement itself when the tables it names change.
   */
  private readonly statements: Map<string, DuckDBPreparedStatement> | undefined;

  constructor(
    protected readonly connection: DuckDBConnection,
    protected readonly queue: SerialQueue = new SerialQueue(),
    options: { keepStatements?: boolean } = {},
  ) {
    this.statements = options.keepStatements ? new Map() : undefined;
  }

  /** Runs one statement; with `statements`, a parameterised one is prepared once and reused. */
  private async execute(sql: string, params: readonly SqlValue[]): Promise<DuckDBMaterializedResult> {
    const { values, types } = bind(params);
    if (!this.statements || params.length === 0) return this.connection.run(sql, values, types);
    let prepared = this.statements.get(sql);
    if (!prepared) {
      if (this.statements.size >= PREPARED_LIMIT) {
        for (const old of this.statements.values()) old.destroySync();
        this.statements.clear();
      }
      prepared = await this.connection.prepare(sql);
      this.statements.set(sql, prepared);
    }
    prepared.bind(values, types);
    return prepared.run();
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.queue.run(async () => {
      try {
        return materializedRows<T>(await this.execute(sql, params));
      } catch (error) {
        throw toStoreError(error, sql);
      }
    });
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.queue.run(async () => {
      try {
        const { values, types } = bind(params);
        const result = await this.connection.run(sql, values, types);
        return result.rowsChanged;
      } catch (error) {
        throw toStoreError(error, sql);
      }
    });
  }

  exec(sql: string): Promise<void> {
    return this.queue.run(async () => {
      try {
        await this.connection.run(sql);
      } catch (error) {
        throw toStoreError(error, sql);
      }
    });
  }

  insertRows(
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly SqlValue[]> | AsyncIterable<readonly SqlValue[]>,
  ): Promise<number> {
    return this.queue.run(async () => {
      const iterator = Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : rows[Symbol.iterator]();
      const first: (readonly SqlValue[])[] = [];
      let next = await iterator.next();
      while (!next.done && first.length < SMALL_INSERT_ROWS) {
        first.push(next.value);
        next = await iterator.next();
      }
      const columnList = columns.map(quoteIdentifier).join(', ');
      try {
        if (next.done) {
          // A few rows (an audit batch): one INSERT…VALUES costs less than setting up the
          // appender. Values are bound as text and cast by the table, as the appender's are.
          if (first.length === 0) return 0;
          let n = 0;
          const tuples = first.map((row) => `(${row.map(() => `CAST($${++n} AS VARCHAR)`).join(', ')})`);
          const values = first.flatMap((row) => row.map((v) => (v === null ? null : String(v))));
          const { values: bound, types } = bind(values);
          await this.connection.run(
            `INSERT INTO ${quoteIdentifier(table)} (${columnList}) VALUES ${tuples.join(', ')}`,
            bound,
            types,
          );
          return first.length;
        }
        return await this.append(table, columnList, columns, first, next.value, iterator);
      } catch (error) {
        throw toStoreError(error, `insert into ${table}`);
      }
    });
  }

  /** Many rows: the appender, into a text staging table, then cast into `table`. */
  private async append(
    table: string,
    columnList: string,
    columns: readonly string[],
    first: (readonly SqlValue[])[],
    pending: readonly SqlValue[],
    rest: Iterator<readonly SqlValue[]> | AsyncIterator<readonly SqlValue[]>,
  ): Promise<number> {
    // The appender writes whole rows in table order, so load into a text staging table
    // with just these columns, then cast into the target in one INSERT…SELECT.
    const staging = `kernel_append_${process.pid}_${Date.now()}`;
    try {
      await this.connection.run(
        `CREATE TEMP TABLE ${staging} (${columns.map((c) => `${quoteIdentifier(c)} VARCHAR`).join(', ')})`,
      );
      const appender = await this.connection.createAppender(staging);
      let count = 0;
      const add = (row: readonly SqlValue[]): void => {
        for (const value of row) {
          if (value === null) appender.appendNull();
          else appender.appendVarchar(String(value));
        }
        appender.endRow();
        count++;
      };
      try {
        for (const row of first) add(row);
        add(pending);
        for (let next = await rest.next(); !next.done; next = await rest.next()) add(next.value);
      } finally {
        appender.closeSync();
      }
      await this.connection.run(
        `INSERT INTO ${quoteIdentifier(table)} (${columnList}) SELECT ${columnList} FROM ${staging}`,
      );
      return count;
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
  }

  copyCsv(table: string, source: CsvSource): Promise<number> {
    return this.queue.run(async () => {
      const columnList = source.columns.map(quoteIdentifier).join(', ');
      const sql = `INSERT INTO ${quoteIdentifier(table)} (${columnList}) SELECT ${columnList} FROM ${readCsvSql(source)}`;
      try {
        const result = await this.connection.run(sql);
        return result.rowsChanged;
      } catch (error) {
        throw toStoreError(error, `read_csv into ${table}`);
      }
    });
  }

  async copyCsvLines(
    table: string,
    columns: readonly string[],
    lines: AsyncIterable<Buffer>,
  ): Promise<number> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-lines-'));
    const file = path.join(dir, 'lines.csv');
    try {
      const header = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(',');
      await pipeline(
        (async function* () {
          yield Buffer.from(`${header}\n`);
          yield* lines;
        })(),
        createWriteStream(file),
      );
      return await this.copyCsv(table, { path: file, columns });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  csvRelation(source: CsvSource): Promise<CsvRelation> {
    return Promise.resolve({
      sql: readCsvSql(source),
      release: () => Promise.resolve(),
    });
  }

  /** Closes the connection once the statements queued on it have run. */
  async close(): Promise<void> {
    await this.queue.run(async () => undefined);
    for (const prepared of this.statements?.values() ?? []) prepared.destroySync();
    this.connection.closeSync();
  }

  async *stream<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): AsyncIterable<T[]> {
    let result: DuckDBResult;
    try {
      const { values, types } = bind(params);
      result = await this.queue.run(() => this.connection.stream(sql, values, types));
    } catch (error) {
      throw toStoreError(error, sql);
    }
    yield* readChunks<T>(result);
  }
}

/**
 * The embedded engine: one DuckDB file. DuckDB lets one process open a file for writing,
 * so a second process gets a clear `busy` error (the CLI then hands its command to the
 * running server, see src/server/cli-forwarding.ts).
 */
class DuckDBStore extends DuckDBQueryable implements Store {
  readonly description: string;
  private readonly transactions = new SerialQueue();
  private txConnection: DuckDBConnection | undefined;
  /**
   * Extra connections for plain reads, taken in turn: one connection runs one statement at
   * a time, and the portal's concurrent requests (each a sign-in check and a read or two)
   * would otherwise queue behind each other. Each sees every committed write.
   */
  private readonly readers: Promise<DuckDBQueryable>[] = [];
  private nextReader = 0;

  constructor(
    private readonly instance: DuckDBInstance,
    connection: DuckDBConnection,
    path: string,
  ) {
    super(connection);
    this.description = `duckdb (${path})`;
  }

  override async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const turn = this.nextReader++ % READ_CONNECTIONS;
    this.readers[turn] ??= this.instance
      .connect()
      .then((connection) => new DuckDBQueryable(connection, new SerialQueue(), { keepStatements: true }));
    return (await this.readers[turn]).query<T>(sql, params);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    // One write transaction at a time, on a connection kept for them: DuckDB aborts
    // concurrent writers on conflict, and Kernel's writes (loads, the audit chain) are
    // meant to be serial anyway.
    return this.transactions.run(async () => {
      this.txConnection ??= await this.instance.connect();
      const connection = this.txConnection;
      const tx = new DuckDBQueryable(connection);
      try {
        await connection.run('BEGIN TRANSACTION');
        const result = await work(tx);
        await tx.exec('COMMIT');
        return result;
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.transactions.run(async () => undefined);
    this.txConnection?.closeSync();
    for (const reader of await Promise.all(this.readers)) await reader.close();
    await this.queue.run(async () => undefined);
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export async function openDuckDB(path: string): Promise<Store> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, { threads: '2' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/lock/i.test(message)) {
      throw new KernelError('busy', `The warehouse ${path} is open in another Kernel process`, {
        // While `kernel serve` runs, the CLI hands it every command that opens the store
        // (server/cli-forwarding.ts), so the holder here is another kind of process, or this
        // command is one that must run on its own (`serve`, `demo`).
        hint: 'Wait for that process to finish, or stop it (for example `kernel serve` or `kernel demo`), then run this command again',
      });
    }
    throw new KernelError('store', `Could not open the warehouse ${path}: ${message}`, {
      hint: existsSync(path)
        ? 'Check the file is a Kernel DuckDB warehouse'
        : 'Check the data folder is writable',
    });
  }
  const connection = await instance.connect();
  return new DuckDBStore(instance, connection, path);
}
