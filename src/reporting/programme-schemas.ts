/**
 * The programme office in the API, as zod schemas: what the plan, RAID log and monthly
 * update routes answer (typed against the domain's interfaces, so the compiler fails if the
 * two drift apart), and the JSON bodies they take.
 *
 * A request body declares each field's name, type, and whether it may be left out; the
 * domain still checks every value (a month that exists, a rating from 1 to 5, text short
 * enough) for the CLI, the pages and the API alike, with messages that say how to fix it.
 * Field names are the API's own (`on`, `href`, `review`, `raised`), as the pages' forms use.
 */
import { z } from 'zod';
import { DISCLOSURE_POLICY_IDS } from '../analytics/disclosure-control.ts';
import { controlledCountSchema } from '../analytics/disclosure-schemas.ts';
import { isoDate, yearMonth } from '../operations/fields.ts';
import { FACT_KINDS } from './kernel-facts.ts';
import {
  ENTRY_SECTIONS,
  type MonthlyUpdate,
  type UpdateEntry,
  type UpdateFact,
  type UpdateLine,
  type UpdateSummary,
} from './monthly-update.ts';
import type { PlanChart } from './plan-chart.ts';
import type { RefreshResult } from './programme-refresh.ts';
import type { HistoryEntry } from './programme-values.ts';
import { MILESTONE_STATES, type Milestone, type Workstream } from './programme-plan.ts';
import type { PlanView } from './programme-views.ts';
import { RAID_KINDS, RAID_STATES, type RaidItem } from './raid-log.ts';

const timestamp = z.string().describe('ISO 8601 date and time');
const month = z.string().describe('YYYY-MM');
const day = z.string().describe('YYYY-MM-DD');
const link = z.string().describe('a portal path (/loads?org=RWF) or an https:// address');

// ---------------------------------------------------------------- answers

export const historyEntrySchema: z.ZodType<HistoryEntry> = z.object({
  at: timestamp,
  actor: z.string().describe('who, as the audit log names them'),
  action: z.string().describe('e.g. added, done, slipped, raised, closed'),
  // The one part not described to its leaves: a change's value is whatever the field holds
  // (text, a month, a number, null), so it is any JSON value.
  changes: z.record(z.string(), z.unknown()).describe('each field changed, with its new value'),
  note: z.string().nullable(),
});

export const workstreamSchema: z.ZodType<Workstream> = z.object({
  id: z.string().describe('e.g. WS-01'),
  title: z.string(),
  owner: z.string().describe('an organisation code, or a supplier’s name'),
  ownerKind: z.enum(['organisation', 'supplier']),
  from: month,
  to: month,
});

export const milestoneSchema: z.ZodType<Milestone> = z.object({
  id: z.string().describe('e.g. M-01'),
  workstream: z.string().describe('its workstream’s id'),
  title: z.string(),
  due: month,
  state: z.enum(MILESTONE_STATES),
  doneOn: day.nullable(),
  evidence: z.string().nullable(),
  evidenceHref: link.nullable(),
  tie: z.string().nullable().describe('the Kernel fact that completes it, e.g. loads:RWF:apc+op+ecds'),
  tieText: z.string().nullable().describe('the tie in plain English'),
});

const planChartSchema: z.ZodType<PlanChart> = z.object({
  months: z.array(month),
  now: month.nullable().describe('the month drawn as now; null when it is outside the plan'),
  rows: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      owner: z.string(),
      from: month,
      to: month,
      milestones: z
        .array(
          z.object({
            id: z.string(),
            title: z.string(),
            month: month.describe('where it is marked: the month it was done, or else its due month'),
            state: z.enum(MILESTONE_STATES).describe('as it stood at the end of the month drawn as now'),
          }),
        )
        .describe('the workstream’s milestones'),
    }),
  ),
});

/** `GET /api/v1/plan` */
export const planViewSchema: z.ZodType<PlanView> = z.object({
  workstreams: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      owner: z.string(),
      ownerKind: z.enum(['organisation', 'supplier']),
      from: month,
      to: month,
      milestones: z.array(milestoneSchema),
    }),
  ),
  from: month.nullable().describe('the plan’s first month; null when it is empty'),
  to: month.nullable(),
  asAt: month.describe('the month drawn as now'),
  chart: planChartSchema,
  svg: z.string().describe('the chart as an SVG document'),
});

/** `GET /api/v1/plan/milestones/{id}` */
export const milestoneViewSchema = z.object({
  milestone: milestoneSchema,
  history: z.array(historyEntrySchema),
});

/** `POST /api/v1/plan/refresh`: what the check changed, by id. */
export const refreshResultSchema: z.ZodType<RefreshResult> = z.object({
  milestonesDone: z.array(z.string()),
  milestonesSlipped: z.array(z.string()),
  raidOpened: z.array(z.string()),
  raidReopened: z.array(z.string()),
  raidUpdated: z.array(z.string()),
  raidClosed: z.array(z.string()),
});

export const raidItemSchema: z.ZodType<RaidItem> = z.object({
  id: z.string().describe('e.g. R-001, I-001, A-001, D-001'),
  kind: z.enum(RAID_KINDS),
  title: z.string(),
  description: z.string(),
  owner: z.string(),
  state: z.enum(RAID_STATES),
  likelihood: z.number().int().nullable().describe('1 (rare) to 5 (almost certain); risks only'),
  impact: z.number().int().nullable().describe('1 (negligible) to 5 (severe); risks and issues'),
  score: z.number().int().nullable().describe('likelihood × impact, for risks'),
  mitigation: z.string().nullable().describe('for a risk its mitigation; for an issue the action taken'),
  reviewOn: day.nullable(),
  raisedOn: day,
  closedOn: day.nullable(),
  evidenceHref: link.nullable(),
  autoKey: z
    .string()
    .nullable()
    .describe('the rule and state that raised it, for an item Kernel raised; null for one a person raised'),
});

/** `GET /api/v1/raid` */
export const raidListSchema = z.object({ items: z.array(raidItemSchema) });

/** `GET /api/v1/raid/{id}` */
export const raidItemViewSchema = z.object({ item: raidItemSchema, history: z.array(historyEntrySchema) });

export const updateEntrySchema: z.ZodType<UpdateEntry> = z.object({
  id: z.string().describe('e.g. E-1a2b3c4d'),
  month,
  section: z.enum(ENTRY_SECTIONS),
  text: z.string(),
  href: link.nullable(),
});

const updateSummarySchema: z.ZodType<UpdateSummary> = z.object({
  month,
  monthName: z.string().describe('e.g. July 2021'),
  state: z.enum(['draft', 'issued']),
  issuedAt: timestamp.nullable(),
  issuedBy: z.string().nullable(),
});

/** `GET /api/v1/reports/monthly` */
export const updateListSchema = z.object({ updates: z.array(updateSummarySchema) });

const updateLineSchema: z.ZodType<UpdateLine> = z.object({
  text: z.string(),
  href: z.string().nullable().describe('the evidence in the portal, or a link the team gave'),
  source: z
    .enum([...FACT_KINDS, 'milestone', 'raid', 'entry'])
    .describe('where the line comes from: a kind of Kernel fact, a milestone, the RAID log, or the team'),
  refs: z
    .array(z.string())
    .describe('the records behind it: load ids, invoice numbers, milestone or RAID ids'),
});

const updateFactSchema: z.ZodType<UpdateFact> = z.object({
  kind: z.enum(FACT_KINDS),
  on: day.describe('the day it happened, YYYY-MM-DD'),
  ref: z.string().describe('the record: a load id, an invoice number, a use case id…'),
  org: z.string().nullable(),
  text: z.string(),
  href: z.string().describe('the evidence in the portal'),
  dataset: z.string().optional().describe('for loads'),
  period: month.nullable().optional().describe('for loads: the month of data'),
  rows: controlledCountSchema
    .optional()
    .describe('for loads: rows loaded, under the update’s disclosure rule'),
});

/** `GET /api/v1/reports/monthly/{month}` and what issuing or editing one answers. */
export const monthlyUpdateSchema: z.ZodType<MonthlyUpdate> = z.object({
  month,
  title: z.string(),
  monthName: z.string().describe('e.g. July 2021'),
  asAt: day.describe('the last day the update reports'),
  state: z.enum(['draft', 'issued']),
  issuedAt: timestamp.nullable(),
  issuedBy: z.string().nullable(),
  issuedSha256: z.string().nullable().describe('SHA-256 of the issued content, to show it has not changed'),
  summary: z.string(),
  completed: z.array(
    z.object({
      heading: z.string(),
      lines: z.array(updateLineSchema),
      note: z
        .string()
        .optional()
        .describe('how the group’s counts are shown, where disclosure control changed them'),
    }),
  ),
  keyIssues: z.array(updateLineSchema),
  outstanding: z.array(updateLineSchema),
  events: z.array(updateLineSchema),
  keyRisks: z.array(updateLineSchema),
  plan: planChartSchema.describe('the plan as it stood at the end of the month'),
  facts: z.array(updateFactSchema).describe('the records the generated lines come from'),
  disclosure: z
    .enum(DISCLOSURE_POLICY_IDS)
    .describe('the disclosure rule its rows loaded are under: hes2018, or none for an admin’s draft'),
});

// ---------------------------------------------------------------- request bodies

const rating = (description: string) =>
  z
    .union([z.number(), z.string()], { error: 'must be a whole number from 1 to 5' })
    .optional()
    .describe(`${description}: a whole number from 1 to 5 (numeric text is read as its number)`);

/** `POST /api/v1/plan/workstreams` */
export const workstreamRequestSchema = z.object({
  title: z.string().describe('at most 120 characters'),
  owner: z.string().describe('a member organisation code (e.g. QKS), or a supplier’s name'),
  supplier: z.boolean().optional().describe('true when the owner is a supplier, not a member organisation'),
  from: yearMonth('the first month, YYYY-MM'),
  to: yearMonth('the last month, YYYY-MM'),
});

/** `POST /api/v1/plan/workstreams/{id}`: any of a new workstream's fields. */
export const workstreamChangeRequestSchema = workstreamRequestSchema.partial();

/** `POST /api/v1/plan/milestones` */
export const milestoneRequestSchema = z.object({
  workstream: z.string().describe('its workstream’s id, e.g. WS-04'),
  title: z.string().describe('at most 200 characters'),
  due: yearMonth('the month it is due, YYYY-MM'),
  tie: z
    .string()
    .nullable()
    .optional()
    .describe(
      'the Kernel fact that completes it: loads:ORG:DATASET+DATASET[:YYYY-MM], subscription:ORG:YEAR, agreement:ORG[:DATASET], usecase:UC-001 or onboarded:ORG',
    ),
});

/** `POST /api/v1/plan/milestones/{id}`: any of these. */
export const milestoneChangeRequestSchema = z.object({
  state: z.enum(MILESTONE_STATES).optional(),
  on: isoDate('the day it was done, YYYY-MM-DD (today when marked done without one)').optional(),
  evidence: z.string().optional().describe('what shows it was done'),
  href: z.string().optional().describe('a link to the evidence: a portal path or an https:// address'),
  title: z.string().optional(),
  due: yearMonth('a new due month, YYYY-MM').optional(),
  tie: milestoneRequestSchema.shape.tie.describe('a new tie, or null to remove it'),
  note: z.string().optional().describe('kept in its history'),
});

/** `POST /api/v1/raid` */
export const raidRequestSchema = z.object({
  kind: z.enum(RAID_KINDS),
  title: z.string().describe('at most 200 characters'),
  owner: z.string().describe('at most 120 characters'),
  description: z.string().optional(),
  likelihood: rating('how likely, 1 (rare) to 5 (almost certain); a risk needs it, nothing else has it'),
  impact: rating('how bad, 1 (negligible) to 5 (severe); a risk needs it'),
  mitigation: z
    .string()
    .optional()
    .describe('for a risk its mitigation; for an issue the action being taken'),
  review: isoDate('the day to review it, YYYY-MM-DD').optional(),
  raised: isoDate('the day it was raised, YYYY-MM-DD (today by default; never a day to come)').optional(),
  href: z.string().optional().describe('a link to the evidence: a portal path or an https:// address'),
});

/** `POST /api/v1/raid/{id}`: any field of the item, or a change of state. */
export const raidChangeRequestSchema = raidRequestSchema
  .omit({ kind: true, raised: true })
  .partial()
  .extend({
    state: z.enum(RAID_STATES).optional().describe('closed to close it, open to reopen it'),
    on: isoDate('the day it was closed, YYYY-MM-DD (today by default)').optional(),
    note: z.string().optional().describe('kept in its history'),
  });

/** `POST /api/v1/reports/monthly/{month}/entries` */
export const entryRequestSchema = z.object({
  section: z.enum(ENTRY_SECTIONS),
  text: z.string().describe('at most 500 characters'),
  href: z.string().optional().describe('a portal path or an https:// address'),
});

/** `POST /api/v1/reports/monthly/{month}/summary` */
export const summaryRequestSchema = z.object({
  summary: z
    .string()
    .optional()
    .describe('at most 4,000 characters; left out or empty, it clears the summary'),
});
