import {
  describePolicy,
  metadataPolicyFor,
  type DisclosurePolicy,
  type Viewer,
} from '../analytics/disclosure-control.ts';
import { auditMetadataRead } from '../audit/metadata-read.ts';
import { KernelError } from '../errors.ts';
import { parsePeriod } from '../months.ts';
import { controlLoad, type ControlledLoad } from '../ingest/load-disclosure.ts';
import {
  getLoadReport,
  LOAD_STATUSES,
  pageOfLoads,
  type LoadDetails,
  type LoadFilter,
  type LoadStatus,
} from '../ingest/load-history.ts';
import { controlledLoadSchema, loadPageSchema } from '../ingest/load-schemas.ts';
import type { Principal, RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

/**
 * Who may see load history: a provider only its own organisation's; the programme team
 * for the monthly update's evidence. Counts are disclosure-controlled for all but an admin
 * and a provider's own (`metadataPolicyFor`).
 */
export const LOADS_ACCESS = ['admin', 'provider', 'analyst', 'ig-lead', 'programme'] as const;

const STATUSES: readonly LoadStatus[] = LOAD_STATUSES;

export const LOAD_FILTERS = [
  { name: 'org', description: 'sending organisation (ODS code); a provider always sees only its own' },
  { name: 'dataset', description: 'dataset id, e.g. msds-delivery' },
  { name: 'period', description: 'reporting month YYYY-MM' },
  { name: 'status', description: `one of ${STATUSES.join(', ')}` },
  { name: 'limit', description: 'loads per page, 1 to 500 (default 100)', type: 'integer' as const },
  { name: 'before', description: 'the `next` cursor of the page before, for the next (older) page' },
];

/** Loads a page shows unless asked for another number. */
const PAGE_SIZE = 100;

/** The filter a request asks for, narrowed by who is asking. */
export function loadFilterFor(r: RouteRequest): LoadFilter {
  const filter: LoadFilter = { limit: PAGE_SIZE };
  const limit = r.query('limit');
  if (limit !== undefined && limit !== '') {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 500) {
      throw new KernelError('usage', `"${limit}" is not a number of loads from 1 to 500`, {
        where: { field: 'limit' },
      });
    }
    filter.limit = Number(limit);
  }
  const before = r.query('before');
  if (before) filter.before = before;
  const org = r.query('org')?.trim().toUpperCase();
  if (org) filter.org = org;
  const dataset = r.query('dataset')?.trim();
  if (dataset) filter.dataset = dataset;
  const period = r.query('period')?.trim();
  if (period) filter.period = parsePeriod(period);
  const status = r.query('status');
  if (status) {
    if (!(STATUSES as readonly string[]).includes(status)) {
      throw new KernelError('usage', `"${status}" is not a load status`, {
        where: { field: 'status' },
        hint: `Use one of ${STATUSES.join(', ')}`,
      });
    }
    filter.status = status as LoadStatus;
  }
  return narrowToOwnOrg(filter, r.principal);
}

/** A provider's view is its own organisation's, whatever it asks for. */
export function narrowToOwnOrg<T extends { org?: string }>(filter: T, principal: Principal | null): T {
  if (principal?.role === 'provider') return { ...filter, org: principal.org ?? '-' };
  return filter;
}

/** Who is looking, for disclosure control. */
export function viewerOf(principal: Principal | null): Viewer {
  return { role: principal?.role ?? 'viewer', org: principal?.org ?? null };
}

/**
 * The disclosure rule for this person reading counts about `filter.org` (every organisation
 * when absent), and the read audited as `metadata.read` (issue 23, H1): one place for the
 * loads, coverage and linkage reads.
 */
export async function auditedMetadataPolicy(
  deps: ServerDeps,
  r: RouteRequest,
  target: string,
  filter: Record<string, string | undefined> & { org?: string | undefined },
): Promise<{ policy: DisclosurePolicy; note: string | null }> {
  const viewer = viewerOf(r.principal);
  const policy = metadataPolicyFor(viewer, filter.org);
  await auditMetadataRead(deps.store, {
    actor: r.actor,
    role: viewer.role,
    target,
    filter,
    disclosure: policy.id,
  });
  return { policy, note: policy.id === 'none' ? null : describePolicy(policy) };
}

/** The plain-English rule for counts shown under `metadataPolicyFor`, or null when exact. */
export function metadataDisclosureNote(r: RouteRequest, org: string | undefined): string | null {
  const policy = metadataPolicyFor(viewerOf(r.principal), org);
  return policy.id === 'none' ? null : describePolicy(policy);
}

/** A page of load history as this person may see it (counts controlled), the read audited. */
export async function readLoads(
  deps: ServerDeps,
  r: RouteRequest,
  filter: LoadFilter,
): Promise<{ loads: ControlledLoad[]; total: number; next: string | null }> {
  const page = await pageOfLoads(deps.store, filter);
  const loads = page.loads.map((load) => controlLoad(load, viewerOf(r.principal)));
  const { org, dataset, period, status } = filter;
  await auditedMetadataPolicy(deps, r, 'loads', { org, dataset, period, status });
  return { loads, total: page.total, next: page.next };
}

/** One load's report as this person may see it, the read audited. */
async function readLoad(deps: ServerDeps, r: RouteRequest, id: string): Promise<ControlledLoad> {
  const load = controlLoad(await visibleLoad(deps, r, id), viewerOf(r.principal));
  await auditedMetadataPolicy(deps, r, `load:${load.loadId}`, {
    org: load.org,
    dataset: load.dataset,
    period: load.period ?? undefined,
  });
  return load;
}

/** One load, if this person may see it; otherwise not found (no hint that it exists). */
export async function visibleLoad(deps: ServerDeps, r: RouteRequest, id: string): Promise<LoadDetails> {
  // One answer, word for word, for a load that does not exist and for another
  // organisation's (issue 23: a different hint told a provider the load existed).
  const hidden = new KernelError('not-found', `There is no load ${id}`, {
    hint: 'Go back to the list of loads',
  });
  let load: LoadDetails;
  try {
    load = await getLoadReport(deps.store, id);
  } catch (error) {
    throw error instanceof KernelError && error.code === 'not-found' ? hidden : error;
  }
  if (r.principal?.role === 'provider' && load.org !== r.principal.org) throw hidden;
  return load;
}

/** Load history and each load's report. */
export function loadsRoutes(deps: ServerDeps): RouteDeclaration[] {
  return [
    {
      method: 'GET',
      path: '/loads',
      kind: 'page',
      access: LOADS_ACCESS,
      nav: 'Loads',
      summary: 'Load history with filters',
      handle: async (r) => {
        let errors: { text: string; href: string }[] = [];
        let filter: LoadFilter;
        try {
          filter = loadFilterFor(r);
        } catch (error) {
          if (!(error instanceof KernelError)) throw error;
          errors = [{ text: error.message, href: `#${error.where?.field ?? 'org'}` }];
          filter = narrowToOwnOrg<LoadFilter>({ limit: PAGE_SIZE }, r.principal);
        }
        const { loads, total, next } = await readLoads(deps, r, filter);
        const asked = Object.fromEntries(
          LOAD_FILTERS.filter((f) => f.name !== 'before').map((f) => [f.name, r.query(f.name) ?? '']),
        );
        const older = next
          ? `/loads?${new URLSearchParams({ ...Object.fromEntries(Object.entries(asked).filter(([, v]) => v)), before: next }).toString()}`
          : null;
        return r.render(
          'loads.njk',
          {
            title: 'Loads',
            loads,
            total,
            older,
            first: filter.before
              ? `/loads?${new URLSearchParams(Object.fromEntries(Object.entries(asked).filter(([, v]) => v))).toString()}`
              : null,
            disclosureNote: metadataDisclosureNote(r, filter.org),
            errors,
            statuses: STATUSES,
            filter: Object.fromEntries(LOAD_FILTERS.map((f) => [f.name, r.query(f.name) ?? ''])),
            ownOrg: r.principal?.role === 'provider' ? r.principal.org : null,
          },
          errors.length ? 400 : 200,
        );
      },
    },
    {
      method: 'GET',
      path: '/loads/:id',
      kind: 'page',
      access: LOADS_ACCESS,
      summary: 'One load’s report: findings, completeness and reconciliation',
      example: { id: 'ld-none' },
      handle: async (r) => {
        const load = await readLoad(deps, r, r.param('id'));
        return r.render('load-report.njk', {
          title: `Load ${load.loadId}`,
          load,
          disclosureNote: metadataDisclosureNote(r, load.org),
          uploaded: r.query('uploaded') === '1',
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/loads',
      kind: 'api',
      access: LOADS_ACCESS,
      summary: 'Load history, newest first (a provider sees only its own organisation’s)',
      query: LOAD_FILTERS,
      response: loadPageSchema,
      handle: async (r) => r.json(await readLoads(deps, r, loadFilterFor(r))),
    },
    {
      method: 'GET',
      path: '/api/v1/loads/:id',
      kind: 'api',
      access: LOADS_ACCESS,
      summary: 'One load’s report',
      pathParams: [{ name: 'id', description: 'the load id, e.g. ld-…' }],
      example: { id: 'ld-none' },
      response: controlledLoadSchema,
      handle: async (r) => r.json(await readLoad(deps, r, r.param('id'))),
    },
  ];
}
