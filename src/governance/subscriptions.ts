/**
 * Subscriptions: one per organisation per financial year (April to March), with a state
 * and, for tiered funding, a tier. Only confirmed subscribers share the cost.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { parseOneOf } from '../parse-one-of.ts';
import type { Queryable, Row } from '../store/store.ts';
import { financialYearFilter, type FinancialYearFilter } from './financial-year-filter.ts';
import { parseFundingRule } from './funding.ts';
import {
  inTransaction,
  nowIso,
  parseFinancialYear,
  parseJsonColumn,
  parseOrgCode,
} from './governance-values.ts';
import { getOrganisation, listOrganisations } from './organisations.ts';

export const SUBSCRIPTION_STATES = ['invited', 'confirmed', 'declined', 'lapsed'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** Which state may follow which; a new subscription starts invited or confirmed. */
const NEXT: Record<SubscriptionState | 'none', SubscriptionState[]> = {
  none: ['invited', 'confirmed'],
  invited: ['confirmed', 'declined'],
  confirmed: ['lapsed'],
  declined: ['invited', 'confirmed'],
  lapsed: ['invited', 'confirmed'],
};

export interface Subscription {
  org: string;
  year: string;
  state: SubscriptionState;
  tier: string | null;
  updatedAt: string;
  updatedBy: string;
}

interface SubscriptionRow extends Row {
  org_code: string;
  financial_year: string;
  state: string;
  tier: string | null;
  updated_at: string;
  updated_by: string;
}

const fromRow = (r: SubscriptionRow): Subscription => ({
  org: r.org_code,
  year: r.financial_year,
  state: r.state as SubscriptionState,
  tier: r.tier,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export function parseSubscriptionState(raw: string): SubscriptionState {
  return parseOneOf(raw, SUBSCRIPTION_STATES, { noun: 'a subscription state', field: 'state' });
}

export async function findSubscription(
  q: Queryable,
  org: string,
  year: string,
): Promise<Subscription | undefined> {
  const [row] = await q.query<SubscriptionRow>(
    'SELECT * FROM subscriptions WHERE org_code = $1 AND financial_year = $2',
    [org, year],
  );
  return row ? fromRow(row) : undefined;
}

/**
 * Moves an organisation's subscription for a year to `state` (and sets its tier when
 * given), following the allowed transitions; audited `subscription.<state>`.
 */
export async function setSubscription(
  q: Queryable,
  input: { org: string; year: string; state?: SubscriptionState; tier?: string | null },
  actor: string,
): Promise<Subscription> {
  const org = parseOrgCode(input.org);
  const year = parseFinancialYear(input.year);
  if (input.tier !== undefined && input.tier !== null && !/^[a-z][a-z0-9-]{0,29}$/.test(input.tier)) {
    throw new KernelError('usage', `"${input.tier}" is not a tier name`, {
      where: { field: 'tier' },
      hint: 'Tier names are lower-case words, e.g. large',
    });
  }
  return inTransaction(q, async (tx) => {
    await getOrganisation(tx, org);
    const current = await findSubscription(tx, org, year);
    const state = input.state ?? current?.state;
    if (!state) {
      throw new KernelError('usage', `${org} has no subscription for ${year} yet; give its state`, {
        where: { field: 'state' },
      });
    }
    const from = current?.state ?? 'none';
    if (state !== current?.state && !NEXT[from].includes(state)) {
      throw new KernelError(
        'conflict',
        `A subscription cannot go from ${from === 'none' ? 'nothing' : from} to ${state}`,
        {
          hint: `From ${from === 'none' ? 'nothing' : from} it can become ${NEXT[from].join(' or ')}`,
        },
      );
    }
    const tier = input.tier === undefined ? (current?.tier ?? null) : input.tier;
    if (input.tier !== undefined && input.tier !== null) await checkTierNamed(tx, year, input.tier);
    const at = nowIso();
    if (current) {
      await tx.run(
        'UPDATE subscriptions SET state = $3, tier = $4, updated_at = $5, updated_by = $6 WHERE org_code = $1 AND financial_year = $2',
        [org, year, state, tier, at, actor],
      );
    } else {
      await tx.run(
        'INSERT INTO subscriptions (org_code, financial_year, state, tier, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)',
        [org, year, state, tier, at, actor],
      );
    }
    await appendAudit(tx, {
      actor,
      action: `subscription.${state === current?.state ? 'updated' : state}`,
      target: `org:${org}`,
      details: { year, from, to: state, tier },
    });
    return { org, year, state, tier, updatedAt: at, updatedBy: actor };
  });
}

/**
 * Refuses a tier the year's funding rule does not name, when the rule shares the cost by
 * tier: it would be kept, and every funding and invoice read for the year would then fail.
 * A year with no rule yet, or one that shares by population or income, gives tiers no units.
 */
async function checkTierNamed(q: Queryable, year: string, tier: string): Promise<void> {
  const [row] = await q.query<{ rule: string }>('SELECT rule FROM funding_models WHERE financial_year = $1', [
    year,
  ]);
  if (!row) return;
  const rule = parseFundingRule(parseJsonColumn(row.rule, `funding rule for ${year}`));
  if (rule.kind === 'tiers' && !Object.hasOwn(rule.tiers, tier)) {
    throw new KernelError('usage', `The funding rule for ${year} names no tier "${tier}"`, {
      where: { field: 'tier' },
      hint: `Its tiers are ${Object.keys(rule.tiers).join(', ')}`,
    });
  }
}

/** Invites every registered data controller that has no subscription for the year yet. */
export async function inviteMembers(q: Queryable, yearRaw: string, actor: string): Promise<Subscription[]> {
  const year = parseFinancialYear(yearRaw);
  return inTransaction(q, async (tx) => {
    const invited: Subscription[] = [];
    for (const org of await listOrganisations(tx)) {
      if (org.kernelRole === 'processor' || (await findSubscription(tx, org.code, year))) continue;
      invited.push(await setSubscription(tx, { org: org.code, year, state: 'invited' }, actor));
    }
    return invited;
  });
}

export async function listSubscriptions(
  q: Queryable,
  filter: FinancialYearFilter<SubscriptionState> = {},
): Promise<Subscription[]> {
  const sql = financialYearFilter(filter);
  const rows = await q.query<SubscriptionRow>(
    `SELECT * FROM subscriptions ${sql.where()} ORDER BY financial_year, org_code`,
    sql.params,
  );
  return rows.map(fromRow);
}
