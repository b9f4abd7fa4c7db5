/**
 * Governance pages and API: members and onboarding, subscriptions and invoices,
 * agreements, use cases and their approvals, opt-outs, transparency for IG leads, and the
 * public site at /public (no sign-in). Thin: every handler calls src/governance/.
 */
import { KernelError } from '../errors.ts';
import {
  createAgreement,
  listAgreements,
  setAgreementState,
  type AgreementState,
} from '../governance/agreements.ts';
import {
  addFundingSource,
  findFundingModel,
  setFundingModel,
  yearShares,
} from '../governance/funding-model.ts';
import {
  formatPounds,
  parseFinancialYear,
  parseOrgCode,
  parsePounds,
} from '../governance/governance-values.ts';
import {
  invoiceHtml,
  invoicePdf,
  invoicesCsv,
  subscriptionLetters,
} from '../governance/invoice-documents.ts';
import { toCsv } from '../governance/csv.ts';
import {
  cancelInvoice,
  draftInvoices,
  getInvoice,
  INVOICE_STATES,
  listInvoices,
  payInvoice,
  raiseInvoices,
  type InvoiceState,
} from '../governance/invoices.ts';
import { completeStep, onboardingOverview, onboardingStatus } from '../governance/onboarding.ts';
import { optOutImpact } from '../governance/access-policy.ts';
import { loadOptOutTokens, optOutStatus } from '../governance/optouts.ts';
import {
  getOrganisation,
  listOrganisations,
  registerOrganisation,
  seedOrganisations,
  type CodeSystem,
  type KernelRole,
  type OrgType,
} from '../governance/organisations.ts';
import { listSubscriptions, parseSubscriptionState, setSubscription } from '../governance/subscriptions.ts';
import { accessesOf, countAccessesOf, publicSite } from '../governance/transparency.ts';
import {
  activateUseCase,
  approveUseCase,
  closeUseCase,
  getUseCase,
  listUseCases,
  proposeUseCase,
  setUseCaseUsers,
  type NewUseCase,
} from '../governance/use-cases.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const ADMIN = ['admin'] as const;
const ADMIN_IG = ['admin', 'ig-lead'] as const;
/** Funding is read by the programme team too: the monthly update links to it as evidence. */
const FUNDING_READERS = ['admin', 'programme'] as const;
const DEFAULT_YEAR = '2021/22';

function text(body: Record<string, unknown>, field: string, required = true): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') {
    if (required) throw new KernelError('usage', `"${field}" is required`, { where: { field } });
    return undefined;
  }
  if (typeof value !== 'string')
    throw new KernelError('usage', `"${field}" must be a string`, { where: { field } });
  return value;
}

function strings(body: Record<string, unknown>, field: string): string[] {
  const value = body[field];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new KernelError('usage', `"${field}" must be a list of strings`, { where: { field } });
  }
  return value as string[];
}

function yearOf(r: RouteRequest, raw?: string): string {
  return parseFinancialYear(raw ?? r.query('year') ?? DEFAULT_YEAR);
}

/**
 * Whose data an IG lead may see: their own organisation's. An administrator names one
 * with ?org=. Anything else is refused, so no page or export leaks another controller's.
 */
function controllerFor(r: RouteRequest): string | undefined {
  const principal = r.principal;
  if (principal?.role === 'ig-lead') {
    if (!principal.org) {
      throw new KernelError('forbidden', 'Your IG lead account belongs to no organisation', {
        hint: 'Ask an administrator to set your organisation',
      });
    }
    return principal.org;
  }
  const org = r.query('org');
  return org ? parseOrgCode(org) : undefined;
}

function download(body: string | Buffer, type: string, filename: string): Response {
  return new Response(body, {
    headers: {
      'Content-Type': type,
      // RFC 6266: the browser saves it under this name rather than showing it.
      'Content-Disposition': `attachment; filename="${filename}"`,
      'Cache-Control': 'no-store',
    },
  });
}

/** This response's CSP nonce, for a standalone document's inline style block. */
function nonceOf(r: RouteRequest): string {
  const nonce: unknown = r.c.get('nonce');
  return typeof nonce === 'string' ? nonce : '';
}

function htmlDocument(body: string): Response {
  return new Response(body, {
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/** `POST /api/v1/use-cases/:id/<action>`: one step in a use case's life, for the API. */
function useCaseAction(
  action: string,
  route: Pick<RouteDeclaration, 'access' | 'summary' | 'handle' | 'body'>,
): RouteDeclaration {
  return {
    method: 'POST',
    path: `/api/v1/use-cases/:id/${action}`,
    kind: 'api',
    tag: 'governance',
    example: { id: 'UC-001' },
    pathParams: [{ name: 'id', description: 'use case id' }],
    ...route,
  };
}

export function governanceRoutes(deps: ServerDeps): RouteDeclaration[] {
  const { store } = deps;
  return [
    // ---------------------------------------------------------------- public site
    {
      method: 'GET',
      path: '/public',
      kind: 'page',
      access: 'public',
      nav: 'About the data',
      summary: 'What Kernel holds, for what and by whom, and how to opt out (no sign-in)',
      handle: async (r) =>
        r.render('governance/public.njk', {
          title: 'About the data Kernel holds',
          site: await publicSite(store),
        }),
    },
    {
      method: 'GET',
      path: '/api/v1/public',
      kind: 'api',
      access: 'public',
      tag: 'governance',
      summary: 'The public transparency record: members, datasets held, approved use cases',
      handle: async (r) => r.json(await publicSite(store)),
    },

    // ---------------------------------------------------------------- members and onboarding
    {
      method: 'GET',
      path: '/organisations',
      kind: 'page',
      access: 'signed-in',
      nav: 'Members',
      summary: "Member organisations and every member's onboarding progress at a glance",
      handle: async (r) => {
        const [orgs, progress] = [await listOrganisations(store), await onboardingOverview(store)];
        return r.render('governance/organisations.njk', { title: 'Member organisations', orgs, progress });
      },
    },
    {
      method: 'GET',
      path: '/organisations/:code',
      kind: 'page',
      access: 'signed-in',
      example: { code: 'RWF' },
      summary: 'One member: its register entry, agreements and onboarding checklist',
      handle: async (r) => {
        const org = await getOrganisation(store, r.param('code'));
        return r.render('governance/organisation.njk', {
          title: org.name,
          org,
          onboarding: await onboardingStatus(store, org.code),
          agreements: await listAgreements(store, { org: org.code }),
          isAdmin: r.principal?.role === 'admin',
          done: r.query('done') ?? '',
        });
      },
    },
    {
      method: 'POST',
      path: '/organisations/:code/onboarding',
      kind: 'page',
      access: ADMIN,
      example: { code: 'RWF' },
      summary: 'Mark the next onboarding step done',
      handle: async (r) => {
        const form = await r.form();
        const step = typeof form.step === 'string' ? form.step : '';
        const note = typeof form.note === 'string' ? form.note : undefined;
        const status = await completeStep(store, r.param('code'), step, r.actor, note);
        return r.redirect(
          `/organisations/${encodeURIComponent(status.org)}?done=${encodeURIComponent(step)}`,
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/organisations',
      kind: 'api',
      access: 'signed-in',
      tag: 'governance',
      summary: 'The organisation register',
      handle: async (r) => r.json({ organisations: await listOrganisations(store) }),
    },
    {
      method: 'GET',
      path: '/api/v1/organisations/:code',
      kind: 'api',
      access: 'signed-in',
      tag: 'governance',
      example: { code: 'RWF' },
      pathParams: [{ name: 'code', description: 'ODS (or GSS) code' }],
      summary: 'One organisation with its onboarding checklist',
      handle: async (r) => {
        const org = await getOrganisation(store, r.param('code'));
        return r.json({ organisation: org, onboarding: await onboardingStatus(store, org.code) });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/organisations',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: {
        contentType: 'application/json',
        description:
          '{"code": "RWF", "name": "…", "type": "acute", "kernelRole": "data-controller", "codeSystem": "ods", "codeVerified": true, "population": 560000, "income": "650000000"}',
      },
      summary: 'Register an organisation',
      handle: async (r) => {
        const body = await r.jsonObject();
        const population = body.population;
        if (population !== undefined && population !== null && typeof population !== 'number') {
          throw new KernelError('usage', '"population" must be a number', { where: { field: 'population' } });
        }
        const income = text(body, 'income', false);
        const org = await registerOrganisation(
          store,
          {
            code: text(body, 'code') ?? '',
            name: text(body, 'name') ?? '',
            type: (text(body, 'type') ?? '') as OrgType,
            kernelRole: (text(body, 'kernelRole', false) ?? 'data-controller') as KernelRole,
            codeSystem: (text(body, 'codeSystem', false) ?? 'ods') as CodeSystem,
            codeVerified: body.codeVerified !== false,
            codeNote: text(body, 'codeNote', false) ?? null,
            population: typeof population === 'number' ? population : null,
            incomePence: income === undefined ? null : parsePounds(income, 'income'),
            contacts: [],
          },
          r.actor,
        );
        return r.json(org, 201);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/organisations/seed',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      summary: 'Register the Kent and Medway members not yet registered',
      handle: async (r) => r.json(await seedOrganisations(store, r.actor)),
    },
    {
      method: 'POST',
      path: '/api/v1/organisations/:code/onboarding',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      example: { code: 'RWF' },
      pathParams: [{ name: 'code', description: 'ODS (or GSS) code' }],
      body: { contentType: 'application/json', description: '{"step": "dpia-reviewed", "note": "optional"}' },
      summary: 'Mark an onboarding step done (only the next one can be)',
      handle: async (r) => {
        const body = await r.jsonObject();
        return r.json(
          await completeStep(
            store,
            r.param('code'),
            text(body, 'step') ?? '',
            r.actor,
            text(body, 'note', false),
          ),
        );
      },
    },

    // ---------------------------------------------------------------- subscriptions, funding, invoices
    {
      method: 'GET',
      path: '/funding',
      kind: 'page',
      access: FUNDING_READERS,
      nav: 'Funding',
      query: [{ name: 'year', description: 'financial year, e.g. 2021/22' }],
      summary: "A year's subscriptions, funding model, shares and invoices",
      handle: async (r) => {
        const year = yearOf(r);
        const model = await findFundingModel(store, year);
        let shares = null;
        let sharesError = '';
        if (model) {
          try {
            shares = await yearShares(store, year);
          } catch (error) {
            if (!(error instanceof KernelError)) throw error;
            sharesError = error.message;
          }
        }
        const invoices = await listInvoices(store, { year });
        return r.render('governance/funding.njk', {
          title: `Funding ${year}`,
          year,
          model,
          shares,
          sharesError,
          subscriptions: await listSubscriptions(store, { year }),
          invoices: invoices.map((i) => ({ ...i, amount: formatPounds(i.amountPence) })),
          total: formatPounds(
            invoices
              .filter((i) => i.state === 'raised' || i.state === 'paid')
              .reduce((s, i) => s + i.amountPence, 0),
          ),
          pounds: formatPounds,
        });
      },
    },
    {
      method: 'GET',
      path: '/funding/invoices.csv',
      kind: 'page',
      access: FUNDING_READERS,
      query: [{ name: 'year', description: 'financial year, e.g. 2021/22', required: true }],
      summary: "Download a year's invoices as CSV",
      handle: async (r) => {
        // The year is required, so the bare path is a page (an error), never a surprise download.
        const raw = r.query('year');
        if (!raw)
          throw new KernelError('usage', 'Name the financial year with ?year=, e.g. ?year=2021/22', {
            where: { field: 'year' },
          });
        const year = yearOf(r, raw);
        return download(
          await invoicesCsv(store, await listInvoices(store, { year })),
          'text/csv; charset=utf-8',
          `invoices-${year.replace('/', '-')}.csv`,
        );
      },
    },
    {
      method: 'GET',
      path: '/funding/invoices/:number',
      kind: 'page',
      access: FUNDING_READERS,
      example: { number: 'KER-2122-0001' },
      summary: 'One invoice, printable',
      handle: async (r) =>
        htmlDocument(
          await invoiceHtml(store, await getInvoice(store, r.param('number')), { nonce: nonceOf(r) }),
        ),
    },
    {
      method: 'GET',
      path: '/funding/invoices/:number/pdf',
      kind: 'page',
      access: FUNDING_READERS,
      example: { number: 'KER-2122-0001' },
      summary: 'One invoice as PDF',
      handle: async (r) => {
        const invoice = await getInvoice(store, r.param('number'));
        return download(
          await invoicePdf(store, invoice),
          'application/pdf',
          `${invoice.number ?? 'draft-invoice'}.pdf`,
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/subscriptions',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      query: [
        { name: 'year', description: 'financial year, e.g. 2021/22' },
        { name: 'org', description: 'one organisation' },
      ],
      summary: 'Subscriptions per organisation per financial year',
      handle: async (r) => {
        const year = r.query('year');
        const org = r.query('org');
        return r.json({
          subscriptions: await listSubscriptions(store, {
            ...(year ? { year } : {}),
            ...(org ? { org } : {}),
          }),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/subscriptions',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: {
        contentType: 'application/json',
        description: '{"org": "RWF", "year": "2021/22", "state": "confirmed", "tier": "large"}',
      },
      summary: "Set an organisation's subscription for a year",
      handle: async (r) => {
        const body = await r.jsonObject();
        const state = text(body, 'state', false);
        const tier = text(body, 'tier', false);
        return r.json(
          await setSubscription(
            store,
            {
              org: text(body, 'org') ?? '',
              year: text(body, 'year') ?? '',
              ...(state ? { state: parseSubscriptionState(state) } : {}),
              ...(tier ? { tier } : {}),
            },
            r.actor,
          ),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/funding/:year',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      example: { year: '2021-22' },
      pathParams: [{ name: 'year', description: 'financial year, e.g. 2021-22' }],
      summary: "The year's funding model and each confirmed subscriber's share",
      handle: async (r) => {
        const year = parseFinancialYear(r.param('year'));
        const model = await findFundingModel(store, year);
        if (!model) throw new KernelError('not-found', `No funding model is set for ${year}`);
        return r.json({ model, shares: await yearShares(store, year) });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/funding/:year',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      example: { year: '2021-22' },
      pathParams: [{ name: 'year', description: 'financial year, e.g. 2021-22' }],
      body: {
        contentType: 'application/json',
        description:
          '{"cost": "1250000", "rule": {"kind": "population"}, "source": {"name": "One-off allocation", "amount": "250000"}} — any of them',
      },
      summary: "Set the year's cost, rule or another funding source; draft invoices follow",
      handle: async (r) => {
        const year = parseFinancialYear(r.param('year'));
        const body = await r.jsonObject();
        const cost = text(body, 'cost', false);
        if (cost !== undefined || body.rule !== undefined) {
          await setFundingModel(
            store,
            {
              year,
              ...(cost !== undefined ? { costPence: parsePounds(cost, 'cost') } : {}),
              ...(body.rule !== undefined ? { rule: body.rule } : {}),
            },
            r.actor,
          );
        }
        const source = body.source as Record<string, unknown> | undefined;
        if (source !== undefined) {
          if (typeof source !== 'object' || source === null)
            throw new KernelError('usage', '"source" must be an object', { where: { field: 'source' } });
          await addFundingSource(
            store,
            {
              year,
              name: text(source, 'name') ?? '',
              amountPence: parsePounds(text(source, 'amount') ?? '', 'amount'),
            },
            r.actor,
          );
        }
        return r.json({ model: await findFundingModel(store, year) });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/invoices',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      query: [
        { name: 'year', description: 'financial year' },
        { name: 'org', description: 'one organisation' },
        { name: 'state', description: INVOICE_STATES.join(', ') },
      ],
      summary: 'Invoices',
      handle: async (r) => {
        const year = r.query('year');
        const org = r.query('org');
        const state = r.query('state');
        if (state && !(INVOICE_STATES as readonly string[]).includes(state)) {
          throw new KernelError('usage', `"${state}" is not an invoice state`, { where: { field: 'state' } });
        }
        return r.json({
          invoices: await listInvoices(store, {
            ...(year ? { year } : {}),
            ...(org ? { org } : {}),
            ...(state ? { state: state as InvoiceState } : {}),
          }),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/draft',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: { contentType: 'application/json', description: '{"year": "2021/22"}' },
      summary: 'Draft invoices for every confirmed subscriber from the funding model',
      handle: async (r) =>
        r.json({ invoices: await draftInvoices(store, text(await r.jsonObject(), 'year') ?? '', r.actor) }),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/raise',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: { contentType: 'application/json', description: '{"year": "2021/22", "org": "optional"}' },
      summary: "Raise the year's draft invoices, numbering them without gaps",
      handle: async (r) => {
        const body = await r.jsonObject();
        const org = text(body, 'org', false);
        return r.json({
          invoices: await raiseInvoices(store, text(body, 'year') ?? '', r.actor, org ? { org } : {}),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/:number/pay',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      example: { number: 'KER-2122-0001' },
      pathParams: [{ name: 'number', description: 'invoice number' }],
      body: { contentType: 'application/json', description: '{"on": "2021-06-30"} (optional)' },
      summary: 'Record payment of a raised invoice',
      handle: async (r) =>
        r.json(await payInvoice(store, r.param('number'), r.actor, text(await r.jsonObject(), 'on', false))),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/:number/cancel',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      example: { number: 'KER-2122-0001' },
      pathParams: [{ name: 'number', description: 'invoice number' }],
      body: { contentType: 'application/json', description: '{"reason": "…", "replace": true}' },
      summary: 'Cancel a raised invoice, optionally raising its replacement',
      handle: async (r) => {
        const body = await r.jsonObject();
        return r.json(
          await cancelInvoice(store, r.param('number'), text(body, 'reason') ?? '', r.actor, {
            replace: body.replace === true,
          }),
        );
      },
    },

    // ---------------------------------------------------------------- agreements
    {
      method: 'GET',
      path: '/agreements',
      kind: 'page',
      access: ADMIN_IG,
      nav: 'Agreements',
      summary: 'Data sharing agreements: who shares what, for which purposes and months',
      handle: async (r) => {
        const org = controllerFor(r);
        return r.render('governance/agreements.njk', {
          title: 'Data sharing agreements',
          agreements: await listAgreements(store, org ? { org } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/agreements',
      kind: 'api',
      access: ADMIN_IG,
      tag: 'governance',
      query: [{ name: 'org', description: 'one organisation (IG leads always see their own)' }],
      summary: 'Data sharing agreements',
      handle: async (r) => {
        const org = controllerFor(r);
        return r.json({ agreements: await listAgreements(store, org ? { org } : {}) });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/agreements',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: {
        contentType: 'application/json',
        description:
          '{"org": "RWF", "datasets": ["apc"], "purposes": ["planning"], "from": "2019-04", "to": "2022-03"}',
      },
      summary: 'Record a signed data sharing agreement',
      handle: async (r) => {
        const body = await r.jsonObject();
        const purposes = strings(body, 'purposes');
        const signedBy = text(body, 'signedBy', false);
        return r.json(
          await createAgreement(
            store,
            {
              org: text(body, 'org') ?? '',
              datasets: strings(body, 'datasets'),
              from: text(body, 'from') ?? '',
              to: text(body, 'to') ?? '',
              ...(purposes.length ? { purposes } : {}),
              ...(signedBy ? { signedBy } : {}),
            },
            r.actor,
          ),
        );
      },
    },

    {
      method: 'POST',
      path: '/api/v1/agreements/:id/state',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      example: { id: 'DSA-RWF-001' },
      pathParams: [{ name: 'id', description: 'agreement id, e.g. DSA-RWF-001' }],
      body: { contentType: 'application/json', description: '{"state": "suspended" | "in-force" | "ended"}' },
      summary: 'Suspend, reinstate or end an agreement (loads and reads follow at once)',
      handle: async (r) => {
        const state = text(await r.jsonObject(), 'state') ?? '';
        return r.json(await setAgreementState(store, r.param('id'), state as AgreementState, r.actor));
      },
    },

    // ---------------------------------------------------------------- use cases
    {
      method: 'GET',
      path: '/use-cases',
      kind: 'page',
      access: 'signed-in',
      nav: 'Use cases',
      summary: 'The use-case register: purpose, legal basis, datasets, controllers and approvals',
      handle: async (r) =>
        r.render('governance/use-cases.njk', { title: 'Use cases', useCases: await listUseCases(store) }),
    },
    {
      method: 'GET',
      path: '/use-cases/:id',
      kind: 'page',
      access: 'signed-in',
      example: { id: 'UC-001' },
      summary: 'One use case with its approvals',
      handle: async (r) => {
        const useCase = await getUseCase(store, r.param('id'));
        const org = r.principal?.org ?? null;
        const canApprove =
          r.principal?.role === 'ig-lead' &&
          org !== null &&
          useCase.state === 'proposed' &&
          useCase.awaiting.includes(org);
        return r.render('governance/use-case.njk', { title: useCase.title, useCase, canApprove, org });
      },
    },
    {
      method: 'POST',
      path: '/use-cases/:id/approve',
      kind: 'page',
      access: ['ig-lead'],
      example: { id: 'UC-001' },
      summary: "Approve a use case for the IG lead's own organisation",
      handle: async (r) => {
        const org = controllerFor(r) ?? '';
        const useCase = await approveUseCase(store, r.param('id'), org, r.actor);
        return r.redirect(`/use-cases/${encodeURIComponent(useCase.id)}`);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/use-cases',
      kind: 'api',
      access: 'signed-in',
      tag: 'governance',
      summary: 'The use-case register',
      handle: async (r) => r.json({ useCases: await listUseCases(store) }),
    },
    {
      method: 'GET',
      path: '/api/v1/use-cases/:id',
      kind: 'api',
      access: 'signed-in',
      tag: 'governance',
      example: { id: 'UC-001' },
      pathParams: [{ name: 'id', description: 'use case id, e.g. UC-001' }],
      summary: 'One use case with its approvals',
      handle: async (r) => r.json(await getUseCase(store, r.param('id'))),
    },
    {
      method: 'POST',
      path: '/api/v1/use-cases',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: {
        contentType: 'application/json',
        description:
          '{"title", "summary", "sponsor", "purpose": "planning", "legalBasis", "datasets": [], "controllers": [], "users": ["role:analyst"], "start": "YYYY-MM-DD", "end": "YYYY-MM-DD", "months": "published (default) or loaded"}',
      },
      summary: 'Propose a use case',
      handle: async (r) => {
        const body = await r.jsonObject();
        const input: NewUseCase = {
          title: text(body, 'title') ?? '',
          summary: text(body, 'summary', false) ?? '',
          sponsor: text(body, 'sponsor') ?? '',
          purpose: text(body, 'purpose') ?? '',
          legalBasis: text(body, 'legalBasis') ?? '',
          datasets: strings(body, 'datasets'),
          controllers: strings(body, 'controllers'),
          users: strings(body, 'users'),
          start: text(body, 'start') ?? '',
          end: text(body, 'end') ?? '',
          ...(text(body, 'months', false) ? { months: text(body, 'months', false) as string } : {}),
        };
        return r.json(await proposeUseCase(store, input, r.actor), 201);
      },
    },
    useCaseAction('approve', {
      access: ADMIN_IG,
      body: {
        contentType: 'application/json',
        description: '{"org": "RWF"} — an IG lead always approves for their own organisation',
      },
      summary: "Record a controller's approval; approved once every controller has",
      handle: async (r) => {
        const own = r.principal?.role === 'ig-lead' ? controllerFor(r) : undefined;
        const org = own ?? text(await r.jsonObject(), 'org') ?? '';
        return r.json(await approveUseCase(store, r.param('id'), org, r.actor));
      },
    }),
    useCaseAction('activate', {
      access: ADMIN,
      summary: 'Start an approved use case: reads under it are allowed',
      handle: async (r) => r.json(await activateUseCase(store, r.param('id'), r.actor)),
    }),
    useCaseAction('close', {
      access: ADMIN,
      summary: 'Close a use case: reads under it stop',
      handle: async (r) => r.json(await closeUseCase(store, r.param('id'), r.actor)),
    }),
    useCaseAction('users', {
      access: ADMIN,
      body: { contentType: 'application/json', description: '{"users": ["role:analyst", "<user id>"]}' },
      summary: 'Set who may use a use case',
      handle: async (r) =>
        r.json(await setUseCaseUsers(store, r.param('id'), strings(await r.jsonObject(), 'users'), r.actor)),
    }),
    {
      method: 'GET',
      path: '/funding/letters/:code',
      kind: 'page',
      access: ADMIN,
      example: { code: 'RWF' },
      query: [{ name: 'year', description: 'financial year, e.g. 2021/22' }],
      summary: "The subscription letter to an organisation's chief executive, printable",
      handle: async (r) => {
        const [letter] = await subscriptionLetters(store, yearOf(r), {
          org: r.param('code'),
          nonce: nonceOf(r),
        });
        if (!letter) throw new KernelError('not-found', `No letter for ${r.param('code')}`);
        return htmlDocument(letter.html);
      },
    },

    // ---------------------------------------------------------------- opt-outs and transparency
    {
      method: 'GET',
      path: '/transparency',
      kind: 'page',
      access: ADMIN_IG,
      nav: 'Transparency',
      query: [
        { name: 'org', description: 'controller (administrators only; IG leads see their own)' },
        { name: 'from', description: 'first day, YYYY-MM-DD' },
        { name: 'to', description: 'last day, YYYY-MM-DD' },
      ],
      summary: "Who read a controller's data, when and under which use case; records lost to the opt-out",
      handle: async (r) => {
        const org = controllerFor(r);
        const from = r.query('from') || undefined;
        const to = r.query('to') || undefined;
        const asked = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
        // The page shows the latest 500 and says how many there are; the CSV has them all.
        const reads = org ? await accessesOf(store, { org, ...asked, limit: 500 }) : [];
        const totalReads = org ? await countAccessesOf(store, { org, ...asked }) : 0;
        const impact = org ? await optOutImpact(store, { controller: org, actor: r.actor }) : [];
        return r.render('governance/transparency.njk', {
          title: 'Transparency',
          org,
          orgs: r.principal?.role === 'admin' ? await listOrganisations(store) : [],
          reads,
          totalReads,
          impact,
          optOuts: await optOutStatus(store),
          filter: { from: from ?? '', to: to ?? '' },
        });
      },
    },
    {
      method: 'GET',
      path: '/transparency/reads.csv',
      kind: 'page',
      access: ADMIN_IG,
      query: [
        { name: 'org', description: 'controller (administrators only)' },
        { name: 'from', description: 'first day, YYYY-MM-DD' },
        { name: 'to', description: 'last day, YYYY-MM-DD' },
      ],
      summary: "Download who read a controller's data as CSV",
      handle: async (r) => {
        const org = controllerFor(r);
        if (!org)
          throw new KernelError('usage', 'Name the controller with ?org=', { where: { field: 'org' } });
        const from = r.query('from') || undefined;
        const to = r.query('to') || undefined;
        const reads = await accessesOf(store, {
          org,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          limit: 100_000,
        });
        return download(
          toCsv(
            [
              'accessed_at',
              'user',
              'role',
              'use_case',
              'use_case_title',
              'purpose',
              'dataset',
              'org_code',
              'opt_out_applied',
            ],
            reads.map((x) => [
              x.at,
              x.user,
              x.role,
              x.useCaseId,
              x.useCaseTitle,
              x.purpose,
              x.datasetId,
              x.org,
              x.optOutApplied ? 'yes' : 'no',
            ]),
          ),
          'text/csv; charset=utf-8',
          `reads-${org}.csv`,
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/transparency/reads',
      kind: 'api',
      access: ADMIN_IG,
      tag: 'governance',
      query: [
        { name: 'org', description: 'controller (administrators only; IG leads get their own)' },
        { name: 'from', description: 'first day, YYYY-MM-DD' },
        { name: 'to', description: 'last day, YYYY-MM-DD' },
      ],
      summary: "Who read a controller's data, when and under which use case",
      handle: async (r) => {
        const org = controllerFor(r);
        if (!org)
          throw new KernelError('usage', 'Name the controller with ?org=', { where: { field: 'org' } });
        const from = r.query('from') || undefined;
        const to = r.query('to') || undefined;
        return r.json({
          reads: await accessesOf(store, { org, ...(from ? { from } : {}), ...(to ? { to } : {}) }),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/optouts',
      kind: 'api',
      access: ADMIN_IG,
      tag: 'governance',
      summary: 'How many opt-out tokens are held, and when they were loaded',
      handle: async (r) => r.json(await optOutStatus(store)),
    },
    {
      method: 'POST',
      path: '/api/v1/optouts',
      kind: 'api',
      access: ADMIN,
      tag: 'governance',
      body: {
        contentType: 'application/json',
        description: '{"tokens": ["<64 hex>", …], "source": "name of the list"} — replaces the list',
      },
      summary: 'Replace the opt-out list with these tokens (never NHS numbers)',
      handle: async (r) => {
        const body = await r.jsonObject();
        const tokens = strings(body, 'tokens');
        if (tokens.length === 0)
          throw new KernelError('usage', '"tokens" must list at least one token', {
            where: { field: 'tokens' },
          });
        return r.json(await loadOptOutTokens(store, tokens, text(body, 'source', false) ?? 'api', r.actor));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/optouts/impact',
      kind: 'api',
      access: ADMIN_IG,
      tag: 'governance',
      query: [
        { name: 'useCase', description: 'one use case' },
        { name: 'org', description: 'controller (administrators only; IG leads get their own)' },
      ],
      summary: 'Records each use case loses to the opt-out, per dataset and controller',
      handle: async (r) => {
        const org = controllerFor(r);
        const useCaseId = r.query('useCase');
        return r.json({
          impact: await optOutImpact(store, {
            actor: r.actor,
            ...(org ? { controller: org } : {}),
            ...(useCaseId ? { useCaseId } : {}),
          }),
        });
      },
    },
  ];
}
