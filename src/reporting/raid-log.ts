/**
 * The RAID log: risks (likelihood × impact, owner, mitigation, review date), issues,
 * assumptions and dependencies, each open or closed, each with its history. Some issues are
 * raised and closed by Kernel itself from its own state (raid-rules.ts); they carry the
 * rule's key, so the same state reopens the same item.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { parseOneOf } from '../parse-one-of.ts';
import { inTransaction } from '../governance/governance-values.ts';
import { SqlFilter } from '../store/sql-filter.ts';
import type { Queryable, Row } from '../store/store.ts';
import { programmeRecordRow, type ProgrammeRecords } from './programme-records.ts';
import {
  appendHistory,
  assertProgrammeCaller,
  historyOf,
  monthEnd,
  nextInSeries,
  optionalText,
  parseDay,
  parseHref,
  requiredText,
  todayOf,
  type HistoryEntry,
  type ProgrammeCaller,
} from './programme-values.ts';

export const RAID_KINDS = ['risk', 'issue', 'assumption', 'dependency'] as const;
export type RaidKind = (typeof RAID_KINDS)[number];
export const RAID_STATES = ['open', 'closed'] as const;
export type RaidState = (typeof RAID_STATES)[number];

const SERIES: Record<RaidKind, string> = { risk: 'R', issue: 'I', assumption: 'A', dependency: 'D' };

export interface RaidItem {
  id: string;
  kind: RaidKind;
  title: string;
  description: string;
  owner: string;
  state: RaidState;
  /** 1 (rare) to 5 (almost certain); risks only */
  likelihood: number | null;
  /** 1 (negligible) to 5 (severe); risks and issues */
  impact: number | null;
  /** likelihood × impact, for risks */
  score: number | null;
  /** for a risk its mitigation; for an issue the action being taken */
  mitigation: string | null;
  reviewOn: string | null;
  raisedOn: string;
  closedOn: string | null;
  evidenceHref: string | null;
  /** the rule and state that raised it, for an automatic item; null for one a person raised */
  autoKey: string | null;
}

const RAID_ITEMS: ProgrammeRecords = {
  table: 'raid_items',
  idColumn: 'item_id',
  noun: 'RAID item',
  listCommand: 'kernel raid list',
};

interface RaidRow extends Row {
  item_id: string;
  kind: string;
  title: string;
  description: string;
  owner: string;
  state: string;
  likelihood: number | null;
  impact: number | null;
  mitigation: string | null;
  review_on: string | null;
  raised_on: string;
  closed_on: string | null;
  evidence_href: string | null;
  auto_key: string | null;
}

const fromRow = (r: RaidRow): RaidItem => {
  const likelihood = r.likelihood === null ? null : Number(r.likelihood);
  const impact = r.impact === null ? null : Number(r.impact);
  return {
    id: r.item_id,
    kind: r.kind as RaidKind,
    title: r.title,
    description: r.description,
    owner: r.owner,
    state: r.state as RaidState,
    likelihood,
    impact,
    score: likelihood !== null && impact !== null ? likelihood * impact : null,
    mitigation: r.mitigation,
    reviewOn: r.review_on,
    raisedOn: r.raised_on,
    closedOn: r.closed_on,
    evidenceHref: r.evidence_href,
    autoKey: r.auto_key,
  };
};

export function parseRaidKind(raw: string): RaidKind {
  return parseOneOf(raw, RAID_KINDS, {
    noun: 'a kind of RAID item',
    field: 'kind',
    // Plurals too, as people say them: risks, issues, assumptions, dependencies.
    normalise: (text) => text.trim().toLowerCase().replace(/ies$/, 'y').replace(/s$/, ''),
  });
}

export function parseRaidState(raw: string): RaidState {
  return parseOneOf(raw, RAID_STATES, { noun: 'a RAID state', field: 'state' });
}

/** A 1–5 rating (likelihood or impact), from a number or its text. */
export function parseRating(raw: unknown, field: string): number | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(value) || value < 1 || value > 5) {
    throw new KernelError('usage', `The ${field} must be a whole number from 1 to 5`, {
      where: { field },
      hint: '1 is rare or negligible, 5 almost certain or severe',
    });
  }
  return value;
}

export interface RaidInput {
  kind: string;
  title: string;
  description?: string | null;
  owner: string;
  likelihood?: number | string | null;
  impact?: number | string | null;
  mitigation?: string | null;
  reviewOn?: string | null;
  /** the day it was raised; today by default (for entering a log kept elsewhere) */
  raisedOn?: string | null;
  evidenceHref?: string | null;
}

interface CheckedRaid {
  kind: RaidKind;
  title: string;
  description: string;
  owner: string;
  likelihood: number | null;
  impact: number | null;
  mitigation: string | null;
  reviewOn: string | null;
  evidenceHref: string | null;
}

function checkRaid(input: Omit<RaidInput, 'raisedOn'>): CheckedRaid {
  const kind = parseRaidKind(input.kind);
  const likelihood = parseRating(input.likelihood, 'likelihood');
  const impact = parseRating(input.impact, 'impact');
  if (kind === 'risk' && (likelihood === null || impact === null)) {
    throw new KernelError('usage', 'A risk needs its likelihood and impact (1 to 5 each)', {
      where: { field: likelihood === null ? 'likelihood' : 'impact' },
    });
  }
  if (kind !== 'risk' && likelihood !== null) {
    throw new KernelError(
      'usage',
      `Only a risk has a likelihood; this is ${kind === 'issue' ? 'an' : 'a'} ${kind}`,
      {
        where: { field: 'likelihood' },
      },
    );
  }
  return {
    kind,
    title: requiredText(input.title, 'title', 200),
    description: optionalText(input.description, 'description') ?? '',
    owner: requiredText(input.owner, 'owner', 120),
    likelihood,
    impact,
    mitigation: optionalText(input.mitigation, 'mitigation'),
    reviewOn: input.reviewOn ? parseDay(input.reviewOn, 'review') : null,
    evidenceHref: parseHref(input.evidenceHref),
  };
}

/** Raises an item, numbered in its kind's series (R-001, I-001, A-001, D-001). */
export async function raiseRaidItem(
  q: Queryable,
  input: RaidInput,
  caller: ProgrammeCaller,
  options: { autoKey?: string; now?: Date } = {},
): Promise<RaidItem> {
  assertProgrammeCaller(caller, 'change the RAID log');
  const checked = checkRaid(input);
  const today = todayOf(options.now ?? new Date());
  const raisedOn = input.raisedOn ? parseDay(input.raisedOn, 'raised') : today;
  if (raisedOn > today) {
    throw new KernelError('usage', `An item cannot be raised on ${raisedOn}, a day still to come`, {
      where: { field: 'raised' },
    });
  }
  return inTransaction(q, async (tx) => {
    const id = await nextInSeries(tx, SERIES[checked.kind], 3);
    const at = new Date().toISOString();
    await tx.run(
      `INSERT INTO raid_items (item_id, kind, title, description, owner, state, likelihood, impact, mitigation, review_on, raised_on, evidence_href, auto_key, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
      [
        id,
        checked.kind,
        checked.title,
        checked.description,
        checked.owner,
        checked.likelihood,
        checked.impact,
        checked.mitigation,
        checked.reviewOn,
        raisedOn,
        checked.evidenceHref,
        options.autoKey ?? null,
        at,
      ],
    );
    await appendHistory(tx, id, {
      at,
      actor: caller.actor,
      action: 'raised',
      changes: { state: 'open', raisedOn, ...(options.autoKey ? { rule: options.autoKey } : {}) },
      note: null,
    });
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'raid.raised',
      target: `raid:${id}`,
      details: { kind: checked.kind, automatic: options.autoKey !== undefined },
    });
    return getRaidItem(tx, id);
  });
}

export interface RaidChange extends Partial<Omit<RaidInput, 'kind' | 'raisedOn'>> {
  state?: RaidState;
  /** the day it was closed; today by default */
  closedOn?: string;
  note?: string;
}

/** Updates an item, closes it or reopens it; audited and kept in its history. */
export async function changeRaidItem(
  q: Queryable,
  id: string,
  change: RaidChange,
  caller: ProgrammeCaller,
  now: Date = new Date(),
): Promise<RaidItem> {
  assertProgrammeCaller(caller, 'change the RAID log');
  const note = optionalText(change.note, 'note', 500);
  return inTransaction(q, async (tx) => {
    const current = await getRaidItem(tx, id);
    const checked = checkRaid({
      kind: current.kind,
      title: change.title ?? current.title,
      description: change.description === undefined ? current.description : change.description,
      owner: change.owner ?? current.owner,
      likelihood: change.likelihood === undefined ? current.likelihood : change.likelihood,
      impact: change.impact === undefined ? current.impact : change.impact,
      mitigation: change.mitigation === undefined ? current.mitigation : change.mitigation,
      reviewOn: change.reviewOn === undefined ? current.reviewOn : change.reviewOn,
      evidenceHref: change.evidenceHref === undefined ? current.evidenceHref : change.evidenceHref,
    });
    const state = change.state ?? current.state;
    let closedOn = current.closedOn;
    if (state === 'closed' && current.state === 'open') {
      closedOn = change.closedOn ? parseDay(change.closedOn, 'on') : todayOf(now);
      if (closedOn < current.raisedOn) {
        throw new KernelError(
          'usage',
          `${current.id} was raised on ${current.raisedOn}; it cannot close before`,
          {
            where: { field: 'on' },
          },
        );
      }
    } else if (state === 'open') {
      closedOn = null;
    }
    const next: RaidItem = {
      ...current,
      ...checked,
      state,
      closedOn,
      score:
        checked.likelihood !== null && checked.impact !== null ? checked.likelihood * checked.impact : null,
    };
    const changes: Record<string, unknown> = {};
    for (const key of Object.keys(next) as (keyof RaidItem)[]) {
      if (next[key] !== current[key]) changes[key] = next[key];
    }
    if (Object.keys(changes).length === 0 && note === null) return current;
    await writeRaidItem(tx, next);
    const action = state !== current.state ? (state === 'closed' ? 'closed' : 'reopened') : 'updated';
    await appendHistory(tx, current.id, { actor: caller.actor, action, changes, note });
    await appendAudit(tx, {
      actor: caller.actor,
      action: `raid.${action}`,
      target: `raid:${current.id}`,
      details: { kind: current.kind, state, fields: Object.keys(changes) },
    });
    return next;
  });
}

export async function writeRaidItem(tx: Queryable, item: RaidItem): Promise<void> {
  await tx.run(
    `UPDATE raid_items SET title = $2, description = $3, owner = $4, state = $5, likelihood = $6, impact = $7, mitigation = $8,
       review_on = $9, closed_on = $10, evidence_href = $11, updated_at = $12
     WHERE item_id = $1`,
    [
      item.id,
      item.title,
      item.description,
      item.owner,
      item.state,
      item.likelihood,
      item.impact,
      item.mitigation,
      item.reviewOn,
      item.closedOn,
      item.evidenceHref,
      new Date().toISOString(),
    ],
  );
}

export async function getRaidItem(q: Queryable, id: string): Promise<RaidItem> {
  return fromRow(await programmeRecordRow<RaidRow>(q, RAID_ITEMS, id));
}

export async function findAutoItem(q: Queryable, autoKey: string): Promise<RaidItem | undefined> {
  const [row] = await q.query<RaidRow>('SELECT * FROM raid_items WHERE auto_key = $1', [autoKey]);
  return row ? fromRow(row) : undefined;
}

export async function raidHistory(q: Queryable, id: string): Promise<HistoryEntry[]> {
  return historyOf(q, (await getRaidItem(q, id)).id);
}

export interface RaidFilter {
  kind?: RaidKind;
  state?: RaidState;
  /** only automatic items (true) or only those people raised (false) */
  automatic?: boolean;
}

/** Items: open before closed, then risks by score, issues by impact, newest first. */
export async function listRaidItems(q: Queryable, filter: RaidFilter = {}): Promise<RaidItem[]> {
  const sql = new SqlFilter();
  if (filter.kind) sql.add('kind = ?', filter.kind);
  if (filter.state) sql.add('state = ?', filter.state);
  const rows = await q.query<RaidRow>(`SELECT * FROM raid_items ${sql.where()}`, sql.params);
  return rows
    .map(fromRow)
    .filter((i) => filter.automatic === undefined || (i.autoKey !== null) === filter.automatic)
    .sort(byImportance);
}

export function byImportance(a: RaidItem, b: RaidItem): number {
  return (
    (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1) ||
    RAID_KINDS.indexOf(a.kind) - RAID_KINDS.indexOf(b.kind) ||
    (b.score ?? b.impact ?? 0) - (a.score ?? a.impact ?? 0) ||
    b.raisedOn.localeCompare(a.raisedOn) ||
    a.id.localeCompare(b.id)
  );
}

/** Whether an item was open at the end of `month`: raised by then, and not closed by then. */
export function openAt(item: RaidItem, month: string): boolean {
  const end = monthEnd(month);
  return item.raisedOn <= end && (item.closedOn === null || item.closedOn > end);
}
