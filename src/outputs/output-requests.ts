/**
 * Outputs that leave the analyst workspace (issue 15), the way trusted research
 * environments release them: nothing leaves except through an output request, and a
 * request is released only when two independent output checkers approve it.
 *
 * - The workspace makes the file from a query result and marks it **aggregate** (a table of
 *   counts: automatic disclosure control, with secondary suppression, before anyone sees it)
 *   or **record level**. Either way the query ran where every token and record key is the use
 *   case's own pseudonym (output-workspace.ts), so nothing derived from one matches a
 *   warehouse token; anything still shaped like a token is replaced again here.
 * - Checkers hold the `output-checker` role; neither may be the requester; the two may not
 *   both come from one organisation while a checker from another exists. Either may
 *   return the request with comments (the requester makes a new one) or reject it.
 * - Only the requester downloads a released file, and only the bytes whose SHA-256 was
 *   recorded when it was made. Every step is audited, with counts and ids, never contents.
 */
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HES_2018 } from '../analytics/disclosure-control.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { inTransaction, rowsByRequest } from '../governance/governance-values.ts';
import { KernelError } from '../errors.ts';
import { writeOutputFile, type Cell, type OutputFormat, type ResultTable } from '../files/output-files.ts';
import type { Principal } from '../operations/principal.ts';
import { SqlFilter } from '../store/sql-filter.ts';
import type { Queryable } from '../store/store.ts';
import { controlAggregateTables, type ReleasedTable } from './aggregate-disclosure-control.ts';
import { aggregateTable } from './aggregate-table.ts';

export const OUTPUT_KINDS = ['aggregate', 'record-level'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
export const OUTPUT_STATES = ['submitted', 'returned', 'rejected', 'released'] as const;
export type OutputState = (typeof OUTPUT_STATES)[number];
export const CHECK_DECISIONS = ['approve', 'return', 'reject'] as const;
export type CheckDecision = (typeof CHECK_DECISIONS)[number];

/** How many independent approvals release an output. */
export const APPROVALS_NEEDED = 2;

export interface OutputCheck {
  checkerId: string;
  checkerOrg: string | null;
  decision: CheckDecision;
  comment: string;
  at: string;
}

export interface OutputRequest {
  id: string;
  useCaseId: string;
  requestedBy: string;
  requesterOrg: string | null;
  title: string;
  description: string;
  kind: OutputKind;
  format: OutputFormat;
  state: OutputState;
  sha256: string;
  bytes: number;
  rows: number;
  disclosureNote: string;
  createdAt: string;
  decidedAt: string | null;
  downloadedAt: string | null;
  checks: OutputCheck[];
}

/** The table of counts an aggregate output is: which result columns are what. */
export interface AggregateShape {
  rows: string;
  /** the second dimension; without one, the table has a single column of counts */
  columns?: string;
  count: string;
}

export interface NewOutput {
  useCaseId: string;
  title: string;
  description: string;
  format: OutputFormat;
  /** present for an aggregate output; absent, the output is record level */
  aggregate?: AggregateShape;
}

export interface OutputPlace {
  /** where the files live: `<data>/outputs` */
  folder: string;
  /** the use case's key (hex), for record-level pseudonyms */
  useCaseKey: string;
}

/** Where output files live: beside the warehouse, never inside a web folder. */
export function outputsFolder(dataDir: string): string {
  return path.join(dataDir, 'outputs');
}

/** A token's or a pseudonym's shape (64 hex digits), in any case, anywhere in a value. */
const TOKEN_LIKE = /[0-9a-f]{64}/gi;
/** How many of a file's rows its checkers see on the page (they check the whole file's shape). */
export const PREVIEW_ROWS = 200;

/**
 * The text with every run of 64 hex digits, in any case, replaced by its HMAC-SHA256 under the
 * use case's key. The output's query already ran on pseudonyms (output-workspace.ts); this
 * second guard catches a token that reached the result some other way, whole or inside a
 * longer value (`upper(…)`, `… || 'x'`), so the same value always gets the same pseudonym.
 */
function pseudonymiseText(text: string, key: Buffer): string {
  return text.replace(TOKEN_LIKE, (token) =>
    createHmac('sha256', key).update(token.toLowerCase()).digest('hex'),
  );
}

/** A record-level result with every token-shaped run in its values pseudonymised (`pseudonymiseText`). */
export function pseudonymiseResult(result: ResultTable, useCaseKey: string): ResultTable {
  const key = Buffer.from(useCaseKey, 'hex');
  const rows = result.rows.map((row) =>
    row.map((value): Cell => (typeof value === 'string' ? pseudonymiseText(value, key) : value)),
  );
  return { columns: result.columns, rows };
}

const WHOLE = 'all';

/** The label of a total's row and column in an aggregate's file. */
const TOTAL = 'Total';

/** An aggregate result as its disclosure-controlled table, flattened back to rows for the file. */
export function controlledAggregate(
  result: ResultTable,
  shape: AggregateShape,
  useCaseKey: string,
): { table: ResultTable; note: string } {
  const records = result.rows.map((row) => {
    const record: Record<string, unknown> = Object.fromEntries(result.columns.map((c, i) => [c, row[i]]));
    if (!shape.columns) record[WHOLE] = WHOLE;
    return record;
  });
  for (const field of [shape.rows, shape.columns, shape.count]) {
    if (field && !result.columns.includes(field)) {
      throw new KernelError('usage', `The query has no column "${field}"`, {
        where: { field },
        hint: `Its columns are: ${result.columns.join(', ')}`,
      });
    }
  }
  const spec = { name: 'output', rows: shape.rows, columns: shape.columns ?? WHOLE, count: shape.count };
  const table = aggregateTable(records, spec);
  refuseTotalLabel(table.rowKeys, shape.rows, 'rows');
  if (shape.columns) refuseTotalLabel(table.columnKeys, shape.columns, 'columns');
  const release = controlAggregateTables([table], HES_2018);
  return {
    table: flatten(release.tables[0] as ReleasedTable, shape, Buffer.from(useCaseKey, 'hex')),
    note: release.note,
  };
}

/** A value labelled "Total" would be one line of the file that reads like its total's. */
function refuseTotalLabel(keys: readonly string[], column: string, field: 'rows' | 'columns'): void {
  if (!keys.some((key) => key.trim().toLowerCase() === TOTAL.toLowerCase())) return;
  throw new KernelError(
    'usage',
    `The column "${column}" has a value "${TOTAL}", which the file uses for its totals`,
    {
      where: { field },
      hint: `Give that group another name in the query (say CASE WHEN ${column} = '${TOTAL}' THEN '${TOTAL} (group)' ELSE ${column} END)`,
    },
  );
}

/** The controlled table as the file's rows; labels shaped like tokens are pseudonymised as record-level values are. */
function flatten(table: ReleasedTable, shape: AggregateShape, key: Buffer): ResultTable {
  const rows: Cell[][] = [];
  const rowKeys = table.rowKeys.map((k) => pseudonymiseText(k, key));
  const columnKeys = table.columnKeys.map((k) => pseudonymiseText(k, key));
  rowKeys.forEach((rowKey, r) => {
    columnKeys.forEach((columnKey, c) => {
      const cell = table.cells[r]?.[c] ?? '*';
      rows.push(shape.columns ? [rowKey, columnKey, cell] : [rowKey, cell]);
    });
    if (shape.columns) rows.push([rowKey, TOTAL, table.rowTotals[r] ?? '*']);
  });
  if (shape.columns) {
    columnKeys.forEach((columnKey, c) => rows.push([TOTAL, columnKey, table.columnTotals[c] ?? '*']));
  }
  rows.push(shape.columns ? [TOTAL, TOTAL, table.grandTotal] : [TOTAL, table.grandTotal]);
  return {
    columns: shape.columns ? [shape.rows, shape.columns, shape.count] : [shape.rows, shape.count],
    rows,
  };
}

/** Makes the file from the result, keeps it, and records the request as submitted. */
export async function requestOutput(
  q: Queryable,
  requester: Principal,
  input: NewOutput,
  result: ResultTable,
  place: OutputPlace,
  actor: string,
): Promise<OutputRequest> {
  const kind: OutputKind = input.aggregate ? 'aggregate' : 'record-level';
  const made = input.aggregate
    ? controlledAggregate(result, input.aggregate, place.useCaseKey)
    : {
        table: pseudonymiseResult(result, place.useCaseKey),
        note: 'Record level: every person and record key is a pseudonym of this use case.',
      };
  const bytes = await writeOutputFile(made.table, input.format);
  const id = `OUT-${randomSuffix()}`;
  mkdirSync(place.folder, { recursive: true, mode: 0o700 });
  const file = path.join(place.folder, `${id}.${input.format}`);
  writeFileSync(file, bytes, { mode: 0o600 });
  chmodSync(file, 0o600);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const now = new Date().toISOString();
  await inTransaction(q, async (tx) => {
    await tx.query(
      `INSERT INTO output_requests (request_id, use_case_id, requested_by, requester_org, title, description,
         kind, format, state, file_sha256, file_bytes, rows_out, disclosure_note, preview_json, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', $9, $10, $11, $12, $13, $14)`,
      [
        id,
        input.useCaseId,
        requester.userId,
        requester.org,
        input.title,
        input.description,
        kind,
        input.format,
        sha256,
        bytes.length,
        made.table.rows.length,
        made.note,
        JSON.stringify({ columns: made.table.columns, rows: made.table.rows.slice(0, PREVIEW_ROWS) }),
        now,
      ],
    );
    await appendAudit(tx, {
      actor,
      action: 'output.requested',
      target: `output:${id}`,
      purpose: input.useCaseId,
      details: { kind, format: input.format, rows: made.table.rows.length, sha256 },
    });
  });
  return getOutputRequest(q, id);
}

function randomSuffix(): string {
  return createHash('sha256')
    .update(`${Date.now()}-${Math.random()}`)
    .digest('hex')
    .slice(0, 10)
    .toUpperCase();
}

type RequestRow = {
  request_id: string;
  use_case_id: string;
  requested_by: string;
  requester_org: string | null;
  title: string;
  description: string;
  kind: OutputKind;
  format: OutputFormat;
  state: OutputState;
  file_sha256: string;
  file_bytes: number;
  rows_out: number;
  disclosure_note: string;
  created_at: string;
  decided_at: string | null;
  downloaded_at: string | null;
};

const REQUEST_COLUMNS =
  'request_id, use_case_id, requested_by, requester_org, title, description, kind, format, state, file_sha256, file_bytes, rows_out, disclosure_note, created_at, decided_at, downloaded_at';

function checksOf(q: Queryable, ids: readonly string[]): Promise<Map<string, OutputCheck[]>> {
  return rowsByRequest(
    q,
    ids,
    (inList) => `SELECT request_id, checker_id, checker_org, decision, comment, checked_at FROM output_checks
      WHERE request_id IN (${inList}) ORDER BY checked_at, checker_id`,
    (r: {
      request_id: string;
      checker_id: string;
      checker_org: string | null;
      decision: CheckDecision;
      comment: string;
      checked_at: string;
    }) => ({
      checkerId: r.checker_id,
      checkerOrg: r.checker_org,
      decision: r.decision,
      comment: r.comment,
      at: r.checked_at,
    }),
  );
}

function fromRow(row: RequestRow, checks: OutputCheck[]): OutputRequest {
  return {
    id: row.request_id,
    useCaseId: row.use_case_id,
    requestedBy: row.requested_by,
    requesterOrg: row.requester_org,
    title: row.title,
    description: row.description,
    kind: row.kind,
    format: row.format,
    state: row.state,
    sha256: row.file_sha256,
    bytes: Number(row.file_bytes),
    rows: Number(row.rows_out),
    disclosureNote: row.disclosure_note,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    downloadedAt: row.downloaded_at,
    checks,
  };
}

export async function getOutputRequest(q: Queryable, id: string): Promise<OutputRequest> {
  const [row] = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM output_requests WHERE request_id = $1`,
    [id],
  );
  if (!row) {
    throw new KernelError('not-found', `There is no output request ${id}`, {
      hint: 'See the list of output requests (kernel outputs list)',
    });
  }
  return fromRow(row, (await checksOf(q, [id])).get(id) ?? []);
}

/**
 * The requests a principal may see: an output checker and an administrator see every one;
 * anyone else sees their own.
 */
export async function listOutputRequests(
  q: Queryable,
  principal: Principal,
  filter: { state?: OutputState } = {},
): Promise<OutputRequest[]> {
  const sql = new SqlFilter();
  if (!['output-checker', 'admin'].includes(principal.role)) sql.add('requested_by = ?', principal.userId);
  if (filter.state) sql.add('state = ?', filter.state);
  const rows = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM output_requests ${sql.where()}
      ORDER BY created_at DESC, request_id`,
    sql.params,
  );
  const checks = await checksOf(
    q,
    rows.map((r) => r.request_id),
  );
  return rows.map((r) => fromRow(r, checks.get(r.request_id) ?? []));
}

/** A requester sees their own request; checkers and administrators see any. */
export async function visibleOutputRequest(
  q: Queryable,
  principal: Principal,
  id: string,
): Promise<OutputRequest> {
  const request = await getOutputRequest(q, id);
  if (request.requestedBy !== principal.userId && !['output-checker', 'admin'].includes(principal.role)) {
    throw new KernelError('not-found', `There is no output request ${id}`);
  }
  return request;
}

/** The first rows of the file, as its checkers and requester see them on the page. */
export async function outputPreview(q: Queryable, principal: Principal, id: string): Promise<ResultTable> {
  await visibleOutputRequest(q, principal, id);
  const [row] = await q.query<{ preview_json: string }>(
    'SELECT preview_json FROM output_requests WHERE request_id = $1',
    [id],
  );
  return JSON.parse(row?.preview_json ?? '{"columns":[],"rows":[]}') as ResultTable;
}

/** Organisations with an active output checker: independence is required where two exist. */
async function checkerOrganisations(q: Queryable): Promise<Set<string>> {
  const rows = await q.query<{ org_code: string | null }>(
    "SELECT DISTINCT org_code FROM users WHERE role = 'output-checker' AND disabled_at IS NULL",
  );
  return new Set(rows.map((r) => r.org_code ?? ''));
}

/**
 * One checker's decision. Two approvals from independent checkers release the output; a
 * return or a rejection ends the request at once.
 */
export async function checkOutput(
  q: Queryable,
  checker: Principal,
  id: string,
  decision: CheckDecision,
  comment: string,
  actor: string,
): Promise<OutputRequest> {
  if (checker.role !== 'output-checker') {
    throw new KernelError('forbidden', 'Only an output checker may check an output', {
      hint: 'Ask an administrator for the output-checker role',
    });
  }
  const request = await getOutputRequest(q, id);
  if (request.requestedBy === checker.userId) {
    throw new KernelError('forbidden', 'You cannot check an output you requested', {
      hint: 'Two other output checkers must check it',
    });
  }
  if (request.state !== 'submitted') {
    throw new KernelError('conflict', `Output ${id} is ${request.state}; it can no longer be checked`);
  }
  if (request.checks.some((c) => c.checkerId === checker.userId)) {
    throw new KernelError('conflict', `You have already checked output ${id}`, {
      hint: 'A second, independent checker must check it',
    });
  }
  if (decision !== 'approve' && comment.trim() === '') {
    throw new KernelError('usage', 'Say why, for the requester', { where: { field: 'comment' } });
  }
  const approvals = request.checks.filter((c) => c.decision === 'approve');
  if (decision === 'approve' && approvals.length > 0) {
    const firstOrg = approvals[0]?.checkerOrg ?? '';
    const orgs = await checkerOrganisations(q);
    if ((checker.org ?? '') === firstOrg && orgs.size > 1) {
      throw new KernelError('forbidden', 'The second check must come from another organisation', {
        hint: 'Output checkers work in more than one organisation: ask one from another to check it',
      });
    }
  }
  const released = decision === 'approve' && approvals.length + 1 >= APPROVALS_NEEDED;
  const state: OutputState =
    decision === 'reject'
      ? 'rejected'
      : decision === 'return'
        ? 'returned'
        : released
          ? 'released'
          : 'submitted';
  const now = new Date().toISOString();
  await inTransaction(q, async (tx) => {
    await tx.query(
      `INSERT INTO output_checks (request_id, checker_id, checker_org, decision, comment, checked_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, checker.userId, checker.org, decision, comment.trim(), now],
    );
    if (state !== 'submitted') {
      await tx.query('UPDATE output_requests SET state = $1, decided_at = $2 WHERE request_id = $3', [
        state,
        now,
        id,
      ]);
    }
    await appendAudit(tx, {
      actor,
      action: `output.${decision === 'approve' ? 'approved' : decision === 'return' ? 'returned' : 'rejected'}`,
      target: `output:${id}`,
      purpose: request.useCaseId,
      details: { state, approvals: approvals.length + (decision === 'approve' ? 1 : 0) },
    });
  });
  return getOutputRequest(q, id);
}

/**
 * The released file, for its requester only, exactly as checked (its SHA-256 is verified).
 * `deliver`, when given, hands the bytes over (the CLI writes its `--out` file) before the
 * download is recorded and audited: a delivery that fails leaves nothing recorded.
 */
export async function downloadOutput(
  q: Queryable,
  requester: Principal,
  id: string,
  folder: string,
  actor: string,
  deliver?: (bytes: Buffer) => void | Promise<void>,
): Promise<{ request: OutputRequest; bytes: Buffer }> {
  const request = await visibleOutputRequest(q, requester, id);
  if (request.requestedBy !== requester.userId) {
    throw new KernelError('forbidden', 'Only the requester downloads an output');
  }
  if (request.state !== 'released') {
    throw new KernelError('conflict', `Output ${id} is ${request.state}, not released`, {
      hint: `It needs ${APPROVALS_NEEDED} approvals from independent output checkers`,
    });
  }
  const bytes = readFileSync(path.join(folder, `${id}.${request.format}`));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== request.sha256) {
    throw new KernelError('internal', `Output ${id} is not the file that was checked`, {
      hint: 'Nothing was released; tell the Kernel team',
    });
  }
  await deliver?.(bytes);
  const now = new Date().toISOString();
  await inTransaction(q, async (tx) => {
    await tx.query('UPDATE output_requests SET downloaded_at = $1 WHERE request_id = $2', [now, id]);
    await appendAudit(tx, {
      actor,
      action: 'output.downloaded',
      target: `output:${id}`,
      purpose: request.useCaseId,
      details: { sha256, bytes: bytes.length },
    });
  });
  return { request: { ...request, downloadedAt: now }, bytes };
}

/** What the public site lists: released outputs, with the checkers' organisations (never names). */
export async function releasedOutputs(
  q: Queryable,
): Promise<{ id: string; title: string; useCaseId: string; releasedOn: string; checkedBy: string[] }[]> {
  const rows = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM output_requests WHERE state = 'released' ORDER BY decided_at DESC`,
  );
  const checks = await checksOf(
    q,
    rows.map((r) => r.request_id),
  );
  return rows.map((r) => ({
    id: r.request_id,
    title: r.title,
    useCaseId: r.use_case_id,
    releasedOn: (r.decided_at ?? '').slice(0, 10),
    checkedBy: (checks.get(r.request_id) ?? []).map(
      (c) => `Output checker${c.checkerOrg ? `, ${c.checkerOrg}` : ''}`,
    ),
  }));
}
