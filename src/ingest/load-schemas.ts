/**
 * A load's report and its record in the load history, as zod schemas: what `POST
 * /api/v1/loads` and `/api/v1/feeds` answer, and (under disclosure control) what
 * `GET /api/v1/loads` lists. Typed against the domain's interfaces, so the compiler fails if
 * the two drift apart.
 */
import { z } from 'zod';
import { DISCLOSURE_POLICY_IDS } from '../analytics/disclosure-control.ts';
import { controlledCountSchema } from '../analytics/disclosure-schemas.ts';
import { fieldCompletenessSchema, loadFindingSchema } from '../quality/quality-schemas.ts';
import { RULE_IDS } from '../quality/row-rules.ts';
import type { ControlledLoad } from './load-disclosure.ts';
import { LOAD_STATUSES, type LoadDetails, type LoadPage, type LoadReportJson } from './load-history.ts';

const timestamp = z.string().describe('ISO 8601 date and time');

/** What every load record says besides its counts, findings and completeness. */
const loadShape = {
  status: z
    .enum(['loaded', 'duplicate', 'refused'])
    .describe('duplicate: the same file was loaded before, as loadId'),
  loadId: z.string().nullable().describe('null when it was refused before it had one'),
  org: z.string().describe('the sending organisation’s ODS code'),
  dataset: z.string(),
  period: z.string().nullable().describe('the reporting month, YYYY-MM'),
  file: z.string().describe('the file’s name as the sender gave it'),
  sha256: z.string().nullable(),
  seconds: z.number(),
};

/** What a record in the load history adds to the report. */
const historyShape = {
  state: z.enum(LOAD_STATUSES).describe('where it stands now: a loaded load may since have been superseded'),
  supersedes: z.array(z.string()).describe('the loads of the same month it replaced'),
  supersededBy: z.string().nullable(),
  startedAt: timestamp,
  finishedAt: timestamp.nullable(),
  actor: z.string().describe('who ran it, as the audit log names them'),
  error: z.string().nullable().describe('why it was refused or failed'),
  interrupted: z.boolean().describe('its process ended before it finished; nothing it wrote is kept'),
};

/** `POST /api/v1/loads` and `POST /api/v1/feeds`: the load's report (422 with it, and why, when refused). */
export const loadReportSchema: z.ZodType<LoadReportJson> = z.object({
  ...loadShape,
  rowsRead: z.number().int(),
  rowsLoaded: z.number().int(),
  rowsRejected: z.number().int().describe('rows quarantined or dropped'),
  findings: z.array(loadFindingSchema),
  error: z
    .object({
      code: z.string().describe('the error’s stable code (refused, invalid-input…)'),
      message: z.string(),
      where: z
        .object({
          file: z.string().optional(),
          line: z.number().int().optional(),
          column: z.number().int().optional(),
          field: z.string().optional(),
        })
        .optional(),
      hint: z.string().optional(),
    })
    .optional()
    .describe('a refused load only: why it was refused (what, where, what to do)'),
});

/** A load as the history holds it, unrounded (a sign-off pack's). */
export const loadDetailsSchema: z.ZodType<LoadDetails> = z.object({
  ...loadShape,
  ...historyShape,
  rowsRead: z.number().int(),
  rowsLoaded: z.number().int(),
  rowsRejected: z.number().int().describe('rows quarantined or dropped'),
  rowsQuarantined: z.number().int(),
  rowsDropped: z.number().int(),
  findings: z.array(loadFindingSchema),
  completeness: z.array(fieldCompletenessSchema),
});

const count = controlledCountSchema;

/** A load as a viewer may see it: every count of rows under disclosure control. */
export const controlledLoadSchema: z.ZodType<ControlledLoad> = z.object({
  ...loadShape,
  ...historyShape,
  rowsRead: count,
  rowsLoaded: count,
  rowsRejected: count.describe('rows quarantined or dropped'),
  rowsQuarantined: count,
  rowsDropped: count,
  findings: z.array(
    z.object({
      rule: z.enum(RULE_IDS),
      field: z.string().nullable(),
      count,
      firstLine: z.number().int().nullable(),
      expected: z.number().optional(),
      actual: z.number().optional(),
    }),
  ),
  completeness: z.array(
    z.object({
      field: z.string(),
      filled: count,
      percent: z
        .union([z.number(), z.literal('*')])
        .describe(
          'filled as a share of the rows loaded or quarantined, from the published counts; * where either is suppressed',
        ),
    }),
  ),
  reconciles: z
    .boolean()
    .describe(
      'every row read was loaded, quarantined or dropped, judged on the counts before disclosure control',
    ),
  disclosure: z.enum(DISCLOSURE_POLICY_IDS).describe('the disclosure rule its counts are under'),
});

/** `GET /api/v1/loads`: a page of the history, newest first. */
export const loadPageSchema: z.ZodType<Omit<LoadPage, 'loads'> & { loads: ControlledLoad[] }> = z.object({
  loads: z.array(controlledLoadSchema),
  total: z.number().int().describe('every load the filter matches'),
  next: z.string().nullable().describe('the `before` cursor of the next (older) page; null on the last'),
});
