/**
 * Issues Kernel raises itself from its own state, and closes when the state clears:
 *
 * - **feed late**: a member whose regular feed is agreed (the onboarding checklist's last
 *   step) has a feed — an organisation × dataset it has loaded before — with no completed
 *   load for the two latest months that were due. A month of data is due once the month
 *   after it has ended (SUS-style monthly submission); months count only while a data
 *   sharing agreement in force covers the feed, and only from the feed's first month.
 *   Until feed schedules exist (issue 16), this is the schedule.
 * - **waiting for sign-off**: a member's first load finished more than N weeks ago (six by
 *   default) and its onboarding step "dataset signed off" is not done. Sign-off records
 *   (issue 16) will replace the onboarding step when they exist.
 * - **subscription not confirmed**: a financial year has begun (1 April) and members'
 *   subscriptions for it are still invited.
 *
 * One item per member (or per year), keyed by the rule, so the same state reopens it.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { addMonths, inTransaction } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';
import { ONBOARDING_STEPS } from '../governance/onboarding.ts';
import { COMPLETED_LOAD } from './kernel-facts.ts';
import { assertProgrammeCaller, monthsBetween, type ProgrammeCaller } from './programme-values.ts';

export interface RuleOptions {
  /** weeks a first load may wait for sign-off before it is an issue */
  signOffWeeks: number;
}

export const DEFAULT_RULE_OPTIONS: RuleOptions = { signOffWeeks: 6 };

const SIGN_OFF_WEEKS = 'sign-off-weeks';

/**
 * The rules as the programme team set them (`kernel raid rules`), the defaults otherwise.
 * Kept in the store, so the portal, the API, the CLI and the monthly update all apply the same.
 */
export async function readRuleOptions(q: Queryable): Promise<RuleOptions> {
  const rows = await q.query<{ value: string }>('SELECT value FROM programme_settings WHERE name = $1', [
    SIGN_OFF_WEEKS,
  ]);
  const weeks = Number(rows[0]?.value);
  return { signOffWeeks: Number.isInteger(weeks) && weeks > 0 ? weeks : DEFAULT_RULE_OPTIONS.signOffWeeks };
}

/** Sets how many weeks a first load may wait for sign-off before Kernel raises an issue. */
export async function setSignOffWeeks(
  q: Queryable,
  raw: string | number,
  caller: ProgrammeCaller,
): Promise<RuleOptions> {
  assertProgrammeCaller(caller, 'change the rules Kernel raises issues by');
  const weeks = Number(raw);
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > 52) {
    throw new KernelError('usage', `"${raw}" is not a number of weeks from 1 to 52`, {
      where: { field: 'sign-off-weeks' },
      hint: 'Give a whole number of weeks, e.g. 6',
    });
  }
  return inTransaction(q, async (tx) => {
    const before = await readRuleOptions(tx);
    await tx.run('DELETE FROM programme_settings WHERE name = $1', [SIGN_OFF_WEEKS]);
    await tx.run(
      'INSERT INTO programme_settings (name, value, changed_at, changed_by) VALUES ($1, $2, $3, $4)',
      [SIGN_OFF_WEEKS, String(weeks), new Date().toISOString(), caller.actor],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'raid.rules-changed',
      target: `setting:${SIGN_OFF_WEEKS}`,
      details: { from: before.signOffWeeks, to: weeks },
    });
    return { signOffWeeks: weeks };
  });
}

/** A condition that holds now: the issue it should keep open. */
export interface AutoCondition {
  key: string;
  title: string;
  description: string;
  owner: string;
  impact: number;
  evidenceHref: string;
}

const LAST_STEP = ONBOARDING_STEPS[ONBOARDING_STEPS.length - 1]?.id ?? 'regular-feed-agreed';

/** Every automatic condition that holds at `now`. */
export async function autoConditions(
  q: Queryable,
  now: Date,
  options: RuleOptions = DEFAULT_RULE_OPTIONS,
): Promise<AutoCondition[]> {
  return [
    ...(await lateFeeds(q, now)),
    ...(await waitingForSignOff(q, now, options.signOffWeeks)),
    ...(await unconfirmedSubscriptions(q, now)),
  ];
}

async function lateFeeds(q: Queryable, now: Date): Promise<AutoCondition[]> {
  // The latest month of data that is due: the month before last.
  const latestDue = addMonths(now.toISOString().slice(0, 7), -2);
  const regular = new Set(
    (
      await q.query<{ org_code: string }>('SELECT org_code FROM onboarding_steps WHERE step = $1', [
        LAST_STEP,
      ])
    ).map((r) => r.org_code),
  );
  if (regular.size === 0) return [];
  const loaded = await q.query<{ org_code: string; dataset_id: string; period: string }>(
    `SELECT DISTINCT org_code, dataset_id, period FROM loads WHERE ${COMPLETED_LOAD} AND period IS NOT NULL`,
  );
  const covered = await q.query<{
    org_code: string;
    dataset_id: string;
    start_period: string;
    end_period: string;
  }>(
    `SELECT a.org_code, d.dataset_id, a.start_period, a.end_period
     FROM agreements a JOIN agreement_datasets d ON d.agreement_id = a.agreement_id
     WHERE a.state = 'in-force'`,
  );
  const feeds = new Map<string, Set<string>>();
  for (const l of loaded) {
    if (!regular.has(l.org_code)) continue;
    const key = `${l.org_code}\t${l.dataset_id}`;
    (feeds.get(key) ?? feeds.set(key, new Set()).get(key))?.add(l.period);
  }
  const lateByOrg = new Map<string, { dataset: string; months: string[] }[]>();
  for (const [key, periods] of feeds) {
    const [org, dataset] = key.split('\t') as [string, string];
    const first = [...periods].sort()[0] as string;
    const expected = new Set<string>();
    for (const a of covered.filter((c) => c.org_code === org && c.dataset_id === dataset)) {
      const from = a.start_period > first ? a.start_period : first;
      const to = a.end_period < latestDue ? a.end_period : latestDue;
      if (from <= to) for (const m of monthsBetween(from, to)) expected.add(m);
    }
    const lastTwo = [...expected].sort().slice(-2);
    if (lastTwo.length === 2 && lastTwo.every((m) => !periods.has(m))) {
      (lateByOrg.get(org) ?? lateByOrg.set(org, []).get(org))?.push({ dataset, months: lastTwo });
    }
  }
  return [...lateByOrg]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([org, late]) => ({
      key: `feed-late:${org}`,
      title: `${org}'s feeds late two months running`,
      description: late
        .sort((a, b) => a.dataset.localeCompare(b.dataset))
        .map((l) => `${l.dataset}: nothing loaded for ${l.months.join(' or ')}`)
        .join('; '),
      owner: org,
      impact: 3,
      evidenceHref: `/catalogue/coverage?org=${org}`,
    }));
}

async function waitingForSignOff(q: Queryable, now: Date, weeks: number): Promise<AutoCondition[]> {
  const before = new Date(now.getTime() - weeks * 7 * 86_400_000).toISOString();
  const rows = await q.query<{ org_code: string; first_load: string }>(
    `SELECT l.org_code, min(l.finished_at) AS first_load FROM loads l
     WHERE l.${COMPLETED_LOAD}
       AND NOT EXISTS (SELECT 1 FROM onboarding_steps s WHERE s.org_code = l.org_code AND s.step = 'dataset-signed-off')
     GROUP BY l.org_code`,
  );
  return rows
    .filter((r) => r.first_load < before)
    .sort((a, b) => a.org_code.localeCompare(b.org_code))
    .map((r) => ({
      key: `signoff-wait:${r.org_code}`,
      title: `${r.org_code}'s data waiting for sign-off more than ${weeks} weeks`,
      description: `${r.org_code}'s first load finished on ${r.first_load.slice(0, 10)}; the dataset is not signed off yet.`,
      owner: r.org_code,
      impact: 3,
      evidenceHref: `/organisations/${r.org_code}`,
    }));
}

async function unconfirmedSubscriptions(q: Queryable, now: Date): Promise<AutoCondition[]> {
  const today = now.toISOString().slice(0, 10);
  const rows = await q.query<{ financial_year: string; org_code: string }>(
    "SELECT financial_year, org_code FROM subscriptions WHERE state = 'invited' ORDER BY financial_year, org_code",
  );
  const byYear = new Map<string, string[]>();
  for (const r of rows) {
    if (`${r.financial_year.slice(0, 4)}-04-01` > today) continue;
    (byYear.get(r.financial_year) ?? byYear.set(r.financial_year, []).get(r.financial_year))?.push(
      r.org_code,
    );
  }
  return [...byYear].map(([year, orgs]) => ({
    key: `subscription-unconfirmed:${year}`,
    title: `${orgs.length} ${orgs.length === 1 ? 'subscription' : 'subscriptions'} for ${year} not confirmed by the start of the year`,
    description: `Still invited on 1 April ${year.slice(0, 4)} and after: ${orgs.join(', ')}.`,
    owner: 'Programme office',
    impact: orgs.length > 3 ? 4 : 3,
    evidenceHref: `/funding?year=${encodeURIComponent(year)}`,
  }));
}
