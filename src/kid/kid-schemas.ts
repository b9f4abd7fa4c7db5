/**
 * What the Kent Integrated Dataset's API answers, as zod schemas: the linkage report and the
 * long-term conditions summary. Each is typed against its domain interface, so the compiler
 * fails if the two drift apart.
 */
import { z } from 'zod';
import {
  controlledCountSchema,
  controlledRateSchema,
  disclosureRuleSchema,
} from '../analytics/disclosure-schemas.ts';
import type { ControlledConditionSummary } from './conditions.ts';
import type { ControlledFrailtySummary } from './frailty.ts';
import type { ControlledLinkageRow } from './linkage-report.ts';
import { COST_SETTINGS, SEGMENTS, type ControlledModelSummary } from './person-model.ts';
import type { SpineStatus } from './person-spine.ts';
import type { ControlledRiskModel } from './risk.ts';

const count = controlledCountSchema;

export const spineStatusSchema: z.ZodType<SpineStatus> = z.object({
  version: z
    .number()
    .int()
    .nullable()
    .describe('the current build of the person spine; null before the first'),
  builtAt: z.string().nullable().describe('ISO 8601 date and time'),
  people: z.number().int(),
  pmiRows: z.number().int(),
  stale: z
    .boolean()
    .describe('loads have landed, or the model’s date has moved, since the current version was built'),
  disagreements: z
    .record(z.string(), z.number().int())
    .describe('per spine field, people whose sources disagree on it'),
  modelDate: z
    .object({
      asOf: z.string().nullable().describe('YYYY-MM-DD: the model’s date a build made now would give'),
      latestMonth: z.string().nullable().describe('YYYY-MM: the latest month of GP events loaded'),
      waitingFor: z
        .array(
          z.object({
            org: z.string().describe('ODS code'),
            dataset: z.string(),
            period: z.string().describe('YYYY-MM'),
            dueOn: z.string().describe('YYYY-MM-DD: the feed schedule’s due day'),
          }),
        )
        .describe(
          'the scheduled feeds of the model’s inputs not yet received and not yet due for the first month up to latestMonth that has any: the model stays on the month before it. A provider is shown its own organisation’s only',
        ),
      feedsWaiting: z.number().int().describe('how many feeds hold the date back, whoever sends them'),
      lastDueOn: z.string().nullable().describe('YYYY-MM-DD: the last of their due days'),
    })
    .describe('the model’s date, held back while a month’s scheduled feeds are still coming in'),
});

export const linkageRowSchema: z.ZodType<ControlledLinkageRow> = z.object({
  dataset: z.string(),
  org: z.string(),
  month: z.string().describe('YYYY-MM of activity, or unknown'),
  rows: count,
  withToken: count,
  onSpine: count,
  matched: count.describe('rows on the spine whose person was registered on the activity date'),
  matchRate: z
    .union([z.number(), z.literal('*')])
    .describe('matched ÷ rows, 0–1, from the published counts; * where either is suppressed'),
  unmatched: z.object({
    noToken: count.describe('the sender had no NHS number'),
    notOnSpine: count.describe('no member’s PMI holds the person'),
    notRegistered: count.describe('not registered with a Kent and Medway practice on the day'),
  }),
  linkedProbabilistically: count.describe(
    'of the rows with no token, those the latest kernel link run linked to a person on the spine',
  ),
});

/** `GET /api/v1/kid/linkage` */
export const linkageAnswerSchema = z.object({
  status: spineStatusSchema,
  rows: z.array(linkageRowSchema),
});

const breakdown = { people: count, multimorbidity: controlledRateSchema.describe('people with 2 or more') };

/** `GET /api/v1/kid/conditions` */
export const conditionSummarySchema: z.ZodType<ControlledConditionSummary> = z.object({
  day: z.string().describe('YYYY-MM-DD'),
  rule: disclosureRuleSchema,
  people: count.describe('the population on the day'),
  prevalence: z.array(
    z.object({
      condition: z.string(),
      title: z.string(),
      people: count,
      percent: controlledRateSchema,
    }),
  ),
  byCount: z.array(
    z.object({
      conditions: z.string().describe("number of conditions: '0' to '3', or '4+'"),
      people: count,
      percent: controlledRateSchema,
    }),
  ),
  multimorbidity: controlledRateSchema.describe('people with 2 or more conditions'),
  complexMultimorbidity: controlledRateSchema.describe('people with 4 or more conditions'),
  byAgeBand: z.array(z.object({ band: z.string().describe('e.g. 18-39, 85+, unknown'), ...breakdown })),
  byImdDecile: z.array(
    z.object({ decile: z.string().describe('1 (most deprived) to 10, or unknown'), ...breakdown }),
  ),
});

const efiCategory = z.enum(['fit', 'mild', 'moderate', 'severe']);
const byCategory = z.array(
  z.object({
    category: efiCategory,
    people: count,
    percent: controlledRateSchema.describe('of the people aged 65+'),
  }),
);

/** `GET /api/v1/kid/frailty` */
export const frailtySummarySchema: z.ZodType<ControlledFrailtySummary> = z.object({
  day: z
    .string()
    .nullable()
    .describe('the model’s date the eFI was scored on, YYYY-MM-DD; null before any gp-events'),
  rule: disclosureRuleSchema,
  people: count.describe('people aged 65+ in the population on the day'),
  byCategory: byCategory.describe(
    'electronic Frailty Index category: fit ≤ 0.12, mild ≤ 0.24, moderate ≤ 0.36, severe',
  ),
  byAgeBand: z.array(
    z.object({ band: z.string().describe('65-74, 75-84 or 85+'), people: count, byCategory }),
  ),
  deficits: z.array(
    z.object({
      deficit: z.string(),
      number: z.number().int().describe('the deficit’s number in Clegg et al. 2016, 1–36'),
      title: z.string(),
      people: count,
      percent: controlledRateSchema,
    }),
  ),
});
const costs = <T extends z.ZodTypeAny>(value: T) =>
  z.object(
    Object.fromEntries(COST_SETTINGS.map((s) => [s, value])) as Record<(typeof COST_SETTINGS)[number], T>,
  );
const pounds = z.number().describe('pounds, whole');
const nullableActivity = count.nullable();

/** `GET /api/v1/kid/model` */
export const modelSummarySchema: z.ZodType<ControlledModelSummary> = z.object({
  asOf: z
    .string()
    .nullable()
    .describe('the model’s date, YYYY-MM-DD: its 12 months end here; null before a build'),
  rule: disclosureRuleSchema,
  people: count.describe(
    'people in the model (the population on its date, and those who died in its 12 months)',
  ),
  died: count.describe('people who died in the 12 months'),
  bySegment: z.array(
    z.object({
      segment: z.enum(SEGMENTS.map((s) => s.id) as [SegmentIdTuple[0], ...SegmentIdTuple]),
      title: z.string(),
      people: count,
      percent: controlledRateSchema,
      cost: costs(z.union([pounds, z.literal('*')]).nullable()).describe(
        'per setting; null where the setting has no dataset, * where the segment’s count is suppressed',
      ),
      costTotal: z.union([pounds, z.literal('*')]),
      costPerPerson: z.union([pounds, z.literal('*')]).nullable(),
    }),
  ),
  cost: costs(pounds.nullable()).describe('per setting over everyone; null where the setting has no dataset'),
  costTotal: pounds,
  activity: z
    .object({
      ae_attendances: nullableActivity,
      emergency_admissions: nullableActivity,
      elective_admissions: nullableActivity,
      bed_days: nullableActivity,
      op_attendances: nullableActivity,
      op_dnas: nullableActivity,
      community_contacts: nullableActivity,
      mh_contacts: nullableActivity,
      fire_visits: nullableActivity,
      asc_weeks: nullableActivity,
    })
    .describe(
      'totals over everyone in the 12 months (social care in whole weeks), disclosure-controlled; null where the dataset was never loaded',
    ),
});
type SegmentIdTuple = (typeof SEGMENTS)[number]['id'][];

const auroc = z
  .number()
  .nullable()
  .describe('area under the ROC curve, 0.5 (chance) to 1; null without people with and without the outcome');

/** `GET /api/v1/kid/risk` */
export const riskModelSchema: z.ZodType<ControlledRiskModel> = z.object({
  version: z.number().int().describe('the build version the model belongs to'),
  asOf: z.string().describe('YYYY-MM-DD: the model\u2019s date, on which everyone is scored'),
  fittedOn: z
    .string()
    .describe('YYYY-MM-DD: twelve months before; features on it, outcome in the year after'),
  fittedAt: z.string().describe('ISO 8601 date and time'),
  fittedInVersion: z.number().int().describe('the build version that fitted it (earlier when reused)'),
  reason: z.string().describe('why it was fitted: no stored model, inputs changed, or asked'),
  ridge: z.number().describe('the ridge penalty on every coefficient but the intercept'),
  iterations: z.number().int(),
  rule: disclosureRuleSchema,
  fitting: z
    .object({ people: count, events: count, auroc })
    .describe('the three quarters of people the model was fitted on'),
  heldOut: z
    .object({ people: count, events: count, auroc })
    .describe('the quarter held out of the fit (by a hash of the token) to judge it'),
  scored: count.describe('people scored on the model\u2019s date'),
  terms: z.array(
    z.object({
      term: z.string().describe('e.g. intercept, age:85+, conditions, emergency-admissions'),
      description: z.string(),
      coefficient: z.number().describe('on the log-odds scale'),
      standardError: z.number(),
      oddsRatio: z.number().describe('e to the coefficient'),
      people: count.describe('people in the fitting data for whom the term is not 0'),
    }),
  ),
  calibration: z
    .array(
      z.object({
        decile: z.number().int().describe('1 (lowest predicted risk) to 10'),
        people: count,
        predicted: z.number().describe('mean predicted risk, percent'),
        observed: controlledRateSchema.describe(
          'people with an emergency admission in the year after, percent',
        ),
      }),
    )
    .describe('among the held-out people'),
});
