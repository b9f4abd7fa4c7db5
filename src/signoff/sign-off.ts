/**
 * Sign-off: each organisation × dataset × month goes from loaded to published, and the
 * sending organisation's BI lead decides on it from one page, its sign-off pack (issue 16:
 * "busy trust BI teams have no time to test and sign off datasets, so loads wait for months").
 *
 *   loaded ──(pack opened: its checks run)──▶ checked ──▶ signed off ──▶ published
 *      └──────────────┴──▶ rejected (with reasons that go back to the sender)
 *
 * A state is about one load: when a newer load of the month stands (a resubmission), the
 * month is `loaded` again and its pack is the new load's. Only a provider of the sending
 * organisation (its BI lead) or an administrator signs off or rejects; an administrator
 * publishes. Every change is kept in `signoff_history` and audited (`signoff.*`).
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { inTransaction, parsePeriod } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';

export const SIGNOFF_STATES = ['loaded', 'checked', 'signed-off', 'published', 'rejected'] as const;
export type SignOffState = (typeof SIGNOFF_STATES)[number];

/** Who is acting: the audit actor, their portal role (or `operator` at the CLI), their organisation. */
export interface SignOffCaller {
  actor: string;
  role: string;
  org: string | null;
}

/** The person at the CLI holds the store itself, as an administrator does. */
export const OPERATOR = 'operator';

/** One month of one feed, where it stands. */
export interface SignOffMonth {
  org: string;
  dataset: string;
  period: string;
  /** the load that stands for the month, which the state is about */
  loadId: string;
  loadedAt: string;
  state: SignOffState;
  changedAt: string | null;
  changedBy: string | null;
  note: string | null;
}

export interface SignOffFilter {
  org?: string;
  dataset?: string;
  state?: SignOffState;
}

const isAdmin = (caller: SignOffCaller): boolean => caller.role === 'admin' || caller.role === OPERATOR;

/** Whether the caller may see and decide on `org`'s months: its providers, and administrators. */
export function mayDecide(caller: SignOffCaller, org: string): boolean {
  return isAdmin(caller) || (caller.role === 'provider' && caller.org === org);
}

/**
 * Refuses a caller whose role decides on no month. Another organisation's BI lead is let by:
 * its month answers "not found" (signOffMonth), as reading it does, so that the answer never
 * says which other organisations' months exist.
 */
function assertMayDecide(caller: SignOffCaller, decision: SignOffDecision): void {
  if (decision === 'publish' && !isAdmin(caller)) {
    throw new KernelError('forbidden', 'Only administrators publish a signed-off month', {
      hint: 'A BI lead signs the month off; an administrator publishes it',
    });
  }
  if (isAdmin(caller) || caller.role === 'provider') return;
  throw new KernelError(
    'forbidden',
    'Only the sending organisation’s BI leads (provider accounts) and administrators decide on a month',
    { hint: 'Ask the sending organisation’s BI lead' },
  );
}

/** What may be done with a month in `state`, for the refusal of `decision` from there. */
function whatNext(state: SignOffState, decision: SignOffDecision): string {
  if (state === 'rejected') return 'The sender sends the file again; its new load starts afresh';
  if (state === 'published') return 'A published month stays so until a newer load of it lands';
  const may = (Object.keys(DECISIONS) as SignOffDecision[])
    .filter((d) => d !== 'check' && (DECISIONS[d].from as readonly SignOffState[]).includes(state))
    .map((d) => DECISIONS[d].to.replace('-', ' '));
  const publishing = decision === 'publish' ? ': a month is published once its BI lead signs it off' : '';
  return `From ${state.replace('-', ' ')} it can be ${may.join(' or ')}${publishing}`;
}

interface MonthRow {
  org_code: string;
  dataset_id: string;
  period: string;
  load_id: string;
  finished_at: string | null;
  state: string | null;
  changed_at: string | null;
  changed_by: string | null;
  note: string | null;
  [column: string]: string | null;
}

/**
 * The months a caller may see, newest first: every standing load's month with its state (a
 * provider sees its own organisation's only). A recorded state about an older load counts
 * for nothing: the month is `loaded` again.
 */
export async function listSignOffs(
  q: Queryable,
  caller: SignOffCaller,
  filter: SignOffFilter = {},
): Promise<SignOffMonth[]> {
  if (!isAdmin(caller) && caller.role !== 'provider') {
    throw new KernelError(
      'forbidden',
      'Sign-off is for the sending organisations’ BI leads and administrators',
    );
  }
  const params: string[] = [];
  const where = ["l.status = 'loaded'", 'l.period IS NOT NULL'];
  const org = caller.role === 'provider' ? (caller.org ?? '-') : filter.org;
  for (const [column, value] of [
    ['l.org_code', org],
    ['l.dataset_id', filter.dataset],
  ] as const) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  const rows = await q.query<MonthRow>(
    `SELECT l.org_code, l.dataset_id, l.period, l.load_id, l.finished_at,
            s.state, s.changed_at, s.changed_by, s.note
       FROM loads l
       LEFT JOIN signoffs s
         ON s.org_code = l.org_code AND s.dataset_id = l.dataset_id AND s.period = l.period AND s.load_id = l.load_id
      WHERE ${where.join(' AND ')}
      ORDER BY l.period DESC, l.org_code, l.dataset_id`,
    params,
  );
  return rows
    .map((r): SignOffMonth => ({
      org: r.org_code,
      dataset: r.dataset_id,
      period: r.period,
      loadId: r.load_id,
      loadedAt: r.finished_at ?? '',
      state: (r.state as SignOffState | null) ?? 'loaded',
      changedAt: r.changed_at,
      changedBy: r.changed_by,
      note: r.note,
    }))
    .filter((m) => filter.state === undefined || m.state === filter.state);
}

/** The answer for a month with no standing load, or one of another organisation's. */
function nothingLoaded(org: string, dataset: string, period: string): KernelError {
  return new KernelError('not-found', `Nothing of ${dataset} from ${org} for ${period} is loaded`, {
    hint: 'Use kernel signoff list (or the Sign-off page) to see what waits',
  });
}

/** One month, if it has a standing load the caller may see; otherwise not found. */
export async function signOffMonth(
  q: Queryable,
  caller: SignOffCaller,
  org: string,
  dataset: string,
  periodRaw: string,
): Promise<SignOffMonth> {
  // A month written wrongly is the caller's mistake to mend, not a month with nothing loaded.
  const period = parsePeriod(periodRaw, 'period');
  const hidden = nothingLoaded(org, dataset, period);
  if (!mayDecide(caller, org)) throw hidden;
  const [month] = (await listSignOffs(q, caller, { org, dataset })).filter((m) => m.period === period);
  if (!month) throw hidden;
  return month;
}

/** What a decision does: the states it may start from and the state it leaves. */
const DECISIONS = {
  check: { from: ['loaded'], to: 'checked' },
  'sign-off': { from: ['loaded', 'checked'], to: 'signed-off' },
  reject: { from: ['loaded', 'checked', 'signed-off'], to: 'rejected' },
  publish: { from: ['signed-off'], to: 'published' },
} as const satisfies Record<string, { from: readonly SignOffState[]; to: SignOffState }>;

export type SignOffDecision = keyof typeof DECISIONS;

/**
 * Moves a month on. `loadId`, when given, is the load the person was looking at: if a newer
 * one has landed since, the decision is refused rather than applied to data they have not
 * seen. A rejection needs its reasons; publishing is for administrators.
 */
export async function decide(
  q: Queryable,
  caller: SignOffCaller,
  input: {
    org: string;
    dataset: string;
    period: string;
    decision: SignOffDecision;
    note?: string;
    loadId?: string;
  },
): Promise<SignOffMonth> {
  const rule = DECISIONS[input.decision];
  if (!rule) {
    throw new KernelError('usage', `"${String(input.decision)}" is not a sign-off decision`, {
      hint: 'Use sign-off, reject or publish',
    });
  }
  assertMayDecide(caller, input.decision);
  const note = input.note?.trim() || null;
  if (input.decision === 'reject' && !note) {
    throw new KernelError('usage', 'Say why the month is rejected: the sender reads it to fix the file', {
      where: { field: 'note' },
    });
  }
  if (note && note.length > 2000) {
    throw new KernelError('usage', 'The note is longer than 2,000 characters', { where: { field: 'note' } });
  }
  return inTransaction(q, async (tx) => {
    const month = await signOffMonth(tx, caller, input.org, input.dataset, input.period);
    if (input.loadId && input.loadId !== month.loadId) {
      // Only a load this month had before can be one "a newer load has landed since": any
      // other id is a mistake in the request, and its own answer says so. The id sent is not
      // repeated: it is the caller's text, and could hold anything.
      const known = await tx.query<{ load_id: string }>(
        `SELECT load_id FROM loads WHERE load_id = $1 AND org_code = $2 AND dataset_id = $3 AND period = $4`,
        [input.loadId, month.org, month.dataset, month.period],
      );
      if (known.length === 0) {
        const filter = `--org ${month.org} --dataset ${month.dataset} --period ${month.period}`;
        throw new KernelError(
          'not-found',
          `No load of ${month.dataset} from ${month.org} for ${month.period} has the loadId sent`,
          {
            where: { field: 'loadId' },
            hint: `List the month's loads (GET /api/v1/loads?org=${month.org}&dataset=${month.dataset}&period=${month.period}, or kernel loads ${filter}) and send the id of the one you checked, or no loadId`,
          },
        );
      }
      throw new KernelError(
        'conflict',
        `A newer load of the month (${month.loadId}) has landed since you looked`,
        {
          hint: 'Open its sign-off pack and check it first',
        },
      );
    }
    if (!(rule.from as readonly SignOffState[]).includes(month.state)) {
      throw new KernelError('conflict', `The month is ${month.state}: it cannot be ${rule.to} from there`, {
        hint: whatNext(month.state, input.decision),
      });
    }
    const at = new Date().toISOString();
    await tx.run('DELETE FROM signoffs WHERE org_code = $1 AND dataset_id = $2 AND period = $3', [
      month.org,
      month.dataset,
      month.period,
    ]);
    const row = [month.org, month.dataset, month.period, month.loadId, rule.to, at, caller.actor, note];
    const columns = 'org_code, dataset_id, period, load_id, state, changed_at, changed_by, note';
    await tx.run(`INSERT INTO signoffs (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, row);
    await tx.run(`INSERT INTO signoff_history (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, row);
    await appendAudit(tx, {
      actor: caller.actor,
      action: `signoff.${rule.to}`,
      target: month.loadId,
      details: {
        org: month.org,
        dataset: month.dataset,
        period: month.period,
        from: month.state,
        noted: note !== null,
      },
    });
    return { ...month, state: rule.to, changedAt: at, changedBy: caller.actor, note };
  });
}

/** A month's decisions, oldest first, across its loads. */
export async function signOffHistory(
  q: Queryable,
  caller: SignOffCaller,
  org: string,
  dataset: string,
  period: string,
): Promise<{ loadId: string; state: SignOffState; at: string; by: string; note: string | null }[]> {
  if (!mayDecide(caller, org)) {
    assertMayDecide(caller, 'check');
    throw nothingLoaded(org, dataset, parsePeriod(period, 'period'));
  }
  const rows = await q.query<{
    load_id: string;
    state: string;
    changed_at: string;
    changed_by: string;
    note: string | null;
  }>(
    `SELECT load_id, state, changed_at, changed_by, note FROM signoff_history
      WHERE org_code = $1 AND dataset_id = $2 AND period = $3 ORDER BY changed_at`,
    [org, dataset, period],
  );
  return rows.map((r) => ({
    loadId: r.load_id,
    state: r.state as SignOffState,
    at: r.changed_at,
    by: r.changed_by,
    note: r.note,
  }));
}

/**
 * Publishes, in one transaction, every month loaded before `before` that has no decision yet:
 * the backlog a member brings when it starts signing off (and the demo's history). For
 * administrators (and the operator at the CLI) only; each month is recorded in the history
 * and the audit log as published from its backlog, with `note`.
 */
export async function publishBacklog(
  q: Queryable,
  caller: SignOffCaller,
  input: {
    before: string;
    org?: string;
    note: string;
    /** months to leave for their BI leads */
    keep?: readonly { org: string; dataset: string; period: string }[];
  },
): Promise<number> {
  if (!isAdmin(caller)) {
    throw new KernelError('forbidden', 'Only administrators may publish a backlog of months');
  }
  const note = input.note.trim();
  if (!note) {
    throw new KernelError('usage', 'Say why the months are published without their own sign-off', {
      where: { field: 'note' },
    });
  }
  return inTransaction(q, async (tx) => {
    const months = (await listSignOffs(tx, caller, input.org ? { org: input.org } : {})).filter(
      (m) =>
        m.period < input.before &&
        m.state === 'loaded' &&
        !(input.keep ?? []).some((k) => k.org === m.org && k.dataset === m.dataset && k.period === m.period),
    );
    if (months.length === 0) return 0;
    const at = new Date().toISOString();
    const rows = months.map((m) => [
      m.org,
      m.dataset,
      m.period,
      m.loadId,
      'published',
      at,
      caller.actor,
      note,
    ]);
    const columns = [
      'org_code',
      'dataset_id',
      'period',
      'load_id',
      'state',
      'changed_at',
      'changed_by',
      'note',
    ];
    await tx.insertRows('signoffs', columns, rows);
    await tx.insertRows('signoff_history', columns, rows);
    await appendAudit(
      tx,
      months.map((m) => ({
        actor: caller.actor,
        action: 'signoff.published',
        target: m.loadId,
        details: {
          org: m.org,
          dataset: m.dataset,
          period: m.period,
          from: 'loaded',
          noted: true,
          backlog: true,
        },
      })),
    );
    return months.length;
  });
}
