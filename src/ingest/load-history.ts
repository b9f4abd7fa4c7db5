/**
 * The load history (`loads`), each load's report, and its quarantined rows.
 */
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import { appendAudit } from '../audit/audit-log.ts';
import { tableName } from '../catalogue/shapes.ts';
import { csvCell } from '../files/spreadsheet-csv.ts';
import { errorBody, KernelError, type ErrorLocation } from '../errors.ts';
import type { Queryable, Row, Store } from '../store/store.ts';

let historyChanges = 0;

/**
 * Counts the changes this process has made to the load history, so a reader that caches
 * what it read from `loads` (the portal's coverage grid) knows at once when a load of its
 * own has started or ended, without asking the store on every request.
 */
export function loadHistoryChanges(): number {
  return historyChanges;
}

/** Called by the load whenever it writes to `loads`. */
export function noteLoadHistoryChanged(): void {
  historyChanges++;
}

/** Where a load stands, in the order a list of them offers as filters. */
export const LOAD_STATUSES = ['running', 'loaded', 'superseded', 'refused', 'failed'] as const;
export type LoadStatus = (typeof LOAD_STATUSES)[number];

import type { FieldCompleteness, LoadFinding } from '../quality/load-findings.ts';

export type { FieldCompleteness, LoadFinding };

/**
 * What `kernel load --json` prints: exactly these keys (the issue's contract).
 * `status` is `loaded`, `duplicate` or `refused`.
 */
export interface LoadReport {
  status: 'loaded' | 'duplicate' | 'refused';
  loadId: string | null;
  org: string;
  dataset: string;
  period: string | null;
  file: string;
  sha256: string | null;
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  findings: LoadFinding[];
  seconds: number;
}

/** The fuller record `kernel loads show` prints. */
export interface LoadDetails extends LoadReport {
  /** where it stands now: a loaded load may since have been superseded */
  state: LoadStatus;
  rowsQuarantined: number;
  rowsDropped: number;
  completeness: FieldCompleteness[];
  supersedes: string[];
  supersededBy: string | null;
  startedAt: string;
  finishedAt: string | null;
  actor: string;
  error: string | null;
  /**
   * the load's process ended before it finished (killed, or the machine stopped): its record
   * is `failed` and what it wrote was removed (issue 23, C1). Shown as "interrupted".
   */
  interrupted: boolean;
}

/** The reason recorded for a load whose process ended before it finished. */
export const INTERRUPTED_ERROR =
  'The load stopped before it finished (its process ended); nothing it wrote is kept';

export const REPORT_KEYS = [
  'status',
  'loadId',
  'org',
  'dataset',
  'period',
  'file',
  'sha256',
  'rowsRead',
  'rowsLoaded',
  'rowsRejected',
  'findings',
  'seconds',
] as const satisfies readonly (keyof LoadReport)[];

/** The report as JSON; a refused load's also says why, as every error does (errors.ts). */
export interface LoadReportJson extends LoadReport {
  /** a refusal's what, where and what to do: the report alone holds no reason */
  error?: { code: string; message: string; where?: ErrorLocation; hint?: string };
}

/**
 * Just the contract's keys, in order; with `refusal` (a refused load's error), its reason too,
 * so every way a feed comes in (the API, the landing folder, `kernel deid --send`, `kernel load
 * --json`) tells the sender why, whoever may read the load's record.
 */
export function reportJson(report: LoadReport, refusal?: KernelError): LoadReportJson {
  const json = Object.fromEntries(REPORT_KEYS.map((k) => [k, report[k]])) as unknown as LoadReport;
  return refusal ? { ...json, error: errorBody(refusal).error } : json;
}

interface LoadRow extends Row {
  load_id: string;
  org_code: string;
  dataset_id: string;
  period: string | null;
  file_name: string;
  sha256: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  actor: string;
  host: string;
  pid: number;
  rows_read: number | null;
  rows_loaded: number | null;
  rows_quarantined: number | null;
  rows_dropped: number | null;
  seconds: number | null;
  superseded_by: string | null;
  report: string | null;
  error: string | null;
}

interface StoredReport {
  findings: LoadFinding[];
  completeness: FieldCompleteness[];
  supersedes: string[];
}

function toDetails(row: LoadRow): LoadDetails {
  const stored: StoredReport = row.report
    ? (JSON.parse(row.report) as StoredReport)
    : { findings: [], completeness: [], supersedes: [] };
  const state = row.status as LoadStatus;
  const quarantined = row.rows_quarantined ?? 0;
  const dropped = row.rows_dropped ?? 0;
  return {
    status: state === 'loaded' || state === 'superseded' ? 'loaded' : 'refused',
    loadId: row.load_id,
    org: row.org_code,
    dataset: row.dataset_id,
    period: row.period,
    file: row.file_name,
    sha256: row.sha256,
    rowsRead: row.rows_read ?? 0,
    rowsLoaded: row.rows_loaded ?? 0,
    rowsRejected: quarantined + dropped,
    findings: stored.findings,
    seconds: row.seconds ?? 0,
    state,
    rowsQuarantined: quarantined,
    rowsDropped: dropped,
    completeness: stored.completeness,
    supersedes: stored.supersedes,
    supersededBy: row.superseded_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    actor: row.actor,
    error: row.error,
    interrupted: state === 'failed' && row.error === INTERRUPTED_ERROR,
  };
}

export function storedReport(report: StoredReport): string {
  return JSON.stringify(report);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A load on another machine that has run this long has surely died with it.
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Removes whatever rows a load that is not `loaded` left in its dataset's table and in the
 * quarantine. A load writes its rows and its `loaded` status in one transaction, but a
 * process killed while the engine writes its commit has been seen to leave the rows without
 * the status (issue 23, C1): every read would then count the month twice. So the rows of a
 * failed load are never trusted to be absent; they are deleted.
 */
export async function removeRowsOfLoad(q: Queryable, loadId: string, datasetId: string): Promise<number> {
  const table = tableName(datasetId);
  const exists = await q.query<{ n: number }>(
    'SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1',
    [table],
  );
  let removed = 0;
  if (Number(exists[0]?.n ?? 0) > 0)
    removed = await q.run(`DELETE FROM "${table}" WHERE load_id = $1`, [loadId]);
  await q.run('DELETE FROM load_quarantine WHERE load_id = $1', [loadId]);
  await q.run('DELETE FROM load_profiles WHERE load_id = $1', [loadId]);
  return removed;
}

/**
 * Marks `running` loads whose process has gone as `failed`, deletes any rows they left
 * (see removeRowsOfLoad) and records `load.interrupted`, all in one transaction. Answers how
 * many were marked.
 */
export async function markStaleLoads(q: Queryable): Promise<number> {
  const running = await q.query<LoadRow>("SELECT * FROM loads WHERE status = 'running'");
  const host = os.hostname();
  let marked = 0;
  for (const row of running) {
    const gone =
      row.host === host
        ? row.pid !== process.pid && !processAlive(row.pid)
        : Date.now() - Date.parse(row.started_at) > STALE_AFTER_MS;
    if (!gone) continue;
    const recover = async (tx: Queryable): Promise<number> => {
      const changed = await tx.run(
        "UPDATE loads SET status = 'failed', finished_at = $2, error = $3 WHERE load_id = $1 AND status = 'running'",
        [row.load_id, new Date().toISOString(), INTERRUPTED_ERROR],
      );
      if (changed === 0) return 0;
      const rowsRemoved = await removeRowsOfLoad(tx, row.load_id, row.dataset_id);
      await appendAudit(tx, {
        actor: 'system',
        action: 'load.interrupted',
        target: row.load_id,
        details: { dataset: row.dataset_id, org: row.org_code, period: row.period, rowsRemoved },
      });
      return changed;
    };
    // Inside a caller's transaction, recover there; on the store, in a transaction of its own.
    marked += 'transaction' in q ? await (q as Store).transaction(recover) : await recover(q);
  }
  return marked;
}

export interface LoadFilter {
  org?: string;
  dataset?: string;
  period?: string;
  status?: LoadStatus;
  limit?: number;
  /** only loads older than this cursor: a page's `next` */
  before?: string;
}

/** One page of the load history: the loads, how many match in all, and the next page's cursor. */
export interface LoadPage {
  loads: LoadDetails[];
  total: number;
  /** the cursor for the next (older) page, or null on the last */
  next: string | null;
}

/** A cursor names the last load of a page by its start and id, the order the history is read in. */
function encodeCursor(row: LoadRow): string {
  return Buffer.from(`${row.started_at}|${row.load_id}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const [startedAt, loadId] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!startedAt || !loadId || Number.isNaN(Date.parse(startedAt))) {
    throw new KernelError('usage', 'That page of loads does not exist', {
      where: { field: 'before' },
      hint: 'Start again from the first page (without before)',
    });
  }
  return [startedAt, loadId];
}

/** The WHERE clause of a filter, without the cursor, and its parameters. */
function filterSql(filter: LoadFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  for (const [column, value] of [
    ['org_code', filter.org],
    ['dataset_id', filter.dataset],
    ['period', filter.period],
    ['status', filter.status],
  ] as const) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  return { where, params };
}

async function selectLoads(q: Queryable, filter: LoadFilter, limit: number): Promise<LoadRow[]> {
  const { where, params } = filterSql(filter);
  if (filter.before !== undefined) {
    const [startedAt, loadId] = decodeCursor(filter.before);
    params.push(startedAt, loadId);
    const [a, b] = [params.length - 1, params.length];
    where.push(`(started_at < $${a} OR (started_at = $${a} AND load_id < $${b}))`);
  }
  params.push(limit);
  return q.query<LoadRow>(
    `SELECT * FROM loads ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, load_id DESC LIMIT $${params.length}`,
    params,
  );
}

/** The load history, newest first. Marks dead `running` loads `failed` first. */
export async function listLoads(q: Queryable, filter: LoadFilter = {}): Promise<LoadDetails[]> {
  await markStaleLoads(q);
  return (await selectLoads(q, filter, filter.limit ?? 1000)).map(toDetails);
}

/** A page of the load history, newest first, with the total matching and the next page's cursor. */
export async function pageOfLoads(q: Queryable, filter: LoadFilter = {}): Promise<LoadPage> {
  await markStaleLoads(q);
  const limit = filter.limit ?? 100;
  // One more than the page, to know whether another page follows.
  const rows = await selectLoads(q, filter, limit + 1);
  const { where, params } = filterSql(filter);
  const [count] = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM loads ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    loads: page.map(toDetails),
    total: Number(count?.n ?? 0),
    next: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

export async function getLoadReport(q: Queryable, loadId: string): Promise<LoadDetails> {
  await markStaleLoads(q);
  const [row] = await q.query<LoadRow>('SELECT * FROM loads WHERE load_id = $1', [loadId]);
  if (!row) {
    throw new KernelError('not-found', `There is no load ${loadId}`, {
      hint: 'Run `kernel loads` to list the loads',
    });
  }
  return toDetails(row);
}

/**
 * Writes a load's quarantined rows to `out` as CSV: line, rule, field, then the row's
 * columns as the warehouse held them (tokens, never identifiers), with spreadsheet formulas
 * neutralised, and records the export (`load.quarantine-exported`, counts only). Answers
 * the row count.
 */
export async function writeQuarantine(
  q: Store,
  loadId: string,
  out: string,
  actor = 'system',
): Promise<number> {
  await getLoadReport(q, loadId);
  const rows = await q.query<{ source_line: number; rule: string; field: string | null; row_json: string }>(
    'SELECT source_line, rule, field, row_json FROM load_quarantine WHERE load_id = $1 ORDER BY source_line',
    [loadId],
  );
  const stream = createWriteStream(out, { flags: 'wx' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KernelError(
      code === 'EEXIST' ? 'conflict' : 'config',
      `Cannot write ${out}: ${code ?? 'error'}`,
      {
        hint:
          code === 'EEXIST'
            ? 'Choose another --out; Kernel will not overwrite a file'
            : 'Check the folder exists',
      },
    );
  }
  const parsed = rows.map((r) => ({ ...r, values: JSON.parse(r.row_json) as Record<string, string | null> }));
  const columns = parsed[0] ? Object.keys(parsed[0].values) : [];
  const write = (text: string): Promise<void> =>
    stream.write(text) ? Promise.resolve() : new Promise((resolve) => stream.once('drain', () => resolve()));
  // A sender opens this in a spreadsheet: a value such as `=HYPERLINK(…)` must stay text.
  await write(`${['line', 'rule', 'field', ...columns].map(csvCell).join(',')}\n`);
  for (const row of parsed) {
    const cells = [row.source_line, row.rule, row.field, ...columns.map((c) => row.values[c] ?? null)];
    await write(`${cells.map(csvCell).join(',')}\n`);
  }
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  await q.transaction((tx) =>
    appendAudit(tx, {
      actor,
      action: 'load.quarantine-exported',
      target: loadId,
      details: { rows: rows.length },
    }),
  );
  return rows.length;
}
