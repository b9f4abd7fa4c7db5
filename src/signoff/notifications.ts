/**
 * Emails that keep regular feeds moving (issue 16): a **reminder** to the sending
 * organisation's BI leads for each month loaded but not signed off after N working days,
 * and a **late-feed notice** for each scheduled month past its due day with nothing loaded.
 * Each goes once to each recipient (`notifications_sent`), and each sending is audited
 * (`notification.sent`, without the addresses). The same things show on the home page's
 * "Needs your action"; email is for the people who are not looking at it.
 *
 * Recipients are the organisation's active provider accounts (its BI leads). Sending is
 * SMTP through `mailer` (nodemailer in production, configured by `smtpUrl`); `kernel notify`
 * runs it once (from cron), and `kernel serve` every hour when SMTP is configured.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { inTransaction } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';
import { scheduledMonths } from './feed-schedules.ts';

export type NotificationKind = 'signoff-reminder' | 'late-feed';

export interface Notice {
  kind: NotificationKind;
  org: string;
  dataset: string;
  period: string;
  subject: string;
  text: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export type Mailer = (mail: Mail) => Promise<void>;

/** Adds `n` working days (Monday to Friday) to a YYYY-MM-DD day. */
export function addWorkingDays(day: string, n: number): string {
  const date = new Date(`${day}T12:00:00Z`);
  for (let added = 0; added < n;) {
    date.setUTCDate(date.getUTCDate() + 1);
    const weekday = date.getUTCDay();
    if (weekday !== 0 && weekday !== 6) added++;
  }
  return date.toISOString().slice(0, 10);
}

/** What is due today: months waiting for sign-off too long, and late feeds. */
export async function dueNotices(q: Queryable, today: Date, reminderWorkingDays: number): Promise<Notice[]> {
  const day = today.toISOString().slice(0, 10);
  const waiting = await q.query<{
    org_code: string;
    dataset_id: string;
    period: string;
    finished_at: string;
  }>(
    `SELECT l.org_code, l.dataset_id, l.period, l.finished_at FROM loads l
      LEFT JOIN signoffs s ON s.org_code = l.org_code AND s.dataset_id = l.dataset_id AND s.period = l.period AND s.load_id = l.load_id
      WHERE l.status = 'loaded' AND l.period IS NOT NULL AND l.finished_at IS NOT NULL
        AND (s.state IS NULL OR s.state IN ('loaded', 'checked'))
      ORDER BY l.org_code, l.dataset_id, l.period`,
  );
  const notices: Notice[] = [];
  for (const w of waiting) {
    const due = addWorkingDays(w.finished_at.slice(0, 10), reminderWorkingDays);
    if (due >= day) continue;
    notices.push({
      kind: 'signoff-reminder',
      org: w.org_code,
      dataset: w.dataset_id,
      period: w.period,
      subject: `Kernel: ${w.dataset_id} from ${w.org_code} for ${w.period} is waiting for your sign-off`,
      text:
        `${w.org_code}'s ${w.dataset_id} for ${w.period} was loaded on ${w.finished_at.slice(0, 10)} and has not been signed off ` +
        `after ${reminderWorkingDays} working days.\n\nIts sign-off pack is at /signoff/${w.org_code}/${w.dataset_id}/${w.period} in the Kernel portal: ` +
        'open it, look at the checks, and sign it off or reject it with your reasons.\n',
    });
  }
  for (const late of (await scheduledMonths(q, today)).filter((m) => m.state === 'late')) {
    notices.push({
      kind: 'late-feed',
      org: late.org,
      dataset: late.dataset,
      period: late.period,
      subject: `Kernel: ${late.dataset} from ${late.org} for ${late.period} is late`,
      text:
        `${late.org}'s ${late.dataset} for ${late.period} was due by ${late.dueOn} and nothing has been loaded for it.\n\n` +
        'Send it with kernel deid --send, the feeds API or the landing folder, or tell the programme team when it will come.\n',
    });
  }
  return notices;
}

async function recipients(q: Queryable, org: string): Promise<string[]> {
  const rows = await q.query<{ email: string }>(
    "SELECT email FROM users WHERE role = 'provider' AND org_code = $1 AND disabled_at IS NULL ORDER BY email",
    [org],
  );
  return rows.map((r) => r.email);
}

export interface NotifyResult {
  sent: number;
  /** notices with no one to send them to (no provider account for the organisation) */
  unaddressed: number;
}

/** Sends every notice due and not yet sent to each recipient. */
export async function sendNotices(
  q: Queryable,
  mailer: Mailer,
  options: { today?: Date; reminderWorkingDays: number; actor: string },
): Promise<NotifyResult> {
  const notices = await dueNotices(q, options.today ?? new Date(), options.reminderWorkingDays);
  let sent = 0;
  let unaddressed = 0;
  for (const notice of notices) {
    const to = await recipients(q, notice.org);
    if (to.length === 0) unaddressed++;
    const sentTo: string[] = [];
    for (const address of to) {
      const [already] = await q.query<{ n: number }>(
        `SELECT count(*) AS n FROM notifications_sent
          WHERE kind = $1 AND org_code = $2 AND dataset_id = $3 AND period = $4 AND recipient = $5`,
        [notice.kind, notice.org, notice.dataset, notice.period, address],
      );
      if (Number(already?.n ?? 0) > 0) continue;
      // Sent first, then recorded: a failure to send is retried on the next run.
      await mailer({ to: address, subject: notice.subject, text: notice.text });
      sentTo.push(address);
    }
    if (sentTo.length === 0) continue;
    sent += sentTo.length;
    await inTransaction(q, async (tx) => {
      const at = new Date().toISOString();
      for (const address of sentTo) {
        await tx.run(
          `INSERT INTO notifications_sent (kind, org_code, dataset_id, period, recipient, sent_at) VALUES ($1, $2, $3, $4, $5, $6)`,
          [notice.kind, notice.org, notice.dataset, notice.period, address, at],
        );
      }
      await appendAudit(tx, {
        actor: options.actor,
        action: 'notification.sent',
        target: `org:${notice.org}`,
        details: {
          kind: notice.kind,
          dataset: notice.dataset,
          period: notice.period,
          recipients: sentTo.length,
        },
      });
    });
  }
  return { sent, unaddressed };
}
