/**
 * The shapes governance operations answer with, as zod schemas: the OpenAPI document's
 * response schemas come from these. Each is typed against its domain interface
 * (`z.ZodType<Organisation>`…), so the compiler fails if the two drift apart, and the route
 * × role test validates every answer the server gives against them.
 */
import { z } from 'zod';
import { AGREEMENT_STATES, type Agreement } from './agreements.ts';
import { PURPOSES } from './governance-values.ts';
import { ONBOARDING_STEPS, type OnboardingStatus, type StepStatus } from './onboarding.ts';
import type { OptOutLoad, OptOutStatus } from './optouts.ts';
import { KERNEL_ROLES, ORG_TYPES, type Organisation } from './organisations.ts';
import type { AccessRecord, PublicSite } from './transparency.ts';
import { USE_CASE_MONTHS, USE_CASE_STATES, type UseCase } from './use-cases.ts';
import type { OptOutImpactRow } from './access-policy.ts';

const timestamp = z.string().describe('ISO 8601 date and time');
const nullableText = z.string().nullable();

export const organisationSchema: z.ZodType<Organisation> = z.object({
  code: z.string().describe('ODS (or GSS) code'),
  codeSystem: z.enum(['ods', 'gss', 'local']),
  codeVerified: z.boolean().describe('the code is confirmed in ODS'),
  codeNote: nullableText,
  name: z.string(),
  type: z.enum(ORG_TYPES),
  kernelRole: z.enum(KERNEL_ROLES),
  population: z.number().int().nullable(),
  incomePence: z.number().int().nullable().describe('annual income in pence'),
  contacts: z.array(z.object({ role: z.string(), name: z.string(), email: z.string() })),
});

const stepIds = ONBOARDING_STEPS.map((s) => s.id) as [StepStatus['id'], ...StepStatus['id'][]];

const stepSchema: z.ZodType<StepStatus> = z.object({
  id: z.enum(stepIds),
  title: z.string(),
  help: z.string(),
  done: z.boolean(),
  by: nullableText,
  at: nullableText,
  note: nullableText,
});

export const onboardingSchema: z.ZodType<OnboardingStatus> = z.object({
  org: z.string(),
  name: z.string(),
  steps: z.array(stepSchema),
  done: z.number().int(),
  total: z.number().int(),
  next: stepSchema.nullable(),
  complete: z.boolean(),
});

export const useCaseSchema: z.ZodType<UseCase> = z.object({
  id: z.string().describe('e.g. UC-001'),
  title: z.string(),
  summary: z.string(),
  sponsor: z.string(),
  purpose: z.enum(PURPOSES),
  legalBasis: z.string(),
  datasets: z.array(z.string()),
  controllers: z.array(z.string()),
  users: z.array(z.string()).describe('user ids, or role:<role>'),
  start: z.string(),
  end: z.string(),
  state: z.enum(USE_CASE_STATES),
  approvals: z.array(z.object({ org: z.string(), by: z.string(), at: timestamp })),
  awaiting: z.array(z.string()).describe('controllers yet to approve'),
  optOutApplies: z.boolean(),
  months: z.enum(USE_CASE_MONTHS),
});

export const agreementSchema: z.ZodType<Agreement> = z.object({
  id: z.string().describe('e.g. DSA-RWF-001'),
  org: z.string(),
  title: z.string(),
  datasets: z.array(z.string()),
  purposes: z.array(z.enum(PURPOSES)),
  from: z.string().describe('first month covered, YYYY-MM'),
  to: z.string().describe('last month covered, YYYY-MM'),
  state: z.enum(AGREEMENT_STATES),
  signedBy: nullableText,
  signedAt: nullableText,
});

export const optOutStatusSchema: z.ZodType<OptOutStatus> = z.object({
  tokens: z.number().int(),
  lastLoad: z
    .object({ batchId: z.string(), loadedAt: timestamp, loadedBy: z.string(), source: z.string() })
    .nullable(),
});

export const optOutLoadSchema: z.ZodType<OptOutLoad> = z.object({
  batchId: z.string(),
  tokens: z.number().int(),
  replaced: z.number().int(),
  loadedAt: timestamp,
});

export const optOutImpactSchema: z.ZodType<OptOutImpactRow> = z.object({
  useCaseId: z.string(),
  title: z.string(),
  purpose: z.string(),
  optOutApplies: z.boolean(),
  datasetId: z.string(),
  org: z.string(),
  records: z.number().int().describe('rows the use case could see without the opt-out'),
  lost: z.number().int().describe('rows it loses to the opt-out'),
});

export const accessRecordSchema: z.ZodType<AccessRecord> = z.object({
  at: timestamp,
  userId: z.string(),
  user: z.string(),
  role: z.string(),
  useCaseId: z.string(),
  useCaseTitle: z.string(),
  purpose: z.string(),
  datasetId: z.string(),
  org: z.string(),
  optOutApplied: z.boolean(),
});

export const publicSiteSchema: z.ZodType<PublicSite> = z.object({
  members: z.array(z.object({ code: z.string(), name: z.string(), type: z.string(), role: z.string() })),
  datasets: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      description: z.string(),
      controllers: z.array(z.string()),
    }),
  ),
  useCases: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      summary: z.string(),
      purpose: z.string(),
      sponsor: z.string(),
      legalBasis: z.string(),
      datasets: z.array(z.string()),
      start: z.string(),
      end: z.string(),
      state: z.string(),
      optOutApplies: z.boolean(),
    }),
  ),
});
