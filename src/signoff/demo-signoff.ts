import type { Queryable } from '../store/store.ts';
import { scheduledMonths, setFeedSchedule } from './feed-schedules.ts';
import { decide, listSignOffs, OPERATOR, publishBacklog, type SignOffMonth } from './sign-off.ts';

/**
 * The demo's sign-off (docs/signoff.md): one of RWF's feeds with two months loaded (admitted
 * patient care where it has them) has the earlier month signed off by RWF's BI lead and
 * published, so the demo shows a finished month; the later month is left for the demo
 * provider account to sign off from its home page; every other month loaded is published as
 * the backlog from before sign-off began. Run again, it changes nothing.
 */
export async function seedDemoSignOff(
  q: Queryable,
  actor: string,
): Promise<{
  feed: string;
  published: string;
  waiting: string;
  late: string | null;
  alreadySeeded: boolean;
} | null> {
  const operator = { actor, role: OPERATOR, org: null };
  const months = await listSignOffs(q, operator, { org: 'RWF' });
  const byDataset = new Map<string, SignOffMonth[]>();
  for (const m of months) byDataset.set(m.dataset, [...(byDataset.get(m.dataset) ?? []), m]);
  const candidates = [...byDataset.entries()].filter(([, list]) => list.length >= 2);
  const chosen = candidates.find(([dataset]) => dataset === 'apc') ?? candidates[0];
  if (!chosen) return null;
  const [dataset, [latest, before]] = chosen as [string, [SignOffMonth, SignOffMonth]];
  const feed = `RWF's ${dataset}`;
  // The feed is scheduled through the month after the demo's last, which never comes: one
  // late feed to see on the coverage grid and the home page.
  const lateMonth = nextMonth(latest.period);
  const late = async () =>
    (await scheduledMonths(q, new Date(), 'RWF')).find((m) => m.dataset === dataset && m.state === 'late')
      ?.period ?? null;
  if (months.some((m) => m.state !== 'loaded')) {
    return {
      feed,
      published: before.period,
      waiting: latest.period,
      late: await late(),
      alreadySeeded: true,
    };
  }
  const first = months.at(-1)?.period ?? before.period;
  await setFeedSchedule(q, { org: 'RWF', dataset, dueWorkingDay: 10, from: first, until: lateMonth }, actor);
  const month = { org: 'RWF', dataset, period: before.period };
  const biLead = { actor: 'user:provider.rwf@kernel.example', role: 'provider', org: 'RWF' };
  await decide(q, biLead, { ...month, decision: 'check' });
  await decide(q, biLead, {
    ...month,
    decision: 'sign-off',
    note: 'Agrees with our own totals for the month',
  });
  await decide(q, operator, { ...month, decision: 'publish' });
  // The rest of the demo's history is published as a backlog, so the use cases that read
  // only published months (the demo's) see it; RWF's latest month waits for its BI lead.
  await publishBacklog(q, operator, {
    before: '9999-12',
    note: 'Published as the backlog from before sign-off began (demo)',
    keep: [{ org: 'RWF', dataset, period: latest.period }],
  });
  return { feed, published: before.period, waiting: latest.period, late: await late(), alreadySeeded: false };
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}
