/**
 * Feed schedules and late feeds (issue 16): a regular feed is organisation × dataset, sent
 * monthly by the Nth working day of the month after the one it covers. A month is **late** once
 * its due day has passed with nothing loaded for it, and **expected** until then. Working days
 * are Monday to Friday; bank holidays are not counted out, so a feed is late a day early at
 * worst around one (the schedule says "by the Nth working day", which senders read the same way).
 */
import { appendAudit } from '../audit/audit-log.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { addMonths, inTransaction, parseOrgCode, parsePeriod } from '../governance/governance-values.ts';
import { findOrganisation } from '../governance/organisations.ts';
import type { Queryable } from '../store/store.ts';

export interface FeedSchedule {
  org: string;
  dataset: string;
  frequency: 'monthly';
  /** the working day of the following month by which a month's data are due (1 to 20) */
  dueWorkingDay: number;
  /** the first month the schedule covers, YYYY-MM */
  from: string;
  /** the last month it covers, or null while it runs on */
  until: string | null;
}

export interface ScheduledMonth {
  org: string;
  dataset: string;
  period: string;
  /** YYYY-MM-DD */
  dueOn: string;
  state: 'received' | 'late' | 'expected';
}

/** Adds or changes a feed's schedule (`feed.scheduled` in the audit log). */
export async function setFeedSchedule(
  q: Queryable,
  input: { org: string; dataset: string; dueWorkingDay: number | string; from: string; until?: string },
  actor: string,
): Promise<FeedSchedule> {
  const org = parseOrgCode(input.org);
  const from = parsePeriod(input.from, 'from');
  const until = input.until ? parsePeriod(input.until, 'until') : null;
  if (until !== null && until < from) {
    throw new KernelError('usage', `The schedule ends (${until}) before it begins (${from})`, {
      where: { field: 'until' },
    });
  }
  const day = Number(input.dueWorkingDay);
  if (!Number.isInteger(day) || day < 1 || day > 20) {
    throw new KernelError('usage', `"${input.dueWorkingDay}" is not a working day from 1 to 20`, {
      where: { field: 'due-day' },
      hint: 'SUS-style monthly feeds are due by about the 10th working day',
    });
  }
  const dataset = input.dataset.trim();
  if (!/^[a-z0-9-]{2,40}$/.test(dataset)) {
    throw new KernelError('usage', `"${input.dataset}" is not a dataset id`, { where: { field: 'dataset' } });
  }
  // A schedule for a feed that can never arrive would list it as late every month.
  if (!listDatasets().some((spec) => spec.id === dataset)) {
    throw new KernelError('usage', `There is no dataset ${dataset} in the catalogue`, {
      where: { field: 'dataset' },
      hint: 'See `kernel datasets` for the catalogue',
    });
  }
  return inTransaction(q, async (tx) => {
    if (!(await findOrganisation(tx, org))) {
      throw new KernelError('usage', `No organisation ${org} is registered`, {
        where: { field: 'org' },
        hint: 'See `kernel orgs list` for the register',
      });
    }
    await tx.run('DELETE FROM feed_schedules WHERE org_code = $1 AND dataset_id = $2', [org, dataset]);
    await tx.run(
      `INSERT INTO feed_schedules (org_code, dataset_id, frequency, due_working_day, from_period, until_period, changed_at, changed_by)
       VALUES ($1, $2, 'monthly', $3, $4, $5, $6, $7)`,
      [org, dataset, day, from, until, new Date().toISOString(), actor],
    );
    await appendAudit(tx, {
      actor,
      action: 'feed.scheduled',
      target: `org:${org}`,
      details: { dataset, dueWorkingDay: day, from, until },
    });
    return { org, dataset, frequency: 'monthly', dueWorkingDay: day, from, until };
  });
}

export async function listFeedSchedules(q: Queryable, org?: string): Promise<FeedSchedule[]> {
  const rows = await q.query<{
    org_code: string;
    dataset_id: string;
    due_working_day: number;
    from_period: string;
    until_period: string | null;
  }>(
    `SELECT org_code, dataset_id, due_working_day, from_period, until_period FROM feed_schedules
      ${org ? 'WHERE org_code = $1' : ''} ORDER BY org_code, dataset_id`,
    org ? [org] : [],
  );
  return rows.map((r) => ({
    org: r.org_code,
    dataset: r.dataset_id,
    frequency: 'monthly',
    dueWorkingDay: Number(r.due_working_day),
    from: r.from_period,
    until: r.until_period,
  }));
}

/** The date of the `n`th working day (Monday to Friday) of `month` (YYYY-MM). */
export function workingDay(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  let counted = 0;
  for (let day = 1; day <= 31; day += 1) {
    const date = new Date(Date.UTC(y, m - 1, day));
    if (date.getUTCMonth() !== m - 1) break;
    const weekday = date.getUTCDay();
    if (weekday !== 0 && weekday !== 6 && ++counted === n) return date.toISOString().slice(0, 10);
  }
  throw new KernelError('internal', `No working day ${n} in ${month}`);
}

/**
 * Every scheduled month from each schedule's first up to the month before `today`'s, with
 * where it stands: received (a load stands for it), late (its due day has passed), expected.
 */
export async function scheduledMonths(
  q: Queryable,
  today: Date = new Date(),
  org?: string,
): Promise<ScheduledMonth[]> {
  const schedules = await listFeedSchedules(q, org);
  const received = new Set(
    (
      await q.query<{ org_code: string; dataset_id: string; period: string }>(
        "SELECT DISTINCT org_code, dataset_id, period FROM loads WHERE status = 'loaded' AND period IS NOT NULL",
      )
    ).map((r) => `${r.org_code}|${r.dataset_id}|${r.period}`),
  );
  const day = today.toISOString().slice(0, 10);
  const lastMonth = addMonths(day.slice(0, 7), -1);
  const out: ScheduledMonth[] = [];
  for (const s of schedules) {
    const last = s.until !== null && s.until < lastMonth ? s.until : lastMonth;
    for (let period = s.from; period <= last && out.length < 100_000; period = addMonths(period, 1)) {
      const dueOn = workingDay(addMonths(period, 1), s.dueWorkingDay);
      const state = received.has(`${s.org}|${s.dataset}|${period}`)
        ? 'received'
        : dueOn < day
          ? 'late'
          : 'expected';
      out.push({ org: s.org, dataset: s.dataset, period, dueOn, state });
    }
  }
  return out;
}
