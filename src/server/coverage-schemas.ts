/**
 * The coverage grid (`coverage-grid.ts`) as `GET /api/v1/coverage` answers it, as a zod
 * schema typed against the grid's interfaces. It sits beside the grid, here in the server,
 * because the grid is the catalogue page's read model, built from the load history.
 */
import { z } from 'zod';
import { controlledCountSchema } from '../analytics/disclosure-schemas.ts';
import { CELL_STATES, type CoverageCell, type CoverageGrid } from './coverage-grid.ts';

const cellSchema: z.ZodType<CoverageCell> = z.object({
  period: z.string().describe('YYYY-MM'),
  state: z
    .enum(CELL_STATES)
    .describe(
      'the month’s load, or gap; late or expected for a scheduled month with nothing loaded (after or before its due day)',
    ),
  rows: controlledCountSchema.describe('rows loaded'),
  loadId: z.string().nullable(),
  signOff: z
    .enum(['signed-off', 'published'])
    .optional()
    .describe('where a loaded month stands in sign-off, once signed off'),
});

export const coverageGridSchema: z.ZodType<CoverageGrid> = z.object({
  months: z.array(z.string().describe('YYYY-MM')),
  datasets: z.array(
    z.object({
      dataset: z.string(),
      rows: z.array(z.object({ org: z.string().describe('ODS code'), cells: z.array(cellSchema) })),
    }),
  ),
});
