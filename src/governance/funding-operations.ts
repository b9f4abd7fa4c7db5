/**
 * Subscriptions, the funding model and invoices as operations (see governance-operations.ts
 * for the pattern). `kernel subscriptions|invoices …` and `/api/v1/subscriptions`,
 * `/api/v1/funding/…`, `/api/v1/invoices/…` are generated from these; the commands that
 * write files (letters, invoice HTML and PDF, CSV) are hand-written over the same operations.
 */
import { z } from 'zod';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from '../operations/list-table.ts';
import { KernelError } from '../errors.ts';
import { isoDate, optionalText, orgCode, requiredText } from '../operations/fields.ts';
import { givenFields, type AnyOperation } from '../operations/operation.ts';
import { addFundingSource, findFundingModel, setFundingModel, yearShares } from './funding-model.ts';
import { formatPounds, parseFinancialYear, parsePounds } from './governance-values.ts';
import {
  cancelInvoice,
  draftInvoices,
  getInvoice,
  INVOICE_STATES,
  listInvoices,
  payInvoice,
  raiseInvoices,
  type Invoice,
} from './invoices.ts';
import { inviteMembers, listSubscriptions, setSubscription, SUBSCRIPTION_STATES } from './subscriptions.ts';
import type { Subscription } from './subscriptions.ts';
import type { FundingModel } from './funding-model.ts';
import { governanceOperation } from './governance-operations.ts';

const financialYear = z
  .string()
  .trim()
  .regex(/^\d{4}([/-]\d{2})?$/, 'must be a financial year, e.g. 2021/22')
  .describe('financial year, e.g. 2021/22 (April to March)');

const pounds = (description: string) =>
  z
    .string()
    .trim()
    .regex(/^£?[\d,]+(\.\d{1,2})?$/, 'must be pounds, e.g. 1250000 or 1,250,000.00')
    .describe(description);

const pence = (description: string) => z.number().int().describe(`${description}, in pence`);

const subscriptionSchema = z.object({
  org: z.string(),
  year: z.string(),
  state: z.enum(SUBSCRIPTION_STATES),
  tier: z.string().nullable(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

const fundingRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tiers'), tiers: z.record(z.string(), z.number()) }),
  z.object({ kind: z.literal('population') }),
  z.object({ kind: z.literal('income') }),
]);

const fundingModelSchema: z.ZodType<FundingModel> = z.object({
  year: z.string(),
  costPence: pence("the programme's cost for the year"),
  rule: fundingRuleSchema,
  ruleDescription: z.string(),
  sources: z.array(z.object({ id: z.string(), name: z.string(), amountPence: pence('amount') })),
});

const sharesSchema = z.object({
  year: z.string(),
  ruleDescription: z.string(),
  costPence: pence('cost'),
  otherFundingPence: pence('other funding'),
  netPence: pence('cost less other funding'),
  surplusPence: pence('other funding beyond the cost'),
  totalWeight: z.number(),
  shares: z.array(z.object({ org: z.string(), weight: z.number(), sharePence: pence('share') })),
  basis: z.string().describe('how the shares were worked out, in words'),
});

const invoiceSchema: z.ZodType<Invoice> = z.object({
  id: z.string(),
  number: z.string().nullable().describe('gapless, e.g. KER-2122-0001; null while a draft'),
  year: z.string(),
  org: z.string(),
  state: z.enum(INVOICE_STATES),
  amountPence: pence('amount'),
  basis: z.object({
    rule: z.string(),
    costPence: z.number().int(),
    otherFundingPence: z.number().int(),
    netPence: z.number().int(),
    weight: z.number(),
    totalWeight: z.number(),
  }),
  replaces: z.string().nullable(),
  createdAt: z.string(),
  raisedAt: z.string().nullable(),
  paidAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  cancelReason: z.string().nullable(),
});

const invoicesOutput = z.object({ invoices: z.array(invoiceSchema) });

// ---------------------------------------------------------------- subscriptions

export const listSubscriptionsOperation = governanceOperation({
  name: 'subscriptions.list',
  summary: 'Subscriptions per organisation per financial year',
  input: z.object({ year: financialYear.optional(), org: orgCode('one organisation').optional() }),
  output: z.object({ subscriptions: z.array(subscriptionSchema) }),
  http: { method: 'GET', path: '/api/v1/subscriptions' },
  cli: {
    command: ['subscriptions', 'list'],
    description: 'list subscriptions',
    ...listedAsTable('subscriptions', ['year', 'org', 'state', 'tier', 'updated'], (s: Subscription) => [
      s.year,
      s.org,
      s.state,
      s.tier,
      s.updatedAt.slice(0, 10),
    ]),
  },
  run: async ({ store }, input) => ({
    subscriptions: await listSubscriptions(store, givenFields(input)),
  }),
});

export const setSubscriptionOperation = governanceOperation({
  name: 'subscriptions.set',
  summary: "Set an organisation's subscription for a year",
  input: z.object({
    org: orgCode('the member'),
    year: financialYear,
    state: z.enum(SUBSCRIPTION_STATES).optional().describe('invited, confirmed, declined or lapsed'),
    tier: optionalText('funding tier, for tiered funding'),
  }),
  output: subscriptionSchema,
  http: { method: 'POST', path: '/api/v1/subscriptions' },
  cli: {
    command: ['subscriptions', 'set'],
    args: ['org'],
    description: "set an organisation's subscription for a year",
    print: (s) => `${s.org}'s subscription for ${s.year} is ${s.state}${s.tier ? ` (tier ${s.tier})` : ''}.`,
  },
  run: ({ store, actor }, input) =>
    setSubscription(
      store,
      {
        org: input.org,
        year: input.year,
        ...givenFields({ state: input.state, tier: input.tier }),
      },
      actor,
    ),
});

export const inviteMembersOperation = governanceOperation({
  name: 'subscriptions.invite',
  summary: 'Invite every member without a subscription for the year',
  input: z.object({ year: financialYear }),
  output: z.object({ year: z.string(), invited: z.array(subscriptionSchema) }),
  http: { method: 'POST', path: '/api/v1/subscriptions/invite' },
  cli: {
    command: ['subscriptions', 'invite'],
    description: 'invite every member without a subscription for the year',
    json: (o) => o.invited,
    print: (o) => `Invited ${o.invited.length} organisations for ${o.year}.`,
  },
  run: async ({ store, actor }, { year }) => ({
    year: parseFinancialYear(year),
    invited: await inviteMembers(store, year, actor),
  }),
});

// ---------------------------------------------------------------- funding

async function modelOf(store: Parameters<typeof findFundingModel>[0], year: string): Promise<FundingModel> {
  const model = await findFundingModel(store, year);
  if (!model) {
    throw new KernelError('not-found', `No funding model is set for ${parseFinancialYear(year)}`, {
      hint: 'Set its cost and rule first (kernel subscriptions funding --cost … --rule …)',
    });
  }
  return model;
}

export const showFundingOperation = governanceOperation({
  name: 'funding.show',
  summary: "The year's funding model and each confirmed subscriber's share",
  input: z.object({ year: financialYear }),
  output: z.object({ model: fundingModelSchema, shares: sharesSchema }),
  http: { method: 'GET', path: '/api/v1/funding/:year', example: { year: '2021-22' } },
  run: async ({ store }, { year }) => ({
    model: await modelOf(store, year),
    shares: await yearShares(store, year),
  }),
});

export const setFundingOperation = governanceOperation({
  name: 'funding.set',
  summary: "Set the year's cost, rule or another funding source; draft invoices follow",
  input: z.object({
    year: financialYear,
    cost: pounds("the programme's cost for the year, in pounds").optional(),
    rule: fundingRuleSchema.optional().describe('how the cost is shared'),
    source: z
      .object({ name: requiredText('who funds it'), amount: pounds('amount, in pounds') })
      .optional()
      .describe('other funding that reduces members’ shares'),
  }),
  output: z.object({ model: fundingModelSchema }),
  http: { method: 'POST', path: '/api/v1/funding/:year', example: { year: '2021-22' } },
  run: async ({ store, actor }, { year, cost, rule, source }) => {
    if (cost !== undefined || rule !== undefined) {
      await setFundingModel(
        store,
        {
          year,
          ...(cost !== undefined ? { costPence: parsePounds(cost, 'cost') } : {}),
          ...(rule !== undefined ? { rule } : {}),
        },
        actor,
      );
    }
    if (source) {
      await addFundingSource(
        store,
        { year, name: source.name, amountPence: parsePounds(source.amount, 'amount') },
        actor,
      );
    }
    return { model: await modelOf(store, year) };
  },
});

export const fundingSharesOperation = governanceOperation({
  name: 'funding.shares',
  summary: "Each confirmed subscriber's share of the year's cost",
  input: z.object({ year: financialYear }),
  output: sharesSchema,
  http: { method: 'GET', path: '/api/v1/funding/:year/shares', example: { year: '2021-22' } },
  cli: {
    command: ['subscriptions', 'shares'],
    description: "each confirmed subscriber's share of the year's cost",
    print: (result) =>
      `${formatTable(
        ['org', 'weight', 'share'],
        [
          ...result.shares.map((s) => [s.org, s.weight, formatPounds(s.sharePence)]),
          ['total', result.totalWeight, formatPounds(result.netPence)],
        ],
      )}\n${result.basis}`,
  },
  run: ({ store }, { year }) => yearShares(store, year),
});

// ---------------------------------------------------------------- invoices

export const listInvoicesOperation = governanceOperation({
  name: 'invoices.list',
  summary: 'Invoices',
  input: z.object({
    year: financialYear.optional(),
    org: orgCode('one organisation').optional(),
    state: z.enum(INVOICE_STATES).optional().describe('one state'),
  }),
  output: invoicesOutput,
  http: { method: 'GET', path: '/api/v1/invoices' },
  run: async ({ store }, input) => ({
    invoices: await listInvoices(store, givenFields(input)),
  }),
});

export const showInvoiceOperation = governanceOperation({
  name: 'invoices.show',
  summary: 'One invoice, by number (or id while a draft)',
  input: z.object({ number: requiredText('invoice number, e.g. KER-2122-0001') }),
  output: invoiceSchema,
  http: { method: 'GET', path: '/api/v1/invoices/:number', example: { number: 'KER-2122-0001' } },
  run: ({ store }, { number }) => getInvoice(store, number),
});

export const draftInvoicesOperation = governanceOperation({
  name: 'invoices.draft',
  summary: 'Draft invoices for every confirmed subscriber from the funding model',
  input: z.object({ year: financialYear }),
  output: invoicesOutput,
  http: { method: 'POST', path: '/api/v1/invoices/draft' },
  cli: {
    command: ['invoices', 'draft'],
    ...listedAsTable('invoices', ['org', 'amount'], (d: Invoice) => [d.org, formatPounds(d.amountPence)]),
  },
  run: async ({ store, actor }, { year }) => ({ invoices: await draftInvoices(store, year, actor) }),
});

export const raiseInvoicesOperation = governanceOperation({
  name: 'invoices.raise',
  summary: "Raise the year's draft invoices, numbering them without gaps",
  input: z.object({ year: financialYear, org: orgCode('one organisation').optional() }),
  output: invoicesOutput,
  http: { method: 'POST', path: '/api/v1/invoices/raise' },
  cli: {
    command: ['invoices', 'raise'],
    description: "raise the year's draft invoices (numbers them)",
    ...listedAsTable('invoices', ['number', 'org', 'amount'], (i: Invoice) => [
      i.number,
      i.org,
      formatPounds(i.amountPence),
    ]),
  },
  run: async ({ store, actor }, { year, org }) => ({
    invoices: await raiseInvoices(store, year, actor, org ? { org } : {}),
  }),
});

export const payInvoiceOperation = governanceOperation({
  name: 'invoices.pay',
  summary: 'Record payment of a raised invoice',
  input: z.object({
    number: requiredText('invoice number'),
    on: isoDate('date paid, YYYY-MM-DD (default today)').optional(),
  }),
  output: invoiceSchema,
  http: { method: 'POST', path: '/api/v1/invoices/:number/pay', example: { number: 'KER-2122-0001' } },
  cli: {
    command: ['invoices', 'pay'],
    args: ['number'],
    print: (invoice) => `Invoice ${invoice.number ?? ''} is paid.`,
  },
  run: ({ store, actor }, { number, on }) => payInvoice(store, number, actor, on),
});

export const cancelInvoiceOperation = governanceOperation({
  name: 'invoices.cancel',
  summary: 'Cancel a raised invoice, optionally raising its replacement',
  input: z.object({
    number: requiredText('invoice number'),
    reason: requiredText('why'),
    replace: z.boolean().default(false).describe("raise a replacement for the organisation's current share"),
  }),
  output: z.object({ cancelled: invoiceSchema, replacement: invoiceSchema.nullable() }),
  http: { method: 'POST', path: '/api/v1/invoices/:number/cancel', example: { number: 'KER-2122-0001' } },
  cli: {
    command: ['invoices', 'cancel'],
    args: ['number'],
    description: 'cancel a raised invoice (and raise its replacement with --replace)',
    print: ({ cancelled, replacement }) =>
      `Invoice ${cancelled.number ?? ''} is cancelled.${replacement ? ` Replacement: ${replacement.number ?? ''} for ${formatPounds(replacement.amountPence)}.` : ''}`,
  },
  run: ({ store, actor }, { number, reason, replace }) =>
    cancelInvoice(store, number, reason, actor, { replace }),
});

export const FUNDING_OPERATIONS: readonly AnyOperation[] = [
  listSubscriptionsOperation,
  setSubscriptionOperation,
  inviteMembersOperation,
  showFundingOperation,
  setFundingOperation,
  fundingSharesOperation,
  listInvoicesOperation,
  showInvoiceOperation,
  draftInvoicesOperation,
  raiseInvoicesOperation,
  payInvoiceOperation,
  cancelInvoiceOperation,
];
