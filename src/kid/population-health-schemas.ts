/**
 * What `GET /api/v1/kid/population-health` answers, as a zod schema typed against the
 * domain's `PopulationHealth`, so the compiler fails if the two drift apart.
 */
import { z } from 'zod';
import {
  controlledCountSchema,
  controlledRateSchema,
  disclosureRuleSchema,
} from '../analytics/disclosure-schemas.ts';
import {
  COST_SETTINGS,
  PANELS,
  SCOPE_KINDS,
  type CostSetting,
  type PopulationHealth,
} from './population-health.ts';

const count = controlledCountSchema;
const mean = z
  .union([z.number(), z.literal('*')])
  .nullable()
  .describe('a mean to one decimal place; * where the group’s count is suppressed; null for nobody');
const pounds = z
  .union([z.number(), z.literal('*')])
  .nullable()
  .describe(
    'pounds per person, to the nearest pound; * where the group’s count is suppressed; null for nobody',
  );
const ageRow = {
  people: count,
  meanConditions: mean.describe('mean number of long-term conditions per person'),
  multimorbidity: controlledRateSchema.describe('people with 2 or more conditions, per cent'),
  complexMultimorbidity: controlledRateSchema.describe('people with 4 or more conditions, per cent'),
};
const panels = Object.keys(PANELS) as [keyof typeof PANELS, ...(keyof typeof PANELS)[]];

export const populationHealthSchema: z.ZodType<PopulationHealth> = z.object({
  day: z.string().describe('YYYY-MM-DD: who was in the population that day'),
  scope: z.object({
    kind: z.enum(SCOPE_KINDS),
    code: z.string().nullable().describe('the practice, PCN or LSOA code; null for the whole system'),
    text: z.string().describe('the scope as the query takes it, e.g. practice:G82001'),
  }),
  rule: disclosureRuleSchema,
  useCase: z.object({ id: z.string(), title: z.string(), purpose: z.string() }),
  optOutApplied: z.boolean().describe('people on the national data opt-out are left out'),
  leftOut: z
    .array(z.object({ panel: z.enum(panels), reason: z.string() }))
    .describe('panels not shown and why: no model built yet, or the use case does not cover their sources'),
  people: count.describe('the population in the scope on the day'),
  pyramid: z
    .array(
      z.object({
        band: z.string().describe("'0-4' … '85-89', '90+'"),
        female: count,
        male: count,
        other: count,
      }),
    )
    .nullable(),
  prevalence: z
    .array(
      z.object({ condition: z.string(), title: z.string(), people: count, percent: controlledRateSchema }),
    )
    .nullable(),
  byAge: z.array(z.object({ band: z.string().describe('e.g. 18-39, 85+, unknown'), ...ageRow })).nullable(),
  byImdDecile: z
    .array(z.object({ decile: z.string().describe('1 (most deprived) to 10, or unknown'), ...ageRow }))
    .nullable(),
  byAgeAndQuintile: z
    .array(z.object({ band: z.string(), quintile: z.string().describe('1 (most deprived) to 5'), ...ageRow }))
    .nullable(),
  frailty: z
    .object({
      asOf: z.string().describe('the person-level model’s date'),
      people: count.describe('people aged 65 or over with an eFI category'),
      categories: z.array(
        z.object({
          category: z.string().describe('fit, mild, moderate or severe (eFI)'),
          people: count,
          percent: controlledRateSchema,
        }),
      ),
    })
    .nullable(),
  costs: z
    .object({
      asOf: z.string().describe('the person-level model’s date; costs over the 12 months ending it'),
      settings: z.array(z.enum(COST_SETTINGS)),
      segments: z.array(
        z.object({
          segment: z.string().describe('Bridges to Health segment'),
          people: count,
          perPerson: z.record(z.enum(COST_SETTINGS), pounds) as z.ZodType<
            Record<CostSetting, number | '*' | null>
          >,
          total: pounds,
        }),
      ),
    })
    .nullable(),
});
