/**
 * Transparency: for each data controller, who read its data, when and under which use
 * case (from `data_access_log`, written by the access policy with every read's audit
 * event); and, for the public, what Kernel holds, for what and by whom.
 */
import { KernelError } from '../errors.ts';
import { toCsv } from '../files/spreadsheet-csv.ts';
import type { Queryable } from '../store/store.ts';
import { listAgreements } from './agreements.ts';
import { datasetSpec } from './datasets.ts';
import { parseDate, parseOrgCode } from './governance-values.ts';
import { getOrganisation, listOrganisations } from './organisations.ts';
import { findUseCase, listUseCases } from './use-cases.ts';

export interface AccessRecord {
  at: string;
  userId: string;
  /** the reader's sign-in email, where the account still exists */
  user: string;
  role: string;
  useCaseId: string;
  useCaseTitle: string;
  purpose: string;
  datasetId: string;
  org: string;
  optOutApplied: boolean;
}

type AccessFilter = { org: string; from?: string; to?: string; useCaseId?: string; limit?: number };

/**
 * The filter's conditions on `data_access_log l`, for a listing and its count alike. A
 * controller not registered, a use case not in the register or days that end before they
 * start are refused: each would answer no reads, as if there were none.
 */
async function accessConditions(
  q: Queryable,
  filter: AccessFilter,
): Promise<{ where: string[]; params: (string | number)[] }> {
  const params: (string | number)[] = [(await getOrganisation(q, parseOrgCode(filter.org))).code];
  const where = ['l.org_code = $1'];
  const from = filter.from ? parseDate(filter.from, 'from') : undefined;
  const to = filter.to ? parseDate(filter.to, 'to') : undefined;
  if (from && to && to < from) {
    throw new KernelError('usage', `The days asked for would end (${to}) before they start (${from})`, {
      where: { field: 'to' },
      hint: 'Give the first day as from and the last as to, e.g. from 2021-04-01 to 2021-04-30',
    });
  }
  if (from) {
    params.push(from);
    where.push(`l.accessed_at >= $${params.length}`);
  }
  if (to) {
    // Inclusive of the whole last day: times are ISO text, so compare with the next day's start.
    const next = new Date(`${to}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    params.push(next.toISOString().slice(0, 10));
    where.push(`l.accessed_at < $${params.length}`);
  }
  if (filter.useCaseId) {
    const useCase = await findUseCase(q, filter.useCaseId);
    if (!useCase) {
      throw new KernelError('not-found', `No use case ${filter.useCaseId.trim()}`, {
        where: { field: 'useCase' },
        hint: 'See `kernel usecases list`',
      });
    }
    params.push(useCase.id);
    where.push(`l.use_case_id = $${params.length}`);
  }
  return { where, params };
}

/** How many reads of `org`'s data the filter matches (its limit aside). */
export async function countAccessesOf(q: Queryable, filter: AccessFilter): Promise<number> {
  const { where, params } = await accessConditions(q, filter);
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM data_access_log l WHERE ${where.join(' AND ')}`,
    params,
  );
  return Number(row?.n ?? 0);
}

/** Reads of `org`'s data, newest first. */
export async function accessesOf(q: Queryable, filter: AccessFilter): Promise<AccessRecord[]> {
  const { where, params } = await accessConditions(q, filter);
  params.push(Math.min(Math.max(filter.limit ?? 1000, 1), 100_000));
  const rows = await q.query<{
    accessed_at: string;
    user_id: string;
    email: string | null;
    user_role: string;
    use_case_id: string;
    title: string | null;
    purpose: string | null;
    dataset_id: string;
    org_code: string;
    opt_out_applied: boolean;
  }>(
    `SELECT l.accessed_at, l.user_id, u.email, l.user_role, l.use_case_id, c.title, c.purpose, l.dataset_id, l.org_code, l.opt_out_applied
     FROM data_access_log l
     LEFT JOIN users u ON u.id = l.user_id
     LEFT JOIN use_cases c ON c.use_case_id = l.use_case_id
     WHERE ${where.join(' AND ')}
     ORDER BY l.accessed_at DESC, l.dataset_id
     LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    at: r.accessed_at,
    userId: r.user_id,
    user: r.email ?? r.user_id,
    role: r.user_role,
    useCaseId: r.use_case_id,
    useCaseTitle: r.title ?? '',
    purpose: r.purpose ?? '',
    datasetId: r.dataset_id,
    org: r.org_code,
    optOutApplied: Boolean(r.opt_out_applied),
  }));
}

export interface PublicSite {
  members: { code: string; name: string; type: string; role: string }[];
  datasets: { id: string; title: string; description: string; controllers: string[] }[];
  useCases: {
    id: string;
    title: string;
    summary: string;
    purpose: string;
    sponsor: string;
    legalBasis: string;
    datasets: string[];
    start: string;
    end: string;
    state: string;
    optOutApplies: boolean;
  }[];
}

/** What the public site shows: members, datasets held, every approved use case. */
export async function publicSite(q: Queryable): Promise<PublicSite> {
  const orgs = await listOrganisations(q);
  const names = new Map(orgs.map((o) => [o.code, o.name]));
  const agreements = (await listAgreements(q)).filter((a) => a.state === 'in-force');
  const held = new Map<string, Set<string>>();
  for (const agreement of agreements) {
    for (const dataset of agreement.datasets) {
      const set = held.get(dataset) ?? new Set<string>();
      set.add(names.get(agreement.org) ?? agreement.org);
      held.set(dataset, set);
    }
  }
  const datasets = [...held.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, controllers]) => {
      const spec = datasetSpec(id);
      return { id, title: spec.title, description: spec.description, controllers: [...controllers].sort() };
    });
  const useCases = (await listUseCases(q, { state: ['approved', 'active', 'closed'] })).map((u) => ({
    id: u.id,
    title: u.title,
    summary: u.summary,
    purpose: u.purpose,
    sponsor: names.get(u.sponsor) ?? u.sponsor,
    legalBasis: u.legalBasis,
    datasets: u.datasets,
    start: u.start,
    end: u.end,
    state: u.state,
    optOutApplies: u.optOutApplies,
  }));
  return {
    members: orgs.map((o) => ({ code: o.code, name: o.name, type: o.type, role: o.kernelRole })),
    datasets,
    useCases,
  };
}

/** The transparency record as CSV, for a spreadsheet (the portal's download and `kernel orgs reads --csv`). */
export function readsCsv(reads: readonly AccessRecord[]): string {
  return toCsv(
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
  );
}

/** One workspace query over a controller's data, as the audit recorded it. */
export interface WorkspaceQueryRecord {
  at: string;
  actor: string;
  useCaseId: string;
  /** the SQL as the audit keeps it: identifier shapes masked */
  sql: string;
  rows: number | null;
  ms: number;
  outcome: string;
}

/**
 * The analyst workspace's queries under use cases that use `org`'s data, newest first: a
 * controller sees what was asked of its data, not only which datasets were read.
 */
export async function workspaceQueriesOver(
  q: Queryable,
  org: string,
  limit = 200,
): Promise<WorkspaceQueryRecord[]> {
  const code = parseOrgCode(org);
  const useCases = (await listUseCases(q)).filter((u) => u.controllers.includes(code)).map((u) => u.id);
  if (useCases.length === 0) return [];
  const rows = await q.query<{ occurred_at: string; actor: string; purpose: string; details: string }>(
    `SELECT occurred_at, actor, purpose, details FROM audit_events
      WHERE action = 'workspace.query' AND purpose IN (${useCases.map((_, i) => `$${i + 1}`).join(', ')})
      ORDER BY seq DESC LIMIT ${Math.min(Math.max(Math.trunc(limit), 1), 10_000)}`,
    useCases,
  );
  return rows.map((r) => {
    const details = JSON.parse(r.details) as {
      sql?: string;
      rows?: number | null;
      ms?: number;
      outcome?: string;
    };
    return {
      at: r.occurred_at,
      actor: r.actor,
      useCaseId: r.purpose,
      sql: details.sql ?? '',
      rows: details.rows ?? null,
      ms: details.ms ?? 0,
      outcome: details.outcome ?? '',
    };
  });
}
