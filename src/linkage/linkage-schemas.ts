/**
 * What the clerical review API answers and takes (docs/linkage.md), as zod schemas: the
 * OpenAPI document's schemas come from these. Each is typed against its domain interface, so
 * the compiler fails if the two drift apart. No schema has a field for a token or an encoding.
 */
import { z } from 'zod';
import type { PairDecision, PairWaterfall, ReviewPair, ReviewQueue } from './link-review.ts';

const pairId = z
  .string()
  .describe('pr- and 20 hex digits: the same on every run while the record is current');
const probability = z.number().describe('match probability, 0–1');

export const reviewPairSchema: z.ZodType<ReviewPair> = z.object({
  pairId,
  dataset: z.string(),
  org: z.string().describe('the organisation that sent the record (ODS or GSS code)'),
  period: z.string().describe('the month of the file the record came in, YYYY-MM'),
  sourceLine: z.number().int().describe('the record’s line in that file, which its sender can look up'),
  probability,
  weight: z.number().describe('match weight, log2 of the odds'),
  linked: z.boolean().describe('whether the run linked the record to this pair’s person'),
});

/** `GET /api/v1/linkage/review` */
export const reviewQueueSchema: z.ZodType<ReviewQueue> = z.object({
  dataset: z.string(),
  runId: z.string().nullable().describe('the latest kernel link run; null before the first'),
  runStartedAt: z.string().nullable().describe('ISO 8601 date and time'),
  band: z.tuple([z.number(), z.number()]).nullable().describe('the uncertain band of match probability'),
  pairs: z.array(reviewPairSchema).describe('undecided pairs, surest first'),
});

/** `GET /api/v1/linkage/review/:pair` */
export const pairWaterfallSchema: z.ZodType<PairWaterfall> = z.object({
  pair: reviewPairSchema,
  runId: z.string(),
  priorWeight: z.number().describe('log2 of the prior odds of a match'),
  steps: z.array(
    z.object({
      comparison: z.string().describe('the field compared, e.g. family_name'),
      level: z.string().describe('how the two encodings agree, e.g. "Dice ≥ 0.9", or missing'),
      m: z.number().nullable(),
      u: z.number().nullable(),
      weight: z.number().describe('log2(m/u); 0 when a value is missing'),
      termFrequencyAdjustment: z.number(),
      cumulative: z.number().describe('the running total after this step'),
    }),
  ),
  weight: z.number(),
  probability,
  decisions: z.array(z.object({ match: z.boolean(), decidedAt: z.string() })).describe('latest last'),
});

/** `POST /api/v1/linkage/review/:pair` */
export const decideRequestSchema = z.object({
  decision: z.enum(['match', 'non-match']).describe('the record is, or is not, the pair’s person'),
});

export const pairDecisionSchema: z.ZodType<PairDecision> = z.object({
  decisionId: z.string(),
  pairId,
  dataset: z.string(),
  match: z.boolean(),
  modelProbability: probability.describe('the model’s probability when the pair was queued'),
});
