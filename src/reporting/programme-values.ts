/**
 * What the programme office's records share: who may use them, months and dates, the
 * numbering of workstreams, milestones and RAID items, and the history every change
 * leaves. Each domain function here takes a validated input and a `ProgrammeCaller`, and
 * checks the caller itself, so the CLI and the API stay thin.
 */
import { KernelError } from '../errors.ts';
import { addMonths, parseDate, parsePeriod } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';

/** Who is acting: the audit actor and their portal role, or `operator` for the CLI. */
export interface ProgrammeCaller {
  /** `user:<email>`, `token:<id>`, `cli:<os user>`, `system` */
  actor: string;
  /** a portal role, or `operator`: the person at the CLI, who holds the store itself */
  role: string;
}

/** The programme team and administrators keep the plan, the RAID log and the updates. */
export const PROGRAMME_ROLES = ['admin', 'programme'] as const;
export const CLI_OPERATOR = 'operator';
export const SYSTEM: ProgrammeCaller = { actor: 'system', role: CLI_OPERATOR };

export function assertProgrammeCaller(caller: ProgrammeCaller, doing: string): void {
  if (caller.role === CLI_OPERATOR || (PROGRAMME_ROLES as readonly string[]).includes(caller.role)) return;
  throw new KernelError('forbidden', `Your role (${caller.role}) may not ${doing}`, {
    hint: 'The programme team and administrators keep the plan, the RAID log and the monthly updates',
  });
}

/** 'YYYY-MM', checked. */
export function parseMonth(raw: string, field = 'month'): string {
  return parsePeriod(String(raw), field);
}

/** 'YYYY-MM-DD', checked. */
export function parseDay(raw: string, field = 'date'): string {
  return parseDate(String(raw), field);
}

/** Every month from `from` to `to`, both included. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  for (let m = from; m <= to; m = addMonths(m, 1)) months.push(m);
  return months;
}

/** The last day of a month, 'YYYY-MM-DD'. */
export function monthEnd(month: string): string {
  const next = addMonths(month, 1);
  const last = new Date(Date.UTC(Number(next.slice(0, 4)), Number(next.slice(5, 7)) - 1, 0));
  return last.toISOString().slice(0, 10);
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** '2021-07' → 'July 2021' */
export function monthName(month: string): string {
  return `${MONTH_NAMES[Number(month.slice(5, 7)) - 1] ?? ''} ${month.slice(0, 4)}`;
}

/** '2021-07' → 'Jul' */
export function shortMonthName(month: string): string {
  return (MONTH_NAMES[Number(month.slice(5, 7)) - 1] ?? '').slice(0, 3);
}

export function todayOf(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Text a person typed: trimmed, required, at most `max` characters. */
export function requiredText(raw: unknown, field: string, max = 500): string {
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (!value) throw new KernelError('usage', `Give the ${field}`, { where: { field } });
  if (value.length > max) {
    throw new KernelError('usage', `The ${field} is longer than ${max} characters`, { where: { field } });
  }
  return value;
}

export function optionalText(raw: unknown, field: string, max = 2000): string | null {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return null;
  return requiredText(raw, field, max);
}

/**
 * A link to evidence: a path in the portal (`/loads/ld-…`) or an https address. Anything
 * else (javascript:, data:) is refused, since it is put into pages as a link.
 */
export function parseHref(raw: unknown, field = 'href'): string | null {
  const value = optionalText(raw, field, 500);
  if (value === null) return null;
  if (/^\/(?!\/)[^\s]*$/.test(value) || /^https:\/\/[^\s]+$/.test(value)) return value;
  throw new KernelError('usage', `"${value}" is not a link Kernel can show`, {
    where: { field },
    hint: 'Give a portal path such as /loads?org=RWF, or an https:// address',
  });
}

/**
 * The next number of a series (`WS`, `M`, `R`, `I`, `A`, `D`), in the caller's transaction.
 * Like invoice numbers: the audit chain's lock first (as appendAudit takes it), then the
 * series row's, so concurrent writers on PostgreSQL queue and never deadlock.
 */
export async function nextInSeries(tx: Queryable, series: string, width: number): Promise<string> {
  if (tx.dialect.lockAuditChain) await tx.exec(tx.dialect.lockAuditChain);
  await tx.run('INSERT INTO programme_series (series, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING', [
    series,
  ]);
  const [row] = await tx.query<{ last_seq: number }>(
    'UPDATE programme_series SET last_seq = last_seq + 1 WHERE series = $1 RETURNING last_seq',
    [series],
  );
  if (!row) throw new KernelError('internal', `The ${series} series is missing`);
  return `${series}-${String(Number(row.last_seq)).padStart(width, '0')}`;
}

export interface HistoryEntry {
  at: string;
  actor: string;
  action: string;
  changes: Record<string, unknown>;
  note: string | null;
}

export async function appendHistory(
  tx: Queryable,
  subject: string,
  entry: Omit<HistoryEntry, 'at'> & { at?: string },
): Promise<void> {
  const [last] = await tx.query<{ seq: number | null }>(
    'SELECT max(seq) AS seq FROM programme_history WHERE subject_id = $1',
    [subject],
  );
  await tx.run(
    'INSERT INTO programme_history (subject_id, seq, changed_at, actor, action, changes, note) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [
      subject,
      Number(last?.seq ?? 0) + 1,
      entry.at ?? new Date().toISOString(),
      entry.actor,
      entry.action,
      JSON.stringify(entry.changes),
      entry.note,
    ],
  );
}

export async function historyOf(q: Queryable, subject: string): Promise<HistoryEntry[]> {
  const rows = await q.query<{
    at: string;
    actor: string;
    action: string;
    changes: string;
    note: string | null;
  }>(
    'SELECT changed_at AS at, actor, action, changes, note FROM programme_history WHERE subject_id = $1 ORDER BY seq',
    [subject],
  );
  return rows.map((r) => ({
    at: r.at,
    actor: r.actor,
    action: r.action,
    changes: JSON.parse(r.changes) as Record<string, unknown>,
    note: r.note,
  }));
}
