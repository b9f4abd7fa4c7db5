/**
 * The locked-down DuckDB an analyst's SQL runs in: a second instance, opened read-only on a
 * workspace snapshot (duckdb-snapshot.ts) that holds nothing but the workspace's views, with
 * everything that reaches outside it switched off before the first statement and the
 * configuration then locked (DuckDB docs, "Securing DuckDB"):
 *
 * - `enable_external_access=false`: no file, URL or other database (read_csv, COPY … TO,
 *   ATTACH, glob, INSTALL all fail with a Permission Error);
 * - no extension is installed or loaded, known or community (`autoinstall_known_extensions`,
 *   `autoload_known_extensions`, `allow_community_extensions`, `allow_unsigned_extensions`);
 * - memory, threads and spill to disk bounded (`memory_limit`, `threads`,
 *   `max_temp_directory_size`);
 * - `lock_configuration=true`: SET, RESET and PRAGMA cannot undo any of it.
 *
 * Only one SELECT runs per call (select-statement.ts), on a prepared statement, which DuckDB
 * refuses to make from two statements (`connection.run` would run every statement of the text
 * in turn); the engine's READ_ONLY mode refuses any write besides.
 */
import { DuckDBInstance, DuckDBTypeId, StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { KernelError, type ErrorLocation } from '../errors.ts';
import { quoteLiteral } from '../store/sql.ts';
import { SerialQueue } from '../store/serial-queue.ts';
import type { SqlValue } from '../store/store.ts';
import { checkSingleSelect } from './select-statement.ts';
import type { WorkspaceLimits } from './workspace-limits.ts';

export interface WorkspaceColumn {
  name: string;
  /** DuckDB's name for the column's type, e.g. BIGINT, VARCHAR, DATE */
  type: string;
}

export interface WorkspaceResult {
  columns: WorkspaceColumn[];
  /** one array per row, values in column order (a SELECT may repeat a column's name) */
  rows: SqlValue[][];
  /** how long the query took, in milliseconds */
  ms: number;
}

/**
 * Settings given when the instance is created, so no statement ever runs without them. DuckDB
 * applies them in this order, and order matters: the spill folder is a path, which it refuses
 * to set once external access is off, and the lock comes last.
 */
function lockedDownConfig(limits: WorkspaceLimits, spillDir: string): Record<string, string> {
  return {
    access_mode: 'READ_ONLY',
    temp_directory: spillDir,
    max_temp_directory_size: limits.spill,
    memory_limit: limits.memory,
    threads: String(limits.threads),
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    allow_unsigned_extensions: 'false',
    lock_configuration: 'true',
  };
}

/** The settings the sandbox must show once open; any other value means it is not locked down. */
const REQUIRED_SETTINGS: Record<string, string> = {
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  allow_community_extensions: 'false',
  lock_configuration: 'true',
  access_mode: 'read_only',
};

/** Refuses to serve from an instance whose settings are not what was asked for. */
async function assertLockedDown(connection: DuckDBConnection): Promise<void> {
  const names = Object.keys(REQUIRED_SETTINGS).map(quoteLiteral).join(', ');
  const reader = await connection.runAndReadAll(
    `SELECT name, lower(CAST(value AS VARCHAR)) FROM duckdb_settings() WHERE name IN (${names})`,
  );
  const actual = new Map(reader.getRows().map(([name, value]) => [String(name), String(value)]));
  for (const [name, wanted] of Object.entries(REQUIRED_SETTINGS)) {
    if (actual.get(name) !== wanted) {
      throw new KernelError('internal', `The workspace sandbox did not take the setting ${name}=${wanted}`);
    }
  }
}

const NUMERIC_AS_TEXT = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
]);
const TIMESTAMPS = new Set<DuckDBTypeId>([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_NS,
]);

/**
 * A value of DuckDB's JSON form as Kernel's `SqlValue` (see `Row` in store/store.ts): whole
 * numbers as numbers while exact, timestamps in ISO form, lists and structs as JSON text.
 */
function toSqlValue(value: unknown, typeId: DuckDBTypeId): SqlValue {
  if (value === null || value === undefined) return null;
  if (NUMERIC_AS_TEXT.has(typeId)) {
    const number = Number(value);
    return typeId === DuckDBTypeId.DECIMAL || Number.isSafeInteger(number) ? number : String(value);
  }
  if (TIMESTAMPS.has(typeId)) return String(value).replace(' ', 'T');
  if (typeof value === 'object') return JSON.stringify(value);
  return value as SqlValue;
}

/** Calls `onExpiry` once, `seconds` from now, unless cleared first. */
class Deadline {
  expired = false;
  private readonly timer: NodeJS.Timeout;
  constructor(seconds: number, onExpiry: () => void) {
    this.timer = setTimeout(() => {
      this.expired = true;
      onExpiry();
    }, seconds * 1000);
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * DuckDB's error, for the person who wrote the query: what was refused or wrong, and what to
 * do. Messages come from the sandbox, which holds only the workspace's own views, so they name
 * nothing the analyst could not already see.
 */
export function sandboxError(
  error: unknown,
  context: { timedOut: boolean; limits: WorkspaceLimits; views: string[]; sql: string },
): KernelError {
  if (error instanceof KernelError) return error;
  const {
    headline: message,
    suggestion,
    where,
  } = readDuckDBError(error instanceof Error ? error.message : String(error), context.sql);
  const { limits, views } = context;
  if (context.timedOut || /^INTERRUPT/.test(message)) {
    return new KernelError(
      'too-large',
      `The query ran past the workspace's ${limits.seconds}-second limit and was stopped`,
      {
        hint: 'Narrow it (fewer rows, fewer joins) or aggregate sooner',
      },
    );
  }
  if (/^Out of Memory Error/.test(message)) {
    return new KernelError(
      'too-large',
      `The query needed more than the workspace's ${limits.memory} of memory and was stopped`,
      {
        hint: 'Aggregate before joining, or select fewer columns',
      },
    );
  }
  if (/^Permission Error/.test(message) || /read-only mode/.test(message)) {
    return new KernelError('refused', `The workspace refused the query: ${message}`, {
      hint: 'A workspace reads its own views only: no files, URLs, other databases, extensions or writes',
    });
  }
  if (/configuration has been locked/.test(message)) {
    return new KernelError('refused', `The workspace refused the query: ${message}`, {
      hint: "A workspace's settings are fixed",
    });
  }
  // A missing table or view is one the workspace does not hold: its list is the suggestion.
  if (/^Catalog Error: (Table|View) with name /.test(message)) {
    return new KernelError('invalid-input', `${message.replace(/!$/, '')}: it is not in this workspace`, {
      ...(where ? { where } : {}),
      hint: `This workspace holds ${views.join(', ')}`,
    });
  }
  return new KernelError('invalid-input', `The query failed: ${message.replace(/!$/, '')}`, {
    ...(where ? { where } : {}),
    hint: suggestion ?? 'Check the SQL (DuckDB dialect)',
  });
}

/**
 * DuckDB's error text, read: its first line; its suggestion (`Did you mean "count"?`,
 * `Candidate bindings: "age_on_admission"`); and the line and column its `LINE n:` echo and
 * caret point at, in the query as written. DuckDB shortens a long line to a window around
 * the caret with "...", so the window is found in the query's line to place the column.
 */
export function readDuckDBError(
  text: string,
  sql: string,
): { headline: string; suggestion?: string; where?: ErrorLocation } {
  const lines = text.split('\n');
  const headline = lines[0] ?? '';
  const suggestion = lines
    .map((l) => l.trim())
    .find((l) => /^(Did you mean .+|Candidate (bindings|tables): .+)$/.test(l));
  const at = lines.findIndex((l) => /^LINE \d+: /.test(l));
  const echo = at < 0 ? null : /^(LINE (\d+): )(.*)$/.exec(lines[at] ?? '');
  const caret = at < 0 ? -1 : (lines[at + 1] ?? '').indexOf('^');
  let where: ErrorLocation | undefined;
  if (echo && caret >= 0) {
    const line = Number(echo[2]);
    const shown = echo[3] ?? '';
    const written = sql.split('\n')[line - 1];
    const clipped = shown.startsWith('...') ? 3 : 0;
    const start = written?.indexOf(shown.slice(clipped).replace(/\.\.\.$/, '')) ?? -1;
    if (written !== undefined && start >= 0)
      where = { field: 'sql', line, column: start + caret - (echo[1] ?? '').length - clipped + 1 };
  }
  return { headline, ...(suggestion ? { suggestion } : {}), ...(where ? { where } : {}) };
}

/** One analyst session's connection to a sandbox: one query at a time, each bounded. */
export class SandboxConnection {
  private readonly queue = new SerialQueue();
  private closed = false;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly views: string[],
  ) {}

  /** Runs one SELECT within `limits`; throws a `KernelError` saying which limit or rule stopped it. */
  query(sql: string, limits: WorkspaceLimits): Promise<WorkspaceResult> {
    return this.queue.run(async () => {
      if (this.closed) {
        throw new KernelError(
          'busy',
          'The workspace was remade while this query waited: the policy or the data changed',
          {
            hint: 'Run the query again',
          },
        );
      }
      const started = performance.now();
      const deadline = new Deadline(limits.seconds, () => this.connection.interrupt());
      try {
        await checkSingleSelect(this.connection, sql, this.views);
        const result = await this.readWithin(sql, limits);
        return { ...result, ms: Math.round(performance.now() - started) };
      } catch (error) {
        throw sandboxError(error, { timedOut: deadline.expired, limits, views: this.views, sql });
      } finally {
        deadline.clear();
      }
    });
  }

  private async readWithin(sql: string, limits: WorkspaceLimits): Promise<Omit<WorkspaceResult, 'ms'>> {
    const prepared = await this.connection.prepare(sql);
    try {
      // The parser check said SELECT; the binder agrees before anything runs.
      if (prepared.statementType !== StatementType.SELECT) {
        throw new KernelError('refused', 'A workspace runs SELECT statements only', {
          hint: 'Write one SELECT (or WITH … SELECT)',
        });
      }
      // Streamed a chunk (2,048 rows) at a time: a result over the limit stops within a chunk of it.
      const reader = await prepared.streamAndReadUntil(limits.rows + 1);
      if (reader.currentRowCount > limits.rows) {
        throw new KernelError(
          'too-large',
          `The query returns more than the workspace's limit of ${limits.rows} rows`,
          {
            hint: 'Aggregate, filter, or add LIMIT',
          },
        );
      }
      const types = reader.columnTypes();
      return {
        columns: reader.columnNames().map((name, i) => ({ name, type: String(types[i]) })),
        rows: reader
          .getRowsJson()
          .map((row) => row.map((value, i) => toSqlValue(value, types[i]?.typeId as DuckDBTypeId))),
      };
    } finally {
      prepared.destroySync();
    }
  }

  /** Closes the connection once its running query, if any, has finished. */
  close(): Promise<void> {
    return this.queue.run(async () => {
      this.closed = true;
      this.connection.closeSync();
    });
  }
}

/** A sandbox instance over one snapshot file; sessions with the same views share it. */
export class DuckDBSandbox {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly views: string[],
  ) {}

  static async open(
    file: string,
    spillDir: string,
    views: string[],
    limits: WorkspaceLimits,
  ): Promise<DuckDBSandbox> {
    const instance = await DuckDBInstance.create(file, lockedDownConfig(limits, spillDir));
    const sandbox = new DuckDBSandbox(instance, views);
    try {
      const connection = await instance.connect();
      try {
        await assertLockedDown(connection);
      } finally {
        connection.closeSync();
      }
    } catch (error) {
      sandbox.close();
      throw error;
    }
    return sandbox;
  }

  async connect(): Promise<SandboxConnection> {
    return new SandboxConnection(await this.instance.connect(), this.views);
  }

  close(): void {
    this.instance.closeSync();
  }
}
