/**
 * What one workspace query may use. A workspace runs analysts' own SQL, so every resource it
 * could exhaust has a bound; passing one stops the query with a `KernelError('too-large')`
 * that names the limit.
 */
import os from 'node:os';
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

/**
 * Threads: the machine's cores, up to four. An analyst runs one query at a time, and a query
 * on more threads answers sooner (bench/workspace, 1.9M people: a window over the PMI took
 * 1.24 s on one thread of a two-core machine, over the 1 s target); several analysts at once
 * share the cores whatever each may use, and the memory limit, not the threads, is what keeps
 * one sandbox from crowding out the rest. Four keeps one analyst from taking a large server.
 */
export const DEFAULT_WORKSPACE_LIMITS: WorkspaceLimits = {
  memory: '512MB',
  threads: Math.max(1, Math.min(4, os.availableParallelism())),
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
  /**
   * `work_mem` on the role: what one sort or hash of a query may hold before it spills to
   * disk. PostgreSQL's default, 4MB, sent a window over the PMI (3.4M rows at 1.9M people)
   * to disk; with connections × a few sorts each, this bounds an analyst's memory as the
   * DuckDB sandbox's memory_limit does.
   */
  workMemory: string;
}

export const DEFAULT_POSTGRES_LOGIN_LIMITS: PostgresLoginLimits = {
  seconds: 30,
  connections: 3,
  idleInTransactionSeconds: 300,
  workMemory: '128MB',
};
