/**
 * What Kernel's own records say happened in a month: the facts the monthly update reports
 * as completed activities, each with the record it comes from and a link to it in the
 * portal. Read from the governance and load records, never from warehouse data (`ds_*`).
 *
 * A fact's day is the one its record gives for the event: a load's finish, an invoice's
 * raising or payment date, an agreement's signing date, the last controller's approval of a
 * use case, the last onboarding step, and (subscriptions keep only their current state) the
 * audit event of the confirmation. Months are calendar months in UTC.
 */
import { ONBOARDING_STEPS } from '../governance/onboarding.ts';
import type { Queryable, Row, SqlValue } from '../store/store.ts';
import { addMonths } from '../governance/governance-values.ts';

export const FACT_KINDS = [
  'load',
  'subscription-confirmed',
  'invoice-raised',
  'invoice-paid',
  'use-case-approved',
  'member-onboarded',
  'agreement-signed',
] as const;
export type FactKind = (typeof FACT_KINDS)[number];

export interface KernelFact {
  kind: FactKind;
  /** the day it happened, 'YYYY-MM-DD' */
  on: string;
  /** the record: a load id, an invoice number, a use case id, an agreement id, `RWF 2021/22` */
  ref: string;
  /** the organisation it concerns, where one does */
  org: string | null;
  /** one line, plain English */
  text: string;
  /** the evidence in the portal */
  href: string;
  /** for loads: the dataset and the month of data */
  dataset?: string;
  period?: string | null;
  /** for loads: rows loaded, exact; the update shows them under disclosure control */
  rows?: number;
}

const LAST_STEP = ONBOARDING_STEPS[ONBOARDING_STEPS.length - 1]?.id ?? 'regular-feed-agreed';

/** Loads that completed (and may since have been superseded by a resubmission). */
export const COMPLETED_LOAD = "status IN ('loaded', 'superseded')";

/** Every fact whose day falls in `month` ('YYYY-MM'), in order of day, then kind and record. */
export async function factsInMonth(q: Queryable, month: string): Promise<KernelFact[]> {
  const from = `${month}-01`;
  const to = `${addMonths(month, 1)}-01`;
  const names = new Map(
    (await q.query<{ org_code: string; name: string }>('SELECT org_code, name FROM organisations')).map(
      (r) => [r.org_code, r.name],
    ),
  );
  const named = (org: string): string => (names.has(org) ? `${names.get(org) ?? ''} (${org})` : org);
  const facts: KernelFact[] = [];
  /** Each row of `sql` (its $1 and $2 the month's bounds, then `params`) as a fact on the day `at`. */
  const add = async <R extends Row>(
    kind: FactKind,
    sql: string,
    toFact: (row: R) => Omit<KernelFact, 'kind' | 'on'> & { at: string },
    params: SqlValue[] = [],
  ): Promise<void> => {
    for (const row of await q.query<R>(sql, [from, to, ...params])) {
      const { at, ...fact } = toFact(row);
      facts.push({ kind, on: at.slice(0, 10), ...fact });
    }
  };

  await add<{
    load_id: string;
    org_code: string;
    dataset_id: string;
    period: string | null;
    finished_at: string;
    rows_loaded: number | null;
  }>(
    'load',
    `SELECT load_id, org_code, dataset_id, period, finished_at, rows_loaded FROM loads
     WHERE ${COMPLETED_LOAD} AND finished_at >= $1 AND finished_at < $2`,
    (l) => ({
      at: l.finished_at,
      ref: l.load_id,
      org: l.org_code,
      dataset: l.dataset_id,
      period: l.period,
      rows: Number(l.rows_loaded ?? 0),
      text: `${named(l.org_code)}: ${l.dataset_id}${l.period ? ` for ${l.period}` : ''} loaded`,
      href: `/loads/${encodeURIComponent(l.load_id)}`,
    }),
  );

  await add<{ occurred_at: string; target: string; details: string }>(
    'subscription-confirmed',
    `SELECT occurred_at, target, details FROM audit_events
     WHERE action = 'subscription.confirmed' AND occurred_at >= $1 AND occurred_at < $2`,
    (c) => {
      const org = c.target.replace(/^org:/, '');
      const year = String((JSON.parse(c.details) as { year?: string }).year ?? '');
      return {
        at: c.occurred_at,
        ref: `${org} ${year}`,
        org,
        text: `${named(org)} confirmed its ${year} subscription`,
        href: `/funding?year=${encodeURIComponent(year)}`,
      };
    },
  );

  await add<{ number: string; org_code: string; raised_at: string; financial_year: string }>(
    'invoice-raised',
    `SELECT number, org_code, raised_at, financial_year FROM invoices
     WHERE number IS NOT NULL AND raised_at >= $1 AND raised_at < $2`,
    (i) => ({
      at: i.raised_at,
      ref: i.number,
      org: i.org_code,
      text: `Invoice ${i.number} raised to ${named(i.org_code)} for ${i.financial_year}`,
      href: `/funding/invoices/${encodeURIComponent(i.number)}`,
    }),
  );

  await add<{ number: string; org_code: string; paid_at: string }>(
    'invoice-paid',
    `SELECT number, org_code, paid_at FROM invoices
     WHERE number IS NOT NULL AND paid_at >= $1 AND paid_at < $2`,
    (i) => ({
      at: i.paid_at,
      ref: i.number,
      org: i.org_code,
      text: `Invoice ${i.number} paid by ${named(i.org_code)}`,
      href: `/funding/invoices/${encodeURIComponent(i.number)}`,
    }),
  );

  for (const u of await useCasesApproved(q, { from, to })) {
    facts.push({
      kind: 'use-case-approved',
      on: u.on,
      ref: u.id,
      org: null,
      text: `Use case ${u.id} approved by all its controllers: ${u.title}`,
      href: `/use-cases/${encodeURIComponent(u.id)}`,
    });
  }

  await add<{ org_code: string; done_at: string }>(
    'member-onboarded',
    `SELECT org_code, done_at FROM onboarding_steps
     WHERE done_at >= $1 AND done_at < $2 AND step = $3`,
    (o) => ({
      at: o.done_at,
      ref: o.org_code,
      org: o.org_code,
      text: `${named(o.org_code)} completed onboarding`,
      href: `/organisations/${encodeURIComponent(o.org_code)}`,
    }),
    [LAST_STEP],
  );

  await add<{ agreement_id: string; org_code: string; signed_at: string }>(
    'agreement-signed',
    `SELECT agreement_id, org_code, signed_at FROM agreements
     WHERE signed_at IS NOT NULL AND signed_at >= $1 AND signed_at < $2`,
    (a) => ({
      at: a.signed_at,
      ref: a.agreement_id,
      org: a.org_code,
      text: `Data sharing agreement ${a.agreement_id} signed by ${named(a.org_code)}`,
      href: `/organisations/${encodeURIComponent(a.org_code)}`,
    }),
  );

  return facts.sort(
    (a, b) =>
      a.on.localeCompare(b.on) ||
      FACT_KINDS.indexOf(a.kind) - FACT_KINDS.indexOf(b.kind) ||
      a.ref.localeCompare(b.ref),
  );
}

/** Use cases every controller has approved, with the day of the last approval. */
export async function useCasesApproved(
  q: Queryable,
  range: { from?: string; to?: string; id?: string } = {},
): Promise<{ id: string; title: string; on: string }[]> {
  const rows = await q.query<{ use_case_id: string; title: string; approved_at: string }>(
    `SELECT u.use_case_id, u.title, max(a.approved_at) AS approved_at
     FROM use_cases u JOIN use_case_approvals a ON a.use_case_id = u.use_case_id
     WHERE u.state IN ('approved', 'active', 'closed')
     GROUP BY u.use_case_id, u.title`,
  );
  return rows
    .filter(
      (r) =>
        (range.id === undefined || r.use_case_id === range.id) &&
        (range.from === undefined || r.approved_at >= range.from) &&
        (range.to === undefined || r.approved_at < range.to),
    )
    .map((r) => ({ id: r.use_case_id, title: r.title, on: r.approved_at.slice(0, 10) }));
}

/** When `org` finished onboarding (the last checklist step), or null. */
export async function onboardedOn(q: Queryable, org: string): Promise<string | null> {
  const [row] = await q.query<{ done_at: string }>(
    'SELECT done_at FROM onboarding_steps WHERE org_code = $1 AND step = $2',
    [org, LAST_STEP],
  );
  return row ? row.done_at.slice(0, 10) : null;
}
