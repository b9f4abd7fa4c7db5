/**
 * What the maternity dashboard's API answers, and what its chart settings take and answer,
 * as zod schemas: the OpenAPI document's schemas come from these. Each is typed against its
 * domain interface, so the compiler fails if the two drift apart.
 *
 * The dashboard is described to its leaves: a measure's series, each point, its SPC figures
 * and its funnel plot.
 */
import { z } from 'zod';
import { yearMonth } from '../operations/fields.ts';
import { PURPOSES } from '../governance/governance-values.ts';
import { USE_CASE_MONTHS } from '../governance/use-cases.ts';
import type { ChartRebase, ChartSettings, ChartTarget } from './chart-settings.ts';
import { RATE_UNITS } from './disclosure-control.ts';
import { controlledCountSchema } from './disclosure-schemas.ts';
import { FUNNEL_BANDS } from './funnel.ts';
import type {
  FunnelProvider,
  MaternityDashboard,
  MaternityMeasureResult,
  MaternityPoint,
  MaternitySeries,
} from './maternity-dashboard.ts';
import type { MaternityMeasure } from './maternity-measures.ts';
import { ASSURANCE_ICONS, POLARITIES, SPECIAL_CAUSE_RULES, VARIATION_ICONS } from './spc.ts';

const timestamp = z.string().describe('ISO 8601 date and time');
const month = z.string().describe('YYYY-MM');
const figure = z.number().nullable();
/** A rate or count as published: `*` where disclosure control suppresses it. */
const published = z.union([z.number(), z.literal('*')]).nullable();
const meaning = z.enum(['improvement', 'concern', 'neither']).nullable();
const chartKind = z.enum(['xmr', 'funnel']);

// ---------------------------------------------------------------- chart settings

export const chartRebaseSchema: z.ZodType<ChartRebase> = z.object({
  chart: z.string().describe('dashboard/measure, e.g. maternity/robson-1'),
  scope: z.string().describe('all, or the ODS code of the one provider it applies to'),
  period: month.describe('the first month of the new period, YYYY-MM'),
  reason: z.string(),
  recordedBy: z.string().describe('the audit actor'),
  recordedAt: timestamp,
});

export const chartTargetSchema: z.ZodType<ChartTarget> = z.object({
  chart: z.string().describe('dashboard/measure, e.g. maternity/booking-by-10-weeks'),
  scope: z.string().describe('all, or the ODS code of the one provider it applies to'),
  target: z.number().describe('in the measure’s own unit, e.g. 25 for 25%'),
  reason: z.string(),
  setBy: z.string().describe('the audit actor'),
  setAt: timestamp,
});

/** `GET /api/v1/charts`: the charts, with the rebases and targets recorded for them. */
export const chartListSchema: z.ZodType<
  ChartSettings & { charts: { chart: string; title: string; kind: MaternityMeasure['chart'] }[] }
> = z.object({
  charts: z.array(z.object({ chart: z.string(), title: z.string(), kind: chartKind })),
  rebases: z.array(chartRebaseSchema),
  targets: z.array(chartTargetSchema),
});

const chartField = z
  .string()
  .describe('dashboard/measure, e.g. maternity/robson-1 (GET /api/v1/charts lists them)');
const scopeField = z
  .string()
  .optional()
  .describe('all (the default: the whole system and every provider), or one provider’s ODS code');
const reasonField = z.string().describe('why, in 5 to 500 characters: it is shown beside the chart');

/** `POST /api/v1/charts/rebases` */
export const rebaseRequestSchema = z.object({
  chart: chartField,
  from: yearMonth('the first month of the new period, YYYY-MM'),
  reason: reasonField,
  scope: scopeField,
});

/** `POST /api/v1/charts/targets` */
export const targetRequestSchema = z.object({
  chart: chartField,
  target: z
    .union([z.number(), z.string()], { error: 'Give the target as a number, or null to clear it' })
    .nullable()
    .describe(
      'in the measure’s own unit (25 for 25%; numeric text is read as its number), or null to clear it',
    ),
  reason: reasonField,
  scope: scopeField,
});

/** `POST /api/v1/charts/targets` answers the target set, or null when it was cleared. */
export const targetAnswerSchema = z.object({ target: chartTargetSchema.nullable() });

// ---------------------------------------------------------------- the dashboard

const pointSchema: z.ZodType<MaternityPoint> = z.object({
  month,
  numerator: controlledCountSchema
    .nullable()
    .describe('null where nothing was submitted: a gap, never a zero'),
  denominator: controlledCountSchema.nullable(),
  value: published.describe('the rate (or count) from the published numerator and denominator'),
  rules: z.array(z.enum(SPECIAL_CAUSE_RULES)).describe('the special-cause rules this point is part of'),
  meaning,
});

const seriesSchema: z.ZodType<MaternitySeries> = z.object({
  org: z.string().nullable().describe('ODS code, or null for the whole system'),
  label: z.string(),
  controlled: z.boolean().describe('disclosure control was applied to this series'),
  points: z.array(pointSchema),
  spc: z.object({
    mean: figure,
    upperProcessLimit: figure,
    lowerProcessLimit: figure,
    meanMovingRange: figure,
    icon: z.enum(VARIATION_ICONS).describe('the NHS "Making Data Count" variation icon'),
    iconText: z.string(),
    shiftLength: z.number().int(),
    trendLength: z.number().int(),
    fewPoints: z.boolean().describe('fewer than the 15 points the limits should rest on'),
    segments: z
      .array(
        z.object({
          from: month,
          to: month,
          mean: figure,
          upperProcessLimit: figure,
          lowerProcessLimit: figure,
        }),
      )
      .describe('the periods of a rebased chart, each with its own mean and limits'),
    rebases: z.array(z.object({ month, reason: z.string() })),
    target: figure.describe('the target this series is held to, if any'),
    assurance: z.enum(ASSURANCE_ICONS),
    assuranceText: z.string(),
  }),
  dataQuality: z
    .array(z.object({ month, value: published }))
    .describe('per month, the per cent of records that carry every field the measure needs'),
});

const funnelProviderSchema: z.ZodType<FunnelProvider> = z.object({
  org: z.string(),
  numerator: controlledCountSchema,
  denominator: controlledCountSchema,
  value: published.describe('* when suppressed, null with no denominator: neither is drawn'),
  band: z.enum(FUNNEL_BANDS).nullable().describe('where it falls against the limits; null when not drawn'),
  meaning,
});

const measureSchema: z.ZodType<MaternityMeasureResult> = z.object({
  id: z.string(),
  nationalId: z.string().nullable().describe('NHS England’s measure id, where there is one'),
  title: z.string(),
  unit: z.enum(RATE_UNITS),
  windowMonths: z.number().int().describe('months counted in each point'),
  polarity: z.enum(POLARITIES),
  counts: z.enum(['mothers', 'babies']),
  numerator: z.string(),
  denominator: z.string(),
  definition: z.string().describe('where the definition comes from'),
  fields: z.array(z.string()).describe('the MSDS fields it reads'),
  caveats: z.array(z.string()),
  chart: chartKind.describe('a monthly XmR chart, or (rare events) a funnel plot of providers'),
  chartReason: z.string().nullable().describe('why a funnel plot; null for XmR'),
  dataQuality: z.object({ numerator: z.string(), denominator: z.string() }),
  funnel: z
    .object({
      target: figure.describe('the pooled rate'),
      providers: z.array(funnelProviderSchema),
      curve: z
        .array(
          z.object({
            denominator: z.number(),
            lower95: z.number(),
            upper95: z.number(),
            lower998: z.number(),
            upper998: z.number(),
          }),
        )
        .describe('the 95% and 99.8% limits at volumes from 1 to past the largest'),
    })
    .nullable()
    .describe('for a funnel measure viewed for the whole system; null otherwise'),
  series: seriesSchema.describe('the chosen scope: the provider asked for, or the whole system'),
  providers: z.array(seriesSchema).describe('for the whole system, each provider’s series too'),
});

/** `GET /api/v1/dashboards/maternity` */
export const maternityDashboardSchema: z.ZodType<MaternityDashboard> = z.object({
  scope: z.object({ org: z.string().nullable(), label: z.string() }),
  from: month,
  to: month,
  months: z.array(month),
  useCase: z.object({
    id: z.string(),
    title: z.string(),
    purpose: z.enum(PURPOSES),
    months: z.enum(USE_CASE_MONTHS).describe('whether it reads published months only, or every loaded month'),
  }),
  controllers: z.array(z.string()).describe('organisations whose data the figures hold'),
  optOutApplied: z.boolean().describe('the national data opt-out was applied'),
  disclosure: z.object({
    policy: z.string(),
    threshold: z.number().int().nullable(),
    base: z.number().int().nullable(),
    text: z.string(),
  }),
  dataVersion: z.string(),
  cached: z.boolean(),
  measures: z.array(measureSchema),
});
