import { appendAudit, looksLikeIdentifier } from '../audit/audit-log.ts';
import { inTransaction } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';

/** How much of a query's text the audit keeps; the rest is cut, and the cut said so. */
const AUDITED_SQL_LENGTH = 10_000;

/**
 * Shapes masked out of a query's text before it is audited, because the audit log never holds
 * a token, an NHS number or a postcode (audit-log.ts), and an analyst may well paste one into
 * a WHERE clause: hex runs of 32 or more (warehouse tokens, use-case pseudonyms), ten digits
 * in the 3-3-4 layout of an NHS number, and UK postcodes.
 */
const MASKS: [RegExp, string][] = [
  [/\b[0-9a-f]{32,}\b/gi, '<token>'],
  [/\d{3}[ -]?\d{3}[ -]?\d{4}/g, '<number>'],
  [/\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b/gi, '<postcode>'],
];

const SHAPE_NAMES = ['a token or pseudonym', 'an NHS number', 'a postcode'] as const;

/**
 * The first identifier shape in a query's text — the shapes the audit masks — with where it
 * is (line and column, from 1), never the value; null when it holds none.
 */
export function identifierShapeIn(
  sql: string,
): { shape: (typeof SHAPE_NAMES)[number]; line: number; column: number } | null {
  let first: { shape: (typeof SHAPE_NAMES)[number]; index: number } | null = null;
  MASKS.forEach(([pattern], i) => {
    const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(sql);
    if (match && (first === null || match.index < first.index))
      first = { shape: SHAPE_NAMES[i] as (typeof SHAPE_NAMES)[number], index: match.index };
  });
  if (first === null) return null;
  const { shape, index } = first as { shape: (typeof SHAPE_NAMES)[number]; index: number };
  const before = sql.slice(0, index).split('\n');
  return { shape, line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** The query's text as the audit keeps it: identifier shapes masked, length bounded. */
export function auditableSql(sql: string): string {
  let text = sql.length > AUDITED_SQL_LENGTH ? `${sql.slice(0, AUDITED_SQL_LENGTH)} …[cut]` : sql;
  for (const [shape, mask] of MASKS) text = text.replace(shape, mask);
  // The audit log's own guard would refuse the whole event; keep the event, not the text.
  return looksLikeIdentifier(text) ? '[withheld: the text holds what looks like an identifier]' : text;
}

export interface WorkspaceQueryRecord {
  actor: string;
  useCaseId: string;
  engine: string;
  sql: string;
  /** rows returned, or null when the query was refused or stopped */
  rows: number | null;
  ms: number;
  /** 'ok', or the error code that stopped it (refused, too-large, invalid-input…) */
  outcome: string;
}

/** Records one workspace query, whatever its outcome: use case, SQL text, rows returned, time. */
export async function auditWorkspaceQuery(q: Queryable, record: WorkspaceQueryRecord): Promise<void> {
  await inTransaction(q, (tx) =>
    appendAudit(tx, {
      actor: record.actor,
      action: 'workspace.query',
      target: `usecase:${record.useCaseId}`,
      purpose: record.useCaseId,
      details: {
        engine: record.engine,
        sql: auditableSql(record.sql),
        rows: record.rows,
        ms: record.ms,
        outcome: record.outcome,
      },
    }),
  );
}
