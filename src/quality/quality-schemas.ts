/**
 * What a load found and what the check catalogue decided, as zod schemas, for the API
 * answers that carry them (a load's report, a sign-off pack). Typed against the domain's
 * interfaces, so the compiler fails if the two drift apart.
 */
import { z } from 'zod';
import { spcResultSchema } from '../analytics/spc-schemas.ts';
import { CHECK_CATEGORIES, CHECK_KINDS, CHECK_STATUSES, type CheckResult } from './check-catalogue.ts';
import type { CatalogueResults } from './check-results.ts';
import type { FieldCompleteness, LoadFinding } from './load-findings.ts';
import { RULE_IDS } from './row-rules.ts';

export const loadFindingSchema: z.ZodType<LoadFinding> = z.object({
  rule: z.enum(RULE_IDS),
  field: z.string().nullable(),
  count: z.number().int().describe('rows with the problem'),
  firstLine: z.number().int().nullable().describe('the first line of the sender’s extract with it'),
  expected: z.number().optional().describe('for a control total: the sender’s own figure'),
  actual: z.number().optional().describe('for a control total: the load’s'),
});

export const fieldCompletenessSchema: z.ZodType<FieldCompleteness> = z.object({
  field: z.string(),
  filled: z.number().int(),
  percent: z.number().describe('filled ÷ rows kept, per cent, one decimal place'),
});

const checkResultSchema: z.ZodType<CheckResult> = z.object({
  id: z.string().describe('<dataset>/<kind>/<field or rule>'),
  kind: z.enum(CHECK_KINDS),
  category: z.enum(CHECK_CATEGORIES),
  field: z.string().nullable(),
  title: z.string(),
  status: z.enum(CHECK_STATUSES),
  value: z.number().nullable().describe('the figure the status was decided on; its unit is in detail'),
  detail: z.string(),
});

export const catalogueResultsSchema: z.ZodType<CatalogueResults> = z.object({
  counts: z.record(z.enum(CHECK_STATUSES), z.number().int()).describe('checks by status'),
  results: z.array(checkResultSchema).describe('failing first, then warnings, passes and not applicable'),
  compared: z
    .object({ previous: z.string().nullable(), sameMonthLastYear: z.string().nullable() })
    .describe('the months compared with'),
  rates: z
    .array(
      z.object({
        field: z.string(),
        months: z.array(z.string()),
        values: z.array(z.number()),
        spc: spcResultSchema,
      }),
    )
    .describe(
      'completeness month by month, with its XmR chart, for fields whose completeness over time is flagged',
    ),
});
