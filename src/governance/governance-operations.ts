/**
 * Governance as operations: the organisation register, agreements, use cases, opt-outs and
 * transparency. Each is declared once here; `kernel orgs|agreements|usecases|optouts …` and
 * `/api/v1/…` are generated from these declarations (see src/operations/operation.ts).
 *
 * Own-organisation rules live here, not in an entry point: an IG lead approves, reads the
 * transparency record and sees opt-out impact for their own organisation only, whether
 * they come through the portal, the API or the CLI with their token.
 */
import { z } from 'zod';
import { KernelError } from '../errors.ts';
import {
  isoDate,
  optionalText,
  orgCode,
  requiredText,
  textList,
  useCaseId,
  yearMonth,
} from '../operations/fields.ts';
import { givenFields, operationsOf, type AnyOperation } from '../operations/operation.ts';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from '../operations/list-table.ts';
import { optOutImpact, type OptOutImpactRow } from './access-policy.ts';
import {
  AGREEMENT_STATES,
  assertAgreementInForce,
  createAgreement,
  listAgreements,
  setAgreementState,
  type Agreement,
} from './agreements.ts';
import { controllerScope } from './controller-scope.ts';
import { formatPounds, parseOrgCode, parsePounds, PURPOSES } from './governance-values.ts';
import {
  accessRecordSchema,
  agreementSchema,
  onboardingSchema,
  optOutImpactSchema,
  optOutLoadSchema,
  optOutStatusSchema,
  organisationSchema,
  publicSiteSchema,
  useCaseSchema,
} from './governance-schemas.ts';
import { completeStep, onboardingOverview, onboardingStatus, type OnboardingStatus } from './onboarding.ts';
import { loadOptOutTokens, optOutStatus } from './optouts.ts';
import {
  getOrganisation,
  KERNEL_ROLES,
  listOrganisations,
  ORG_TYPES,
  registerOrganisation,
  seedOrganisations,
  type Organisation,
} from './organisations.ts';
import { accessesOf, publicSite, workspaceQueriesOver } from './transparency.ts';
import {
  activateUseCase,
  approveUseCase,
  closeUseCase,
  getUseCase,
  listUseCases,
  proposeUseCase,
  setUseCaseUsers,
  USE_CASE_MONTHS,
  USE_CASE_STATES,
  type UseCase,
} from './use-cases.ts';

const ADMIN = ['admin'] as const;
/**
 * Governance operations, these and the funding ones (funding-operations.ts), share their
 * OpenAPI tag and are the administrators’ unless one says otherwise.
 */
export const governanceOperation = operationsOf({ tag: 'governance', access: ADMIN });
const ADMIN_IG = ['admin', 'ig-lead'] as const;

// ---------------------------------------------------------------- printing, for the CLI

export function onboardingLines(status: OnboardingStatus): string {
  const lines = [`Onboarding ${status.name} (${status.org}): ${status.done} of ${status.total} steps done`];
  for (const step of status.steps) {
    const mark = step.done ? '[x]' : '[ ]';
    const who = step.done
      ? ` — ${step.by ?? ''}, ${step.at?.slice(0, 10) ?? ''}`
      : status.next?.id === step.id
        ? '  ← next'
        : '';
    lines.push(`  ${mark} ${step.title}${who}`);
  }
  return lines.join('\n');
}

function useCaseDetail(u: UseCase): string {
  return formatTable(
    ['field', 'value'],
    [
      ['id', u.id],
      ['title', u.title],
      ['state', u.state],
      ['purpose', `${u.purpose} (national data opt-out ${u.optOutApplies ? 'applies' : 'does not apply'})`],
      ['legal basis', u.legalBasis],
      ['sponsor', u.sponsor],
      ['datasets', u.datasets.join(', ')],
      ['controllers', u.controllers.join(', ')],
      ['users', u.users.join(', ')],
      ['dates', `${u.start} to ${u.end}`],
      [
        'months read',
        u.months === 'published' ? 'published (signed off and published)' : 'every month loaded',
      ],
      ['approved by', u.approvals.map((a) => `${a.org} (${a.by}, ${a.at.slice(0, 10)})`).join('; ')],
      ['awaiting', u.awaiting.join(', ')],
    ],
  );
}

// ---------------------------------------------------------------- public site

export const publicSiteOperation = governanceOperation({
  name: 'public.site',
  summary: 'The public transparency record: members, datasets held, approved use cases',
  access: 'public',
  input: z.object({}),
  output: publicSiteSchema,
  http: { method: 'GET', path: '/api/v1/public' },
  run: ({ store }) => publicSite(store),
});

// ---------------------------------------------------------------- organisations

export const listOrganisationsOperation = governanceOperation({
  name: 'organisations.list',
  summary: 'The organisation register',
  access: 'signed-in',
  input: z.object({}),
  output: z.object({ organisations: z.array(organisationSchema) }),
  http: { method: 'GET', path: '/api/v1/organisations' },
  cli: {
    command: ['orgs', 'list'],
    description: 'list registered organisations',
    ...listedAsTable(
      'organisations',
      ['code', 'name', 'type', 'role', 'code verified'],
      (o: Organisation) => [
        o.code,
        o.name,
        o.type,
        o.kernelRole,
        o.codeVerified ? 'yes' : `no${o.codeNote ? ` (${o.codeNote})` : ''}`,
      ],
    ),
  },
  run: async ({ store }) => ({ organisations: await listOrganisations(store) }),
});

export const showOrganisationOperation = governanceOperation({
  name: 'organisations.show',
  summary: 'One organisation with its onboarding checklist',
  access: 'signed-in',
  input: z.object({ code: orgCode() }),
  output: z.object({ organisation: organisationSchema, onboarding: onboardingSchema }),
  http: { method: 'GET', path: '/api/v1/organisations/:code', example: { code: 'RWF' } },
  cli: {
    command: ['orgs', 'show'],
    args: ['code'],
    description: "one organisation's entry and onboarding",
    print: ({ organisation: o, onboarding }) =>
      `${formatTable(
        ['field', 'value'],
        [
          ['code', `${o.code} (${o.codeSystem}${o.codeVerified ? ', verified' : ', UNVERIFIED'})`],
          ['note', o.codeNote],
          ['name', o.name],
          ['type', o.type],
          ['role', o.kernelRole],
          ['population', o.population],
          ['income', o.incomePence === null ? '' : formatPounds(o.incomePence)],
          ...o.contacts.map((c) => [c.role, `${c.name} <${c.email}>`]),
        ],
      )}\n${onboardingLines(onboarding)}`,
  },
  run: async ({ store }, { code }) => {
    const organisation = await getOrganisation(store, code);
    return { organisation, onboarding: await onboardingStatus(store, organisation.code) };
  },
});

export const seedOrganisationsOperation = governanceOperation({
  name: 'organisations.seed',
  summary: 'Register the Kent and Medway members not yet registered',
  input: z.object({}),
  output: z.object({ added: z.array(z.string()), existing: z.array(z.string()) }),
  http: { method: 'POST', path: '/api/v1/organisations/seed' },
  cli: {
    command: ['orgs', 'seed'],
    description: 'register the Kent and Medway members (reference §8)',
    print: (r) => `Registered ${r.added.length} organisations; ${r.existing.length} were already registered.`,
  },
  run: ({ store, actor }) => seedOrganisations(store, actor),
});

export const registerOrganisationOperation = governanceOperation({
  name: 'organisations.register',
  summary: 'Register an organisation',
  input: z.object({
    code: orgCode('ODS code (or GSS code for a council)'),
    name: requiredText('name'),
    type: z.enum(ORG_TYPES).describe('kind of organisation'),
    kernelRole: z.enum(KERNEL_ROLES).default('data-controller').describe('role for Kernel'),
    codeSystem: z.enum(['ods', 'gss', 'local']).default('ods').describe('where the code comes from'),
    codeVerified: z.boolean().default(true).describe('the code is confirmed in ODS'),
    codeNote: optionalText('why the code is not yet verified'),
    population: z.number().int().nonnegative().optional().describe('population, for funding by population'),
    income: z
      .string()
      .regex(/^£?[\d,]+(\.\d{1,2})?$/, 'must be pounds, e.g. 650000000 or 1,250,000.00')
      .optional()
      .describe('annual income in pounds, for funding by income'),
  }),
  output: organisationSchema,
  http: { method: 'POST', path: '/api/v1/organisations', status: 201 },
  cli: {
    command: ['orgs', 'add'],
    description: 'register an organisation',
    flags: { kernelRole: 'role', codeVerified: { flag: 'unverified', negate: true } },
    print: (org) => `Registered ${org.name} (${org.code}).`,
  },
  run: ({ store, actor }, input) =>
    registerOrganisation(
      store,
      {
        code: input.code,
        name: input.name,
        type: input.type,
        kernelRole: input.kernelRole,
        codeSystem: input.codeSystem,
        codeVerified: input.codeVerified,
        codeNote: input.codeNote ?? null,
        population: input.population ?? null,
        incomePence: input.income === undefined ? null : parsePounds(input.income, 'income'),
        contacts: [],
      },
      actor,
    ),
});

export const completeOnboardingStepOperation = governanceOperation({
  name: 'organisations.onboarding-step',
  summary: 'Mark an onboarding step done (only the next one can be)',
  input: z.object({
    code: orgCode(),
    step: requiredText('the step, e.g. dpia-reviewed'),
    note: optionalText('a note to record with the step'),
  }),
  output: onboardingSchema,
  http: { method: 'POST', path: '/api/v1/organisations/:code/onboarding', example: { code: 'RWF' } },
  run: ({ store, actor }, { code, step, note }) => completeStep(store, code, step, actor, note),
});

export const onboardingOverviewOperation = governanceOperation({
  name: 'organisations.onboarding',
  summary: "Every member's onboarding progress",
  access: 'signed-in',
  input: z.object({}),
  output: z.object({ onboarding: z.array(onboardingSchema) }),
  http: { method: 'GET', path: '/api/v1/onboarding' },
  cli: {
    command: ['orgs', 'onboarding'],
    description: "every member's onboarding progress",
    ...listedAsTable('onboarding', ['code', 'name', 'done', 'next step'], (s: OnboardingStatus) => [
      s.org,
      s.name,
      `${s.done}/${s.total}`,
      s.next?.title ?? 'complete',
    ]),
  },
  run: async ({ store }) => ({ onboarding: await onboardingOverview(store) }),
});

// ---------------------------------------------------------------- transparency

export const controllerReadsOperation = governanceOperation({
  name: 'transparency.reads',
  summary: "Who read a controller's data, when and under which use case",
  access: ADMIN_IG,
  input: z.object({
    org: orgCode('controller (administrators only; IG leads get their own)').optional(),
    from: isoDate('first day, YYYY-MM-DD').optional(),
    to: isoDate('last day, YYYY-MM-DD').optional(),
    useCase: useCaseId.optional(),
    limit: z.number().int().min(1).max(100_000).default(1000).describe('at most this many, newest first'),
  }),
  output: z.object({ org: z.string(), reads: z.array(accessRecordSchema) }),
  http: { method: 'GET', path: '/api/v1/transparency/reads' },
  run: async ({ store, principal }, input) => {
    const org = controllerScope(principal, input.org);
    if (!org) throw new KernelError('usage', 'Name the controller (org)', { where: { field: 'org' } });
    const reads = await accessesOf(store, {
      org,
      limit: input.limit,
      ...givenFields({ from: input.from, to: input.to, useCaseId: input.useCase }),
    });
    return { org, reads };
  },
});

export const controllerQueriesOperation = governanceOperation({
  name: 'transparency.queries',
  summary: "The workspace queries run under use cases that use a controller's data",
  access: ADMIN_IG,
  input: z.object({
    org: orgCode('controller (administrators only; IG leads get their own)').optional(),
    limit: z.number().int().min(1).max(10_000).default(200).describe('at most this many, newest first'),
  }),
  output: z.object({
    org: z.string(),
    queries: z.array(
      z.object({
        at: z.string(),
        actor: z.string(),
        useCaseId: z.string(),
        sql: z.string().describe('as the audit keeps it: token, NHS number and postcode shapes masked'),
        rows: z.number().int().nullable(),
        ms: z.number(),
        outcome: z.string(),
      }),
    ),
  }),
  http: { method: 'GET', path: '/api/v1/transparency/queries' },
  run: async ({ store, principal }, input) => {
    const org = controllerScope(principal, input.org);
    if (!org) throw new KernelError('usage', 'Name the controller (org)', { where: { field: 'org' } });
    return { org, queries: await workspaceQueriesOver(store, org, input.limit) };
  },
});

// ---------------------------------------------------------------- agreements

export const listAgreementsOperation = governanceOperation({
  name: 'agreements.list',
  summary: 'Data sharing agreements',
  access: ADMIN_IG,
  input: z.object({
    org: orgCode('one organisation (IG leads always see their own)').optional(),
    dataset: optionalText('one dataset'),
  }),
  output: z.object({ agreements: z.array(agreementSchema) }),
  http: { method: 'GET', path: '/api/v1/agreements' },
  cli: {
    command: ['agreements', 'list'],
    description: 'list agreements',
    ...listedAsTable(
      'agreements',
      ['id', 'org', 'state', 'from', 'to', 'datasets', 'purposes'],
      (a: Agreement) => [a.id, a.org, a.state, a.from, a.to, a.datasets.join(','), a.purposes.join(',')],
    ),
  },
  run: async ({ store, principal }, input) => {
    const org = controllerScope(principal, input.org);
    return {
      agreements: await listAgreements(store, givenFields({ org, dataset: input.dataset })),
    };
  },
});

export const createAgreementOperation = governanceOperation({
  name: 'agreements.create',
  summary: 'Record a signed data sharing agreement',
  input: z.object({
    org: orgCode('the controller'),
    datasets: textList('datasets covered').min(1),
    from: yearMonth('first month covered, YYYY-MM'),
    to: yearMonth('last month covered, YYYY-MM'),
    purposes: z.array(z.enum(PURPOSES)).optional().describe('purposes covered (default all)'),
    title: optionalText('title'),
    signedBy: optionalText('who signed for the controller'),
    signedOn: isoDate('date signed, YYYY-MM-DD').optional(),
  }),
  output: agreementSchema,
  http: { method: 'POST', path: '/api/v1/agreements', status: 201 },
  cli: {
    command: ['agreements', 'add'],
    description: 'record a signed data sharing agreement',
    flags: { datasets: 'dataset', purposes: 'purpose' },
    print: (a) => `Recorded ${a.id}: ${a.org} sends ${a.datasets.join(', ')} from ${a.from} to ${a.to}.`,
  },
  run: ({ store, actor }, input) =>
    createAgreement(
      store,
      {
        org: input.org,
        datasets: input.datasets,
        from: input.from,
        to: input.to,
        ...(input.purposes?.length ? { purposes: input.purposes } : {}),
        ...givenFields({ title: input.title, signedBy: input.signedBy, signedOn: input.signedOn }),
      },
      actor,
    ),
});

export const setAgreementStateOperation = governanceOperation({
  name: 'agreements.set-state',
  summary: 'Suspend, reinstate or end an agreement (loads and reads follow at once)',
  input: z.object({
    id: requiredText('agreement id, e.g. DSA-RWF-001'),
    state: z.enum(AGREEMENT_STATES).describe('the new state'),
  }),
  output: agreementSchema,
  http: { method: 'POST', path: '/api/v1/agreements/:id/state', example: { id: 'DSA-RWF-001' } },
  run: ({ store, actor }, { id, state }) => setAgreementState(store, id, state, actor),
});

export const checkAgreementOperation = governanceOperation({
  name: 'agreements.check',
  summary: 'Would a feed be accepted under the agreements?',
  access: ADMIN_IG,
  input: z.object({
    org: orgCode('sender (IG leads always check their own)'),
    dataset: requiredText('dataset'),
    period: yearMonth('month of the feed, YYYY-MM'),
  }),
  output: z.object({ inForce: z.literal(true), org: z.string(), dataset: z.string(), period: z.string() }),
  http: { method: 'GET', path: '/api/v1/agreements/check' },
  cli: {
    command: ['agreements', 'check'],
    description: 'would a feed be accepted under the agreements?',
    print: (r) => `An agreement in force covers ${r.org} sending ${r.dataset} for ${r.period}.`,
  },
  run: async ({ store, principal }, input) => {
    // An IG lead checks their own organisation's agreements, whatever org they name.
    const org = controllerScope(principal, input.org) ?? parseOrgCode(input.org);
    await assertAgreementInForce(store, org, input.dataset, input.period);
    return { inForce: true as const, org, dataset: input.dataset, period: input.period };
  },
});

// ---------------------------------------------------------------- use cases

export const listUseCasesOperation = governanceOperation({
  name: 'use-cases.list',
  summary: 'The use-case register',
  access: 'signed-in',
  input: z.object({
    state: z.enum(USE_CASE_STATES).optional().describe('one state'),
    controller: orgCode('use cases using this controller’s data').optional(),
  }),
  output: z.object({ useCases: z.array(useCaseSchema) }),
  http: { method: 'GET', path: '/api/v1/use-cases' },
  cli: {
    command: ['usecases', 'list'],
    description: 'list use cases',
    ...listedAsTable(
      'useCases',
      ['id', 'state', 'purpose', 'sponsor', 'datasets', 'approved', 'title'],
      (u: UseCase) => [
        u.id,
        u.state,
        u.purpose,
        u.sponsor,
        u.datasets.join(','),
        `${u.approvals.length}/${u.controllers.length}`,
        u.title,
      ],
    ),
  },
  run: async ({ store }, input) => ({
    useCases: await listUseCases(store, {
      ...(input.state ? { state: [input.state] } : {}),
      ...(input.controller ? { controller: input.controller } : {}),
    }),
  }),
});

export const showUseCaseOperation = governanceOperation({
  name: 'use-cases.show',
  summary: 'One use case with its approvals',
  access: 'signed-in',
  input: z.object({ id: useCaseId }),
  output: useCaseSchema,
  http: { method: 'GET', path: '/api/v1/use-cases/:id', example: { id: 'UC-001' } },
  cli: { command: ['usecases', 'show'], args: ['id'], print: useCaseDetail },
  run: ({ store }, { id }) => getUseCase(store, id),
});

export const proposeUseCaseOperation = governanceOperation({
  name: 'use-cases.propose',
  summary: 'Propose a use case',
  input: z.object({
    title: requiredText('title'),
    summary: optionalText('one paragraph, shown on the public site'),
    sponsor: orgCode('sponsoring organisation'),
    purpose: z.enum(PURPOSES).describe('direct-care, planning or research'),
    legalBasis: requiredText('legal basis'),
    datasets: textList('datasets').min(1),
    controllers: textList('controllers whose data it uses').min(1),
    users: textList('users: user ids or role:<role>').default([]),
    start: isoDate('first day, YYYY-MM-DD'),
    end: isoDate('last day, YYYY-MM-DD'),
    months: z
      .enum(USE_CASE_MONTHS)
      .optional()
      .describe('published (default: months signed off and published) or loaded (every month loaded)'),
  }),
  output: useCaseSchema,
  http: { method: 'POST', path: '/api/v1/use-cases', status: 201 },
  cli: {
    command: ['usecases', 'propose'],
    flags: { datasets: 'dataset', controllers: 'controller', users: 'user' },
    print: (u) => `Proposed ${u.id}; awaiting approval from ${u.awaiting.join(', ')}.`,
  },
  run: ({ store, actor }, input) =>
    proposeUseCase(
      store,
      {
        ...input,
        summary: input.summary ?? '',
        ...(input.months ? { months: input.months } : {}),
      },
      actor,
    ),
});

export const approveUseCaseOperation = governanceOperation({
  name: 'use-cases.approve',
  summary: "Record a controller's approval; approved once every controller has",
  access: ADMIN_IG,
  input: z.object({
    id: useCaseId,
    org: orgCode('the approving controller (an IG lead always approves for their own)').optional(),
  }),
  output: useCaseSchema,
  http: { method: 'POST', path: '/api/v1/use-cases/:id/approve', example: { id: 'UC-001' } },
  cli: {
    command: ['usecases', 'approve'],
    args: ['id'],
    description: "record a controller's approval",
    print: (u) =>
      u.state === 'approved'
        ? `${u.id} is approved by every controller.`
        : `Recorded. ${u.id} still awaits ${u.awaiting.join(', ')}.`,
  },
  run: ({ store, principal, actor }, { id, org }) => {
    const controller = controllerScope(principal, org);
    if (!controller) {
      throw new KernelError('usage', 'Name the approving controller (org)', { where: { field: 'org' } });
    }
    return approveUseCase(store, id, controller, actor);
  },
});

const useCaseStep = (
  name: 'activate' | 'close',
  summary: string,
  step: typeof activateUseCase,
  description: string,
) =>
  governanceOperation({
    name: `use-cases.${name}`,
    summary,
    input: z.object({ id: useCaseId }),
    output: useCaseSchema,
    http: { method: 'POST', path: `/api/v1/use-cases/:id/${name}`, example: { id: 'UC-001' } },
    cli: { command: ['usecases', name], args: ['id'], description, print: (u) => `${u.id} is ${u.state}.` },
    run: ({ store, actor }, { id }) => step(store, id, actor),
  });

export const activateUseCaseOperation = useCaseStep(
  'activate',
  'Start an approved use case: reads under it are allowed',
  activateUseCase,
  'start an approved use case (reads allowed)',
);

export const closeUseCaseOperation = useCaseStep(
  'close',
  'Close a use case: reads under it stop',
  closeUseCase,
  'close a use case (reads stop)',
);

export const setUseCaseUsersOperation = governanceOperation({
  name: 'use-cases.users',
  summary: 'Set who may use a use case',
  input: z.object({ id: useCaseId, users: textList('user ids or role:<role>') }),
  output: useCaseSchema,
  http: { method: 'POST', path: '/api/v1/use-cases/:id/users', example: { id: 'UC-001' } },
  cli: {
    command: ['usecases', 'users'],
    args: ['id'],
    description: 'set who may use a use case',
    flags: { users: 'set' },
    print: (u) => `${u.id} users: ${u.users.join(', ')}`,
  },
  run: ({ store, actor }, { id, users }) => setUseCaseUsers(store, id, users, actor),
});

// ---------------------------------------------------------------- opt-outs

export const optOutStatusOperation = governanceOperation({
  name: 'optouts.status',
  summary: 'How many opt-out tokens are held, and when they were loaded',
  access: ADMIN_IG,
  input: z.object({}),
  output: optOutStatusSchema,
  http: { method: 'GET', path: '/api/v1/optouts' },
  cli: {
    command: ['optouts', 'status'],
    description: 'how many tokens are held and when they were loaded',
    print: (status) =>
      status.lastLoad
        ? `${status.tokens} tokens, loaded ${status.lastLoad.loadedAt} by ${status.lastLoad.loadedBy} from ${status.lastLoad.source}.`
        : 'No opt-out list has been loaded.',
  },
  run: ({ store }) => optOutStatus(store),
});

export const replaceOptOutsOperation = governanceOperation({
  name: 'optouts.replace',
  summary: 'Replace the opt-out list with these tokens (never NHS numbers)',
  input: z.object({
    tokens: z
      .array(z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex-digit token'))
      .min(1)
      .describe('opt-out tokens, never NHS numbers'),
    source: z.string().trim().min(1).default('api').describe('name of the list'),
  }),
  output: optOutLoadSchema,
  http: { method: 'POST', path: '/api/v1/optouts' },
  run: ({ store, actor }, { tokens, source }) => loadOptOutTokens(store, tokens, source, actor),
});

export const optOutImpactOperation = governanceOperation({
  name: 'optouts.impact',
  summary: 'Records each use case loses to the opt-out, per dataset and controller',
  access: ADMIN_IG,
  input: z.object({
    useCase: useCaseId.optional(),
    org: orgCode('controller (administrators only; IG leads get their own)').optional(),
  }),
  output: z.object({ impact: z.array(optOutImpactSchema) }),
  http: { method: 'GET', path: '/api/v1/optouts/impact' },
  cli: {
    command: ['optouts', 'impact'],
    flags: { useCase: 'usecase' },
    ...listedAsTable(
      'impact',
      ['use case', 'purpose', 'dataset', 'org', 'records', 'lost'],
      (r: OptOutImpactRow) => [
        r.useCaseId,
        r.purpose,
        r.datasetId,
        r.org,
        r.records,
        r.optOutApplies ? r.lost : 'n/a (direct care)',
      ],
    ),
  },
  run: async ({ store, principal, actor }, input) => {
    const controller = controllerScope(principal, input.org);
    return {
      impact: await optOutImpact(store, {
        actor,
        ...givenFields({ controller, useCaseId: input.useCase }),
      }),
    };
  },
});

/** Every governance operation, in the order the API document lists them. */
export const GOVERNANCE_OPERATIONS: readonly AnyOperation[] = [
  publicSiteOperation,
  listOrganisationsOperation,
  showOrganisationOperation,
  registerOrganisationOperation,
  seedOrganisationsOperation,
  completeOnboardingStepOperation,
  onboardingOverviewOperation,
  controllerReadsOperation,
  controllerQueriesOperation,
  listAgreementsOperation,
  createAgreementOperation,
  setAgreementStateOperation,
  checkAgreementOperation,
  listUseCasesOperation,
  showUseCaseOperation,
  proposeUseCaseOperation,
  approveUseCaseOperation,
  activateUseCaseOperation,
  closeUseCaseOperation,
  setUseCaseUsersOperation,
  optOutStatusOperation,
  replaceOptOutsOperation,
  optOutImpactOperation,
];
