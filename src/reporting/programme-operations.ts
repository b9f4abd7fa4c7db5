/**
 * The programme office as operations (see src/operations/operation.ts): the plan, the RAID
 * log and the monthly update, in the API (`/api/v1/plan…`, `/api/v1/raid…`,
 * `/api/v1/reports/monthly…`), the CLI (`kernel plan`, `kernel raid`, `kernel report`) and
 * the portal's pages alike. The domain functions check the caller again and hold every rule;
 * what writes a file (the chart, the update as HTML or PDF) stays hand-written in src/cli/.
 */
import { z } from 'zod';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from '../operations/list-table.ts';
import { requiredText, yearMonth } from '../operations/fields.ts';
import {
  givenFields,
  operationsOf,
  type AnyOperation,
  type OperationContext,
} from '../operations/operation.ts';
import {
  addUpdateEntry,
  issueMonthlyUpdate,
  listMonthlyUpdates,
  monthlyUpdate,
  removeUpdateEntry,
  setUpdateSummary,
  type MonthlyUpdate,
  type UpdateSummary,
} from './monthly-update.ts';
import {
  addMilestone,
  addWorkstream,
  changeMilestone,
  updateWorkstream,
  type Milestone,
} from './programme-plan.ts';
import {
  entryRequestSchema,
  milestoneChangeRequestSchema,
  milestoneRequestSchema,
  milestoneSchema,
  milestoneViewSchema,
  monthlyUpdateSchema,
  planViewSchema,
  raidChangeRequestSchema,
  raidItemSchema,
  raidItemViewSchema,
  raidListSchema,
  raidRequestSchema,
  refreshResultSchema,
  summaryRequestSchema,
  updateEntrySchema,
  updateListSchema,
  workstreamChangeRequestSchema,
  workstreamRequestSchema,
  workstreamSchema,
} from './programme-schemas.ts';
import { PROGRAMME_ROLES, type HistoryEntry, type ProgrammeCaller } from './programme-values.ts';
import { milestoneView, planView, raidItemView, raidLogView, refreshNow } from './programme-views.ts';
import {
  changeRaidItem,
  parseRaidKind,
  parseRaidState,
  RAID_KINDS,
  raiseRaidItem,
  type RaidChange,
  type RaidFilter,
  type RaidItem,
} from './raid-log.ts';
import { readRuleOptions, setSignOffWeeks } from './raid-rules.ts';

/** Every programme operation is the programme team's and the administrators'. */
const programmeOperation = operationsOf({ tag: 'programme', access: PROGRAMME_ROLES });

const callerOf = ({ actor, principal }: OperationContext): ProgrammeCaller => ({
  actor,
  role: principal.role,
});
const clockOf = (context: OperationContext): { now: Date } => ({ now: context.now?.() ?? new Date() });

const itemId = (description: string) => requiredText(description);
const month = yearMonth('the month, YYYY-MM');

// ---------------------------------------------------------------- what the CLI prints

function historyLines(history: HistoryEntry[]): string {
  return formatTable(
    ['when', 'who', 'what', 'changes', 'note'],
    history.map((h) => [
      h.at.slice(0, 16).replace('T', ' '),
      h.actor,
      h.action,
      JSON.stringify(h.changes),
      h.note,
    ]),
  );
}

const milestoneRow = (m: Milestone): (string | null)[] => [
  m.id,
  m.due,
  m.state,
  m.doneOn,
  m.title,
  m.tie,
  m.evidence,
];

/** `kernel plan milestone M-01`: the milestone, its tie and evidence, and its history. */
export function milestoneLines({
  milestone: m,
  history,
}: {
  milestone: Milestone;
  history: HistoryEntry[];
}): string {
  return [
    `${m.id} ${m.title}: due ${m.due}, ${m.state}${m.doneOn ? ` on ${m.doneOn}` : ''}`,
    ...(m.tieText ? [`Done when ${m.tieText} (${m.tie ?? ''})`] : []),
    ...(m.evidence ? [`Evidence: ${m.evidence}${m.evidenceHref ? ` (${m.evidenceHref})` : ''}`] : []),
    historyLines(history),
  ].join('\n');
}

function raidItemLines({ item: i, history }: { item: RaidItem; history: HistoryEntry[] }): string {
  const table = formatTable(
    ['field', 'value'],
    [
      ['id', `${i.id} (${i.kind}, ${i.state})`],
      ['title', i.title],
      ['description', i.description],
      ['owner', i.owner],
      [
        'likelihood × impact',
        i.kind === 'risk' ? `${i.likelihood ?? ''} × ${i.impact ?? ''} = ${i.score ?? ''}` : i.impact,
      ],
      ['mitigation', i.mitigation],
      ['review', i.reviewOn],
      ['raised', i.raisedOn],
      ['closed', i.closedOn],
      ['evidence', i.evidenceHref],
      ['raised by Kernel', i.autoKey],
    ],
  );
  return `${table}\n${historyLines(history)}`;
}

/** `kernel report monthly`: the update as text, section by section. */
export function updateLines(update: MonthlyUpdate): string {
  const out = [
    `${update.title}: ${update.monthName} (${update.state}${update.issuedAt ? ` ${update.issuedAt.slice(0, 10)}` : ''})`,
  ];
  if (update.summary) out.push(update.summary);
  const section = (title: string, lines: { text: string; href: string | null }[]): void => {
    out.push(`\n${title}`);
    if (lines.length === 0) out.push('  (none)');
    for (const l of lines) out.push(`  - ${l.text}${l.href ? `  [${l.href}]` : ''}`);
  };
  out.push('\n1. Completed activities and milestones achieved');
  if (update.completed.length === 0) out.push('  (none)');
  for (const g of update.completed) {
    section(`  ${g.heading}`, g.lines);
    if (g.note) out.push(`    ${g.note}`);
  }
  section('2. Key issues', update.keyIssues);
  section('3. Outstanding activities', update.outstanding);
  section('   Scheduled events', update.events);
  section('4. Key risks', update.keyRisks);
  return out.join('\n');
}

// ---------------------------------------------------------------- the plan

export const planOperation = programmeOperation({
  name: 'plan.show',
  summary: 'The plan, brought up to date with Kernel’s records, with its chart as SVG',
  input: z.object({
    month: yearMonth('the month the chart is drawn as now (default this month)').optional(),
  }),
  output: planViewSchema,
  http: { method: 'GET', path: '/api/v1/plan' },
  cli: {
    command: ['plan', 'list'],
    isDefault: true,
    description: 'the plan, brought up to date with Kernel’s records',
    json: (view) => ({ ...view, svg: undefined }),
    print: (view) =>
      view.workstreams.length === 0
        ? 'The plan is empty. Add a workstream: kernel plan add-workstream --title T --owner QKS --from 2021-01 --to 2021-10'
        : view.workstreams
            .map((w) =>
              [
                `${w.id}  ${w.title} — ${w.owner}${w.ownerKind === 'supplier' ? ' (supplier)' : ''}, ${w.from} to ${w.to}`,
                ...(w.milestones.length
                  ? [
                      formatTable(
                        ['  milestone', 'due', 'state', 'done', 'title', 'tie', 'evidence'],
                        w.milestones.map(milestoneRow),
                      ),
                    ]
                  : []),
              ].join('\n'),
            )
            .join('\n'),
  },
  run: (context, { month }) =>
    planView(context.store, callerOf(context), { ...clockOf(context), ...givenFields({ month }) }),
});

export const addWorkstreamOperation = programmeOperation({
  name: 'plan.add-workstream',
  summary: 'Add a workstream',
  input: workstreamRequestSchema,
  output: workstreamSchema,
  http: { method: 'POST', path: '/api/v1/plan/workstreams', status: 201 },
  cli: {
    command: ['plan', 'add-workstream'],
    print: (ws) => `Added workstream ${ws.id}: ${ws.title}, ${ws.from} to ${ws.to}.`,
  },
  run: (context, input) =>
    addWorkstream(context.store, { ...input, supplier: input.supplier ?? false }, callerOf(context)),
});

export const changeWorkstreamOperation = programmeOperation({
  name: 'plan.set-workstream',
  summary: 'Change a workstream',
  input: workstreamChangeRequestSchema.extend({ id: itemId('workstream id, e.g. WS-01') }),
  output: workstreamSchema,
  http: { method: 'POST', path: '/api/v1/plan/workstreams/:id', example: { id: 'WS-01' } },
  cli: {
    command: ['plan', 'set-workstream'],
    args: ['id'],
    print: (ws) => `Workstream ${ws.id}: ${ws.title}, ${ws.owner}, ${ws.from} to ${ws.to}.`,
  },
  run: (context, { id, ...change }) =>
    updateWorkstream(context.store, id, givenFields(change), callerOf(context)),
});

export const addMilestoneOperation = programmeOperation({
  name: 'plan.add-milestone',
  summary: 'Add a milestone, optionally tied to the Kernel fact that completes it',
  input: milestoneRequestSchema,
  output: milestoneSchema,
  http: { method: 'POST', path: '/api/v1/plan/milestones', status: 201 },
  cli: {
    command: ['plan', 'add-milestone'],
    description: 'add a milestone to a workstream',
    print: (m) =>
      `Added milestone ${m.id}: ${m.title}, due ${m.due}${m.tieText ? `; done when ${m.tieText}` : ''}.`,
  },
  run: (context, input) =>
    addMilestone(context.store, { ...input, tie: input.tie || null }, callerOf(context)),
});

export const milestoneOperation = programmeOperation({
  name: 'plan.milestone',
  summary: 'A milestone with its history',
  input: z.object({ id: itemId('milestone id, e.g. M-01') }),
  output: milestoneViewSchema,
  http: { method: 'GET', path: '/api/v1/plan/milestones/:id', example: { id: 'M-01' } },
  run: (context, { id }) => milestoneView(context.store, id, callerOf(context)),
});

export const changeMilestoneOperation = programmeOperation({
  name: 'plan.change-milestone',
  summary: 'Change a milestone: done (with the day and evidence), slipped, planned, or re-planned',
  input: milestoneChangeRequestSchema.extend({ id: itemId('milestone id, e.g. M-01') }),
  output: milestoneSchema,
  http: { method: 'POST', path: '/api/v1/plan/milestones/:id', example: { id: 'M-01' } },
  run: (context, { id, on, href, tie, ...change }) =>
    changeMilestone(
      context.store,
      id,
      {
        ...givenFields({ ...change, doneOn: on, evidenceHref: href }),
        // null removes the tie; empty text leaves it as it is
        ...(tie === null ? { tie } : givenFields({ tie })),
      },
      callerOf(context),
      clockOf(context).now,
    ),
});

export const refreshOperation = programmeOperation({
  name: 'plan.refresh',
  summary: 'Check tied milestones and automatic RAID issues against Kernel’s records now',
  input: z.object({}),
  output: refreshResultSchema,
  http: { method: 'POST', path: '/api/v1/plan/refresh' },
  cli: {
    command: ['plan', 'refresh'],
    print: (result) => {
      const said = (
        [
          ['milestones done', result.milestonesDone],
          ['milestones slipped', result.milestonesSlipped],
          ['RAID items opened', result.raidOpened],
          ['reopened', result.raidReopened],
          ['updated', result.raidUpdated],
          ['closed', result.raidClosed],
        ] as const
      ).filter(([, ids]) => ids.length > 0);
      return said.length
        ? said.map(([what, ids]) => `${what}: ${ids.join(', ')}`).join('\n')
        : 'The plan and RAID log already match Kernel’s records.';
    },
  },
  run: (context) => refreshNow(context.store, callerOf(context), clockOf(context)),
});

// ---------------------------------------------------------------- the RAID log

/** A filter as people write it (plurals too: risks, issues); the domain says what is wrong. */
export function raidFilterOf({
  kind,
  state,
}: {
  kind?: string | undefined;
  state?: string | undefined;
}): RaidFilter {
  return {
    ...(kind ? { kind: parseRaidKind(kind) } : {}),
    ...(state ? { state: parseRaidState(state) } : {}),
  };
}

/** The API's field names (`review`, `href`, `on`) as the domain's. */
function raidChangeOf(input: z.output<typeof raidChangeRequestSchema>): RaidChange {
  const { review, href, on, ...rest } = input;
  return givenFields({ ...rest, reviewOn: review, evidenceHref: href, closedOn: on });
}

export const raidLogOperation = programmeOperation({
  name: 'raid.list',
  summary: 'The RAID log, brought up to date with Kernel’s records',
  input: z.object({
    kind: z
      .string()
      .optional()
      .describe(`${RAID_KINDS.join(', ')}`),
    state: z.string().optional().describe('open or closed'),
  }),
  output: raidListSchema,
  http: { method: 'GET', path: '/api/v1/raid' },
  cli: {
    command: ['raid', 'list'],
    isDefault: true,
    description: 'the log, brought up to date with Kernel’s records',
    ...listedAsTable(
      'items',
      ['id', 'kind', 'state', 'score', 'owner', 'raised', 'closed', 'title'],
      (i: RaidItem) => [
        i.id,
        i.kind,
        i.state,
        i.score ?? i.impact,
        i.owner,
        i.raisedOn,
        i.closedOn,
        `${i.title}${i.autoKey ? ' (Kernel)' : ''}`,
      ],
    ),
  },
  run: async (context, filter) => ({
    items: await raidLogView(context.store, callerOf(context), raidFilterOf(filter), clockOf(context)),
  }),
});

export const raiseRaidOperation = programmeOperation({
  name: 'raid.add',
  summary: 'Raise a risk, issue, assumption or dependency',
  input: raidRequestSchema,
  output: raidItemSchema,
  http: { method: 'POST', path: '/api/v1/raid', status: 201 },
  cli: {
    command: ['raid', 'add'],
    print: (item) =>
      `Raised ${item.id}: ${item.title}${item.score !== null ? ` (score ${item.score})` : ''}.`,
  },
  run: (context, { kind, title, owner, raised, ...rest }) =>
    raiseRaidItem(
      context.store,
      { kind, title, owner, ...raidChangeOf(rest), ...givenFields({ raisedOn: raised }) },
      callerOf(context),
      clockOf(context),
    ),
});

export const raidItemOperation = programmeOperation({
  name: 'raid.show',
  summary: 'One RAID item with its history',
  input: z.object({ id: itemId('item id, e.g. R-001') }),
  output: raidItemViewSchema,
  http: { method: 'GET', path: '/api/v1/raid/:id', example: { id: 'R-001' } },
  cli: {
    command: ['raid', 'show'],
    args: ['id'],
    description: 'one item with its history',
    print: raidItemLines,
  },
  run: (context, { id }) => raidItemView(context.store, id, callerOf(context)),
});

export const changeRaidOperation = programmeOperation({
  name: 'raid.set',
  summary: 'Change, close or reopen a RAID item',
  input: raidChangeRequestSchema.extend({ id: itemId('item id, e.g. R-001') }),
  output: raidItemSchema,
  http: { method: 'POST', path: '/api/v1/raid/:id', example: { id: 'R-001' } },
  cli: {
    command: ['raid', 'set'],
    args: ['id'],
    description: 'change an item',
    print: (item) => `${item.id} updated.`,
  },
  run: (context, { id, ...change }) =>
    changeRaidItem(context.store, id, raidChangeOf(change), callerOf(context), clockOf(context).now),
});

export const raidRulesOperation = programmeOperation({
  name: 'raid.rules',
  summary: 'Show or change the rules Kernel raises issues by',
  input: z.object({
    signOffWeeks: z
      .string()
      .optional()
      .describe('weeks a first load may wait for sign-off before it is an issue'),
  }),
  output: z.object({ signOffWeeks: z.number().int() }),
  cli: {
    command: ['raid', 'rules'],
    description:
      'the rules Kernel raises issues by; --sign-off-weeks N changes how long a first load may wait',
    print: (rules) =>
      [
        'Kernel raises an issue when:',
        '- a member’s regular feed has no completed load for the two latest months due;',
        `- a member’s first load waits for sign-off more than ${rules.signOffWeeks} weeks;`,
        '- a financial year has begun with subscriptions still unconfirmed.',
      ].join('\n'),
  },
  run: (context, { signOffWeeks }) =>
    signOffWeeks === undefined
      ? readRuleOptions(context.store)
      : setSignOffWeeks(context.store, signOffWeeks, callerOf(context)),
});

// ---------------------------------------------------------------- monthly updates

export const listUpdatesOperation = programmeOperation({
  name: 'reports.monthly.list',
  summary: 'The monthly updates begun or issued',
  input: z.object({}),
  output: updateListSchema,
  http: { method: 'GET', path: '/api/v1/reports/monthly' },
  cli: {
    command: ['report', 'list'],
    description: 'updates begun or issued',
    ...listedAsTable('updates', ['month', 'state', 'issued', 'by'], (u: UpdateSummary) => [
      u.month,
      u.state,
      u.issuedAt?.slice(0, 10),
      u.issuedBy,
    ]),
  },
  run: async (context) => ({ updates: await listMonthlyUpdates(context.store, callerOf(context)) }),
});

export const monthlyUpdateOperation = programmeOperation({
  name: 'reports.monthly.show',
  summary: 'The update for a month: drafted from Kernel’s records, or exactly as issued',
  input: z.object({ month }),
  output: monthlyUpdateSchema,
  http: { method: 'GET', path: '/api/v1/reports/monthly/:month', example: { month: '2021-07' } },
  run: (context, { month }) => monthlyUpdate(context.store, month, callerOf(context), clockOf(context)),
});

export const addEntryOperation = programmeOperation({
  name: 'reports.monthly.add-entry',
  summary: 'Add the team’s own line to a draft update',
  input: entryRequestSchema.extend({ month }),
  output: updateEntrySchema,
  http: {
    method: 'POST',
    path: '/api/v1/reports/monthly/:month/entries',
    status: 201,
    example: { month: '2021-07' },
  },
  cli: {
    command: ['report', 'entry'],
    print: (entry) => `Added ${entry.id} to ${entry.section} for ${entry.month}.`,
  },
  run: (context, input) =>
    addUpdateEntry(context.store, { ...input, href: input.href || null }, callerOf(context)),
});

export const removeEntryOperation = programmeOperation({
  name: 'reports.monthly.remove-entry',
  summary: 'Remove one of the team’s lines from a draft update',
  // The entry's id names it; the month is the API's path (checked against the entry's), so
  // the CLI need not give it.
  input: z.object({ month: month.optional(), id: itemId('entry id, e.g. E-1a2b3c4d') }),
  output: updateEntrySchema,
  http: {
    method: 'POST',
    path: '/api/v1/reports/monthly/:month/entries/:id/remove',
    example: { month: '2021-07', id: 'E-00000000' },
  },
  cli: {
    command: ['report', 'remove-entry'],
    args: ['id'],
    print: (entry) => `Removed ${entry.id} from ${entry.month}.`,
  },
  run: (context, { id, month }) => removeUpdateEntry(context.store, { id, month }, callerOf(context)),
});

export const setSummaryOperation = programmeOperation({
  name: 'reports.monthly.summary',
  summary: 'Set the summary of a draft update',
  input: summaryRequestSchema.extend({ month }),
  output: monthlyUpdateSchema,
  http: { method: 'POST', path: '/api/v1/reports/monthly/:month/summary', example: { month: '2021-07' } },
  cli: {
    command: ['report', 'summary'],
    flags: { summary: 'text' },
    description: 'set the opening summary of a draft update',
    print: (update) => `Summary set for ${update.month}.`,
  },
  run: async (context, { month, summary }) => {
    await setUpdateSummary(context.store, { month, summary: summary ?? '' }, callerOf(context));
    return monthlyUpdate(context.store, month, callerOf(context), clockOf(context));
  },
});

export const issueUpdateOperation = programmeOperation({
  name: 'reports.monthly.issue',
  summary: 'Issue the update for a month that has ended; it is kept exactly as issued',
  input: z.object({ month }),
  output: monthlyUpdateSchema,
  http: { method: 'POST', path: '/api/v1/reports/monthly/:month/issue', example: { month: '2021-07' } },
  cli: {
    command: ['report', 'issue'],
    description: 'issue the update for a month that has ended: it is kept as issued and never changes',
    print: (update) => `Issued the update for ${update.monthName} (SHA-256 ${update.issuedSha256 ?? ''}).`,
  },
  run: (context, { month }) => issueMonthlyUpdate(context.store, month, callerOf(context), clockOf(context)),
});

export const PROGRAMME_OPERATIONS: readonly AnyOperation[] = [
  planOperation,
  addWorkstreamOperation,
  changeWorkstreamOperation,
  addMilestoneOperation,
  milestoneOperation,
  changeMilestoneOperation,
  refreshOperation,
  raidLogOperation,
  raiseRaidOperation,
  raidItemOperation,
  changeRaidOperation,
  raidRulesOperation,
  listUpdatesOperation,
  monthlyUpdateOperation,
  addEntryOperation,
  removeEntryOperation,
  setSummaryOperation,
  issueUpdateOperation,
];
