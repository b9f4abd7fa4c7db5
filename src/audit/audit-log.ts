import { createHash } from 'node:crypto';
import { KernelError } from '../errors.ts';
import type { Dialect } from '../store/dialect.ts';
import { SqlFilter } from '../store/sql-filter.ts';
import type { Queryable, Row, SqlValue, Store } from '../store/store.ts';

/**
 * The audit log: append-only and hash-chained. Each event's hash covers a canonical
 * encoding of its sequence number, time, actor, action, target, purpose, details and the
 * previous event's hash, so editing, deleting, inserting or reordering any event breaks
 * the chain from that point (`verifyAudit`).
 *
 * An event is written with `appendAudit(tx, …)` inside the same transaction as the action
 * it records: if the action rolls back, so does its event.
 */

export type AuditDetails = Record<string, string | number | boolean | null | string[] | number[]>;

export interface AuditEntry {
  /** who: `cli:<os user>`, `user:<email>`, `token:<id>`, `system` */
  actor: string;
  /** what, dotted: `warehouse.initialised`, `load.completed`, `usecase.approved` */
  action: string;
  /** on what: a load id, `org:RWF`, `dataset:apc`, `usecase:3` */
  target: string;
  /** under which use case or purpose, where one applies */
  purpose?: string | null;
  /** counts, ids and states; never an identifier, key, token or token-to-identity map */
  details?: AuditDetails;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  purpose: string | null;
  details: string;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with keys sorted at every level, so the same details always encode the same way. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The canonical encoding an event's hash covers: its fields in a fixed order, each as
 * `<UTF-8 byte length>:<text>` (NULL as `-`), joined by `|`. Length-prefixing makes the
 * encoding unambiguous, and it is simple enough to compute in SQL on both engines, which
 * is how `verifyAudit` checks a million events in seconds.
 */
export function encodeEvent(event: Omit<AuditEvent, 'hash'>): string {
  const field = (value: string | null): string =>
    value === null ? '-' : `${Buffer.byteLength(value)}:${value}`;
  return [
    String(event.seq),
    field(event.at),
    field(event.actor),
    field(event.action),
    field(event.target),
    field(event.purpose),
    field(event.details),
    field(event.prevHash),
  ].join('|');
}

export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(encodeEvent(event)).digest('hex');
}

/** `encodeEvent` as a SQL expression over an audit_events row. */
function encodeEventSql(dialect: Dialect): string {
  const field = (column: string): string =>
    `CASE WHEN ${column} IS NULL THEN '-' ELSE CAST(${dialect.byteLength(column)} AS TEXT) || ':' || ${column} END`;
  return [
    'CAST(seq AS TEXT)',
    ...['occurred_at', 'actor', 'action', 'target', 'purpose', 'details', 'prev_hash'].map(field),
  ].join(" || '|' || ");
}

// Shapes that must never reach an audit detail. The runtime guard is the real
// enforcement; callers are expected never to try.
const NHS_NUMBER_SHAPE = /(^|[^0-9A-Za-z])\d{3}[ -]?\d{3}[ -]?\d{4}([^0-9A-Za-z]|$)/;
const POSTCODE_SHAPE = /\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b/i;
const SECRET_KEY_NAMES =
  /^(key|secret|password|linkKey|privateKey|salt|token|nhsNumber|name|address|postcode|dateOfBirth)$/i;

/** True when `value` has the shape of an NHS number or a postcode (never written to the log). */
export function looksLikeIdentifier(value: string): boolean {
  return NHS_NUMBER_SHAPE.test(value) || POSTCODE_SHAPE.test(value);
}

export function assertSafeDetails(details: AuditDetails, where: string): void {
  for (const [key, value] of Object.entries(details)) {
    if (SECRET_KEY_NAMES.test(key)) {
      throw new KernelError('internal', `Audit details for ${where} may not carry "${key}"`);
    }
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (typeof item !== 'string') continue;
      if (looksLikeIdentifier(item)) {
        throw new KernelError(
          'internal',
          `Audit details for ${where} hold a value shaped like an identifier ("${key}")`,
        );
      }
    }
  }
}

interface ChainHead {
  seq: number;
  hash: string;
}

async function chainHead(tx: Queryable): Promise<ChainHead> {
  if (tx.dialect.lockAuditChain) await tx.exec(tx.dialect.lockAuditChain);
  const [last] = await tx.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1',
  );
  return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
}

const COLUMNS = [
  'seq',
  'occurred_at',
  'actor',
  'action',
  'target',
  'purpose',
  'details',
  'prev_hash',
  'hash',
] as const;

/**
 * Appends one or more events, chained after the current head, inside `tx`. Many events
 * go in one bulk insert, which is how a batch reaches tens of thousands a second.
 */
export async function appendAudit(tx: Queryable, entries: AuditEntry | AuditEntry[]): Promise<AuditEvent[]> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return [];
  let head = await chainHead(tx);
  const at = new Date().toISOString();
  const events: AuditEvent[] = list.map((entry) => {
    const details = entry.details ?? {};
    assertSafeDetails(details, entry.action);
    const unhashed = {
      seq: head.seq + 1,
      at,
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      purpose: entry.purpose ?? null,
      details: canonicalJson(details),
      prevHash: head.hash,
    };
    const event = { ...unhashed, hash: hashEvent(unhashed) };
    head = { seq: event.seq, hash: event.hash };
    return event;
  });
  const rows = events.map((e): SqlValue[] => [
    e.seq,
    e.at,
    e.actor,
    e.action,
    e.target,
    e.purpose,
    e.details,
    e.prevHash,
    e.hash,
  ]);
  if (rows.length === 1) {
    await tx.run(
      `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      rows[0],
    );
  } else {
    await tx.insertRows('audit_events', COLUMNS, rows);
  }
  return events;
}

/** Runs `work` and records `entry` in the same transaction: both happen, or neither. */
export async function auditedTransaction<T>(
  store: Store,
  entry: AuditEntry | ((result: T) => AuditEntry),
  work: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return store.transaction(async (tx) => {
    const result = await work(tx);
    await appendAudit(tx, typeof entry === 'function' ? entry(result) : entry);
    return result;
  });
}

export type AuditVerdict =
  { ok: true; count: number; head: string } | { ok: false; count: number; brokenAt: number; reason: string };

/**
 * The roles that may read the audit log and verify its chain, wherever they come in (the
 * portal, the API, a command); an IG lead reads their own organisation's events only
 * (`auditVisibleTo`).
 */
export const AUDIT_READERS = ['admin', 'ig-lead'] as const;

/**
 * Walks the whole chain in order and answers OK with the count, or the first broken
 * event: a gap in the sequence (deleted), a previous-hash mismatch (deleted, inserted or
 * reordered), or a hash that does not match the event's own content (edited). The engine
 * recomputes every hash (see `encodeEvent`), so nothing is copied out of the store.
 */
export async function verifyAudit(store: Queryable): Promise<AuditVerdict> {
  const chain = `
    WITH chain AS (
      SELECT seq, hash, prev_hash,
             row_number() OVER (ORDER BY seq) AS position,
             COALESCE(lag(hash) OVER (ORDER BY seq), '${GENESIS_HASH}') AS expected_prev,
             ${store.dialect.sha256Hex(encodeEventSql(store.dialect))} AS recomputed
      FROM audit_events
    )`;
  const [first] = await store.query<{ position: number; seq: number; problem: string }>(
    `${chain}
     SELECT position, seq,
            CASE WHEN seq > position THEN 'missing' WHEN seq < position THEN 'order'
                 WHEN prev_hash <> expected_prev THEN 'follow' ELSE 'altered' END AS problem
     FROM chain
     WHERE seq <> position OR prev_hash <> expected_prev OR hash <> recomputed
     ORDER BY position LIMIT 1`,
  );
  if (first) {
    const at = first.problem === 'missing' ? first.position : first.seq;
    const reason = {
      missing: `event ${at} is missing`,
      order: `event ${at} is out of order`,
      follow: `event ${at} does not follow event ${at - 1}`,
      altered: `event ${at} has been altered`,
    }[first.problem];
    return { ok: false, count: first.position - 1, brokenAt: at, reason: reason ?? `event ${at} is broken` };
  }
  const [last] = await store.query<{ n: number; head: string | null }>(
    'SELECT count(*) AS n, (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS head FROM audit_events',
  );
  return { ok: true, count: last?.n ?? 0, head: last?.head ?? GENESIS_HASH };
}

interface AuditRow extends Row {
  seq: number;
  occurred_at: string;
  actor: string;
  action: string;
  target: string;
  purpose: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditFilter {
  limit?: number;
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  until?: string;
  /** only events before this sequence number (to page back through the log) */
  beforeSeq?: number;
}

/** The filter's conditions (not its limit), for a listing and its count alike. */
function auditConditions(filter: AuditFilter): SqlFilter {
  const sql = new SqlFilter();
  if (filter.actor) sql.add('actor = ?', filter.actor);
  if (filter.action) sql.add('action LIKE ?', `${filter.action}%`);
  if (filter.target) sql.add('target = ?', filter.target);
  if (filter.since) sql.add('occurred_at >= ?', filter.since);
  if (filter.until) sql.add('occurred_at < ?', filter.until);
  if (filter.beforeSeq !== undefined) sql.add('seq < ?', filter.beforeSeq);
  return sql;
}

/** The latest events, newest first, narrowed by the filter. */
export async function listAudit(store: Queryable, filter: AuditFilter = {}): Promise<AuditEvent[]> {
  const sql = auditConditions(filter);
  const limit = sql.next(Math.max(1, Math.min(filter.limit ?? 20, 10_000)));
  const rows = await store.query<AuditRow>(
    `SELECT ${COLUMNS.join(', ')} FROM audit_events ${sql.where()} ORDER BY seq DESC LIMIT ${limit}`,
    sql.params,
  );
  return rows.map((row) => ({
    seq: row.seq,
    at: row.occurred_at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    purpose: row.purpose,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  }));
}

/** How many events the filter matches (its limit and cursor aside). */
export async function countMatchingAudit(store: Queryable, filter: AuditFilter = {}): Promise<number> {
  const { beforeSeq: _cursor, limit: _limit, ...conditions } = filter;
  const sql = auditConditions(conditions);
  const [row] = await store.query<{ n: number }>(
    `SELECT count(*) AS n FROM audit_events ${sql.where()}`,
    sql.params,
  );
  return Number(row?.n ?? 0);
}

export async function countAudit(store: Queryable): Promise<number> {
  const [row] = await store.query<{ n: number }>('SELECT count(*) AS n FROM audit_events');
  return row?.n ?? 0;
}
