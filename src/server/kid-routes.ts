import { linkageByDataset, linkageReport } from '../kid/linkage-report.ts';
import { spineStatus } from '../kid/person-spine.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import { narrowToOwnOrg } from './loads-routes.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

/**
 * The Kent Integrated Dataset's pages (docs/kid.md). The linkage report is counts per
 * organisation and month, metadata like the coverage grid beside it: a provider sees only
 * its own organisation's rows.
 */
export function kidRoutes(deps: ServerDeps): RouteDeclaration[] {
  const read = (r: RouteRequest) =>
    linkageReport(deps.store, narrowToOwnOrg({ org: r.query('org')?.toUpperCase() }, r.principal));
  return [
    {
      method: 'GET',
      path: '/catalogue/linkage',
      kind: 'page',
      access: 'signed-in',
      summary: 'Linkage: how each dataset’s rows reach the person spine, by provider and month',
      handle: async (r) => {
        const [rows, status] = await Promise.all([read(r), spineStatus(deps.store)]);
        return r.render('kid/linkage.njk', {
          title: 'Linkage',
          groups: linkageByDataset(rows),
          status,
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
      handle: async (r) => r.json({ status: await spineStatus(deps.store), rows: await read(r) }),
    },
  ];
}
