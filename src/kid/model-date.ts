/**
 * The person-level model's date (`as_of`): the last day of the latest month of `gp-events`
 * activity loaded, held back while a month is still coming in. Frailty (src/kid/frailty.ts),
 * the model (src/kid/person-model.ts) and risk scoring (src/kid/risk.ts) are given the date
 * the build works out here once, so the eFI and the model's other fields describe the same day.
 *
 * The month is the latest `period` of a loaded gp-events feed (every load's manifest names
 * its month), not the latest EVENT_DATE in the rows: a single mistyped future date in one
 * practice's extract would otherwise move the whole model's date.
 *
 * **A month that is still coming in holds the date back.** The members send a month over a
 * fortnight or so: the first GP practice's extract would move every person's 12-month window
 * onto a month that the hospitals, the other practices and the councils have not sent yet, and
 * the model would show everyone's activity and cost falling until they had. So where the feed
 * schedules (src/signoff/feed-schedules.ts) say a feed the model reads is still expected for
 * a month (not received, its due day not passed), the model stays on the month before. A feed
 * past its due day does not hold it: like SUS's freeze, the month moves on with what came, the
 * coverage grid shows the late feed, and when it arrives an incremental build counts it in.
 * Without schedules nothing is held.
 */
import { addMonths } from '../governance/governance-values.ts';
import { scheduledMonths, type ScheduledMonth } from '../signoff/feed-schedules.ts';
import type { Queryable } from '../store/store.ts';
import { KID_LINEAGE } from './kid-read.ts';

/**
 * Every dataset whose rows fall in the model's window or make its population: the field
 * groups' sources, and the community and mental health contacts the model counts.
 */
export const MODEL_INPUT_DATASETS: ReadonlySet<string> = new Set([
  ...Object.values(KID_LINEAGE).flat(),
  'csds-care-contact',
  'mhsds-care-contact',
]);

export interface ModelDate {
  /** 'YYYY-MM-DD': the date a build made now gives the model; null when it has none */
  asOf: string | null;
  /** the latest month of gp-events loaded, 'YYYY-MM' */
  latestMonth: string | null;
  /**
   * What holds the date back (empty when nothing does): the scheduled feeds of the model's
   * inputs still expected for the first month up to `latestMonth` that has any; of a
   * provider's own organisation only, as a provider is shown (`modelDateSeenBy`).
   */
  waitingFor: Array<Pick<ScheduledMonth, 'org' | 'dataset' | 'period' | 'dueOn'>>;
  /** how many feeds hold the date back, whoever sends them */
  feedsWaiting: number;
  /** the last of their due days, 'YYYY-MM-DD'; null when none holds it */
  lastDueOn: string | null;
}

/** 'YYYY-MM-DD', or null when no complete month of gp-events has been loaded. */
export async function modelDate(q: Queryable, today: Date = new Date()): Promise<string | null> {
  return (await modelDateOn(q, today)).asOf;
}

/** The model's date on `today`, and what holds it back. */
export async function modelDateOn(q: Queryable, today: Date = new Date()): Promise<ModelDate> {
  const rows = await q.query<{ latest: string | null; earliest: string | null }>(
    `SELECT max(period) AS latest, min(period) AS earliest FROM loads
     WHERE dataset_id = 'gp-events' AND status = 'loaded'`,
  );
  const latest = rows[0]?.latest ? String(rows[0].latest) : null;
  const earliest = rows[0]?.earliest ? String(rows[0].earliest) : null;
  if (latest === null || earliest === null)
    return { asOf: null, latestMonth: null, waitingFor: [], feedsWaiting: 0, lastDueOn: null };
  const expected = (await scheduledMonths(q, today)).filter(
    (m) => m.state === 'expected' && m.period <= latest && MODEL_INPUT_DATASETS.has(m.dataset),
  );
  const firstHeld = expected.map((m) => m.period).sort()[0];
  const waitingFor = expected
    .filter((m) => m.period === firstHeld)
    .map(({ org, dataset, period, dueOn }) => ({ org, dataset, period, dueOn }))
    .sort(
      (a, b) =>
        a.dueOn.localeCompare(b.dueOn) || a.org.localeCompare(b.org) || a.dataset.localeCompare(b.dataset),
    );
  const month = firstHeld === undefined ? latest : addMonths(firstHeld, -1);
  return {
    asOf: month < earliest ? null : lastDayOfMonth(month),
    latestMonth: latest,
    waitingFor,
    feedsWaiting: waitingFor.length,
    lastDueOn: waitingFor.at(-1)?.dueOn ?? null,
  };
}

/**
 * The model's date as a reader from `org` may see it: which member has not yet sent a month
 * is coverage, and a provider sees only its own organisation's (as on the coverage grid), so
 * only its own feeds are named, the others counted; null `org` (an administrator, an analyst,
 * the operator's CLI) sees them all. The date itself is everyone's.
 */
export function modelDateSeenBy(dated: ModelDate, org: string | null): ModelDate {
  return org === null ? dated : { ...dated, waitingFor: dated.waitingFor.filter((w) => w.org === org) };
}

/**
 * Why the model's date stays on a month before the latest GP events, naming the scheduled
 * feeds still to come; null when nothing holds it. Said by `kernel kid status` and the portal.
 */
export function heldBackNote(dated: ModelDate): string | null {
  if (dated.feedsWaiting === 0 || dated.latestMonth === null) return null;
  const count = dated.feedsWaiting;
  const feeds = dated.waitingFor.map((w) => `${w.org} ${w.dataset}`);
  const parts = feeds.length > 10 ? [...feeds.slice(0, 10), `${feeds.length - 10} more`] : [...feeds];
  const unnamed = count - feeds.length;
  if (unnamed > 0) parts.push(`${unnamed} of other members`);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts.join('');
  const month = dated.asOf === null ? 'its first month' : addMonths(dated.asOf.slice(0, 7), 1);
  return (
    `GP events are loaded to ${dated.latestMonth}, but ${month} is still coming in: ` +
    `${count} scheduled feed${count === 1 ? '' : 's'} not yet received and not yet due ` +
    `(the last by ${dated.lastDueOn}): ${list}. The person-level model stays on ` +
    `${dated.asOf ?? 'no date'} until they arrive or fall due (feed schedules: docs/feeds.md).`
  );
}

/**
 * The last day the data describes: the last day of the latest month of any loaded feed of the
 * KID's sources; null before any is loaded. A registration still open then runs on without an
 * end, so a later day would count everyone then alive, older, rather than anyone's data.
 */
export async function dataEndDay(q: Queryable): Promise<string | null> {
  const datasets = [...MODEL_INPUT_DATASETS];
  const rows = await q.query<{ latest: string | null }>(
    `SELECT max(period) AS latest FROM loads
     WHERE status = 'loaded' AND dataset_id IN (${datasets.map((_, i) => `$${i + 1}`).join(', ')})`,
    datasets,
  );
  const latest = rows[0]?.latest ? String(rows[0].latest) : null;
  return latest === null || !/^\d{4}-\d{2}$/.test(latest) ? null : lastDayOfMonth(latest);
}

/** '2020-02' → '2020-02-29'. */
export function lastDayOfMonth(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number);
  // Day 0 of the next month is the last day of this one (ECMA-262 MakeDay rolls it back).
  return new Date(Date.UTC(year ?? 1970, monthNumber ?? 1, 0)).toISOString().slice(0, 10);
}
