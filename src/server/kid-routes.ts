import { HES_2018 } from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import { controlConditionSummary, readConditionSummary } from '../kid/conditions.ts';
import { controlFrailtySummary, readFrailtySummary } from '../kid/frailty.ts';
import {
  conditionSummarySchema,
  frailtySummarySchema,
  linkageAnswerSchema,
  modelSummarySchema,
  riskModelSchema,
} from '../kid/kid-schemas.ts';
import { controlModelSummary, readModelSummary } from '../kid/person-model.ts';
import { controlLinkageRow, linkageByDataset, linkageReport } from '../kid/linkage-report.ts';
import { heldBackNote, modelDateSeenBy } from '../kid/model-date.ts';
import { spineStatus, type SpineStatus } from '../kid/person-spine.ts';
import { controlRiskModel, readRiskModel } from '../kid/risk.ts';
import { populationHealthRoutes } from './population-health-routes.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import { auditedMetadataPolicy, narrowToOwnOrg } from './loads-routes.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';
import { readAccessOf, type ReadAccess } from '../governance/access-policy.ts';
import type { Store } from '../store/store.ts';

/**
 * The Kent Integrated Dataset's pages (docs/kid.md). The linkage report is counts per
 * organisation and month, metadata like the coverage grid beside it: a provider sees only
 * its own organisation's rows.
 */
export function kidRoutes(deps: ServerDeps): RouteDeclaration[] {
  // Counts of patients' records by provider and month: disclosure-controlled for all but an
  // admin and a provider's own (issue 23, H1), and every read audited.
  const read = async (r: RouteRequest) => {
    const query = narrowToOwnOrg({ org: r.query('org')?.trim().toUpperCase() || undefined }, r.principal);
    const rows = await linkageReport(deps.store, query);
    const { policy, note } = await auditedMetadataPolicy(deps, r, 'linkage', { org: query.org });
    return { rows, policy, note };
  };
  // The spine's status; a provider is told of its own organisation's feeds only (modelDateSeenBy).
  const statusFor = async (r: RouteRequest): Promise<SpineStatus> => {
    const status = await spineStatus(deps.store);
    const org = r.principal?.role === 'provider' ? (r.principal.org ?? '-') : null;
    return { ...status, modelDate: modelDateSeenBy(status.modelDate, org) };
  };
  return [
    {
      method: 'GET',
      path: '/catalogue/linkage',
      kind: 'page',
      access: 'signed-in',
      summary: 'Linkage: how each dataset’s rows reach the person spine, by provider and month',
      handle: async (r) => {
        const [{ rows, policy, note }, status] = await Promise.all([read(r), statusFor(r)]);
        return r.render('kid/linkage.njk', {
          title: 'Linkage',
          groups: linkageByDataset(rows).map((g) => ({
            dataset: g.dataset,
            rows: g.rows.map((row) => controlLinkageRow(row, policy)),
            total: controlLinkageRow(g.total, policy),
          })),
          disclosureNote: note,
          status,
          heldBack: heldBackNote(status.modelDate),
          titles: Object.fromEntries(listDatasets().map((d) => [d.id, d.title])),
          ownOrg: r.principal?.role === 'provider' ? r.principal.org : null,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/kid/linkage',
      kind: 'api',
      access: 'signed-in',
      tag: 'catalogue',
      summary:
        'The linkage report: rows, tokens, matches and unmatched rows by reason (a provider sees only its own)',
      query: [{ name: 'org', description: 'one organisation (ODS code)' }],
      response: linkageAnswerSchema,
      handle: async (r) => {
        const { rows, policy } = await read(r);
        return r.json({
          status: await statusFor(r),
          rows: rows.map((row) => controlLinkageRow(row, policy)),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/kid/conditions',
      kind: 'api',
      access: ['admin', 'provider', 'analyst', 'ig-lead', 'viewer'],
      tag: 'analytics',
      summary:
        'Long-term conditions on a day for the whole system, read under a use case that covers pmi and gp-events, disclosure-controlled',
      query: [
        { name: 'useCase', description: 'the use case to read under (required)' },
        { name: 'date', description: 'the day, YYYY-MM-DD (required)' },
      ],
      response: conditionSummarySchema,
      handle: async (r) => {
        const principal = r.principal;
        const useCaseId = r.query('useCase');
        const day = r.query('date');
        if (!principal) throw new KernelError('unauthenticated', 'Sign in to read the model');
        if (!useCaseId || !day)
          throw new KernelError('usage', 'Give the use case and the day', {
            where: { field: useCaseId ? 'date' : 'useCase' },
            hint: 'e.g. /api/v1/kid/conditions?useCase=UC-001&date=2021-03-31',
          });
        const summary = await readConditionSummary(
          deps.store,
          readAccessOf(principal, useCaseId, r.actor),
          day,
        );
        // Whole-system figures combine every controller's data: controlled for every role.
        return r.json(controlConditionSummary(summary, HES_2018));
      },
    },
    modelRoute(deps, {
      name: 'frailty',
      summary:
        'Frailty (electronic Frailty Index) of people aged 65+ on the model’s date for the whole system, read under a use case that covers pmi and gp-events, disclosure-controlled',
      response: frailtySummarySchema,
      read: async (store, access) => controlFrailtySummary(await readFrailtySummary(store, access), HES_2018),
    }),
    modelRoute(deps, {
      name: 'model',
      summary:
        'The person-level model: people by Bridges to Health segment and cost per setting over its 12 months, read under a use case that covers every source of its fields, disclosure-controlled',
      response: modelSummarySchema,
      read: async (store, access) => controlModelSummary(await readModelSummary(store, access), HES_2018),
    }),
    modelRoute(deps, {
      name: 'risk',
      summary:
        'The emergency admission risk model: coefficients, AUROC and calibration by decile (aggregate only), read under a use case that covers the feeds it derives from',
      response: riskModelSchema,
      read: async (store, access) => controlRiskModel(await readRiskModel(store, access), HES_2018),
    }),
    ...populationHealthRoutes(deps),
  ];
}

/**
 * A whole-system read of one part of the model, under the use case the caller names. Its
 * figures combine every controller's data, so the answer is disclosure-controlled for every
 * role (each `read` applies the control).
 */
function modelRoute(
  deps: ServerDeps,
  spec: {
    name: string;
    summary: string;
    response: RouteDeclaration['response'];
    read: (store: Store, access: ReadAccess) => Promise<unknown>;
  },
): RouteDeclaration {
  return {
    method: 'GET',
    path: `/api/v1/kid/${spec.name}`,
    kind: 'api',
    access: ['admin', 'provider', 'analyst', 'ig-lead', 'viewer'],
    tag: 'analytics',
    summary: spec.summary,
    query: [{ name: 'useCase', description: 'the use case to read under (required)' }],
    response: spec.response,
    handle: async (r) => {
      const principal = r.principal;
      const useCaseId = r.query('useCase');
      if (!principal) throw new KernelError('unauthenticated', 'Sign in to read the model');
      if (!useCaseId)
        throw new KernelError('usage', 'Give the use case to read the model under', {
          where: { field: 'useCase' },
          hint: `e.g. /api/v1/kid/${spec.name}?useCase=UC-001`,
        });
      return r.json(await spec.read(deps.store, readAccessOf(principal, useCaseId, r.actor)));
    },
  };
}
