import type { Dialect } from './dialect.ts';

/**
 * A value Kernel binds into SQL. Positional parameters are written `$1`, `$2`… in every
 * statement: both engines accept that form.
 */
export type SqlValue = string | number | boolean | null;

/**
 * A row as Kernel sees it, the same on both engines: integers as numbers, text as strings,
 * DATE as 'YYYY-MM-DD', TIMESTAMP as an ISO-8601 string, NULL as null.
 */
export type Row = Record<string, SqlValue>;

export interface CsvSource {
  /** the file to read; must exist and be UTF-8 */
  path: string;
  /** the CSV's header, in order; every column is read as text */
  columns: readonly string[];
  delimiter?: string;
}

/** See `Queryable.csvRelation`. */
export interface CsvRelation {
  /** SQL to put after FROM (give it an alias) */
  readonly sql: string;
  /** drops whatever the relation needed (PostgreSQL's scratch table) */
  release(): Promise<void>;
}

/** What a statement can run against: the store itself, or one open transaction. */
export interface Queryable {
  readonly dialect: Dialect;
  /** Runs one statement and returns its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs one statement that returns no rows; answers the number of rows changed where known. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a script of statements with no parameters (DDL, migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Bulk-inserts rows in column order through the engine's fast path (DuckDB appender,
   * PostgreSQL COPY FROM STDIN). Values are bound as text or NULL and cast by the table's
   * column types; answers the row count.
   */
  insertRows(
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly SqlValue[]> | AsyncIterable<readonly SqlValue[]>,
  ): Promise<number>;
  /**
   * Bulk-loads a CSV file with a header row into `table` (all listed columns as text, then
   * cast by the table's types): DuckDB's read_csv or PostgreSQL's COPY. Answers the row count.
   */
  copyCsv(table: string, source: CsvSource): Promise<number>;
  /**
   * Bulk-loads CSV lines as they arrive (no header; RFC 4180 quoting; an unquoted empty
   * value is NULL) into `columns` of `table`, cast by the table's types; answers the row
   * count. PostgreSQL streams them through COPY FROM STDIN; DuckDB, which reads CSV only
   * from a file, writes them to a scratch file first (so a load uses it only on PostgreSQL:
   * `Dialect.copiesScreenedRows`).
   */
  copyCsvLines(table: string, columns: readonly string[], lines: AsyncIterable<Buffer>): Promise<number>;
  /**
   * A CSV file with a header row as a relation to SELECT from, every column as text. DuckDB
   * reads the file where it lies (read_csv), so nothing is copied and each statement that
   * uses the relation scans the file again; PostgreSQL's server cannot see the client's
   * file, so it COPYs it into a scratch table first. Call `release()` when done.
   */
  csvRelation(source: CsvSource): Promise<CsvRelation>;
  /** Reads a large result chunk by chunk, so memory stays flat. */
  stream<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): AsyncIterable<T[]>;
}

export interface Store extends Queryable {
  /** A human description safe to print: engine and where, with any password masked. */
  readonly description: string;
  /**
   * Runs `work` in one transaction: it commits whole if `work` resolves and leaves nothing
   * if it throws (or the process dies before COMMIT). Transactions do not nest.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
