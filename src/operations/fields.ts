/**
 * Field schemas that many operations share, so a date or an organisation code is checked
 * (and described in the OpenAPI document) the same way everywhere.
 */
import { z } from 'zod';

/** A required piece of text: blank counts as missing. */
export const requiredText = (description: string) => z.string().trim().min(1).describe(description);

export const optionalText = (description: string) => z.string().trim().optional().describe(description);

/** An ODS code (or a GSS code for a council): letters and digits, upper-cased. */
export const orgCode = (description = 'ODS (or GSS) code, e.g. RWF') =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{3,9}$/, 'must be an ODS or GSS code, e.g. RWF')
    .describe(description);

export const isoDate = (description: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
    .describe(description);

export const yearMonth = (description: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}$/, 'must be a month, YYYY-MM')
    .describe(description);

/** Names of things: datasets, controllers, users. */
export const textList = (description: string) => z.array(z.string().trim().min(1)).describe(description);

export const useCaseId = z.string().trim().min(1).describe('use case id, e.g. UC-001');
