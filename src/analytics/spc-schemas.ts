/**
 * An XmR chart's result (spc.ts) as a zod schema, for the API answers that carry one: the
 * sign-off pack's volume and completeness charts.
 */
import { z } from 'zod';
import {
  SPECIAL_CAUSE_RULES,
  VARIATION_ICONS,
  type SpcPoint,
  type SpcResult,
  type SpcSegment,
} from './spc.ts';

const limit = z.number().nullable();

export const spcPointSchema: z.ZodType<SpcPoint> = z.object({
  value: z.number().nullable().describe('null where there is no value (no data, or suppressed)'),
  rules: z.array(z.enum(SPECIAL_CAUSE_RULES)).describe('the special-cause rules this point is part of'),
  direction: z.enum(['high', 'low']).nullable(),
  meaning: z.enum(['improvement', 'concern', 'neither']).nullable().describe('null for common cause'),
});

const spcSegmentSchema: z.ZodType<SpcSegment> = z.object({
  start: z.number().int().describe('index of its first point'),
  end: z.number().int().describe('index of its last point (inclusive)'),
  mean: limit,
  meanMovingRange: limit,
  upperProcessLimit: limit,
  lowerProcessLimit: limit,
});

export const spcResultSchema: z.ZodType<SpcResult> = z.object({
  mean: limit,
  meanMovingRange: limit,
  upperProcessLimit: limit,
  lowerProcessLimit: limit,
  upperTwoSigma: limit,
  lowerTwoSigma: limit,
  movingRanges: z.array(z.number().nullable()).describe('null for the first point and after a gap'),
  points: z.array(spcPointSchema),
  icon: z.enum(VARIATION_ICONS).describe('the NHS "Making Data Count" variation icon of the latest point'),
  shiftLength: z.number().int(),
  trendLength: z.number().int(),
  fewPoints: z.boolean().describe('fewer than the 15 points the limits should rest on'),
  segments: z.array(spcSegmentSchema).describe('one per period of a rebased chart; the last is current'),
});
