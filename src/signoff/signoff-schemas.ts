/**
 * Sign-off in the API, as zod schemas: a month and where it stands, its sign-off pack, and
 * the body a decision takes. Typed against the domain's interfaces, so the compiler fails
 * if the two drift apart.
 */
import { z } from 'zod';
import { spcResultSchema } from '../analytics/spc-schemas.ts';
import { loadDetailsSchema } from '../ingest/load-schemas.ts';
import { catalogueResultsSchema } from '../quality/quality-schemas.ts';
import { PACK_CHECK_STATUSES, type SignOffPack } from './sign-off-pack.ts';
import { SIGNOFF_STATES, type SignOffMonth } from './sign-off.ts';

const timestamp = z.string().describe('ISO 8601 date and time');

export const signOffMonthSchema: z.ZodType<SignOffMonth> = z.object({
  org: z.string().describe('the sending organisation’s ODS code'),
  dataset: z.string(),
  period: z.string().describe('YYYY-MM'),
  loadId: z.string().describe('the load that stands for the month, which the state is about'),
  loadedAt: z.string().describe('ISO 8601 date and time the load finished'),
  state: z.enum(SIGNOFF_STATES),
  changedAt: timestamp.nullable(),
  changedBy: z.string().nullable().describe('the audit actor of the last decision'),
  note: z.string().nullable().describe('the decision’s note: for a rejection, the reasons the sender reads'),
});

/** `GET /api/v1/signoff` */
export const signOffListSchema = z.object({ months: z.array(signOffMonthSchema) });

/** `GET /api/v1/signoff/{org}/{dataset}/{period}` */
export const signOffPackSchema: z.ZodType<SignOffPack> = z.object({
  month: signOffMonthSchema,
  load: loadDetailsSchema,
  checks: z
    .array(
      z.object({
        id: z.string(),
        status: z.enum(PACK_CHECK_STATUSES),
        title: z.string(),
        detail: z.string(),
      }),
    )
    .describe('failing first, then warnings, then passes'),
  volume: z
    .object({
      months: z.array(z.string()),
      values: z.array(z.number().int().nullable()).describe('rows loaded each month; null where none'),
      spc: spcResultSchema,
    })
    .describe('the month’s volume against the feed’s history, as an XmR chart'),
  completeness: z.array(
    z.object({
      field: z.string(),
      percent: z.number(),
      previous: z.number().nullable().describe('the month before’s, where there was one'),
    }),
  ),
  history: z
    .array(
      z.object({
        loadId: z.string(),
        state: z.enum(SIGNOFF_STATES),
        at: timestamp,
        by: z.string(),
        note: z.string().nullable(),
      }),
    )
    .describe('the month’s decisions, oldest first, across its loads'),
  catalogue: catalogueResultsSchema.describe('the check catalogue’s results for the month'),
  sample: z
    .object({
      columns: z.array(z.string()),
      rows: z.array(z.array(z.union([z.string(), z.number(), z.boolean()]).nullable())),
    })
    .nullable()
    .describe('a few random rows, without tokens: for the sending organisation’s own people only'),
  mayDecide: z.boolean().describe('the caller may sign it off or reject it'),
  mayPublish: z.boolean(),
});

/** The body of `POST /api/v1/signoff/{org}/{dataset}/{period}/sign-off|reject|publish`. */
export const decisionRequestSchema = z.object({
  note: z
    .string()
    .optional()
    .describe('up to 2,000 characters; a rejection needs one: the reasons the sender reads to fix the file'),
  loadId: z
    .string()
    .optional()
    .describe('the load you checked: if a newer one has landed since, the decision is refused'),
});
