/**
 * Governance pages and API: members and onboarding, subscriptions and invoices,
 * agreements, use cases and their approvals, opt-outs, transparency for IG leads, and the
 * public site at /public (no sign-in). Thin: every handler calls src/governance/.
 */
import { KernelError } from '../errors.ts';
import { listAgreements } from '../governance/agreements.ts';
import { findFundingModel, yearShares } from '../governance/funding-model.ts';
import { formatPounds, parseFinancialYear } from '../governance/governance-values.ts';
import {
  invoiceHtml,
  invoicePdf,
  invoicesCsv,
  subscriptionLetters,
} from '../governance/invoice-documents.ts';
import { getInvoice, listInvoices } from '../governance/invoices.ts';
import { completeStep, onboardingOverview, onboardingStatus } from '../governance/onboarding.ts';
import { optOutStatus } from '../governance/optouts.ts';
import { getOrganisation, listOrganisations } from '../governance/organisations.ts';
import { listSubscriptions } from '../governance/subscriptions.ts';
import { countAccessesOf, publicSite, readsCsv } from '../governance/transparency.ts';
import { getUseCase, listUseCases } from '../governance/use-cases.ts';
import { controllerScope } from '../governance/controller-scope.ts';
import {
  approveUseCaseOperation,
  controllerQueriesOperation,
  controllerReadsOperation,
  GOVERNANCE_OPERATIONS,
  optOutImpactOperation,
} from '../governance/governance-operations.ts';
import { FUNDING_OPERATIONS } from '../governance/funding-operations.ts';
import { releasedOutputs } from '../outputs/output-requests.ts';
import { controllerReidRequests, reidMonthlyCounts } from '../reid/reid-requests.ts';
import { download } from './download-response.ts';
import { htmlDocument } from './document-response.ts';
import { formText, runThenRedirect } from './form-actions.ts';
import { operationRoutes } from './operation-routes.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';
import { pagesFor } from './page-helpers.ts';
import { givenFields } from '../operations/operation.ts';

const ADMIN = ['admin'] as const;
const ADMIN_IG = ['admin', 'ig-lead'] as const;
/** Funding is read by the programme team too: the monthly update links to it as evidence. */
const FUNDING_READERS = ['admin', 'programme'] as const;
const DEFAULT_YEAR = '2021/22';
/** The days a transparency page or download covers. */
const DAYS_QUERY = [
  { name: 'from', description: 'first day, YYYY-MM-DD' },
  { name: 'to', description: 'last day, YYYY-MM-DD' },
] as const;

function yearOf(r: RouteRequest, raw?: string): string {
  return parseFinancialYear(raw ?? r.query('year') ?? DEFAULT_YEAR);
}

/** The controller a page asks about: an IG lead always gets their own (src/governance/controller-scope.ts). */
function controllerFor(r: RouteRequest): string | undefined {
  if (!r.principal) return undefined;
  return controllerScope(r.principal, r.query('org'));
}

const page = pagesFor('signed-in');
export function governanceRoutes(deps: ServerDeps): RouteDeclaration[] {
  const { store } = deps;
  return [
    // ---------------------------------------------------------------- public site
    page({
      method: 'GET',
      path: '/public',
      access: 'public',
      nav: 'About the data',
      summary: 'What Kernel holds, for what and by whom, and how to opt out (no sign-in)',
      handle: async (r) =>
        r.render('governance/public.njk', {
          title: 'About the data Kernel holds',
          site: await publicSite(store),
          released: await releasedOutputs(store),
          reidMonths: await reidMonthlyCounts(store),
        }),
    }),

    // ---------------------------------------------------------------- members and onboarding
    page({
      method: 'GET',
      path: '/organisations',
      nav: 'Members',
      summary: "Member organisations and every member's onboarding progress at a glance",
      handle: async (r) => {
        const [orgs, progress] = [await listOrganisations(store), await onboardingOverview(store)];
        return r.render('governance/organisations.njk', { title: 'Member organisations', orgs, progress });
      },
    }),
    page({
      method: 'GET',
      path: '/organisations/:code',
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
    }),
    page({
      method: 'POST',
      path: '/organisations/:code/onboarding',
      access: ADMIN,
      example: { code: 'RWF' },
      summary: 'Mark the next onboarding step done',
      handle: async (r) => {
        const form = await r.form();
        const step = formText(form.step);
        const note = typeof form.note === 'string' ? form.note : undefined;
        const status = await completeStep(store, r.param('code'), step, r.actor, note);
        return r.redirect(
          `/organisations/${encodeURIComponent(status.org)}?done=${encodeURIComponent(step)}`,
        );
      },
    }),

    // ---------------------------------------------------------------- subscriptions, funding, invoices
    page({
      method: 'GET',
      path: '/funding',
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
    }),
    page({
      method: 'GET',
      path: '/funding/invoices.csv',
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
        return download(await invoicesCsv(store, await listInvoices(store, { year })), {
          type: 'text/csv; charset=utf-8',
          name: `invoices-${year.replace('/', '-')}.csv`,
        });
      },
    }),
    page({
      method: 'GET',
      path: '/funding/invoices/:number',
      access: FUNDING_READERS,
      example: { number: 'KER-2122-0001' },
      summary: 'One invoice, printable',
      handle: async (r) =>
        htmlDocument(
          await invoiceHtml(store, await getInvoice(store, r.param('number')), { nonce: r.nonce }),
        ),
    }),
    page({
      method: 'GET',
      path: '/funding/invoices/:number/pdf',
      access: FUNDING_READERS,
      example: { number: 'KER-2122-0001' },
      summary: 'One invoice as PDF',
      handle: async (r) => {
        const invoice = await getInvoice(store, r.param('number'));
        return download(await invoicePdf(store, invoice), {
          type: 'application/pdf',
          name: `${invoice.number ?? 'draft-invoice'}.pdf`,
        });
      },
    }),

    // ---------------------------------------------------------------- agreements
    page({
      method: 'GET',
      path: '/agreements',
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
    }),

    // ---------------------------------------------------------------- use cases
    page({
      method: 'GET',
      path: '/use-cases',
      nav: 'Use cases',
      summary: 'The use-case register: purpose, legal basis, datasets, controllers and approvals',
      handle: async (r) =>
        r.render('governance/use-cases.njk', { title: 'Use cases', useCases: await listUseCases(store) }),
    }),
    page({
      method: 'GET',
      path: '/use-cases/:id',
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
    }),
    page({
      method: 'POST',
      path: '/use-cases/:id/approve',
      access: ['ig-lead'],
      example: { id: 'UC-001' },
      summary: "Approve a use case for the IG lead's own organisation",
      handle: runThenRedirect(
        approveUseCaseOperation,
        (r) => ({ id: r.param('id') }),
        (useCase) => `/use-cases/${encodeURIComponent(useCase.id)}`,
      ),
    }),
    page({
      method: 'GET',
      path: '/funding/letters/:code',
      access: ADMIN,
      example: { code: 'RWF' },
      query: [{ name: 'year', description: 'financial year, e.g. 2021/22' }],
      summary: "The subscription letter to an organisation's chief executive, printable",
      handle: async (r) => {
        const [letter] = await subscriptionLetters(store, yearOf(r), {
          org: r.param('code'),
          nonce: r.nonce,
        });
        if (!letter) throw new KernelError('not-found', `No letter for ${r.param('code')}`);
        return htmlDocument(letter.html);
      },
    }),

    // ---------------------------------------------------------------- opt-outs and transparency
    page({
      method: 'GET',
      path: '/transparency',
      access: ADMIN_IG,
      nav: 'Transparency',
      query: [
        { name: 'org', description: 'controller (administrators only; IG leads see their own)' },
        ...DAYS_QUERY,
      ],
      summary: "Who read a controller's data, when and under which use case; records lost to the opt-out",
      handle: async (r) => {
        const org = controllerFor(r);
        const asked = givenFields({ from: r.query('from'), to: r.query('to') });
        // The page shows the latest 500 and says how many there are; the CSV has them all.
        const reads = org ? (await r.run(controllerReadsOperation, { org, ...asked, limit: 500 })).reads : [];
        const totalReads = org ? await countAccessesOf(store, { org, ...asked }) : 0;
        const impact = org ? (await r.run(optOutImpactOperation, { org })).impact : [];
        const queries = org ? (await r.run(controllerQueriesOperation, { org, limit: 100 })).queries : [];
        return r.render('governance/transparency.njk', {
          title: 'Transparency',
          org,
          orgs: r.principal?.role === 'admin' ? await listOrganisations(store) : [],
          reads,
          totalReads,
          impact,
          queries,
          reidRequests: org ? await controllerReidRequests(store, org) : [],
          optOuts: await optOutStatus(store),
          filter: { from: asked.from ?? '', to: asked.to ?? '' },
        });
      },
    }),
    page({
      method: 'GET',
      path: '/transparency/reads.csv',
      access: ADMIN_IG,
      query: [{ name: 'org', description: 'controller (administrators only)' }, ...DAYS_QUERY],
      summary: "Download who read a controller's data as CSV",
      handle: async (r) => {
        const { org, reads } = await r.run(controllerReadsOperation, {
          org: r.query('org'),
          ...givenFields({ from: r.query('from'), to: r.query('to') }),
          limit: 100_000,
        });
        return download(readsCsv(reads), { type: 'text/csv; charset=utf-8', name: `reads-${org}.csv` });
      },
    }),
    ...operationRoutes([...GOVERNANCE_OPERATIONS, ...FUNDING_OPERATIONS], deps),
  ];
}
