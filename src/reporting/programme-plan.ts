/**
 * The programme plan as data: workstreams (an owner, first and last month) and their
 * milestones (due month; planned, done or slipped; the day done and the evidence; and
 * optionally the Kernel fact that completes them). Every change is audited and kept in the
 * milestone's history.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { parseOneOf } from '../parse-one-of.ts';
import { inTransaction, isOrgCode } from '../governance/governance-values.ts';
import type { Queryable, Row } from '../store/store.ts';
import { programmeRecordRow, type ProgrammeRecords } from './programme-records.ts';
import { checkTie, describeTie, formatTie, parseTie, type MilestoneTie } from './milestone-ties.ts';
import {
  appendHistory,
  assertProgrammeCaller,
  historyOf,
  monthEnd,
  nextInSeries,
  optionalText,
  parseDay,
  parseHref,
  parseMonth,
  requiredText,
  todayOf,
  type HistoryEntry,
  type ProgrammeCaller,
} from './programme-values.ts';

export const MILESTONE_STATES = ['planned', 'done', 'slipped'] as const;
export type MilestoneState = (typeof MILESTONE_STATES)[number];

export interface Workstream {
  id: string;
  title: string;
  owner: string;
  ownerKind: 'organisation' | 'supplier';
  from: string;
  to: string;
}

export interface Milestone {
  id: string;
  workstream: string;
  title: string;
  due: string;
  state: MilestoneState;
  doneOn: string | null;
  evidence: string | null;
  evidenceHref: string | null;
  tie: string | null;
  /** the tie in plain English */
  tieText: string | null;
}

export interface Plan {
  workstreams: (Workstream & { milestones: Milestone[] })[];
  /** the plan's first and last months (null when it is empty) */
  from: string | null;
  to: string | null;
}

const WORKSTREAMS: ProgrammeRecords = {
  table: 'programme_workstreams',
  idColumn: 'workstream_id',
  noun: 'workstream',
  listCommand: 'kernel plan list',
};
const MILESTONES: ProgrammeRecords = {
  table: 'programme_milestones',
  idColumn: 'milestone_id',
  noun: 'milestone',
  listCommand: 'kernel plan list',
};

interface WorkstreamRow extends Row {
  workstream_id: string;
  title: string;
  owner: string;
  owner_kind: string;
  start_month: string;
  end_month: string;
}

interface MilestoneRow extends Row {
  milestone_id: string;
  workstream_id: string;
  title: string;
  due_month: string;
  state: string;
  done_on: string | null;
  evidence: string | null;
  evidence_href: string | null;
  tie: string | null;
}

const workstreamFrom = (r: WorkstreamRow): Workstream => ({
  id: r.workstream_id,
  title: r.title,
  owner: r.owner,
  ownerKind: r.owner_kind === 'supplier' ? 'supplier' : 'organisation',
  from: r.start_month,
  to: r.end_month,
});

function tieText(tie: string | null): string | null {
  if (!tie) return null;
  try {
    return describeTie(parseTie(tie));
  } catch {
    return tie;
  }
}

const milestoneFrom = (r: MilestoneRow): Milestone => ({
  id: r.milestone_id,
  workstream: r.workstream_id,
  title: r.title,
  due: r.due_month,
  state: r.state as MilestoneState,
  doneOn: r.done_on,
  evidence: r.evidence,
  evidenceHref: r.evidence_href,
  tie: r.tie,
  tieText: tieText(r.tie),
});

// ---------------------------------------------------------------- workstreams

export interface WorkstreamInput {
  title: string;
  /** an organisation code (RWF) or a supplier's name */
  owner: string;
  /** true when the owner is a supplier, not a member organisation */
  supplier?: boolean;
  from: string;
  to: string;
}

function checkWorkstream(input: WorkstreamInput): Omit<Workstream, 'id'> {
  const title = requiredText(input.title, 'title', 120);
  const owner = requiredText(input.owner, 'owner', 120);
  const from = parseMonth(input.from, 'from');
  const to = parseMonth(input.to, 'to');
  if (to < from) {
    throw new KernelError('usage', `The workstream would end (${to}) before it starts (${from})`, {
      where: { field: 'to' },
    });
  }
  const ownerKind = input.supplier ? 'supplier' : 'organisation';
  if (ownerKind === 'organisation' && !isOrgCode(owner.toUpperCase())) {
    throw new KernelError('usage', `"${owner}" is not an organisation code`, {
      where: { field: 'owner' },
      hint: 'Give a member organisation code (e.g. QKS), or mark the owner as a supplier',
    });
  }
  return { title, owner: ownerKind === 'organisation' ? owner.toUpperCase() : owner, ownerKind, from, to };
}

export async function addWorkstream(
  q: Queryable,
  input: WorkstreamInput,
  caller: ProgrammeCaller,
): Promise<Workstream> {
  assertProgrammeCaller(caller, 'change the plan');
  const checked = checkWorkstream(input);
  return inTransaction(q, async (tx) => {
    if (checked.ownerKind === 'organisation') await assertOrganisation(tx, checked.owner);
    const id = await nextInSeries(tx, 'WS', 2);
    const at = new Date().toISOString();
    await tx.run(
      `INSERT INTO programme_workstreams (workstream_id, title, owner, owner_kind, start_month, end_month, created_at, created_by, updated_at, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8)`,
      [id, checked.title, checked.owner, checked.ownerKind, checked.from, checked.to, at, caller.actor],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'plan.workstream-added',
      target: `workstream:${id}`,
      details: { from: checked.from, to: checked.to, ownerKind: checked.ownerKind },
    });
    return { id, ...checked };
  });
}

export async function updateWorkstream(
  q: Queryable,
  id: string,
  input: Partial<WorkstreamInput>,
  caller: ProgrammeCaller,
): Promise<Workstream> {
  assertProgrammeCaller(caller, 'change the plan');
  return inTransaction(q, async (tx) => {
    const current = await getWorkstream(tx, id);
    const checked = checkWorkstream({
      title: input.title ?? current.title,
      owner: input.owner ?? current.owner,
      supplier: input.supplier ?? (input.owner === undefined && current.ownerKind === 'supplier'),
      from: input.from ?? current.from,
      to: input.to ?? current.to,
    });
    if (checked.ownerKind === 'organisation') await assertOrganisation(tx, checked.owner);
    await tx.run(
      `UPDATE programme_workstreams SET title = $2, owner = $3, owner_kind = $4, start_month = $5, end_month = $6, updated_at = $7, updated_by = $8
       WHERE workstream_id = $1`,
      [
        current.id,
        checked.title,
        checked.owner,
        checked.ownerKind,
        checked.from,
        checked.to,
        new Date().toISOString(),
        caller.actor,
      ],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'plan.workstream-updated',
      target: `workstream:${current.id}`,
      details: { from: checked.from, to: checked.to, ownerKind: checked.ownerKind },
    });
    return { id: current.id, ...checked };
  });
}

async function assertOrganisation(q: Queryable, code: string): Promise<void> {
  const [row] = await q.query('SELECT org_code FROM organisations WHERE org_code = $1', [code]);
  if (!row) {
    throw new KernelError('not-found', `No organisation ${code} is registered`, {
      where: { field: 'owner' },
      hint: 'Register it first (kernel orgs add), or mark the owner as a supplier',
    });
  }
}

export async function getWorkstream(q: Queryable, id: string): Promise<Workstream> {
  return workstreamFrom(await programmeRecordRow<WorkstreamRow>(q, WORKSTREAMS, id));
}

// ---------------------------------------------------------------- milestones

export interface MilestoneInput {
  workstream: string;
  title: string;
  due: string;
  /** the Kernel fact that completes it, e.g. 'loads:RWF:apc+op+ecds' */
  tie?: string | null;
}

export async function addMilestone(
  q: Queryable,
  input: MilestoneInput,
  caller: ProgrammeCaller,
): Promise<Milestone> {
  assertProgrammeCaller(caller, 'change the plan');
  const title = requiredText(input.title, 'title', 200);
  const due = parseMonth(input.due, 'due');
  const parsed = input.tie ? parseTie(input.tie) : null;
  const tie = parsed ? formatTie(parsed) : null;
  return inTransaction(q, async (tx) => {
    const workstream = await getWorkstream(tx, input.workstream);
    if (parsed) await checkTie(tx, parsed);
    const id = await nextInSeries(tx, 'M', 2);
    const at = new Date().toISOString();
    await tx.run(
      `INSERT INTO programme_milestones (milestone_id, workstream_id, title, due_month, state, tie, created_at, created_by, updated_at, updated_by)
       VALUES ($1, $2, $3, $4, 'planned', $5, $6, $7, $6, $7)`,
      [id, workstream.id, title, due, tie, at, caller.actor],
    );
    await appendHistory(tx, id, {
      at,
      actor: caller.actor,
      action: 'added',
      changes: { due, state: 'planned', ...(tie ? { tie } : {}) },
      note: null,
    });
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'plan.milestone-added',
      target: `milestone:${id}`,
      details: { workstream: workstream.id, due, tie },
    });
    return getMilestone(tx, id);
  });
}

export interface MilestoneChange {
  title?: string;
  due?: string;
  state?: MilestoneState;
  /** the day it was done ('YYYY-MM-DD'); today when marked done without one */
  doneOn?: string;
  evidence?: string | null;
  evidenceHref?: string | null;
  /** a new tie, or null to remove it */
  tie?: string | null;
  note?: string;
}

export function parseMilestoneState(raw: string): MilestoneState {
  return parseOneOf(raw, MILESTONE_STATES, { noun: 'a milestone state', field: 'state' });
}

/**
 * Changes a milestone: re-plans it (title, due month, tie), marks it done (with the day
 * and evidence) or slipped, or back to planned. Audited `plan.milestone-<state>` or
 * `plan.milestone-updated`, and kept in its history.
 */
export async function changeMilestone(
  q: Queryable,
  id: string,
  change: MilestoneChange,
  caller: ProgrammeCaller,
  now: Date = new Date(),
): Promise<Milestone> {
  assertProgrammeCaller(caller, 'change the plan');
  const title = change.title === undefined ? undefined : requiredText(change.title, 'title', 200);
  const due = change.due === undefined ? undefined : parseMonth(change.due, 'due');
  const state = change.state;
  const doneOn = change.doneOn === undefined ? undefined : parseDay(change.doneOn, 'on');
  const evidence = change.evidence === undefined ? undefined : optionalText(change.evidence, 'evidence', 500);
  const evidenceHref = change.evidenceHref === undefined ? undefined : parseHref(change.evidenceHref, 'href');
  const parsedTie = change.tie ? parseTie(change.tie) : null;
  const tie = change.tie === undefined ? undefined : parsedTie ? formatTie(parsedTie) : null;
  const note = optionalText(change.note, 'note', 500);
  if (doneOn !== undefined && state !== 'done') {
    throw new KernelError('usage', 'A day done is given only when marking the milestone done', {
      where: { field: 'on' },
    });
  }
  if (doneOn !== undefined && doneOn > todayOf(now)) {
    throw new KernelError('usage', `A milestone cannot be done on ${doneOn}, a day still to come`, {
      where: { field: 'on' },
    });
  }
  return inTransaction(q, async (tx) => {
    const current = await getMilestone(tx, id);
    if (parsedTie) await checkTie(tx, parsedTie);
    const next: Milestone = {
      ...current,
      ...(title !== undefined ? { title } : {}),
      ...(due !== undefined ? { due } : {}),
      ...(evidence !== undefined ? { evidence } : {}),
      ...(evidenceHref !== undefined ? { evidenceHref } : {}),
      ...(tie !== undefined ? { tie } : {}),
    };
    if (state !== undefined) {
      next.state = state;
      next.doneOn =
        state === 'done' ? (doneOn ?? (current.state === 'done' ? current.doneOn : todayOf(now))) : null;
    }
    const changes = diff(current, next);
    if (Object.keys(changes).length === 0 && note === null) return current;
    await writeMilestone(tx, next, caller.actor);
    await appendHistory(tx, current.id, {
      actor: caller.actor,
      action: state !== undefined && state !== current.state ? state : 'updated',
      changes,
      note,
    });
    await appendAudit(tx, {
      actor: caller.actor,
      action: `plan.milestone-${state !== undefined && state !== current.state ? state : 'updated'}`,
      target: `milestone:${current.id}`,
      details: { due: next.due, state: next.state, doneOn: next.doneOn, fields: Object.keys(changes) },
    });
    return { ...next, tieText: tieText(next.tie) };
  });
}

function diff(before: Milestone, after: Milestone): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const key of ['title', 'due', 'state', 'doneOn', 'evidence', 'evidenceHref', 'tie'] as const) {
    if (before[key] !== after[key]) changes[key] = after[key];
  }
  return changes;
}

export async function writeMilestone(tx: Queryable, m: Milestone, actor: string): Promise<void> {
  await tx.run(
    `UPDATE programme_milestones SET title = $2, due_month = $3, state = $4, done_on = $5, evidence = $6, evidence_href = $7, tie = $8, updated_at = $9, updated_by = $10
     WHERE milestone_id = $1`,
    [
      m.id,
      m.title,
      m.due,
      m.state,
      m.doneOn,
      m.evidence,
      m.evidenceHref,
      m.tie,
      new Date().toISOString(),
      actor,
    ],
  );
}

export async function getMilestone(q: Queryable, id: string): Promise<Milestone> {
  return milestoneFrom(await programmeRecordRow<MilestoneRow>(q, MILESTONES, id));
}

export async function milestoneHistory(q: Queryable, id: string): Promise<HistoryEntry[]> {
  return historyOf(q, (await getMilestone(q, id)).id);
}

/** The plan as stored: workstreams in order of start, each with its milestones by due month. */
export async function readPlan(q: Queryable): Promise<Plan> {
  const workstreams = (
    await q.query<WorkstreamRow>('SELECT * FROM programme_workstreams ORDER BY start_month, workstream_id')
  ).map(workstreamFrom);
  const milestones = (
    await q.query<MilestoneRow>('SELECT * FROM programme_milestones ORDER BY due_month, milestone_id')
  ).map(milestoneFrom);
  return {
    workstreams: workstreams.map((w) => ({
      ...w,
      milestones: milestones.filter((m) => m.workstream === w.id),
    })),
    from: workstreams.length ? (workstreams.map((w) => w.from).sort()[0] ?? null) : null,
    to: workstreams.length
      ? (workstreams
          .map((w) => w.to)
          .sort()
          .at(-1) ?? null)
      : null,
  };
}

/**
 * A milestone's state as it stood at the end of `month`, from its dates alone, so an
 * update for a past month shows the plan as it was then: done if done by the month's last
 * day; slipped if due by then and not done; otherwise planned.
 */
export function stateAsAt(m: Milestone, month: string): { state: MilestoneState; doneOn: string | null } {
  if (m.doneOn && m.doneOn <= monthEnd(month)) return { state: 'done', doneOn: m.doneOn };
  if (m.due <= month) return { state: 'slipped', doneOn: null };
  return { state: 'planned', doneOn: null };
}

export type { MilestoneTie };
