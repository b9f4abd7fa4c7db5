/**
 * The audit log in the API, as zod schemas: its events, a page of them, and the verdict of
 * walking the hash chain. Typed against the domain's interfaces, so the compiler fails if
 * the two drift apart.
 */
import { z } from 'zod';
import type { AuditEvent, AuditVerdict } from './audit-log.ts';
import type { AuditPage } from './audit-scope.ts';

const hash = z.string().describe('SHA-256, hex');

export const auditEventSchema: z.ZodType<AuditEvent> = z.object({
  seq: z.number().int().describe('its place in the chain, from 1'),
  at: z.string().describe('ISO 8601 date and time'),
  actor: z.string().describe('cli:<os user>, user:<email>, token:<id> or system'),
  action: z.string().describe('dotted, e.g. load.completed, usecase.approved'),
  target: z.string().describe('e.g. a load id, org:RWF, dataset:apc'),
  purpose: z.string().nullable().describe('the use case or purpose it was under, where one applies'),
  details: z
    .string()
    .describe('a JSON object of counts, ids and states, as text (it is what the hash covers)'),
  prevHash: hash.describe('the previous event’s hash (64 zeros for the first)'),
  hash: hash.describe('SHA-256 of the event’s fields and prevHash'),
});

/** `GET /api/v1/audit` */
export const auditPageSchema: z.ZodType<AuditPage> = z.object({
  events: z.array(auditEventSchema).describe('newest first'),
  total: z.number().int().describe('every event the filter matches that the reader may see'),
  next: z.number().int().nullable().describe('the `before` of the next (older) page; null on the last'),
});

/** `GET /api/v1/audit/verify` */
export const auditVerdictSchema: z.ZodType<AuditVerdict> = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    count: z.number().int(),
    head: hash.describe('the last event’s hash'),
  }),
  z.object({
    ok: z.literal(false),
    count: z.number().int(),
    brokenAt: z.number().int().describe('the first broken event'),
    reason: z.string().describe('e.g. event 12 has been altered'),
  }),
]);
