/**
 * The monthly "Kernel Development Group – Update", drafted from Kernel's own records so it
 * is never stale and never contradicts the data, in the shape the team uses:
 *
 * 1. completed activities and milestones achieved — the month's facts (loads completed per
 *    trust and dataset, subscriptions confirmed, invoices raised and paid, use cases
 *    approved, members onboarded, agreements signed), milestones done in the month, and the
 *    team's own entries;
 * 2. key issues — RAID issues open at the month's end, and entries;
 * 3. outstanding activities — milestones not done by the month's end and due by two months
 *    after it — and scheduled events, both with entries;
 * 4. key risks — the open risks with the highest scores, and entries;
 * 5. the high-level plan as a chart, with the month as now.
 *
 * Everything is as it stood at the end of the month: nothing from a later month appears.
 * A draft is composed afresh at each read (after refreshing the plan and RAID log); the team
 * edits its summary and entries. Issuing freezes the whole update as JSON, with its SHA-256,
 * and an issued update never changes again.
 *
 * Rows loaded are counts of patients' records, so they follow the loads API's rule
 * (`metadataPolicyFor`, issue 23, H1): exact for an admin's draft, HES 2018 for everyone
 * else, and always HES 2018 once issued, since an issued update is circulated to the group.
 * Every read is audited `metadata.read`.
 */
import { createHash } from 'node:crypto';
import {
  controlCount,
  describePolicy,
  HES_2018,
  metadataPolicyFor,
  type ControlledCount,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { auditMetadataRead } from '../audit/metadata-read.ts';
import { KernelError } from '../errors.ts';
import { parseOneOf } from '../parse-one-of.ts';
import { addMonths, inTransaction, newId } from '../governance/governance-values.ts';
import type { Queryable, Row, Store } from '../store/store.ts';
import { factsInMonth, type FactKind, type KernelFact } from './kernel-facts.ts';
import { planChart, type PlanChart } from './plan-chart.ts';
import { readPlan, stateAsAt } from './programme-plan.ts';
import { refreshProgramme } from './programme-refresh.ts';
import {
  assertProgrammeCaller,
  monthEnd,
  monthName,
  optionalText,
  parseHref,
  parseMonth,
  requiredText,
  type ProgrammeCaller,
} from './programme-values.ts';
import { byImportance, listRaidItems, openAt } from './raid-log.ts';

export const UPDATE_TITLE = 'Kernel Development Group – Update';
export const ENTRY_SECTIONS = ['completed', 'issues', 'outstanding', 'events', 'risks'] as const;
export type EntrySection = (typeof ENTRY_SECTIONS)[number];
/** How many risks the update calls key: the highest scores first. */
export const KEY_RISKS = 6;

export interface UpdateLine {
  text: string;
  /** the evidence in the portal, or a link the team gave */
  href: string | null;
  /** where the line comes from: a kind of fact, `milestone`, `raid`, or `entry` */
  source: FactKind | 'milestone' | 'raid' | 'entry';
  /** the records behind it: load ids, invoice numbers, a milestone or RAID id, an entry id */
  refs: string[];
}

export interface UpdateGroup {
  heading: string;
  lines: UpdateLine[];
  /** how the group's counts are shown, where disclosure control changed them */
  note?: string;
}

/** A fact as the update shows it: a load's rows under the update's disclosure rule. */
export type UpdateFact = Omit<KernelFact, 'rows'> & { rows?: ControlledCount };

/** The disclosure rule for rows loaded by an organisation (undefined: the whole system). */
type RuleFor = (org: string | undefined) => DisclosurePolicy;

export interface MonthlyUpdate {
  month: string;
  title: string;
  monthName: string;
  /** the last day the update reports */
  asAt: string;
  state: 'draft' | 'issued';
  issuedAt: string | null;
  issuedBy: string | null;
  /** SHA-256 of the issued content, to show it has not changed */
  issuedSha256: string | null;
  summary: string;
  completed: UpdateGroup[];
  keyIssues: UpdateLine[];
  outstanding: UpdateLine[];
  events: UpdateLine[];
  keyRisks: UpdateLine[];
  plan: PlanChart;
  /** the records the generated lines come from */
  facts: UpdateFact[];
  /** the disclosure rule its rows loaded are shown under */
  disclosure: DisclosurePolicy['id'];
}

export interface UpdateEntry {
  id: string;
  month: string;
  section: EntrySection;
  text: string;
  href: string | null;
}

const FACT_HEADINGS: Record<FactKind, string> = {
  load: 'Loads completed',
  'subscription-confirmed': 'Subscriptions confirmed',
  'invoice-raised': 'Invoices raised',
  'invoice-paid': 'Invoices paid',
  'use-case-approved': 'Use cases approved',
  'member-onboarded': 'Members onboarded',
  'agreement-signed': 'Data sharing agreements signed',
};

export function parseEntrySection(raw: string): EntrySection {
  return parseOneOf(raw, ENTRY_SECTIONS, { noun: 'a section of the update', field: 'section' });
}

interface UpdateRow extends Row {
  month: string;
  state: string;
  summary: string;
  issued_content: string | null;
  issued_sha256: string | null;
  issued_at: string | null;
  issued_by: string | null;
}

async function updateRow(q: Queryable, month: string): Promise<UpdateRow | undefined> {
  const [row] = await q.query<UpdateRow>('SELECT * FROM programme_updates WHERE month = $1', [month]);
  return row;
}

export async function listEntries(q: Queryable, month: string): Promise<UpdateEntry[]> {
  const rows = await q.query<{
    entry_id: string;
    month: string;
    section: string;
    text: string;
    href: string | null;
  }>(
    'SELECT entry_id, month, section, text, href FROM programme_update_entries WHERE month = $1 ORDER BY created_at, entry_id',
    [month],
  );
  return rows.map((r) => ({
    id: r.entry_id,
    month: r.month,
    section: r.section as EntrySection,
    text: r.text,
    href: r.href,
  }));
}

/**
 * One line per organisation × dataset, so the update reads "loads completed per trust". The
 * rows are summed before disclosure control, so the line shows the group's controlled total.
 */
function loadLines(facts: KernelFact[], ruleFor: RuleFor): UpdateLine[] {
  const groups = new Map<string, KernelFact[]>();
  for (const f of facts) {
    const key = `${f.org ?? ''}\t${f.dataset ?? ''}`;
    (groups.get(key) ?? groups.set(key, []).get(key))?.push(f);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, loads]) => {
      const first = loads[0] as KernelFact;
      const periods = [...new Set(loads.map((l) => l.period).filter((p): p is string => Boolean(p)))].sort();
      const rows = controlCount(
        loads.reduce((sum, l) => sum + (l.rows ?? 0), 0),
        ruleFor(first.org ?? undefined),
      );
      const who = first.text.slice(0, first.text.indexOf(':'));
      return {
        text:
          `${who}: ${first.dataset ?? ''} loaded${periods.length ? ` for ${periods.join(', ')}` : ''}` +
          ` (${loads.length} ${loads.length === 1 ? 'load' : 'loads'}, ${typeof rows === 'number' ? rows.toLocaleString('en-GB') : rows} rows)`,
        href: `/loads?org=${encodeURIComponent(first.org ?? '')}&dataset=${encodeURIComponent(first.dataset ?? '')}`,
        source: 'load' as const,
        refs: loads.map((l) => l.ref).sort(),
      };
    });
}

/** The month's loads completed, their rows under the rule, with the rule said where it applies. */
function loadsGroup(facts: KernelFact[], ruleFor: RuleFor): UpdateGroup {
  const rule = ruleFor(undefined);
  return {
    heading: FACT_HEADINGS.load,
    lines: loadLines(facts, ruleFor),
    ...(rule.id === 'none' ? {} : { note: describePolicy(rule) }),
  };
}

/** Each load's rows under the rule; other facts carry no counts. */
function controlFacts(facts: KernelFact[], ruleFor: RuleFor): UpdateFact[] {
  return facts.map((f) =>
    f.rows === undefined ? f : { ...f, rows: controlCount(f.rows, ruleFor(f.org ?? undefined)) },
  );
}

const entryLine = (e: UpdateEntry): UpdateLine => ({
  text: e.text,
  href: e.href,
  source: 'entry',
  refs: [e.id],
});

/** The update for `month` as it stands now: composed from the records, with the team's words. */
async function composeUpdate(
  q: Queryable,
  month: string,
  row: UpdateRow | undefined,
  ruleFor: RuleFor,
): Promise<MonthlyUpdate> {
  const asAt = monthEnd(month);
  const facts = await factsInMonth(q, month);
  const entries = await listEntries(q, month);
  const entriesIn = (section: EntrySection): UpdateLine[] =>
    entries.filter((e) => e.section === section).map(entryLine);
  const plan = await readPlan(q);
  const milestones = plan.workstreams.flatMap((w) =>
    w.milestones.map((m) => ({ ...m, workstreamTitle: w.title })),
  );

  const completed: UpdateGroup[] = [];
  const loads = facts.filter((f) => f.kind === 'load');
  if (loads.length) completed.push(loadsGroup(loads, ruleFor));
  for (const kind of Object.keys(FACT_HEADINGS) as FactKind[]) {
    if (kind === 'load') continue;
    const lines = facts
      .filter((f) => f.kind === kind)
      .map((f): UpdateLine => ({ text: `${f.text} (${f.on})`, href: f.href, source: kind, refs: [f.ref] }));
    if (lines.length) completed.push({ heading: FACT_HEADINGS[kind], lines });
  }
  const achieved = milestones
    .filter((m) => m.doneOn !== null && m.doneOn.slice(0, 7) === month)
    .map((m): UpdateLine => ({
      text: `${m.id} ${m.title} (${m.workstreamTitle}), done ${m.doneOn ?? ''}${m.evidence ? `: ${m.evidence}` : ''}`,
      href: m.evidenceHref ?? `/programme#${m.id}`,
      source: 'milestone',
      refs: [m.id],
    }));
  if (achieved.length) completed.push({ heading: 'Milestones achieved', lines: achieved });
  const otherDone = entriesIn('completed');
  if (otherDone.length) completed.push({ heading: 'Other activities', lines: otherDone });

  const horizon = addMonths(month, 2);
  const outstanding = milestones
    .map((m) => ({ m, as: stateAsAt(m, month) }))
    .filter(({ m, as }) => as.state !== 'done' && m.due <= horizon)
    .sort((a, b) => a.m.due.localeCompare(b.m.due) || a.m.id.localeCompare(b.m.id))
    .map(({ m, as }): UpdateLine => ({
      text: `${m.id} ${m.title} (${m.workstreamTitle}): due ${monthName(m.due)}${as.state === 'slipped' ? ', slipped' : ''}`,
      href: `/programme#${m.id}`,
      source: 'milestone',
      refs: [m.id],
    }));

  const raid = (await listRaidItems(q)).filter((i) => openAt(i, month)).sort(byImportance);
  const raidLine = (i: (typeof raid)[number]): UpdateLine => ({
    text:
      `${i.id} ${i.title} — owner ${i.owner}` +
      (i.kind === 'risk'
        ? `; likelihood ${i.likelihood ?? ''} × impact ${i.impact ?? ''} = ${i.score ?? ''}`
        : '') +
      (i.kind === 'issue' && i.impact !== null ? `; impact ${i.impact}` : '') +
      (i.mitigation ? `; ${i.kind === 'risk' ? 'mitigation' : 'action'}: ${i.mitigation}` : '') +
      (i.autoKey ? ' (raised by Kernel)' : ''),
    href: `/programme/raid/${i.id}`,
    source: 'raid',
    refs: [i.id],
  });

  return {
    month,
    title: UPDATE_TITLE,
    monthName: monthName(month),
    asAt,
    state: 'draft',
    issuedAt: null,
    issuedBy: null,
    issuedSha256: null,
    summary: row?.summary ?? '',
    completed,
    keyIssues: [...raid.filter((i) => i.kind === 'issue').map(raidLine), ...entriesIn('issues')],
    outstanding: [...outstanding, ...entriesIn('outstanding')],
    events: entriesIn('events'),
    keyRisks: [
      ...raid
        .filter((i) => i.kind === 'risk')
        .slice(0, KEY_RISKS)
        .map(raidLine),
      ...entriesIn('risks'),
    ],
    plan: planChart(plan, month),
    facts: controlFacts(facts, ruleFor),
    disclosure: ruleFor(undefined).id,
  };
}

/** Whoever issues it, an issued update is circulated to the group: its counts are controlled. */
const ISSUED_RULE: RuleFor = () => HES_2018;

/**
 * An issued update as stored. One issued before its rows were controlled (it has no
 * `disclosure`) is shown with its loads' rows under the issued rule; its SHA-256 stays that
 * of the content as issued.
 */
function issuedUpdate(content: string): MonthlyUpdate {
  const update = JSON.parse(content) as Omit<MonthlyUpdate, 'disclosure'> & {
    disclosure?: MonthlyUpdate['disclosure'];
  };
  if (update.disclosure) return update as MonthlyUpdate;
  const facts = update.facts as KernelFact[];
  const loads = facts.filter((f) => f.kind === 'load');
  return {
    ...update,
    completed: update.completed.map((g) =>
      g.heading === FACT_HEADINGS.load ? loadsGroup(loads, ISSUED_RULE) : g,
    ),
    facts: controlFacts(facts, ISSUED_RULE),
    disclosure: HES_2018.id,
  };
}

/**
 * The update for `month`: the issued one exactly as issued, or the draft composed now
 * (after bringing the plan and RAID log up to date), its rows loaded under the caller's rule.
 * The read is audited `metadata.read`, as a read of the loads API is.
 */
export async function monthlyUpdate(
  store: Store,
  monthRaw: string,
  caller: ProgrammeCaller,
  options: { now?: Date } = {},
): Promise<MonthlyUpdate> {
  assertProgrammeCaller(caller, 'read the monthly update');
  const month = parseMonth(monthRaw);
  const row = await updateRow(store, month);
  let update: MonthlyUpdate;
  if (row?.state === 'issued' && row.issued_content) {
    update = issuedUpdate(row.issued_content);
  } else {
    await refreshProgramme(store, options.now ? { now: options.now } : {});
    update = await composeUpdate(store, month, row, (org) => metadataPolicyFor({ role: caller.role }, org));
  }
  await auditUpdateRead(store, caller, month, update);
  return update;
}

/** An update shown to `caller` is a read of loads' metadata (H1), audited with the rule it was shown under. */
function auditUpdateRead(store: Store, caller: ProgrammeCaller, month: string, update: MonthlyUpdate) {
  return auditMetadataRead(store, {
    actor: caller.actor,
    role: caller.role,
    target: `update:${month}`,
    filter: { month },
    disclosure: update.disclosure,
  });
}

export interface UpdateSummary {
  month: string;
  monthName: string;
  state: 'draft' | 'issued';
  issuedAt: string | null;
  issuedBy: string | null;
}

/** The updates begun or issued, newest month first. */
export async function listMonthlyUpdates(q: Queryable, caller: ProgrammeCaller): Promise<UpdateSummary[]> {
  assertProgrammeCaller(caller, 'read the monthly updates');
  const rows = await q.query<UpdateRow>('SELECT * FROM programme_updates ORDER BY month DESC');
  return rows.map((r) => ({
    month: r.month,
    monthName: monthName(r.month),
    state: r.state === 'issued' ? 'issued' : 'draft',
    issuedAt: r.issued_at,
    issuedBy: r.issued_by,
  }));
}

/** The draft's row, made on first edit; refuses once issued. */
async function draftRow(tx: Queryable, month: string, caller: ProgrammeCaller): Promise<UpdateRow> {
  const row = await updateRow(tx, month);
  if (row?.state === 'issued') {
    throw new KernelError(
      'conflict',
      `The update for ${monthName(month)} was issued on ${(row.issued_at ?? '').slice(0, 10)} and cannot change`,
      {
        hint: 'An issued update is kept as issued; say anything new in the next month’s update',
      },
    );
  }
  if (row) return row;
  const at = new Date().toISOString();
  await tx.run(
    `INSERT INTO programme_updates (month, state, summary, created_at, created_by, updated_at, updated_by)
     VALUES ($1, 'draft', '', $2, $3, $2, $3)`,
    [month, at, caller.actor],
  );
  return (await updateRow(tx, month)) as UpdateRow;
}

export async function setUpdateSummary(
  q: Queryable,
  input: { month: string; summary: string },
  caller: ProgrammeCaller,
): Promise<void> {
  assertProgrammeCaller(caller, 'edit the monthly update');
  const month = parseMonth(input.month);
  const summary = optionalText(input.summary, 'summary', 4000) ?? '';
  await inTransaction(q, async (tx) => {
    await draftRow(tx, month, caller);
    await tx.run(
      'UPDATE programme_updates SET summary = $2, updated_at = $3, updated_by = $4 WHERE month = $1',
      [month, summary, new Date().toISOString(), caller.actor],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'report.summary-set',
      target: `update:${month}`,
      details: { characters: summary.length },
    });
  });
}

export async function addUpdateEntry(
  q: Queryable,
  input: { month: string; section: string; text: string; href?: string | null },
  caller: ProgrammeCaller,
): Promise<UpdateEntry> {
  assertProgrammeCaller(caller, 'edit the monthly update');
  const month = parseMonth(input.month);
  const section = parseEntrySection(input.section);
  const text = requiredText(input.text, 'text', 500);
  const href = parseHref(input.href);
  return inTransaction(q, async (tx) => {
    await draftRow(tx, month, caller);
    const id = `E-${newId().slice(0, 8)}`;
    await tx.run(
      `INSERT INTO programme_update_entries (entry_id, month, section, text, href, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, month, section, text, href, new Date().toISOString(), caller.actor],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'report.entry-added',
      target: `update:${month}`,
      details: { entry: id, section },
    });
    return { id, month, section, text, href };
  });
}

/**
 * Removes one of the team's lines from a draft. The entry's id names it; where the caller
 * names the month too (the API's path does), the entry must be that month's, so a request
 * for one update never changes another.
 */
export async function removeUpdateEntry(
  q: Queryable,
  input: { id: string; month?: string | undefined },
  caller: ProgrammeCaller,
): Promise<UpdateEntry> {
  assertProgrammeCaller(caller, 'edit the monthly update');
  const id = input.id.trim();
  const month = input.month === undefined ? undefined : parseMonth(input.month);
  return inTransaction(q, async (tx) => {
    const [row] = await tx.query<{ month: string }>(
      'SELECT month FROM programme_update_entries WHERE entry_id = $1',
      [id],
    );
    if (!row || (month !== undefined && row.month !== month)) {
      throw new KernelError(
        'not-found',
        `There is no entry ${id}${month === undefined ? '' : ` in the update for ${monthName(month)}`}`,
        { where: { field: 'id' }, hint: 'Check the entry’s id and month on the update’s page' },
      );
    }
    await draftRow(tx, row.month, caller);
    const entry = (await listEntries(tx, row.month)).find((e) => e.id === id) as UpdateEntry;
    await tx.run('DELETE FROM programme_update_entries WHERE entry_id = $1', [entry.id]);
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'report.entry-removed',
      target: `update:${row.month}`,
      details: { entry: entry.id, section: entry.section },
    });
    return entry;
  });
}

/**
 * Issues the update for a month that has ended: composes it one last time and keeps it,
 * exactly, from then on. Audited `report.issued` with the content's SHA-256.
 */
export async function issueMonthlyUpdate(
  store: Store,
  monthRaw: string,
  caller: ProgrammeCaller,
  options: { now?: Date } = {},
): Promise<MonthlyUpdate> {
  assertProgrammeCaller(caller, 'issue the monthly update');
  const month = parseMonth(monthRaw);
  const now = options.now ?? new Date();
  if (now.toISOString().slice(0, 10) <= monthEnd(month)) {
    throw new KernelError('conflict', `${monthName(month)} has not ended yet; its update cannot be issued`, {
      hint: `Issue it from ${addMonths(month, 1)}-01, when the month's records are complete`,
    });
  }
  await refreshProgramme(store, { now });
  const issued = await inTransaction(store, async (tx) => {
    const row = await draftRow(tx, month, caller);
    const at = now.toISOString();
    const composed = await composeUpdate(tx, month, row, ISSUED_RULE);
    const issued: MonthlyUpdate = {
      ...composed,
      state: 'issued',
      issuedAt: at,
      issuedBy: caller.actor,
      issuedSha256: null,
    };
    const sha256 = createHash('sha256').update(JSON.stringify(issued)).digest('hex');
    const content = JSON.stringify({ ...issued, issuedSha256: sha256 });
    await tx.run(
      `UPDATE programme_updates SET state = 'issued', issued_content = $2, issued_sha256 = $3, issued_at = $4, issued_by = $5, updated_at = $4, updated_by = $5
       WHERE month = $1`,
      [month, content, sha256, at, caller.actor],
    );
    await appendAudit(tx, {
      actor: caller.actor,
      action: 'report.issued',
      target: `update:${month}`,
      details: { sha256, facts: issued.facts.length, disclosure: issued.disclosure },
    });
    return JSON.parse(content) as MonthlyUpdate;
  });
  await auditUpdateRead(store, caller, month, issued);
  return issued;
}
