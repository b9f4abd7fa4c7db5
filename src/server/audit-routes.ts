import { AUDIT_READERS, verifyAudit, type AuditFilter } from '../audit/audit-log.ts';
import { auditEventSchema, auditPageSchema, auditVerdictSchema } from '../audit/audit-schemas.ts';
import { auditEventFor, auditPage } from '../audit/audit-scope.ts';
import { KernelError } from '../errors.ts';
import { parseDate } from '../governance/governance-values.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WHO = AUDIT_READERS;

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
  {
    name: 'before',
    description: 'the `next` cursor of the page before, for older events',
    type: 'integer' as const,
  },
];

/**
 * An event's details as one short line for the list ("sessionsEnded: 1, tokensRevoked: 1"),
 * cut at `max` characters; the event's own page shows them whole.
 */
export function detailsSummary(details: string, max = 120): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(details);
  } catch {
    return details.slice(0, max);
  }
  if (parsed === null || typeof parsed !== 'object') return String(parsed).slice(0, max);
  // A hash or a long list says little in a list: its start is enough to tell events apart.
  const short = (value: unknown): string => {
    const text = Array.isArray(value)
      ? value.join(' ')
      : typeof value === 'object' && value !== null
        ? JSON.stringify(value)
        : String(value);
    return text.length > 24 ? `${text.slice(0, 12)}…` : text;
  };
  const text = Object.entries(parsed as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${short(value)}`)
    .join(', ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function filterFrom(r: RouteRequest): AuditFilter {
  const filter: AuditFilter = {};
  for (const name of ['action', 'actor', 'target'] as const) {
    const value = r.query(name);
    if (value !== undefined) filter[name] = value.trim();
  }
  for (const name of ['since', 'until'] as const) {
    const value = r.query(name);
    if (value === undefined) continue;
    // parseDate, not Date.parse: that takes 2021-02-30 and reads it as 2 March.
    filter[name] = parseDate(value, name);
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
  const before = r.query('before');
  if (before !== undefined) {
    if (!/^\d+$/.test(before)) {
      throw new KernelError('usage', `"${before}" is not a page of the audit log`, {
        where: { field: 'before' },
      });
    }
    filter.beforeSeq = Number(before);
  }
  return filter;
}

function seqOf(r: RouteRequest): number {
  const raw = r.param('seq');
  if (!/^\d{1,15}$/.test(raw))
    throw new KernelError('not-found', `There is no audit event ${raw.slice(0, 20)}`);
  return Number(raw);
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
        const [page, verdict] = await Promise.all([
          auditPage(deps.store, readerOf(r), filter),
          verifyAudit(deps.store),
        ]);
        const asked = Object.fromEntries(
          FILTERS.filter((f) => f.name !== 'before')
            .map((f) => [f.name, r.query(f.name) ?? ''])
            .filter(([, v]) => v),
        );
        return r.render(
          'audit.njk',
          {
            title: 'Audit log',
            events: page.events.map((e) => ({ ...e, summary: detailsSummary(e.details) })),
            total: page.total,
            older: page.next
              ? `/audit?${new URLSearchParams({ ...asked, before: String(page.next) }).toString()}`
              : null,
            newest: filter.beforeSeq !== undefined ? `/audit?${new URLSearchParams(asked).toString()}` : null,
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
      response: auditPageSchema,
      handle: async (r) => r.json(await auditPage(deps.store, readerOf(r), filterFrom(r))),
    },
    {
      method: 'GET',
      path: '/audit/events/:seq',
      kind: 'page',
      access: WHO,
      summary: 'One audit event in full: its details and its place in the hash chain',
      example: { seq: '1' },
      handle: async (r) => {
        const event = await auditEventFor(deps.store, readerOf(r), seqOf(r));
        return r.render('audit-event.njk', {
          title: `Audit event ${event.seq}`,
          event,
          details: JSON.stringify(JSON.parse(event.details), null, 2),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/audit/events/:seq',
      kind: 'api',
      access: WHO,
      summary: 'One audit event in full',
      pathParams: [{ name: 'seq', description: 'the event’s sequence number' }],
      example: { seq: '1' },
      response: auditEventSchema,
      handle: async (r) => r.json(await auditEventFor(deps.store, readerOf(r), seqOf(r))),
    },
    {
      method: 'GET',
      path: '/api/v1/audit/verify',
      kind: 'api',
      access: WHO,
      summary: 'Walks the hash chain: ok with the count, or the first broken event',
      response: auditVerdictSchema,
      handle: async (r) => r.json(await verifyAudit(deps.store)),
    },
  ];
}
