import { randomUUID } from 'node:crypto';
import { KernelError } from '../errors.ts';
import { FIRST_YEAR, LAST_YEAR } from '../months.ts';
import { parseOneOf } from '../parse-one-of.ts';
import type { Queryable, Row, Store } from '../store/store.ts';

/**
 * Values every governance record shares — purposes, organisation codes, periods and
 * financial years — each checked in one place so the CLI, the API and the demo refuse the
 * same mistakes with the same words.
 */

/** The usage error for `raw`, given as `field`, that is not `what` ("a month"): the same words everywhere. */
function notValid(raw: string, what: string, field: string, hint: string): KernelError {
  return new KernelError('usage', `"${raw}" is not ${what}`, { where: { field }, hint });
}

/** Why data is used (reference §9: the national data opt-out follows the purpose). */
export const PURPOSES = ['direct-care', 'planning', 'research'] as const;
export type Purpose = (typeof PURPOSES)[number];

export function parsePurpose(raw: string, field = 'purpose'): Purpose {
  return parseOneOf(raw, PURPOSES, {
    noun: 'a purpose',
    field,
    normalise: (written) => written.trim().toLowerCase().replace(/[_ ]/g, '-'),
  });
}

/**
 * ODS codes are 3–5 upper-case letters and digits (e.g. RWF, QKS, 91Q); GSS codes are a
 * letter and eight digits (E10000016). Kernel also accepts short synthetic codes (KFRS).
 * Codes are inlined into governed SQL, so nothing else may pass.
 */
const ORG_CODE = /^[A-Z0-9]{2,9}$/;

export function parseOrgCode(raw: string, field = 'org'): string {
  const value = raw.trim().toUpperCase();
  if (!ORG_CODE.test(value)) {
    throw notValid(
      raw,
      'an organisation code',
      field,
      'Give an ODS code such as RWF, or a GSS code such as E10000016',
    );
  }
  return value;
}

export function isOrgCode(value: string): boolean {
  return ORG_CODE.test(value);
}

const DATASET_ID = /^[a-z][a-z0-9-]{0,39}$/;

export function parseDatasetId(raw: string, field = 'dataset'): string {
  const value = raw.trim();
  if (!DATASET_ID.test(value)) {
    throw notValid(
      raw,
      'a dataset id',
      field,
      'Dataset ids are lower-case words joined by hyphens, e.g. msds-booking; see `kernel datasets`',
    );
  }
  return value;
}

export { FIRST_YEAR, LAST_YEAR, parsePeriod } from '../months.ts';

/** A year as four digits: 999 → '0999'. */
function fourDigits(year: number): string {
  return String(year).padStart(4, '0');
}

/** The month `n` months after `month` (before, for a negative `n`): '2021-01', -1 → '2020-12'. */
export function addMonths(month: string, n: number): string {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + n;
  return `${fourDigits(Math.floor(index / 12))}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** A calendar date, 'YYYY-MM-DD'. */
export function parseDate(raw: string, field = 'date'): string {
  const value = raw.trim();
  const date = new Date(`${value}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== value
  ) {
    throw notValid(raw, 'a date', field, 'Write dates as YYYY-MM-DD, e.g. 2021-04-01');
  }
  return value;
}

/**
 * A financial year, April to March, written '2021/22' (the NHS convention). Answers the
 * canonical form; also accepts '2021-22' and '2021'.
 */
export function parseFinancialYear(raw: string, field = 'year'): string {
  const value = raw.trim();
  const match = /^(\d{4})(?:[/-](\d{2}))?$/.exec(value);
  const start = match ? Number(match[1]) : NaN;
  const end = match?.[2];
  if (!match || (end !== undefined && Number(end) !== (start + 1) % 100)) {
    throw notValid(
      raw,
      'a financial year',
      field,
      'Write financial years as 2021/22 (April 2021 to March 2022)',
    );
  }
  // The year ends in March of the next, which must fall in the years a month may.
  if (start < FIRST_YEAR || start + 1 > LAST_YEAR) {
    throw notValid(
      raw,
      `a financial year from ${FIRST_YEAR}/${String((FIRST_YEAR + 1) % 100).padStart(2, '0')} to ${LAST_YEAR - 1}/${String(LAST_YEAR % 100).padStart(2, '0')}`,
      field,
      'Write financial years as 2021/22 (April 2021 to March 2022)',
    );
  }
  return `${fourDigits(start)}/${String((start + 1) % 100).padStart(2, '0')}`;
}

/** The first and last months of a financial year: '2021/22' → ['2021-04', '2022-03']. */
export function financialYearMonths(year: string): { from: string; to: string } {
  const start = Number(year.slice(0, 4));
  return { from: `${fourDigits(start)}-04`, to: `${fourDigits(start + 1)}-03` };
}

/** Pence as '£1,234.56'. */
export function formatPounds(pence: number): string {
  const sign = pence < 0 ? '-' : '';
  const abs = Math.abs(pence);
  const pounds = Math.floor(abs / 100).toLocaleString('en-GB');
  return `${sign}£${pounds}.${String(abs % 100).padStart(2, '0')}`;
}

/** '£1,234.56', '1234.56' or '1234' as integer pence. */
export function parsePounds(raw: string, field = 'amount'): number {
  const value = raw.trim().replace(/^£/, '').replace(/,/g, '');
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) {
    throw notValid(raw, 'an amount of money', field, 'Write pounds, e.g. 250000 or 1234.56');
  }
  const pence = Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
  if (!Number.isSafeInteger(pence))
    throw new KernelError('usage', `"${raw}" is too large`, { where: { field } });
  return pence;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function newId(): string {
  return randomUUID();
}

/** Reads a JSON text column written by this module, with a clear error if it is damaged. */
export function parseJsonColumn<T>(raw: unknown, what: string): T {
  try {
    return JSON.parse(String(raw)) as T;
  } catch {
    throw new KernelError('store', `The stored ${what} is not valid JSON`, {
      hint: 'The record was damaged outside Kernel; restore it from a backup',
    });
  }
}

/** `$1, $2, …` placeholders for an IN list starting after `offset` parameters. */
export function placeholders(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => `$${i + offset + 1}`).join(', ');
}

/**
 * The rows of a request's child table (an output's checks, a re-identification's approvals)
 * for many requests at once, grouped by `request_id`; `select` is given the IN list's
 * placeholders. Ids go in lists of 500 parameters, well inside both engines' limits.
 */
export async function rowsByRequest<R extends Row & { request_id: string }, T>(
  q: Queryable,
  ids: readonly string[],
  select: (inList: string) => string,
  map: (row: R) => T,
): Promise<Map<string, T[]>> {
  const byRequest = new Map<string, T[]>();
  for (let start = 0; start < ids.length; start += 500) {
    const part = ids.slice(start, start + 500);
    for (const row of await q.query<R>(select(placeholders(part.length)), part)) {
      byRequest.set(row.request_id, [...(byRequest.get(row.request_id) ?? []), map(row)]);
    }
  }
  return byRequest;
}

/**
 * Runs `work` in one transaction: the store's own when given the store, or the caller's
 * when given an open transaction (transactions do not nest, so a caller already inside
 * one — the loader, the demo — passes its `tx` and the change commits with its work).
 */
export async function inTransaction<T>(q: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  const maybeStore = q as Partial<Store>;
  if (typeof maybeStore.transaction === 'function') return maybeStore.transaction(work);
  return work(q);
}
