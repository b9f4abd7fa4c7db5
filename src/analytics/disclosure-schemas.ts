/**
 * Counts and rates as published under disclosure control (disclosure-control.ts), as zod
 * schemas: every API answer that carries counts of patients' records uses these, so the
 * OpenAPI document says once that a count may be `*`.
 */
import { z } from 'zod';
import type { ControlledCount, ControlledRate } from './disclosure-control.ts';

export const controlledCountSchema: z.ZodType<ControlledCount> = z
  .union([z.number().int(), z.literal('*')])
  .describe('a count, or * where disclosure control suppresses it (1 to 7)');

export const controlledRateSchema: z.ZodType<ControlledRate> = z.object({
  numerator: controlledCountSchema,
  denominator: controlledCountSchema,
  value: z
    .union([z.number(), z.literal('*')])
    .nullable()
    .describe('the rate from the published counts; * if either is suppressed; null without a denominator'),
  decimals: z.number().int().describe('decimal places the value carries'),
});

/** The disclosure rule an answer applied, as its readers are shown it. */
export const disclosureRuleSchema = z.string().describe('the disclosure rule applied, in plain English');
