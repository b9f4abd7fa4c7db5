/**
 * What one workspace query may use. A workspace runs analysts' own SQL, so every resource it
 * could exhaust has a bound; passing one stops the query with a `KernelError('too-large')`
 * that names the limit.
 */
export interface WorkspaceLimits {
  /** the sandbox's buffer pool (DuckDB `memory_limit`), e.g. '512MB' */
  memory: string;
  /** worker threads for one sandbox (DuckDB `threads`) */
  threads: number;
  /** how long one query may run before it is interrupted */
  seconds: number;
  /** the most rows one query may return */
  rows: number;
  /** how much a query may spill to disk (DuckDB `max_temp_directory_size`) */
  spill: string;
}

/** Two cores serve everyone: one thread per sandbox leaves the server the other. */
export const DEFAULT_WORKSPACE_LIMITS: WorkspaceLimits = {
  memory: '512MB',
  threads: 1,
  seconds: 30,
  rows: 10_000,
  spill: '2GB',
};

/** What a PostgreSQL login role is held to (set on the role itself; see postgres-workspaces.ts). */
export interface PostgresLoginLimits {
  /** `statement_timeout` on the role */
  seconds: number;
  /** `CONNECTION LIMIT` on the role */
  connections: number;
  /** `idle_in_transaction_session_timeout` on the role: an open transaction holds back vacuum */
  idleInTransactionSeconds: number;
}

export const DEFAULT_POSTGRES_LOGIN_LIMITS: PostgresLoginLimits = {
  seconds: 30,
  connections: 3,
  idleInTransactionSeconds: 300,
};
