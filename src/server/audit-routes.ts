import { verifyAudit, type AuditFilter } from '../audit/audit-log.ts';
import { auditVisibleTo } from '../audit/audit-scope.ts';
import { KernelError } from '../errors.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WHO = ['admin', 'ig-lead'] as const;

const FILTERS = [
  { name: 'action', description: 'events whose action starts with this, e.g. auth. or load.completed' },
  { name: 'actor', description: 'exactly this actor, e.g. user:ana@nhs.net' },
  { name: 'target', description: 'exactly this target, e.g. org:RWF' },
  { name: 'since', description: 'on or after this date (YYYY-MM-DD)' },
  { name: 'until', description: 'before this date (YYYY-MM-DD)' },
  {
    name: 'limit',
    description: 'at most this many events (default 100, at most 1000)',
    type: 'integer' as const,
  },
];

function filterFrom(r: RouteRequest): AuditFilter {
  const filter: AuditFilter = {};
  for (const name of ['action', 'actor', 'target'] as const) {
    const value = r.query(name);
    if (value !== undefined) filter[name] = value.trim();
  }
  for (const name of ['since', 'until'] as const) {
    const value = r.query(name);
    if (value === undefined) continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
      throw new KernelError('usage', `"${value}" is not a date`, {
        where: { field: name },
        hint: 'Use YYYY-MM-DD',
      });
    }
    filter[name] = value;
  }
  const limit = r.query('limit');
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) {
      throw new KernelError('usage', `"${limit}" is not a number of events from 1 to 1000`, {
        where: { field: 'limit' },
      });
    }
    filter.limit = Number(limit);
  } else {
    filter.limit = 100;
  }
  return filter;
}

function readerOf(r: RouteRequest) {
  return { role: r.principal?.role ?? 'viewer', org: r.principal?.org ?? null };
}

/** The audit log and its verification: administrators, and IG leads for their own organisation. */
export function auditRoutes(deps: ServerDeps): RouteDeclaration[] {
  return [
    {
      method: 'GET',
      path: '/audit',
      kind: 'page',
      access: WHO,
      nav: 'Audit',
      summary: 'The audit log with filters, and whether its hash chain is intact',
      handle: async (r) => {
        let filter: AuditFilter;
        let errors: { text: string; href: string }[] = [];
        try {
          filter = filterFrom(r);
        } catch (error) {
          if (!(error instanceof KernelError)) throw error;
          errors = [{ text: error.message, href: `#${error.where?.field ?? 'action'}` }];
          filter = { limit: 100 };
        }
        const [events, verdict] = await Promise.all([
          auditVisibleTo(deps.store, readerOf(r), filter),
          verifyAudit(deps.store),
        ]);
        return r.render(
          'audit.njk',
          {
            title: 'Audit log',
            events,
            verdict,
            errors,
            filter: Object.fromEntries(FILTERS.map((f) => [f.name, r.query(f.name) ?? ''])),
          },
          errors.length ? 400 : 200,
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/audit',
      kind: 'api',
      access: WHO,
      summary: 'Audit events, newest first',
      query: FILTERS,
      handle: async (r) => r.json({ events: await auditVisibleTo(deps.store, readerOf(r), filterFrom(r)) }),
    },
    {
      method: 'GET',
      path: '/api/v1/audit/verify',
      kind: 'api',
      access: WHO,
      summary: 'Walks the hash chain: ok with the count, or the first broken event',
      handle: async (r) => r.json(await verifyAudit(deps.store)),
    },
  ];
}
