import { KernelError } from '../errors.ts';
import type { Queryable } from '../store/store.ts';
import { countMatchingAudit, listAudit, type AuditEvent, type AuditFilter } from './audit-log.ts';

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
  return (await auditPage(store, reader, filter, { total: false })).events;
}

/** One page of the audit log a reader may see: its events, how many in all, the next page's cursor. */
export interface AuditPage {
  events: AuditEvent[];
  /** every event the filter matches that the reader may see */
  total: number;
  /** `beforeSeq` for the next (older) page, or null on the last */
  next: number | null;
}

/** A page of `auditVisibleTo`, with the total and the cursor for the next page. */
export async function auditPage(
  store: Queryable,
  reader: AuditReader,
  filter: AuditFilter = {},
  options: { total?: boolean } = {},
): Promise<AuditPage> {
  const limit = filter.limit ?? 20;
  const concerns = await readerScope(store, reader);
  if (concerns === 'everything') {
    const page = await listAudit(store, { ...filter, limit: limit + 1 });
    const events = page.slice(0, limit);
    return {
      events,
      total: options.total === false ? events.length : await countMatchingAudit(store, filter),
      next: page.length > limit ? (events.at(-1)?.seq ?? null) : null,
    };
  }
  // Narrowed by organisation, which SQL cannot see inside the details: page back through the
  // filter's events, keeping those that concern the reader (and counting them all for the total).
  const events: AuditEvent[] = [];
  let total = 0;
  let more = false;
  const { beforeSeq: start, ...conditions } = filter;
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await listAudit(store, {
      ...conditions,
      limit: PAGE,
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
    });
    for (const event of page) {
      if (!concerns(event)) continue;
      total += 1;
      if (start !== undefined && event.seq >= start) continue;
      if (events.length < limit) events.push(event);
      else more = true;
    }
    if (page.length < PAGE || (options.total === false && (more || events.length >= limit))) break;
    beforeSeq = page.at(-1)?.seq;
  }
  return { events, total, next: more ? (events.at(-1)?.seq ?? null) : null };
}

/** One event, if the reader may see it; otherwise not found, as for one that does not exist. */
export async function auditEventFor(store: Queryable, reader: AuditReader, seq: number): Promise<AuditEvent> {
  const concerns = await readerScope(store, reader);
  const [event] = await listAudit(store, { beforeSeq: seq + 1, limit: 1 });
  if (!event || event.seq !== seq || (concerns !== 'everything' && !concerns(event))) {
    throw new KernelError('not-found', `There is no audit event ${seq}`, {
      hint: 'Go back to the audit log',
    });
  }
  return event;
}

/** What a reader may see: everything (an administrator), or the events of their organisation. */
async function readerScope(
  store: Queryable,
  reader: AuditReader,
): Promise<'everything' | ((event: AuditEvent) => boolean)> {
  if (reader.role === 'admin') return 'everything';
  if (reader.role !== 'ig-lead') {
    throw new KernelError('forbidden', 'The audit log is for administrators and IG leads', {
      hint: 'Ask your IG lead for what you need from it',
    });
  }
  if (!reader.org) {
    throw new KernelError('forbidden', 'Your IG lead account belongs to no organisation', {
      hint: 'Ask an administrator to set your organisation',
    });
  }
  return concernsOf(store, reader.org);
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
    // `controller`: how opt-out impact views were recorded before they named `org`; the log keeps them.
    return details.org === org || details.controller === org;
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
