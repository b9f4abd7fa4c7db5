import { KernelError } from '../errors.ts';
import type { Queryable } from '../store/store.ts';
import { listAudit, type AuditEvent, type AuditFilter } from './audit-log.ts';

/** Who is reading the audit log. */
export interface AuditReader {
  role: string;
  /** the organisation an IG lead speaks for */
  org: string | null;
}

/** Events read per query while paging back through the log for one organisation. */
const PAGE = 2000;

/**
 * The audit events a reader may see, newest first (issue 23, M3). An administrator sees the
 * whole log. An IG lead sees what concerns their own organisation — events about it
 * (`org:X`), about its loads, done by its people (their sessions and API tokens), and reads of
 * data it controls or counts about it (`controllers` or `org` in the details) — and never
 * another controller's reads. Narrowed here rather than in a route, so every way in (the
 * portal, the API, a command) gets the same answer.
 */
export async function auditVisibleTo(
  store: Queryable,
  reader: AuditReader,
  filter: AuditFilter = {},
): Promise<AuditEvent[]> {
  if (reader.role === 'admin') return listAudit(store, filter);
  if (reader.role !== 'ig-lead') {
    throw new KernelError('forbidden', 'The audit log is for administrators and IG leads', {
      hint: 'Ask your IG lead for what you need from it',
    });
  }
  const org = reader.org;
  if (!org) {
    throw new KernelError('forbidden', 'Your IG lead account belongs to no organisation', {
      hint: 'Ask an administrator to set your organisation',
    });
  }
  const concerns = await concernsOf(store, org);
  const limit = filter.limit ?? 20;
  const out: AuditEvent[] = [];
  let beforeSeq = filter.beforeSeq;
  for (;;) {
    const page = await listAudit(store, {
      ...filter,
      limit: PAGE,
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
    });
    for (const event of page) {
      if (concerns(event)) out.push(event);
      if (out.length >= limit) return out;
    }
    if (page.length < PAGE) return out;
    beforeSeq = page.at(-1)?.seq;
  }
}

/** A test for "does this event concern organisation `org`", from its people and its loads. */
async function concernsOf(store: Queryable, org: string): Promise<(event: AuditEvent) => boolean> {
  const people = await store.query<{ id: string; email: string }>(
    'SELECT id, email FROM users WHERE org_code = $1',
    [org],
  );
  const actors = new Set(people.map((p) => `user:${p.email}`));
  if (people.length > 0) {
    const tokens = await store.query<{ id: string }>(
      `SELECT id FROM api_tokens WHERE user_id IN (${people.map((_, i) => `$${i + 1}`).join(', ')})`,
      people.map((p) => p.id),
    );
    for (const t of tokens) actors.add(`token:${t.id}`);
  }
  const loads = new Set(
    (await store.query<{ load_id: string }>('SELECT load_id FROM loads WHERE org_code = $1', [org])).map(
      (l) => l.load_id,
    ),
  );
  return (event) => {
    if (event.target === `org:${org}` || actors.has(event.actor)) return true;
    if (loads.has(event.target) || loads.has(event.target.replace(/^load:/, ''))) return true;
    const details = parseDetails(event.details);
    const controllers = details.controllers;
    if (Array.isArray(controllers) && controllers.includes(org)) return true;
    return details.org === org;
  };
}

function parseDetails(details: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(details);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
