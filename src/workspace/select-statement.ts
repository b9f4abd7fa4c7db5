import { VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { KernelError, type ErrorLocation } from '../errors.ts';

/** Longer than any query a person writes; a bound on what is parsed and audited. */
export const MAX_QUERY_LENGTH = 100_000;

interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  position?: string;
  statements?: unknown[];
}

/** Line and column (1-based) of a character offset, for a parser's error position. */
function locate(sql: string, position: number): ErrorLocation {
  const before = sql.slice(0, position).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/**
 * Accepts exactly one SELECT and nothing else, by asking DuckDB's own parser rather than a
 * pattern: `json_serialize_sql` serialises only SELECT statements (WITH … SELECT, FROM-first,
 * VALUES, DESCRIBE, SHOW and SUMMARIZE parse as SELECTs) and reports syntax errors with their
 * position (DuckDB docs, "JSON Functions: json_serialize_sql"). A `;`, a keyword or a second
 * statement hidden in a comment, a string or a quoted name cannot fool the parser that will
 * run the statement. The text is bound as a parameter, so it is never itself executed here.
 */
export async function checkSingleSelect(
  connection: DuckDBConnection,
  sql: string,
  /** the workspace's views, to point out one whose name is also an SQL keyword (`asc`) */
  views: readonly string[] = [],
): Promise<void> {
  if (sql.length > MAX_QUERY_LENGTH) {
    throw new KernelError('too-large', `The query is ${sql.length} characters long`, {
      hint: `A workspace query may be up to ${MAX_QUERY_LENGTH} characters`,
    });
  }
  const reader = await connection.runAndReadAll(
    'SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR) AS j',
    [sql],
    [VARCHAR],
  );
  const parsed = JSON.parse(String(reader.getRows()[0]?.[0])) as SerializedSql;
  if (parsed.error && parsed.error_type === 'parser') {
    const position = Number(parsed.position);
    const near = /at or near "([^"]+)"/.exec(parsed.error_message ?? '')?.[1];
    const keyword = near !== undefined && views.includes(near.toLowerCase()) ? near.toLowerCase() : null;
    throw new KernelError('invalid-input', `The query does not parse: ${parsed.error_message}`, {
      ...(Number.isFinite(position) ? { where: { field: 'sql', ...locate(sql, position) } } : {}),
      hint: keyword
        ? `${keyword} is an SQL keyword as well as a view here: write it in double quotes, FROM "${keyword}"`
        : 'Check the SQL near that point (DuckDB dialect)',
    });
  }
  if (parsed.error) {
    throw new KernelError('refused', 'A workspace runs SELECT statements only', {
      hint: 'Write one SELECT (or WITH … SELECT); nothing that changes data, settings, files or attachments runs here',
    });
  }
  const count = parsed.statements?.length ?? 0;
  if (count === 0) throw new KernelError('invalid-input', 'The query is empty', { hint: 'Write a SELECT' });
  if (count > 1) {
    throw new KernelError(
      'refused',
      `A workspace runs one statement at a time, and this text holds ${count}`,
      {
        hint: 'Send each SELECT on its own',
      },
    );
  }
}
